"""The executor's types: what a run is handed (``RunSpec``, ``Caps``) and what it gives back
(``Run``, ``Stop``).  Both transports return the same ``Run``; the caps are documented once,
in ``scripts/gate/run/__init__.py``.  Standard library only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from scripts.gate.run.numerics import NUMERICS


@dataclass(frozen=True)
class Caps:
    """The limits of one run (the table in ``run/__init__.py`` says who enforces each)."""

    timeout: float  # CPU seconds of the whole process tree (``watch.py`` says how a run is stopped)
    memory_mb: int  # memory of the whole run (its tmpfs files included), and address space of each process
    max_processes: int  # processes at once
    max_output_kb: int  # on each of stdout and stderr
    idle: float = 30.0  # seconds without using CPU after which a run is stuck
    scratch_mb: int = 512  # its writable folders (a tmpfs of this size: nothing is written to disk)
    max_open_files: int = 1024  # descriptors open at once, per process


@dataclass(frozen=True)
class RunSpec:
    """Everything a run is handed.  Two equal specs run the same way, so a hash of one (with
    the bytes of ``run.FILES``) is the part of a cache key that says how a target ran."""

    argv: tuple[str, ...]  # what follows ``python``: a script, ``-m doctest PAGE``, the lab executor
    env: tuple[tuple[str, str], ...]  # on top of ``run.PINNED``: the seeded caches
    caps: Caps
    readable: tuple[Path, ...]  # shown read-only in the sandbox, never written by the run: project, caches
    family: str | None = None  # the fork server that runs it (``forkserver.FAMILIES``), or a new interpreter
    sandboxed: bool = True  # under bubblewrap; False only where ``SNIPPET_GATE_SANDBOX`` allows it
    numerics: str = "pinned"  # the float code path (``numerics.NUMERICS``): "perturbed" to test an output's margin

    def facts(self) -> dict:
        """The spec as plain data, for a cache key.  The transport (``family``) is left out:
        a fork and a new interpreter print the same bytes (``tests/gate/test_forkserver.py``)."""
        facts = asdict(self)
        facts["readable"] = [str(path) for path in self.readable]
        facts["numerics"] = [self.numerics, NUMERICS[self.numerics]]  # the settings: "perturbed" depends on the CPU
        del facts["family"]
        return facts


class Stop(Enum):
    """Why the executor ended a run before it ended by itself (``NONE``: it did)."""

    NONE = "none"
    CPU = "cpu budget"  # it used its CPU seconds (``Caps.timeout``): it computes forever
    IDLE = "idle"  # it used no CPU for ``Caps.idle`` seconds: it waits on something that never comes
    WALL = "wall ceiling"  # ``watch.WALL_FACTOR`` times its CPU budget in wall time went by
    OUTPUT = "output cap"  # stdout or stderr grew past ``max_output_kb``
    MEMORY = "memory cap"  # the kernel killed it for its memory as a whole (``limits.py``)
    RECORD = "bad record"  # what it left for the gate is not a record (``environment.read_record``)
    LOST = "protocol lost"  # the fork server broke its protocol or went away; ``Run.detail`` says how


@dataclass
class Run:
    """What one run produced, for the judge side to judge."""

    stdout: bytes = b""
    stderr: str = ""
    returncode: int | None = None
    stop: Stop = Stop.NONE
    detail: str = ""  # for ``Stop.LOST``: what happened
    modules: list[str] = field(default_factory=list)  # top-level names it imported, for provenance
    weights: list[str] = field(default_factory=list)  # seeded models and tokenizer files it read
    python: str = ""
    via: str = "process"  # or "fork": a child of the fork server
    seconds: float = 0.0  # wall time, at least 1 ms (a report shows 0 for "not run")
    capped: str = ""  # a cap the kernel enforced on the run as a whole (``limits.Group.hit``), by its setting's name
    cpu: float = 0.0  # CPU seconds of the run and every process it waited for (for make bench)
    spec: RunSpec | None = None  # what it was handed (its caps, for the judge's messages)
