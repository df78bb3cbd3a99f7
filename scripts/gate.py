"""The snippet gate: every output shown on a page is what its code prints today.

``check`` runs each snippet (or trusts a cached pass), compares stdout byte for byte with
the committed ``.out`` beside it, and reports a unified diff naming the snippet and the
pages that include it.  ``update`` rewrites ``.out`` files from real runs.  The Make
targets, the tests and the MkDocs hook all call these functions; nothing lives only in
one of them.

    python -m scripts.gate check [SNIPPET ...] [--no-cache] [--jobs N] [--root DIR]
    python -m scripts.gate update [SNIPPET ...] [--root DIR]
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
import shutil
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scripts import cache, forkserver, labs, pages, provenance, runner, seed

ROOT = Path(__file__).resolve().parents[1]
FALLBACK_TIMEOUT = 90.0


class SnippetError(Exception):
    """A snippet could not produce a usable output; the message names the file."""


@dataclass
class Outcome:
    snippet: str  # path relative to the project root
    status: str  # "passed", "cached", "updated", "unchanged" or "failed"
    detail: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def discover(root: Path) -> list[Path]:
    """Every ``*.py`` under ``snippets/``, then every lab, except names starting with ``_``."""
    return sorted(p for p in (root / "snippets").rglob("*.py") if not p.name.startswith("_")) + labs.discover(root)


def expected_path(snippet: Path) -> Path:
    return snippet.with_suffix(".out")


def timeout_for(root: Path, rel: str) -> float:
    """``[tool.snippets]`` in pyproject.toml: a default and per-snippet overrides."""
    try:
        conf = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["snippets"]
    except (OSError, KeyError):
        return FALLBACK_TIMEOUT
    return float(conf.get("timeout", {}).get(rel, conf.get("default-timeout", FALLBACK_TIMEOUT)))


def doctest_pages(root: Path) -> list[Path]:
    """Pages under ``docs/`` that show an interactive ``>>>`` session."""
    return sorted(p for p in (root / "docs").rglob("*.md")
                  if any(line.lstrip().startswith(">>> ") for line in p.read_text(encoding="utf-8").splitlines()))


def run_problem(rel: str, run: runner.Run, timeout: float) -> None:
    """Raise a SnippetError for a run that hung or reached outside its sandbox."""
    if run.timed_out:
        raise SnippetError(f"{rel} hangs: killed after the {timeout:g} s timeout "
                           f"(raise it under [tool.snippets.timeout] in pyproject.toml if it is just slow)")
    if run.returncode == runner.NETWORK_EXIT:
        raise SnippetError(f"{rel} reached for the network, which snippets may not do:\n{tail(run.stderr)}")
    if run.returncode == runner.WRITE_EXIT:
        raise SnippetError(f"{rel} tried to write into the project:\n{tail(run.stderr)}")


def output_of(rel: str, run: runner.Run, timeout: float) -> bytes:
    """The run's stdout, or a SnippetError saying exactly why there is no usable output."""
    run_problem(rel, run, timeout)
    if run.returncode != 0:
        raise SnippetError(f"{rel} raised (exit code {run.returncode}):\n{tail(run.stderr)}")
    try:
        run.stdout.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SnippetError(f"{rel} printed bytes that are not UTF-8 (at byte {err.start}: "
                           f"{run.stdout[err.start:err.start + 8]!r})") from None
    if not run.stdout:
        said = f" but wrote to stderr:\n{tail(run.stderr)}" if run.stderr.strip() else ""
        raise SnippetError(f"{rel} printed nothing on stdout{said}")
    return run.stdout


def tail(text: str, lines: int = 40) -> str:
    """The end of a long stderr (a traceback's useful part is last), indented."""
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept)


def drift_report(root: Path, rel: str, expected: bytes, actual: bytes) -> str:
    """A unified diff of expected vs actual output, naming the snippet and its pages."""
    out_rel = Path(rel).with_suffix(".out").as_posix()
    shown_on = (lab_page(rel) if rel.startswith("labs/") else pages.pages_by_include(root).get(out_rel)) \
        or ["(no page includes it)"]
    diff = difflib.unified_diff(
        expected.decode("utf-8", "replace").splitlines(keepends=True),
        actual.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{out_rel} (expected, committed)", tofile=f"{rel} (actual output)",
    )
    body = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)
    return (f"{rel}: output differs from {out_rel}\n  shown on: {', '.join(shown_on)}\n"
            f"  accept the new output with: make update SNIPPET={rel}\n{body}")


