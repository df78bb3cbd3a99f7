"""The executor, one door: ``run(spec) -> Run`` runs Python once, sandboxed, under caps.
Imports the standard library and its own modules only: nothing from the rest of the gate.

Lives here: the types (``spec.py``: ``RunSpec``, ``Caps``, ``Run``, ``Stop``), the run's
environment and record (``environment.py``), the two transports (``process.py``, a new
interpreter; ``forkserver.py``, a fork of a server that imported torch once), the OS
sandbox (``sandbox.py``), the process cap (``limits.py``) and ``child/``, the code inside
the run's own process.  It imports nothing from the rest of the gate: the judge side
(``targets``, ``core``, ``cache``) imports it.  Every file here is in ``FILES``, and so in
every cache key.

The caps, from ``[tool.snippets]`` in ``pyproject.toml``; past one, the run ends and the
judge's message names it:

============== ============================================ =================================================
cap            setting                                      enforced by
============== ============================================ =================================================
timeout        ``default-timeout``, ``[tool.snippets.       the transport (``watch.py``): CPU seconds of the
               timeout]`` (per file)                        run's process tree, then its whole process group
                                                            and PID namespace are killed; also past
                                                            ``WALL_FACTOR`` times that in wall time
idle           ``idle-timeout`` (30)                        the transport (``watch.py``): seconds without
                                                            using CPU, then killed the same way
memory_mb      ``memory-mb`` (4096)                         a memory cgroup per run (``limits.py``), where one
                                                            is writable: the whole run, its tmpfs files
                                                            included; and ``RLIMIT_AS``, hard, per process
                                                            (``child/sitecustomize.py``)
max_processes  ``max-processes`` (256)                      a pids cgroup per run (``limits.py``), where one
                                                            is writable; said once where none is
scratch_mb     ``scratch-mb`` (512)                         the sandbox: its ``/tmp`` (scratch folder inside)
                                                            and ``/dev/shm`` are tmpfs of this size
max_open_files ``max-open-files`` (1024)                    ``RLIMIT_NOFILE``, hard, per process
                                                            (``child/sitecustomize.py``)
max_output_kb  ``max-output-kb`` (1024)                     the transport: stdout or stderr past it stops
                                                            the run
============== ============================================ =================================================
"""

from __future__ import annotations

import time

from scripts.gate.run import forkserver, process, sandbox
from scripts.gate.run.child import FOLDER as CHILD
from scripts.gate.run.child.lab_exec import parse_expected, section
from scripts.gate.run.child.sitecustomize import NETWORK_EXIT, WRITE_EXIT
from scripts.gate.run.environment import FILES, FOLDER, PINNED, environment, installed_packages
from scripts.gate.run.numerics import NUMERICS
from scripts.gate.run.spec import Caps, Run, RunSpec, Stop
from scripts.gate.run.watch import WALL_FACTOR

__all__ = ["Caps", "FILES", "FOLDER", "LAB_EXECUTOR", "NETWORK_EXIT", "NUMERICS", "PINNED", "Run", "RunSpec", "Stop",
           "WALL_FACTOR", "WRITE_EXIT", "close", "environment", "family_of", "installed_packages", "parse_expected",
           "prepare", "run", "sandbox", "section"]

LAB_EXECUTOR = CHILD / "lab_exec.py"  # runs a lab cell by cell; its output form is ``section``/``parse_expected``

family_of = forkserver.family_of


def run(spec: RunSpec) -> Run:
    """Run ``python *spec.argv`` once and collect what it printed and recorded.

    A spec with a ``family`` runs in a fork of that family's server (started now if none
    with its key runs); without one, or if the server cannot take it, in a new interpreter.
    Both see the same environment, folders and caps, and give the same ``Run``.
    """
    started = time.perf_counter()
    result = forkserver.prepare(spec).run(spec) if spec.family else None
    result = result or process.run(spec)
    result.seconds, result.spec = max(time.perf_counter() - started, 1e-3), spec
    return result


def prepare(specs: list[RunSpec]) -> None:
    """Start the fork servers these specs will need, without waiting for their imports."""
    for spec in {spec.family: spec for spec in specs if spec.family}.values():
        forkserver.prepare(spec)


def close() -> None:
    """Stop every fork server (they also stop when the gate exits)."""
    forkserver.close_all()
