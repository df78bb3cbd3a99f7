"""Check and update: run each target (or trust a cached pass), judge, report.

``check`` compares a run's output byte for byte with the committed expected output and
reports a unified diff naming the file and the pages that show it.  ``update`` rewrites
``.out`` files from real runs.  Both take a ``Project`` (or its folder) loaded once and pass
it down; what a target's run is handed and what it means are the target's to say
(``Target.spec``, ``Target.judge``), and the executor (``run``) does the running.  Nothing
here knows about the site generator: its hook, the Make targets and the tests all call these
same functions.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from scripts.gate import cache, files, pages, run, seed, settings
from scripts.gate.progress import Progress
from scripts.gate.project import ROOT, Project
from scripts.gate.report import Outcome, SnippetError, Status
from scripts.gate.targets import Target, uses_floats

Todo = tuple[Target, run.RunSpec, str | None]  # a target, what its run is handed, its cache key (None: keep nothing)
# Failures the same inputs would repeat, so they are remembered like a pass; a timeout, a lost
# fork server or a process killed by a signal (the kernel's OOM killer) may be the machine's
# doing, and is tried again next time.
REPEATABLE = {run.Stop.NONE, run.Stop.OUTPUT}
REMEMBERED = ("\n  (remembered from an earlier run with the same inputs: nothing it depends on changed; "
              "to run it again anyway: .venv/bin/python -m scripts.gate {mode} --no-cache FILE)")


def repeatable(ran: run.Run) -> bool:
    """A failure the same inputs would repeat.  bubblewrap reports a child killed by signal N
    as exit code 128 + N, so under the sandbox such codes count as killed too."""
    if ran.stop not in REPEATABLE or ran.returncode is None or ran.returncode < 0:
        return False
    return not (ran.spec is not None and ran.spec.sandboxed and ran.returncode > 128)


def ready(project: Project) -> dict[str, str]:
    """Before any run: find out whether the OS sandbox works here (an error now, not from a
    worker thread, if it is required and missing), and seed the offline model caches,
    verified, whether or not results are cached: {cache path: sha256}."""
    _ = project.sandboxed
    return project.seed()


def run_and_compare(project: Project, todo: Todo, included: dict[str, list[str]]) -> Outcome:
    """Run one target fresh and judge it against its expected output (check mode).  The result
    is kept under the planned key only if the target's files are still the bytes that key
    was made from (an edit during a long check must not lend its result to other bytes)."""
    target, spec, key = todo
    stamp = cache.stamp(target) if key is not None else None
    ran = run.run(spec)
    try:
        expected = files.read(target.expected, expected_limit(spec), target.expected_rel)
    except files.UnsafeFile as err:
        return Outcome(target.rel, Status.FAILED, f"{target.rel}: {err}", ran.seconds)
    except OSError as err:  # deleted or renamed while it ran
        return Outcome(target.rel, Status.FAILED, f"{target.rel}: {target.expected_rel} went away: {err}", ran.seconds)
    verdict = target.judge(ran, expected, target.shown_on(included))
    if key is not None and cache.stamp(target) != stamp:
        key = None
    slot = cache.slot(target.rel, spec)
    if verdict.problem:
        if key is not None and repeatable(ran):
            cache.record_failure(project.cache, slot, key, verdict.problem)
        return Outcome(target.rel, Status.FAILED, verdict.problem, ran.seconds)
    if key is not None:
        cache.record_pass(project.cache, slot, key,
                          {"modules": ran.modules, "weights": ran.weights, "python": ran.python})
    return Outcome(target.rel, Status.PASSED, "", ran.seconds, ran.cpu)


def expected_limit(spec: run.RunSpec) -> int:
    """The most an expected output can be: what a run may print (a page: any page's size)."""
    return max(spec.caps.max_output_kb * 1024, 16 << 20)


def chosen(project: Project, only: list[Path | Target] | None) -> list[Target]:
    """The targets to check: the given paths (or targets), else every snippet, lab and page."""
    if not only:
        return list(project.targets)
    return [t if isinstance(t, Target) else project.target(t) for t in only]


def missing_expected(target: Target) -> Outcome:
    return Outcome(target.rel, Status.FAILED,
                   f"{target.rel} has no expected output: {target.expected_rel} is missing "
                   f"(create it from a real run with: make update SNIPPET={target.rel})")


def check(where: Project | Path = ROOT, only: list[Path | Target] | None = None, use_cache: bool = True,
          jobs: int | None = None, progress: Progress | None = None) -> list[Outcome]:
    """Check targets in parallel; a cached pass is trusted only if its key still matches.
    ``progress`` hears of each run as it starts and of each target as soon as it is judged."""
    project = Project.of(where)
    return checked(project, chosen(project, only), ready(project), use_cache, jobs, progress)


def checked(project: Project, targets: list[Target], models: dict[str, str], trust: bool, jobs: int | None,
            progress: Progress | None, numerics: str = "pinned") -> list[Outcome]:
    """What the cache says of ``targets`` on the ``numerics`` float path, and the rest run."""
    outcomes, todo = plan(project, targets, models, trust, numerics)
    if progress and numerics != "pinned":  # margins' reruns: not in the total announced up front
        progress.more(len(todo))
    for outcome in run_all(project, todo, jobs or os.cpu_count() or 1, progress):
        outcomes[outcome.snippet] = outcome
    return [outcomes[t.rel] for t in targets]


def plan(project: Project, targets: list[Target], models: dict[str, str],
         trust: bool = True, numerics: str = "pinned") -> tuple[dict[str, Outcome], list[Todo]]:
    """What the cache already says of each target (``models``: the seeded files' hashes), and
    what must run (on the ``numerics`` float code path).  Without ``trust`` everything runs,
    and what it finds replaces what the cache said (``--no-cache``: the way to clear a
    remembered failure)."""
    fingerprint = cache.environment_fingerprint(project, models)
    outcomes, todo = {}, []
    for target in targets:
        if not target.expected.exists():
            outcomes[target.rel] = missing_expected(target)
            continue
        spec = replace(target.spec(project), numerics=numerics)
        key = cache.key(project, target, spec, fingerprint)
        entry = cache.recorded(project.cache, cache.slot(target.rel, spec), key) if trust else None
        if entry and "failure" in entry:
            mode = "check" if numerics == "pinned" else "margins"
            outcomes[target.rel] = Outcome(target.rel, Status.FAILED, entry["failure"] + REMEMBERED.format(mode=mode))
        elif entry:
            outcomes[target.rel] = Outcome(target.rel, Status.CACHED)
        else:
            todo.append((target, spec, key))
    return outcomes, todo


def margins(where: Project | Path = ROOT, only: list[Path | Target] | None = None, use_cache: bool = True,
            jobs: int | None = None, progress: Progress | None = None) -> list[Outcome]:
    """Check, then run each target that passed and does float maths (``uses_floats``) again
    on the perturbed float code path: its output must still be the committed bytes, or it
    sits too close to a rounding boundary to be the same on every CPU.  One outcome per target
    (a failed check stands for its target; a target without floats is its check's outcome)."""
    project = Project.of(where)
    targets, models = chosen(project, only), ready(project)
    outcomes = {o.snippet: o for o in checked(project, targets, models, use_cache, jobs, progress)}
    provenance = {t.rel: cache.provenance(project.cache, t.rel) or {} for t in targets}
    floats = [t for t in targets if outcomes[t.rel].ok
              and uses_floats(imports(t, provenance[t.rel].get("modules", [])), provenance[t.rel].get("python", ""))]
    for outcome in checked(project, floats, models, use_cache, jobs, progress, numerics="perturbed"):
        outcomes[outcome.snippet] = outcome
    return [outcomes[t.rel] for t in targets]


def known(where: Project | Path = ROOT) -> tuple[list[Outcome], list[tuple[Target, str]]]:
    """What the cache already says, at once, without seeding or running anything: the
    outcomes it holds, and each target it holds none for with its key (a site server shows
    the first page from these, and verifies the rest in the background).  The seeded files'
    hashes are the manifest's: every one is its pin, or the target is simply still to verify."""
    project = Project.of(where)
    outcomes, todo = plan(project, list(project.targets), seed.recorded(project.cache, project.settings.models))
    return list(outcomes.values()), [(target, key) for target, _, key in todo]


def run_all(project: Project, todo: list[Todo], jobs: int,
            progress: Progress | None = None) -> list[Outcome]:
    """Run and compare everything in ``todo`` in the shortest wall time.

    Runs that need a fork server start it first; while it imports (on one core), the
    plain runs go one at a time on the other.  Forked runs then share all cores, longest
    timeout first, so a slow one does not start last.
    """
    included = pages.pages_by_include(project.root) if todo else {}
    forked = sorted((item for item in todo if item[1].family), key=lambda item: -item[1].caps.timeout)
    plain = [item for item in todo if not item[1].family]
    def compare(item: Todo) -> Outcome:
        if progress:
            progress.started(item[0].rel)
        return reported(run_and_compare(project, item, included), progress)

    if not forked:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(compare, plain))
    run.prepare([spec for _, spec, _ in forked])
    with ThreadPoolExecutor(max_workers=1) as alongside, ThreadPoolExecutor(max_workers=jobs) as pool:
        first, then = alongside.map(compare, plain), pool.map(compare, forked)
        return [*first, *then]


