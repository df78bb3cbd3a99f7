"""What a run's process is given and what it leaves behind: its environment, and its record.

The environment is complete: only ``PATH`` and a few CPU-quirk variables are inherited, then
``PINNED`` and ``NUMERICS`` (the settings that make an output the same on every machine), the spec's own
(the seeded caches), and the per-run folders and guard settings.  A developer's shell
cannot change an output.  The record is what ``child/sitecustomize.py`` writes at exit.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from pathlib import Path

from scripts.gate.run.child import FOLDER as CHILD
from scripts.gate.run.numerics import NUMERICS
from scripts.gate.run.spec import Run, RunSpec, Stop

FOLDER = Path(__file__).resolve().parent
# Every file of the executor: its bytes are in every cache key and every fork server's key.
FILES = tuple(sorted(p for p in FOLDER.rglob("*") if p.is_file() and "__pycache__" not in p.parts))
INHERITED = ("PATH", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
PINNED = {
    "PYTHONHASHSEED": "0",
    "PYTHONUTF8": "1",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    # a run's user may have no name (a fork's own uid, ``child/private.py``): ``getpass`` asks these first
    "USER": "snippet",
    "LOGNAME": "snippet",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TQDM_DISABLE": "1",
    "MPLBACKEND": "Agg",
    # pyarrow (which sentence-transformers imports through pandas when both are installed)
    # starts a jemalloc background thread at import; a process with threads cannot fork safely.
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
    # glibc reserves a 64 MB arena per thread; gRPC (Milvus Lite) and torch start many, and the
    # reservations count against the memory cap (RLIMIT_AS) though little of them is used.
    "MALLOC_ARENA_MAX": "2",
}


def environment(spec: RunSpec, scratch: Path, record_fd: int | None = None) -> dict[str, str]:
    """The complete environment of one run whose own folder is ``scratch`` (also its ``HOME``
    and ``TMPDIR``); the child writes its record to the descriptor ``record_fd`` (none if None)."""
    env = {k: os.environ[k] for k in INHERITED if k in os.environ}
    env.update(PINNED)
    env.update(NUMERICS[spec.numerics])
    env.update(spec.env)
    env.update(
        HOME=str(scratch),
        TMPDIR=str(scratch),
        MPLCONFIGDIR=str(scratch / ".matplotlib"),
        PYTHONPATH=str(CHILD),
        SNIPPET_GATE_PROTECTED=json.dumps([str(path) for path in spec.readable]),
        SNIPPET_GATE_MEMORY_MB=str(spec.caps.memory_mb),
        SNIPPET_GATE_MAX_OPEN_FILES=str(spec.caps.max_open_files),
        SNIPPET_GATE_RECORD_FD="" if record_fd is None else str(record_fd),
    )
    return env


RECORD_KB = 256  # the most a record may be; the gate reads no more
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,199}")  # a top-level module (``_sysconfigdata__linux_x86_64-linux-gnu``)
WEIGHT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?")  # org/name, or a file


def not_a_record(run: Run, problem: str) -> Run:
    """Stop a run whose record is not one, saying what is wrong with it."""
    run.stop, run.detail = Stop.RECORD, f"what it left for the gate is not a run record ({problem})"
    return run


def with_record(run: Run, data: bytes) -> Run:
    """Add what the child recorded at exit (modules imported, weights read, Python version),
    once checked: the record comes from inside the run, so it is trusted for nothing but its
    form, and the Python it names must be the one the gate started.  A killed run leaves
    none; a record that is not one stops the run (``Stop.RECORD``) with what is wrong."""
    if not data:
        return run
    problem = record_problem(data)
    if problem:
        return not_a_record(run, problem)
    record = json.loads(data)
    run.modules, run.weights, run.python = record["modules"], record["weights"], record["python"]
    return run


def record_problem(data: bytes) -> str:
    """What is wrong with a record ("" if nothing).

    >>> record_problem(b'{"modules": ["os"], "weights": [], "python": "%s"}' % PYTHON.encode())
    ''
    >>> record_problem(b'{"modules": ["<b>x</b>"], "weights": [], "python": "3.0.0"}')
    "a module name is not one: '<b>x</b>'"
    """
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not JSON"
    if not isinstance(record, dict) or sorted(record) != ["modules", "python", "weights"]:
        return "not an object with modules, weights and python"
    for key, pattern in (("modules", NAME), ("weights", WEIGHT)):
        items = record[key]
        if not isinstance(items, list) or len(items) > 5000:
            return f"{key} is not a list"
        bad = next((item for item in items if not isinstance(item, str) or not pattern.fullmatch(item)), None)
        if bad is not None:
            return f"a {key[:-1]} name is not one: {str(bad)[:60]!r}"
    if record["python"] != PYTHON:
        return f"it names Python {str(record['python'])[:20]!r}, but the gate started {PYTHON}"
    return ""


PYTHON = platform.python_version()  # a run's interpreter is the gate's own (``sys.executable``)


def installed_packages() -> tuple[str, ...]:
    """``name-version`` of every distribution a run can import.

    Read afresh on every call, from the names of the ``*.dist-info`` folders on
    ``sys.path`` (a few milliseconds; parsing every METADATA file took 0.2 s): a long
    site server must notice a ``pip install`` made while it runs.
    """
    found = set()
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_dir():
            found.update(info.name.rsplit(".", 1)[0].lower() for info in folder.iterdir()
                         if info.suffix in (".dist-info", ".egg-info"))
    return tuple(sorted(found))
