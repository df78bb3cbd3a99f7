"""One project, loaded once per check, update or build and passed down.

``Project.load(root)`` reads ``[tool.snippets]`` and the gate's environment variables once,
finds the cache folder and discovers every target; the core, the cache and the site ask it
instead of reading any of them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from scripts.gate import files, seed, settings
from scripts.gate.report import SnippetError
from scripts.gate.run import sandbox
from scripts.gate.settings import Settings
from scripts.gate.targets import Kind, Target, discover, doctest_pages

ROOT = Path(__file__).resolve().parents[2]


def scratch(rel: Path) -> bool:
    """An editor's or Python's own file, never a data file (a swap file written while the
    author types must not rerun every target): hidden, ``#autosave#``, ``backup~``, caches."""
    return any(part.startswith((".", "#")) or part.endswith("~") or part == "__pycache__" for part in rel.parts)


@dataclass(frozen=True)
class Project:
    """A project folder, its settings, its cache folder and its targets (snippets, then labs,
    then pages with ``>>>`` sessions)."""

    root: Path
    settings: Settings
    cache: Path
    targets: tuple[Target, ...]
    forking: bool  # runs that import torch may use a fork server (``SNIPPET_GATE_FORK``)

    @classmethod
    def load(cls, root: Path = ROOT) -> Project:
        root = root.resolve()
        conf = settings.load(root)
        if unknown := [name for name in conf.models if name not in seed.ALL_MODELS]:
            raise SnippetError(f"pyproject.toml [tool.snippets] models: unknown {unknown}; "
                               f"known: {list(seed.ALL_MODELS)}")
        if bad := files.unsafe(root):  # before anything reads them: the project is refused as a whole
            raise SnippetError("the project has files the gate will not read:\n  " + "\n  ".join(bad))
        if shipped := files.tracked(root, settings.cache_root(root)):
            raise SnippetError(f"the project ships files in its cache folder ({', '.join(shipped[:3])}): results "
                               "and pages cached there would be trusted as this machine's own; a cache is made "
                               "on each machine, never committed (git rm -r --cached on them)")
        targets = (*discover(root, conf.modules), *doctest_pages(root))
        return cls(root, conf, settings.cache_root(root), targets, settings.forking_enabled())

    @classmethod
    def of(cls, where: Project | Path) -> Project:
        """``where`` itself if it is a project, else the project loaded from that folder."""
        return where if isinstance(where, Project) else cls.load(where)

    @cached_property
    def sandboxed(self) -> bool:
        """Whether runs go through the OS sandbox (``SNIPPET_GATE_SANDBOX``), found once; an
        error if it is required and cannot work here."""
        try:
            on = sandbox.enabled(settings.sandbox_mode())
        except sandbox.SandboxUnavailable as err:
            raise SnippetError(str(err)) from None
        if on and (why := sandbox.unreadable((self.root, self.cache))):  # said once, before any run
            raise SnippetError(why)
        return on

    def seed(self) -> dict[str, str]:
        """The offline caches of the project's models, seeded and verified: {path: sha256}."""
        return seed.seed(self.cache, self.settings.models)

    @property
    def runnable(self) -> list[Target]:
        """Snippets and labs: the targets with an expected-output file of their own."""
        return [t for t in self.targets if t.kind is not Kind.PAGE]

    def target(self, path: Path) -> Target:
        """The target at ``path`` (a snippet, a lab or a page with ``>>>`` sessions)."""
        path = path.resolve()
        found = next((t for t in self.targets if t.path == path), None)
        if found is None:
            raise SnippetError(f"{path}: not a snippet under {self.root / 'snippets'}, a lab under "
                               f"{self.root / 'labs'} or a page with >>> sessions")
        return found

    def data_files(self) -> list[Path]:
        """Every file under ``snippets/`` and ``labs/`` that is no target's source or expected
        output: what any run may read.  The cache key hashes them all, a sound rule that needs
        no tracking of reads (which a subprocess, sqlite or a ``.pyc`` would slip past)."""
        own = {path for target in self.runnable for path in (target.path, target.expected)}
        return sorted(p for folder in ("snippets", "labs") for p in (self.root / folder).rglob("*")
                      if p.is_file() and p not in own and not scratch(p.relative_to(self.root)))