def lab_page(rel: str) -> list[str]:
    """Where a lab's outputs are shown: its generated notebook page and download."""
    return [f"the lab page labs/{Path(rel).stem}/ and its download {Path(rel).stem}.ipynb"]


@dataclass
class Fresh:
    """One real run: its usable output, or the reason there is none."""

    output: bytes | None
    error: str
    seconds: float
    run: runner.Run


def timed_run(root: Path, path: Path, argv: list[str] | None = None):
    """Run a snippet (or a page's doctests) under its timeout: (rel, run, timeout, seconds)."""
    rel, started = path.relative_to(root).as_posix(), time.perf_counter()
    timeout = timeout_for(root, rel)
    run = runner.run_snippet(root, path, timeout, argv)
    return rel, run, timeout, max(time.perf_counter() - started, 1e-3)


def argv_for(root: Path, path: Path) -> list[str] | None:
    """How ``python`` runs what the gate checks: a page's ``>>>`` sessions through doctest, a
    lab cell by cell through ``scripts/lab_exec.py``, a snippet as itself (None)."""
    if path.suffix == ".md":
        return ["-m", "doctest", "-o", "NORMALIZE_WHITESPACE", str(path.resolve())]
    return labs.command(path) if labs.is_lab(root, path) else None


def run_fresh(root: Path, snippet: Path) -> Fresh:
    rel, run, timeout, seconds = timed_run(root, snippet, argv_for(root, snippet))
    try:
        return Fresh(output_of(rel, run, timeout), "", seconds, run)
    except SnippetError as err:
        return Fresh(None, str(err), seconds, run)


def record_pass(root: Path, path: Path, key: str | None, run: runner.Run) -> None:
    """Cache a pass (when caching) with the files it read and what produced its output."""
    if key is not None:
        cache.record_pass(root, path, key, run.reads, {"modules": run.modules, "python": run.python})


def check_page_doctests(root: Path, page: Path, key: str | None) -> Outcome:
    """Run a page's ``>>>`` examples with doctest, in the same sandbox as the snippets."""
    rel, run, timeout, seconds = timed_run(root, page, argv_for(root, page))
    try:
        run_problem(rel, run, timeout)
    except SnippetError as err:
        return Outcome(rel, "failed", str(err), seconds)
    if run.returncode != 0 or run.stdout.strip():
        report = run.stdout.decode("utf-8", "replace") + run.stderr
        return Outcome(rel, "failed", f"{rel}: a >>> example on this page no longer prints what it shows\n"
                                      f"{tail(report, 60)}", seconds)
    record_pass(root, page, key, run)
    return Outcome(rel, "passed", "", seconds)


def run_and_compare(root: Path, snippet: Path, key: str | None) -> Outcome:
    """Run one snippet fresh and compare it with its expected file (check mode)."""
    if snippet.suffix == ".md":
        return check_page_doctests(root, snippet, key)
    rel, fresh = snippet.relative_to(root).as_posix(), run_fresh(root, snippet)
    if fresh.output is None:
        return Outcome(rel, "failed", fresh.error, fresh.seconds)
    expected = expected_path(snippet).read_bytes()
    if fresh.output != expected:
        return Outcome(rel, "failed", drift_report(root, rel, expected, fresh.output), fresh.seconds)
    record_pass(root, snippet, key, fresh.run)
    return Outcome(rel, "passed", "", fresh.seconds)


def check(root: Path = ROOT, only: list[Path] | None = None, use_cache: bool = True,
          jobs: int | None = None) -> list[Outcome]:
    """Check snippets and pages' doctests in parallel; a cached pass is trusted only if its
    key still matches."""
    snippets = only or discover(root) + doctest_pages(root)
    fingerprint = cache.environment_fingerprint(root) if use_cache else ""
    outcomes, todo = {}, []
    for snippet in snippets:
        rel = snippet.relative_to(root).as_posix()
        expected = snippet if snippet.suffix == ".md" else expected_path(snippet)
        if not expected.exists():
            outcomes[rel] = Outcome(rel, "failed", f"{rel} has no expected output: "
                                    f"{expected_path(snippet).relative_to(root)} is missing "
                                    f"(create it from a real run with: make update SNIPPET={rel})")
            continue
        key = cache.snippet_key(root, snippet, expected, fingerprint) if use_cache else None
        if key and cache.is_fresh(root, snippet, key):
            outcomes[rel] = Outcome(rel, "cached")
        else:
            todo.append((snippet, key))
    for outcome in run_all(root, todo, jobs or os.cpu_count() or 1):
        outcomes[outcome.snippet] = outcome
    return [outcomes[s.relative_to(root).as_posix()] for s in snippets]