def prepare_fork_servers(where: Project | Path = ROOT) -> None:
    """Start the fork servers the project's targets need, without waiting for their imports
    (a site server keeps them warm for the author's next save)."""
    project = Project.of(where)
    run.prepare([target.spec(project) for target in project.targets])


def update(where: Project | Path = ROOT, only: list[Path | Target] | None = None,
           jobs: int | None = None, progress: Progress | None = None) -> list[Outcome]:
    """Rewrite expected outputs from real runs; refuses in CI, never writes a failed run."""
    if settings.in_ci():
        raise SnippetError("make update rewrites expected outputs and never runs in CI")
    if not run.numerics.can_record():
        raise SnippetError("make update records outputs on the pinned AVX2 float path, and this CPU has no AVX2 "
                           "(or is not x86-64): record them on one that has")
    project = Project.of(where)
    targets = chosen(project, only or project.runnable)
    ready(project)

    def one(target: Target) -> Outcome:
        if progress:  # so that its heartbeat names what runs, not "seeding" for the whole update
            progress.started(target.rel)
        return reported(update_one(project, target), progress)

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(one, targets))


def reported(outcome: Outcome, progress: Progress | None) -> Outcome:
    if progress:
        progress.done(outcome)
    return outcome


def update_one(project: Project, target: Target) -> Outcome:
    """Run it, and if it does float maths, again on the perturbed float code path: an output
    the two print differently is refused (it would differ on another CPU), naming the line."""
    spec = target.spec(project)
    ran = run.run(spec)
    verdict = target.judge(ran, None)
    if not verdict.problem and verdict.output is not None and uses_floats(imports(target, ran.modules), ran.python):
        again = run.run(replace(spec, numerics="perturbed"))
        verdict = replace(verdict, problem=target.judge(again, verdict.output).problem)
    if verdict.problem:
        return Outcome(target.rel, Status.FAILED, verdict.problem, ran.seconds)
    try:
        if verdict.output is None or (target.expected.exists() and
                                      files.read(target.expected, expected_limit(spec), target.expected_rel)
                                      == verdict.output):
            return Outcome(target.rel, Status.UNCHANGED, "", ran.seconds)
        files.write(target.expected, verdict.output, target.expected_rel)
    except files.UnsafeFile as err:
        return Outcome(target.rel, Status.FAILED, f"{target.rel}: {err}", ran.seconds)
    return Outcome(target.rel, Status.UPDATED, f"wrote {target.expected_rel}", ran.seconds)


def imports(target: Target, recorded: list[str]) -> list[str]:
    """What a target imports, by its run's record and by its source: a run writes its own
    record, and could leave out the imports that would have it rerun on another float path."""
    return sorted({*recorded, *run.forkserver.imported_names(target.path)})


def site_problems(where: Project | Path = ROOT) -> list[str]:
    """What the strict build refuses besides drift: unused snippet files, missing includes,
    and includes that are links, devices or hard links (``files.problem``)."""
    root = Project.of(where).root
    included = pages.pages_by_include(root)  # one scan of docs/ serves both checks
    unused = [f"{rel}: no page includes it (show it on a page, or delete it)"
              for rel in pages.unused_files(root, included)]
    missing = [f"{place}: the included file does not exist" for place in pages.missing_includes(root, included)]
    # a page may include a file from anywhere in the project: each must be a regular file of its own there
    unsafe = [said for target in included if (root / target).exists() or (root / target).is_symlink()
              for said in files.problem(root, root / target)]
    return unused + missing + unsafe
