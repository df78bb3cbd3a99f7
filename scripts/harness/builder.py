"""One way to run a real ``mkdocs build``, for the tests and the bench alike."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.gate import ROOT

SOURCES = ["docs", "snippets", "labs", "scripts", "mkdocs.yml", "pyproject.toml"]
# A last resort against a hung build, not a speed limit: a cold build runs every snippet (about
# 8 minutes on 2 idle cores, over 10 when other work shares them), and a snippet that hangs is
# stopped by the gate's own CPU and wall budgets long before this.
BUILD_TIMEOUT = 45 * 60


def build(root: Path, site: Path | None = None, *args: str, timeout: float = BUILD_TIMEOUT,
          tool: str = "mkdocs") -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of the project at ``root`` (into ``site`` if given), in a new
    process as an author runs it, with Material's end-of-life notice off; output captured.
    ``tool="properdocs"`` builds the same ``mkdocs.yml`` with MkDocs' maintained continuation."""
    where = ["-d", str(site)] if site is not None else []
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    config = [] if "-f" in args else ["-f", str(root / "mkdocs.yml")]  # ProperDocs looks for properdocs.yml
    return subprocess.run([sys.executable, "-m", tool, "build", "--strict", *config, *where, *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def copy_sources(dest: Path, root: Path = ROOT) -> Path:
    """What a build reads (pages, snippets, labs, the gate, the configs), copied to ``dest``:
    for tests and timings that must edit or break the site without touching the real one."""
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o755)  # runs are never root: the project they read must be readable by others
    for name in SOURCES:
        if (root / name).is_dir():
            shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(root / name, dest / name)
    return dest
