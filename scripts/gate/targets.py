"""What the gate checks: one ``Target`` type, and the only place that knows the three kinds.

* a **snippet** (``snippets/**/*.py``) runs as a script; its stdout must equal the ``.out``
  beside it;
* a **lab** (``labs/*.py``, a jupytext percent notebook) runs cell by cell through
  ``child/lab_exec.py``; its cell outputs must equal ``labs/<name>.out``;
* a **page** (``docs/**/*.md`` with ``>>>`` sessions) runs through ``doctest``; the expected
  output is in the page itself.

Everything else (the runner, the cache, the reports, the site's banners) asks a target, so
adding a kind means editing this file only.  This file decides how a target runs, so it is
part of every cache key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from scripts.gate import child, settings

DOCTEST_ARGV = ["-m", "doctest", "-o", "NORMALIZE_WHITESPACE"]
LAB_EXECUTOR = child.FOLDER / "lab_exec.py"


class Kind(Enum):
    SNIPPET = "snippet"
    LAB = "lab"
    PAGE = "page"


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
        return self.path if self.kind is Kind.PAGE else self.path.with_suffix(".out")

    @property
    def expected_rel(self) -> str:
        return self.expected.relative_to(self.root).as_posix()

    def argv(self) -> list[str]:
        """What follows ``python`` to run it (in a new interpreter or a fork alike)."""
        where = str(self.path.resolve())
        if self.kind is Kind.PAGE:
            return [*DOCTEST_ARGV, where]
        return [str(LAB_EXECUTOR), where] if self.kind is Kind.LAB else [where]

    def shown_on(self, included: dict[str, list[str]]) -> list[str]:
        """Where a reader sees its output, in words for a report (``included``: pages.pages_by_include)."""
        if self.kind is Kind.LAB:
            return [f"the lab page labs/{self.path.stem}/ and its download {self.path.stem}.ipynb"]
        if self.kind is Kind.PAGE:
            return [self.rel]
        return included.get(self.expected_rel, [])

    def site_pages(self, included: dict[str, list[str]]) -> list[str]:
        """The pages (paths under ``docs/``, as the site names them) that show its output."""
        if self.kind is Kind.LAB:
            return [f"labs/{self.path.stem}.ipynb"]  # the notebook built from it
        pages = {self.rel} if self.kind is Kind.PAGE else {*included.get(self.rel, []),
                                                           *included.get(self.expected_rel, [])}
        return sorted(Path(page).relative_to("docs").as_posix() for page in pages)


def target_for(root: Path, path: Path) -> Target:
    """The target at ``path``: a page if Markdown, a lab if directly under ``labs/``, else a snippet."""
    root, path = root.resolve(), path.resolve()
    if path.suffix == ".md":
        return Target(root, path, Kind.PAGE)
    return Target(root, path, Kind.LAB if path.parent == root / "labs" else Kind.SNIPPET)


def discover(root: Path) -> list[Target]:
    """Every snippet (``snippets/**/*.py``), then every lab (``labs/*.py``); ``_name`` and the
    ``modules`` of ``[tool.snippets]`` (imported by snippets, never run alone) excepted."""
    root = root.resolve()
    modules = {root / rel for rel in settings.load(root).modules}
    if missing := sorted(str(p.relative_to(root)) for p in modules if not p.is_file()):
        raise FileNotFoundError(f"pyproject.toml [tool.snippets] modules: no such file {missing}")
    runnable = lambda p: not p.name.startswith("_") and p not in modules  # noqa: E731
    snippets = sorted(p for p in (root / "snippets").rglob("*.py") if runnable(p))
    labs = sorted(p for p in (root / "labs").glob("*.py") if runnable(p))
    return [Target(root, p, Kind.SNIPPET) for p in snippets] + [Target(root, p, Kind.LAB) for p in labs]


def doctest_pages(root: Path) -> list[Target]:
    """Pages under ``docs/`` that show an interactive ``>>>`` session."""
    root = root.resolve()
    return [Target(root, p, Kind.PAGE) for p in sorted((root / "docs").rglob("*.md"))
            if any(line.lstrip().startswith(">>> ") for line in p.read_text(encoding="utf-8").splitlines())]


def data_files(root: Path) -> list[Path]:
    """Every file under ``snippets/`` and ``labs/`` that is no target's source or expected
    output: what any run may read.  The cache key hashes them all, a sound rule that needs
    no tracking of reads (which a subprocess, sqlite or a ``.pyc`` would slip past)."""
    root = root.resolve()
    own = {path for target in discover(root) for path in (target.path, target.expected)}
    return sorted(p for folder in ("snippets", "labs") for p in (root / folder).rglob("*")
                  if p.is_file() and p not in own)
