"""Lighthouse (12.2.3, from npm; 13 needs Node 22) against a page of the built site, in the
Chromium the browser tests use.  The tests assert accessibility, best practices and SEO;
``make bench`` reports performance, which depends on how busy the machine is."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = "12.2.3"
CLI = ROOT / ".venv" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update"


@dataclass
class Report:
    """Scores (0-100) by category, the audits that lost points, and the bytes transferred."""

    scores: dict[str, int]
    failing: dict[str, list[str]] = field(default_factory=dict)
    transferred: int = 0


def problem() -> str | None:
    """Why Lighthouse cannot run here, or None."""
    if not CLI.is_file():
        return f"no Lighthouse at {CLI.relative_to(ROOT)}: `make venv` installs lighthouse@{VERSION} there"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def pages(site: Path) -> list[str]:
    """Every page of a built site as its URL path (``/``, ``/llms/tokens/``, ...)."""
    return sorted(page.parent.relative_to(site).as_posix().removeprefix(".") + "/"
                  for page in site.rglob("index.html"))


def audit(url: str, categories: list[str], desktop: bool = False) -> Report:
    """One Lighthouse run (the mobile preset unless ``desktop``) of ``url``."""
    command = [str(CLI), url, "--output=json", "--output-path=stdout", "--quiet", f"--chrome-path={CHROMIUM}",
               f"--chrome-flags={FLAGS}", f"--only-categories={','.join(categories)}"]
    result = subprocess.run(command + (["--preset=desktop"] if desktop else []), capture_output=True, text=True,
                            timeout=240, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}:\n{result.stderr[-2000:]}")
    return parse(json.loads(result.stdout))


def parse(lhr: dict) -> Report:
    """Scores and failing audits out of a Lighthouse result (``lhr``)."""
    audits = lhr["audits"]
    report = Report({name: round(100 * (cat["score"] or 0)) for name, cat in lhr["categories"].items()})
    for name, category in lhr["categories"].items():
        lost = [ref["id"] for ref in category["auditRefs"] if ref["weight"] > 0
                and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1]
        if lost:
            report.failing[name] = lost
    report.transferred = int(audits.get("total-byte-weight", {}).get("numericValue", 0))
    return report
