"""Everything the gate takes from outside its own code, read in one place.

From ``[tool.snippets]`` in the project's ``pyproject.toml``:

* ``default-timeout`` — CPU seconds a run (its whole process tree) may use before it is
  stopped as computing forever (default 90);
* ``[tool.snippets.timeout]`` — per-file overrides, keyed by path from the project root;
* ``idle-timeout`` — seconds a run may go without using any CPU before it is stopped as
  stuck (default 30); ``run/watch.py`` says how a run is stopped, and the wall-time ceiling;
* ``models`` — which rows of ``seed.MODELS`` ``seed.py`` prepares (default: the two that
  installed packages ship as they are; throwaway test projects keep that default);
* ``modules`` — files under ``snippets/`` or ``labs/`` that snippets import (``from
  notes_db import search``) and that never run alone: no target, and, like every data file,
  part of every cache key;
* ``memory-mb`` (4096), ``max-processes`` (256), ``max-output-kb`` (1024), ``scratch-mb``
  (512), ``max-open-files`` (1024) — the caps on each run (documented, with who enforces each, in ``run/__init__.py``).

From the environment (the only variables the gate itself reads):

* ``STUDY_LLM_CACHE`` — the folder for every project-local cache (seeded models, results,
  lab notebooks, figures); default ``<project>/.cache``.  Tests point it at a temp folder.
* ``SNIPPET_GATE_FORK=0`` — no fork server: every run is a new interpreter.
* ``SNIPPET_GATE_SANDBOX`` — ``auto`` (default), ``require`` (CI) or ``off``: see ``run/sandbox.py``.
* ``CI`` — when set, ``update`` refuses to rewrite expected outputs.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

FALLBACK_TIMEOUT = 90.0
# What ``seed.py`` can put in the offline caches, and the default: the two that installed
# packages ship as they are (the others are built from downloaded archives, once per cache).
MODELS = ("cl100k_base", "all-MiniLM-L6-v2")
@dataclass(frozen=True)
class Settings:
    """``[tool.snippets]`` of one project, with the defaults filled in."""

    default_timeout: float = FALLBACK_TIMEOUT
    idle_timeout: float = 30.0
    timeouts: dict[str, float] = field(default_factory=dict)
    memory_mb: int = 4096
    max_processes: int = 256
    max_output_kb: int = 1024
    scratch_mb: int = 512
    max_open_files: int = 1024
    models: tuple[str, ...] = MODELS
    modules: tuple[str, ...] = ()

    def caps(self, rel: str) -> dict:
        """The caps of one file's runs (``run.Caps``'s fields)."""
        return dict(timeout=self.timeout(rel), memory_mb=self.memory_mb, max_processes=self.max_processes,
                    max_output_kb=self.max_output_kb, idle=self.idle_timeout, scratch_mb=self.scratch_mb,
                    max_open_files=self.max_open_files)

    def timeout(self, rel: str) -> float:
        return self.timeouts.get(rel, self.default_timeout)


def load(root: Path) -> Settings:
    """The project's settings (read once per check, update or build: ``Project.load``)."""
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    conf = tomllib.loads(text).get("tool", {}).get("snippets", {})
    return Settings(
        default_timeout=float(conf.get("default-timeout", FALLBACK_TIMEOUT)),
        timeouts={rel: float(s) for rel, s in conf.get("timeout", {}).items()},
        idle_timeout=float(conf.get("idle-timeout", Settings.idle_timeout)),
        memory_mb=int(conf.get("memory-mb", Settings.memory_mb)),
        max_processes=int(conf.get("max-processes", Settings.max_processes)),
        max_output_kb=int(conf.get("max-output-kb", Settings.max_output_kb)),
        scratch_mb=int(conf.get("scratch-mb", Settings.scratch_mb)),
        max_open_files=int(conf.get("max-open-files", Settings.max_open_files)),
        models=tuple(conf.get("models", MODELS)),
        modules=tuple(conf.get("modules", ())),
    )


def cache_root(root: Path) -> Path:
    """Where all project-local caches live (``STUDY_LLM_CACHE``, else ``<root>/.cache``)."""
    return Path(os.environ.get("STUDY_LLM_CACHE") or root / ".cache").resolve()


def forking_enabled() -> bool:
    """Forks need ``os.fork`` (not on Windows); ``SNIPPET_GATE_FORK=0`` turns them off."""
    return hasattr(os, "fork") and os.environ.get("SNIPPET_GATE_FORK", "1") != "0"


def sandbox_mode() -> str:
    """``auto``, ``require`` or ``off`` (``SNIPPET_GATE_SANDBOX``; ``run.sandbox.enabled`` refuses anything else)."""
    return os.environ.get("SNIPPET_GATE_SANDBOX", "auto")


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