def run_all(root: Path, todo: list[tuple[Path, str | None]], jobs: int) -> list[Outcome]:
    """Run and compare everything in ``todo`` in the shortest wall time.

    Runs that need the fork server start it first; while it imports (on one core), the
    plain runs go one at a time on the other.  Forked runs then share all cores, longest
    timeout first, so a slow one does not start last.
    """
    forked = sorted((item for item in todo if forkserver.wants(item[0])),
                    key=lambda item: -timeout_for(root, item[0].relative_to(root).as_posix()))
    plain = [item for item in todo if item not in forked]
    if not forked:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda item: run_and_compare(root, *item), plain))
    start_fork_server(root)
    with ThreadPoolExecutor(max_workers=1) as alongside, ThreadPoolExecutor(max_workers=jobs) as pool:
        first = alongside.map(lambda item: run_and_compare(root, *item), plain)
        then = pool.map(lambda item: run_and_compare(root, *item), forked)
        return [*first, *then]


def update(root: Path = ROOT, only: list[Path] | None = None, jobs: int | None = None) -> list[Outcome]:
    """Rewrite expected outputs from real runs; refuses in CI, never writes a failed run."""
    if os.environ.get("CI"):
        raise SnippetError("make update rewrites expected outputs and never runs in CI")
    snippets = only or discover(root)
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda s: update_one(root, s), snippets))


def update_one(root: Path, snippet: Path) -> Outcome:
    rel, fresh = snippet.relative_to(root).as_posix(), run_fresh(root, snippet)
    target = expected_path(snippet)
    if fresh.output is None:
        return Outcome(rel, "failed", fresh.error, fresh.seconds)
    if target.exists() and target.read_bytes() == fresh.output:
        return Outcome(rel, "unchanged", "", fresh.seconds)
    target.write_bytes(fresh.output)
    return Outcome(rel, "updated", f"wrote {target.relative_to(root)}", fresh.seconds)


def summary(outcomes: list[Outcome]) -> str:
    """One line per snippet, then each failure in full, then a closing count."""
    lines = [f"{o.status.upper():9} {o.snippet}" + (f"  ({o.seconds:.2f} s)" if o.seconds else "")
             for o in outcomes]
    for failure in (o.detail for o in outcomes if o.status == "failed"):
        lines += ["", failure.rstrip("\n")]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "cached", "updated", "unchanged", "failed")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    ran = sum(o.seconds > 0 for o in outcomes)
    rerun = "all cached, nothing rerun" if counts["cached"] == len(outcomes) else f"{ran} run"
    return "\n".join([*lines, "", f"{len(outcomes)} checked: {tally}; {rerun}"])


def site_problems(root: Path) -> list[str]:
    """What the strict build refuses besides drift: unused snippet files, missing includes."""
    included = pages.pages_by_include(root)  # one scan of docs/ serves both checks
    unused = [f"{rel}: no page includes it (show it on a page, or delete it)"
              for rel in pages.unused_files(root, included)]
    missing = [f"{where}: the included file does not exist" for where in pages.missing_includes(root, included)]
    return unused + missing


# Pages whose snippets failed in the last serve build: {"tokens.md": ["snippets/x.py"]}.
_drifting: dict[str, list[str]] = {}
# What produced each output that passed in the last build: {"snippets/x.py": {...}}.
_records: dict[str, dict] = {}


def before_build(root: Path, serving: bool) -> None:
    """What the MkDocs hook runs: a build fails on drift; ``serve`` reports it and goes on."""
    from mkdocs.exceptions import PluginError

    if serving:  # start importing now, in parallel with this build, for the author's next save
        keep_fork_server_warm(root)
    try:
        outcomes, problems = check(root), site_problems(root)
    except seed.SeedError as err:  # a missing or tampered model file: say which, no traceback
        raise PluginError(f"snippet gate could not prepare the offline caches: {err}") from None
    failed = [o for o in outcomes if not o.ok]
    _drifting.clear()
    _drifting.update(failing_pages(root, failed))
    _records.clear()
    _records.update({o.snippet: provenance.describe(root, **ran) for o in outcomes
                     if o.ok and (ran := cache.provenance(root, root / o.snippet))})
    tally = summary(outcomes)
    report = "\n".join([tally, *problems])
    logging.getLogger("mkdocs.hooks.snippet_gate").info("snippet gate: %s", tally.splitlines()[-1])
    if (failed or problems) and not serving:
        raise PluginError(f"snippet gate failed\n{report}")
    if failed or problems:  # printed, not logged: a strict serve must keep serving
        print(f"\nsnippet gate failed (still serving)\n{report}\n", file=sys.stderr)


