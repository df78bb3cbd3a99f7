"""Check and update: run each target (or trust a cached pass), compare, report.

``check`` compares a run's stdout byte for byte with the committed expected output and
reports a unified diff naming the file and the pages that show it.  ``update`` rewrites
``.out`` files from real runs.  Nothing here knows about the site generator: its hook, the Make
targets and the tests all call these same functions.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scripts.gate import cache, forkserver, pages, runner, sandbox, seed, settings
from scripts.gate.child.sitecustomize import NETWORK_EXIT, WRITE_EXIT
from scripts.gate.report import Outcome, SnippetError, Status, drift_report, tail
from scripts.gate.targets import Kind, Target, discover, doctest_pages, target_for

ROOT = Path(__file__).resolve().parents[2]


def run_problem(rel: str, run: runner.Run, timeout: float) -> None:
    """Raise a SnippetError for a run that hung, reached outside its sandbox, or was lost."""
    if run.problem:
        raise SnippetError(f"{rel}: {run.problem}")
    if run.timed_out:
        raise SnippetError(f"{rel} hangs: killed after the {timeout:g} s timeout "
                           f"(raise it under [tool.snippets.timeout] in pyproject.toml if it is just slow)")
    if run.returncode == NETWORK_EXIT:
        raise SnippetError(f"{rel} reached for the network, which snippets may not do:\n{tail(run.stderr)}")
    if run.returncode == WRITE_EXIT:
        raise SnippetError(f"{rel} tried to write into the project:\n{tail(run.stderr)}")


def output_of(rel: str, run: runner.Run, timeout: float) -> bytes:
    """The run's stdout, or a SnippetError saying exactly why there is no usable output."""
    run_problem(rel, run, timeout)
    if run.returncode != 0:
        hint = ("\n  (a MemoryError here means it hit the memory cap: memory-mb under [tool.snippets] in "
                "pyproject.toml)") if "MemoryError" in run.stderr else ""
        raise SnippetError(f"{rel} raised (exit code {run.returncode}):\n{tail(run.stderr)}{hint}")
    try:
        run.stdout.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SnippetError(f"{rel} printed bytes that are not UTF-8 (at byte {err.start}: "
                           f"{run.stdout[err.start:err.start + 8]!r})") from None
    if not run.stdout:
        said = f" but wrote to stderr:\n{tail(run.stderr)}" if run.stderr.strip() else ""
        raise SnippetError(f"{rel} printed nothing on stdout{said}")
    return run.stdout


@dataclass
class Fresh:
    """One real run: its usable output (or the reason there is none), and the run itself."""

    output: bytes | None
    error: str
    run: runner.Run
    timeout: float


def run_fresh(target: Target) -> Fresh:
    """Run ``target`` once under its timeout; a page's doctests have no "output" to keep."""
    timeout = settings.load(target.root).timeout(target.rel)
    run = runner.run_snippet(target.root, target.path, timeout, target.argv())
    try:
        if target.kind is Kind.PAGE:
            run_problem(target.rel, run, timeout)
            return Fresh(None, "", run, timeout)
        return Fresh(output_of(target.rel, run, timeout), "", run, timeout)
    except SnippetError as err:
        return Fresh(None, str(err), run, timeout)


def record_pass(target: Target, key: str | None, run: runner.Run) -> Outcome:
    """Cache a pass (when caching) with the files it read and what produced its output."""
    if key is not None:
        cache.record_pass(target.root, target.path, key,
                          {"modules": run.modules, "weights": run.weights, "python": run.python})
    return Outcome(target.rel, Status.PASSED, "", run.seconds, run.cpu)


def page_failure(target: Target, run: runner.Run) -> str:
    """A doctest run prints nothing when every ``>>>`` example still holds."""
    if run.returncode == 0 and not run.stdout.strip():
        return ""
    report = run.stdout.decode("utf-8", "replace") + run.stderr
    return f"{target.rel}: a >>> example on this page no longer prints what it shows\n{tail(report, 60)}"


def run_and_compare(target: Target, key: str | None, included: dict[str, list[str]]) -> Outcome:
    """Run one target fresh and compare it with its expected output (check mode)."""
    fresh = run_fresh(target)
    problem = fresh.error or (page_failure(target, fresh.run) if target.kind is Kind.PAGE else "")
    if problem:
        return Outcome(target.rel, Status.FAILED, problem, fresh.run.seconds)
    if target.kind is not Kind.PAGE and fresh.output != (expected := target.expected.read_bytes()):
        report = drift_report(target.rel, target.expected_rel, target.shown_on(included), expected, fresh.output)
        return Outcome(target.rel, Status.FAILED, report, fresh.run.seconds)
    return record_pass(target, key, fresh.run)


