"""What the gate checks: one ``Target`` type, and the only place that knows the three kinds.

* a **snippet** (``snippets/**/*.py``) runs as a script; its stdout must equal the ``.out``
  beside it;
* a **lab** (``labs/*.py``, a jupytext percent notebook) runs cell by cell through
  ``run/child/lab_exec.py``; its cell outputs must equal ``labs/<name>.out``;
* a **page** (``docs/**/*.md`` with ``>>>`` sessions) runs through ``doctest``; the expected
  output is in the page itself.

A target says how it runs (``spec``: a ``RunSpec`` for the executor) and what a run of it
means (``judge``).  Everything else (the core, the cache, the reports, the site) asks a
target, so adding a kind means editing this file only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.gate import seed
from scripts.gate.report import UNSEEN, drift_report, fragile_report, tail, visible
from scripts.gate.run import (
    LAB_EXECUTOR,
    NETWORK_EXIT,
    WALL_FACTOR,
    WRITE_EXIT,
    Caps,
    Run,
    RunSpec,
    Stop,
    family_of,
)
from scripts.gate.run.numerics import described as numerics_described

if TYPE_CHECKING:
    from scripts.gate.project import Project

DOCTEST_ARGV = ("-m", "doctest", "-o", "NORMALIZE_WHITESPACE")
# A run that imported one of these computes in floats, so its output must also survive the
# perturbed float code path (``run.NUMERICS``).  Every float library the snippets use imports
# one of them: faiss, scipy, transformers, sentence-transformers, pymilvus.
FLOAT_LIBRARIES = frozenset({"numpy", "torch"})


def uses_floats(modules: list[str], python: str) -> bool:
    """Whether a run that imported ``modules`` under ``python`` (its record, or a cached pass's
    provenance) does float maths; one that left no record (no ``python``: it ended by
    ``os._exit``) is taken to."""
    return not python or not FLOAT_LIBRARIES.isdisjoint(modules)


@dataclass(frozen=True)
class Verdict:
    """What a run of a target means: its usable output (None: nothing to keep, as for a page's
    doctests, or none could be had) and the problem, if any, in words naming the file."""

    output: bytes | None
    problem: str = ""


def stop_problem(rel: str, run: Run) -> str:
    """Why a run gave no output to judge: stopped by a cap, lost, or it reached outside."""
    caps = run.spec.caps if run.spec else None
    said = {
        Stop.CPU: lambda: (f"{rel} runs too long: stopped after {caps.timeout:g} s of CPU time, its budget (summed "
                           "over its threads and processes); if it just needs more, in pyproject.toml: "
                           f'[tool.snippets.timeout] "{rel}" = {2 * caps.timeout:g}'),
        Stop.IDLE: lambda: (f"{rel} is stuck: it used no CPU for {caps.idle:g} s (waiting on input, a pipe, a "
                            "lock, a server or a sleep; snippets get no input); if the wait is meant, raise "
                            "idle-timeout under [tool.snippets] in pyproject.toml (one value for all runs)"),
        Stop.WALL: lambda: (f"{rel} is stuck: stopped after {WALL_FACTOR * caps.timeout:g} s of wall time "
                            f"({WALL_FACTOR} times its {caps.timeout:g} s CPU budget) having used less CPU than "
                            "its budget: it mostly waits in a loop, or this machine gives it under a tenth of a core"),
        Stop.OUTPUT: lambda: (f"{rel}: printed more than {caps.max_output_kb} KB on stdout or stderr; stopped "
                              "(raise max-output-kb under [tool.snippets] in pyproject.toml if that much is meant)"),
        Stop.MEMORY: lambda: (f"{rel} used more than {caps.memory_mb} MB of memory as a whole (its processes and "
                              "the files it wrote, which live in RAM): killed at the memory cap (memory-mb under "
                              "[tool.snippets] in pyproject.toml)"),
        Stop.RECORD: lambda: f"{rel}: {run.detail}",
        Stop.LOST: lambda: f"{rel}: {run.detail}",
    }
    if run.stop in said:
        return said[run.stop]()
    if run.returncode == NETWORK_EXIT:
        return f"{rel} reached for the network, which snippets may not do:\n{tail(run.stderr)}"
    if run.returncode == WRITE_EXIT:
        return f"{rel} tried to write into the project:\n{tail(run.stderr)}"
    return ""


def printed_output(rel: str, run: Run) -> Verdict:
    """A script's or a lab's stdout, or why it is not usable (raised, not UTF-8, empty)."""
    if run.returncode != 0:
        hint = ("\n  (a MemoryError here means it hit the memory cap: memory-mb under [tool.snippets] in "
                "pyproject.toml)") if "MemoryError" in run.stderr else ""
        if run.capped == "max-processes":
            hint += (f"\n  (it tried to run more than {run.spec.caps.max_processes} processes at once: the process "
                     "cap, max-processes under [tool.snippets] in pyproject.toml)")
        return Verdict(None, f"{rel} raised (exit code {run.returncode}):\n{tail(run.stderr)}{hint}")
    try:
        run.stdout.decode("utf-8")
    except UnicodeDecodeError as err:
        return Verdict(None, f"{rel} printed bytes that are not UTF-8 (at byte {err.start}: "
                             f"{run.stdout[err.start:err.start + 8]!r})")
    if not run.stdout:
        said = f" but wrote to stderr:\n{tail(run.stderr)}" if run.stderr.strip() else ""
        return Verdict(None, f"{rel} printed nothing on stdout{said}")
    if problem := unpublishable(run.stdout.decode("utf-8")):
        return Verdict(None, f"{rel}: {problem}")
    return Verdict(run.stdout)


# A page shows an output inside a fenced code block, through pymdownx.snippets: a line that
# opens or closes a fence would end the block (and what follows would be the page's own
# markdown and raw HTML), and snippet syntax (``-8<-``, ``--8<--``, ``;--8<--``, section
# markers: every form holds ``8<-``) would include another file or hide lines.
CLOSES = "would close the code block it is shown in"
INCLUDES = "holds snippet syntax (8<-), which would include another file on the page"


def unpublishable(text: str) -> str:
    """Why an output cannot go on a page as it is ("" if it can): a control character, or a
    line a page would read as its own syntax.  Said with the line, escaped.

    >>> unpublishable("fine\\n  ```\\n")
    "line 2 of its output would close the code block it is shown in: '  ```'"
    """
    for number, line in enumerate(text.split("\n"), start=1):
        said = visible(line)[:80]
        if said != line[:80] or UNSEEN.search(line):
            return (f"line {number} of its output has a control character, which a terminal acts on and a page "
                    f"hides (print repr() of such text instead): {said!r}")
        syntax = CLOSES if line.lstrip().startswith(("```", "~~~")) else INCLUDES if "8<-" in line else ""
        if syntax:
            return f"line {number} of its output {syntax}: {said!r}"
    return ""


def doctest_report(rel: str, run: Run) -> Verdict:
    """A doctest run prints nothing when every ``>>>`` example still holds; no output to keep."""
    if run.returncode == 0 and not run.stdout.strip():
        return Verdict(None)
    report = run.stdout.decode("utf-8", "replace") + run.stderr
    return Verdict(None, f"{rel}: a >>> example on this page no longer prints what it shows\n{tail(report, 60)}")


def on_path(numerics: str, problem: str) -> str:
    """A problem as said of a run on a float code path other than the pinned one, whose run passed."""
    if numerics == "pinned":
        return problem
    return (f"on another float code path ({numerics_described(numerics)}), where the pinned run passed "
            f"(python -m scripts.gate margins FILE reruns both):\n{problem}")


@dataclass(frozen=True)
class Rules:
    """How one kind of target runs, where its expected output is, and what a run means."""

    argv: Callable[[Path], tuple[str, ...]]
    expected: Callable[[Path], Path]
    verdict: Callable[[str, Run], Verdict]


class Kind(Enum):
    SNIPPET = "snippet"
    LAB = "lab"
    PAGE = "page"


RULES = {
    Kind.SNIPPET: Rules(lambda path: (str(path),), lambda path: path.with_suffix(".out"), printed_output),
    Kind.LAB: Rules(lambda path: (str(LAB_EXECUTOR), str(path)), lambda path: path.with_suffix(".out"),
                    printed_output),
    Kind.PAGE: Rules(lambda path: (*DOCTEST_ARGV, str(path)), lambda path: path, doctest_report),
}


@dataclass(frozen=True)
class Target:
    """One thing the gate runs and compares, at an absolute ``path`` under ``root``."""

    root: Path
    path: Path
    kind: Kind

    @property
    def rel(self) -> str:
        """The path from the project root, as reports and the cache name it."""
        return self.path.relative_to(self.root).as_posix()

    @property
    def expected(self) -> Path:
        """Where the expected output lives: the ``.out`` beside it, or the page itself."""
        return RULES[self.kind].expected(self.path)

    @property
    def expected_rel(self) -> str:
        return self.expected.relative_to(self.root).as_posix()

    def argv(self) -> tuple[str, ...]:
        """What follows ``python`` to run it (in a new interpreter or a fork alike)."""
        return RULES[self.kind].argv(self.path)

    def spec(self, project: Project) -> RunSpec:
        """Everything its run is handed: argv, the seeded caches, its caps, what it may read."""
        conf = project.settings
        caps = Caps(**conf.caps(self.rel))
        return RunSpec(argv=self.argv(), env=tuple(sorted(seed.snippet_env(project.cache).items())), caps=caps,
                       readable=(project.root, project.cache),
                       family=family_of(self.path) if project.forking else None, sandboxed=project.sandboxed)

    def judge(self, run: Run, expected: bytes | None, shown_on: list[str] = ()) -> Verdict:
        """What ``run`` means for this target; with ``expected``, a difference is a problem
        (a diff naming the file and ``shown_on``, where a reader sees it)."""
        numerics = run.spec.numerics if run.spec else "pinned"
        if problem := stop_problem(self.rel, run):
            return Verdict(None, on_path(numerics, problem))
        verdict = RULES[self.kind].verdict(self.rel, run)
        if verdict.problem:
            return Verdict(verdict.output, on_path(numerics, verdict.problem))
        if verdict.output is None or expected is None or verdict.output == expected:
            return verdict
        if numerics != "pinned":  # the recorded output is right; its margin is not
            return Verdict(verdict.output, fragile_report(self.rel, self.expected_rel, expected, verdict.output,
                                                          numerics_described(numerics)))
        capped = (f"\n  (during this run the kernel enforced its {run.capped} cap under [tool.snippets]: a process "
                  "was killed or refused)") if run.capped else ""
        return Verdict(verdict.output,
                       drift_report(self.rel, self.expected_rel, shown_on, expected, verdict.output) + capped)

    def shown_on(self, included: dict[str, list[str]]) -> list[str]:
        """Where a reader sees its output, in words for a report (``included``: pages.pages_by_include)."""
        if self.kind is Kind.SNIPPET:
            return included.get(self.expected_rel, [])
        return [self.rel] if self.kind is Kind.PAGE else [f"the lab built from {self.rel} (page and download)"]


def discover(root: Path, modules: tuple[str, ...]) -> list[Target]:
    """Every snippet (``snippets/**/*.py``), then every lab (``labs/*.py``); ``_name`` and the
    ``modules`` of ``[tool.snippets]`` (imported by snippets, never run alone) excepted."""
    imported = {root / rel for rel in modules}
    if missing := sorted(str(p.relative_to(root)) for p in imported if not p.is_file()):
        raise FileNotFoundError(f"pyproject.toml [tool.snippets] modules: no such file {missing}")
    runnable = lambda p: not p.name.startswith("_") and p not in imported  # noqa: E731
    snippets = sorted(p for p in (root / "snippets").rglob("*.py") if runnable(p))
    labs = sorted(p for p in (root / "labs").glob("*.py") if runnable(p))
    return [Target(root, p, Kind.SNIPPET) for p in snippets] + [Target(root, p, Kind.LAB) for p in labs]


def doctest_pages(root: Path) -> list[Target]:
    """Pages under ``docs/`` that show an interactive ``>>>`` session."""
    return [Target(root, p, Kind.PAGE) for p in sorted((root / "docs").rglob("*.md"))
            if any(line.lstrip().startswith(">>> ")  # a page not in UTF-8 runs, and its run names it
                   for line in p.read_bytes().decode("utf-8", "replace").splitlines())]