def keep_fork_server_warm(root: Path) -> None:
    """While serving, have the fork server ready before the author's next save, so editing a
    model-using snippet reruns it in a fork instead of paying the import again.  It imports
    in its own process; the build does not wait for it."""
    if any(forkserver.wants(path) for path in discover(root) + doctest_pages(root)):
        start_fork_server(root)


def start_fork_server(root: Path) -> None:
    """Start (or keep) the fork server for ``root``, with a snippet's shared environment."""
    forkserver.prepare(root, runner.environment(root, Path("/nonexistent")), cache.installed_packages())


def failing_pages(root: Path, failed: list[Outcome]) -> dict[str, list[str]]:
    """Docs-relative page paths mapped to the failing snippets they include."""
    included = pages.pages_by_include(root)
    result: dict[str, list[str]] = {}
    for outcome in failed:
        if outcome.snippet.startswith("labs/"):  # a lab's page is its generated notebook
            result.setdefault(outcome.snippet.removesuffix(".py") + ".ipynb", []).append(outcome.snippet)
            continue
        out = Path(outcome.snippet).with_suffix(".out").as_posix()
        own = [outcome.snippet] if outcome.snippet.startswith("docs/") else []  # a page's doctests
        for page in {*own, *included.get(outcome.snippet, []), *included.get(out, [])}:
            result.setdefault(Path(page).relative_to("docs").as_posix(), []).append(outcome.snippet)
    return result


DRIFT_TEXT = ("What this page shows is the committed output, and the code no longer prints it. "
              "The diff is in the terminal running `mkdocs serve`; fix the code or run `make update`.")


def drift_banner(page: str) -> str:
    """While serving, a visible warning on a page whose shown output is out of date."""
    names = ", ".join(f"`{name}`" for name in _drifting.get(page, []))
    return f'!!! failure "Snippet check failed: {names}"\n    {DRIFT_TEXT}\n\n' if names else ""


def lab_banner(page: str) -> str:
    """The same warning as ``drift_banner``, as HTML for a lab page (rendered from a notebook,
    so no Markdown of ours is converted there)."""
    code = lambda text: re.sub(r"`([^`]+)`", r"<code>\1</code>", text)  # noqa: E731
    names = ", ".join(f"`{name}`" for name in _drifting.get(page, []))
    return (f'<div class="admonition failure"><p class="admonition-title">{code("Snippet check failed: " + names)}'
            f"</p><p>{code(DRIFT_TEXT)}</p></div>") if names else ""


def copy_sources(dest: Path, root: Path = ROOT) -> Path:
    """What a build reads (pages, snippets, labs, the gate, the configs), copied to ``dest``:
    for tests and timings that must edit or break the site without touching the real one."""
    for name in ["docs", "snippets", "labs", "scripts", "mkdocs.yml", "pyproject.toml"]:
        if (root / name).is_dir():
            shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(root / name, dest / name)
    return dest


def with_provenance(page: str, markdown: str) -> str:
    """A page's Markdown with the provenance line under each output that passed."""
    return provenance.annotate(markdown, lambda source: _records.get(source or f"docs/{page}"))


def lab_provenance(lab: str) -> str:
    """The provenance line for a lab's outputs (``labs/<name>.py``), or "" if it failed."""
    record = _records.get(lab)
    return provenance.html(record) if record else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.gate", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["check", "update"])
    parser.add_argument("snippets", nargs="*", type=Path, help="only these snippets (default: all)")
    parser.add_argument("--no-cache", action="store_true", help="run every snippet, trust no cached pass")
    parser.add_argument("--jobs", type=int, default=None, help="parallel runs (default: CPU count)")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: this checkout)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    only = [p.resolve() for p in args.snippets] or None
    if only and (wrong := [str(p) for p in only if p not in discover(root)]):
        parser.error(f"not a snippet under {root / 'snippets'} or a lab under {root / 'labs'}: {', '.join(wrong)}")
    try:
        outcomes = (update(root, only, args.jobs) if args.mode == "update"
                    else check(root, only, not args.no_cache, args.jobs))
    except (SnippetError, seed.SeedError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    problems = site_problems(root) if args.mode == "check" and not only else []
    print("\n".join([summary(outcomes), *problems]))
    return 0 if all(o.ok for o in outcomes) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