def targets_from(root: Path, only: list[Path | Target] | None) -> list[Target]:
    """The targets to check: the given paths (or targets), else every snippet, lab and page."""
    if not only:
        return discover(root) + doctest_pages(root)
    return [t if isinstance(t, Target) else target_for(root, t) for t in only]


def missing_expected(target: Target) -> Outcome:
    return Outcome(target.rel, Status.FAILED, f"{target.rel} has no expected output: {target.expected_rel} is "
                                              f"missing (create it from a real run with: make update SNIPPET={target.rel})")


def check(root: Path = ROOT, only: list[Path | Target] | None = None, use_cache: bool = True,
          jobs: int | None = None) -> list[Outcome]:
    """Check targets in parallel; a cached pass is trusted only if its key still matches."""
    targets = targets_from(root, only)
    sandbox.enabled()  # say now, not from a worker thread, if the OS sandbox is required and missing
    models = seed.seed(root)  # the offline model caches, verified, whether or not results are cached
    fingerprint = cache.environment_fingerprint(root, models) if use_cache else ""
    outcomes, todo = {}, []
    for target in targets:
        if not target.expected.exists():
            outcomes[target.rel] = missing_expected(target)
            continue
        key = cache.snippet_key(root, target.path, target.expected, fingerprint) if use_cache else None
        if key and cache.is_fresh(root, target.path, key):
            outcomes[target.rel] = Outcome(target.rel, Status.CACHED)
        else:
            todo.append((target, key))
    for outcome in run_all(root, todo, jobs or os.cpu_count() or 1):
        outcomes[outcome.snippet] = outcome
    return [outcomes[t.rel] for t in targets]


def run_all(root: Path, todo: list[tuple[Target, str | None]], jobs: int) -> list[Outcome]:
    """Run and compare everything in ``todo`` in the shortest wall time.

    Runs that need the fork server start it first; while it imports (on one core), the
    plain runs go one at a time on the other.  Forked runs then share all cores, longest
    timeout first, so a slow one does not start last.
    """
    included = pages.pages_by_include(root) if todo else {}
    conf = settings.load(root)
    forked = sorted((item for item in todo if forkserver.wants(item[0].path)),
                    key=lambda item: -conf.timeout(item[0].rel))
    plain = [item for item in todo if item not in forked]
    compare = lambda item: run_and_compare(*item, included)  # noqa: E731
    if not forked:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(compare, plain))
    start_fork_server(root, [target.path for target, _ in forked])
    with ThreadPoolExecutor(max_workers=1) as alongside, ThreadPoolExecutor(max_workers=jobs) as pool:
        first, then = alongside.map(compare, plain), pool.map(compare, forked)
        return [*first, *then]


def start_fork_server(root: Path, paths: list[Path]) -> None:
    """Start (or keep) the fork servers these targets need, with a snippet's shared environment."""
    env, packages = runner.environment(root, Path("/nonexistent")), cache.installed_packages()
    for family in sorted({forkserver.family_of(path) for path in paths} - {None}):
        forkserver.prepare(root, family, env, packages)


def update(root: Path = ROOT, only: list[Path | Target] | None = None, jobs: int | None = None) -> list[Outcome]:
    """Rewrite expected outputs from real runs; refuses in CI, never writes a failed run."""
    if settings.in_ci():
        raise SnippetError("make update rewrites expected outputs and never runs in CI")
    targets = targets_from(root, only or discover(root))
    sandbox.enabled()
    seed.seed(root)
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(update_one, targets))


def update_one(target: Target) -> Outcome:
    fresh = run_fresh(target)
    if fresh.output is None:
        return Outcome(target.rel, Status.FAILED, fresh.error, fresh.run.seconds)
    if target.expected.exists() and target.expected.read_bytes() == fresh.output:
        return Outcome(target.rel, Status.UNCHANGED, "", fresh.run.seconds)
    target.expected.write_bytes(fresh.output)
    return Outcome(target.rel, Status.UPDATED, f"wrote {target.expected_rel}", fresh.run.seconds)


def site_problems(root: Path) -> list[str]:
    """What the strict build refuses besides drift: unused snippet files, missing includes."""
    included = pages.pages_by_include(root)  # one scan of docs/ serves both checks
    unused = [f"{rel}: no page includes it (show it on a page, or delete it)"
              for rel in pages.unused_files(root, included)]
    missing = [f"{where}: the included file does not exist" for where in pages.missing_includes(root, included)]
    return unused + missing


