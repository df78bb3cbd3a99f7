"""Run one snippet in its own Python process, the way the gate needs it run.

Each run gets a fresh scratch working directory (also its ``HOME``), a pinned environment
(hash seed, UTF-8, one thread per math library, the seeded offline caches) and the sandbox
in ``child/sitecustomize.py`` that blocks the network and records which data files were read.
Only ``PATH`` and a few CPU-quirk variables are inherited, so a developer's shell cannot
change an output.  The process is a new interpreter, or a fork of the fork server for
snippets that use sentence-transformers (``forkserver.py``); both see the same.  This file
sets what a run sees, so it is part of every cache key.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.gate import child, forkserver, seed, settings

INHERITED = ("PATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
PINNED = {
    "PYTHONHASHSEED": "0",
    "PYTHONUTF8": "1",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TQDM_DISABLE": "1",
    "MPLBACKEND": "Agg",
}


@dataclass
class Run:
    """What one snippet run produced, for the gate to judge."""

    stdout: bytes = b""
    stderr: str = ""
    returncode: int | None = None
    timed_out: bool = False
    reads: list[Path] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)  # top-level names, for provenance
    python: str = ""
    via: str = "process"  # or "fork": a child of the fork server
    seconds: float = 0.0  # wall time, at least 1 ms (a report shows 0 for "not run")
    problem: str = ""  # the run was lost (the fork server broke its protocol): why


def environment(root: Path, scratch: Path, record: Path | None = None) -> dict[str, str]:
    """The complete environment of a snippet process: inherited basics plus pins."""
    env = {k: os.environ[k] for k in INHERITED if k in os.environ}
    env.update(PINNED)
    env.update(seed.snippet_env(root))
    env.update(
        HOME=str(scratch),
        TMPDIR=str(scratch),
        MPLCONFIGDIR=str(scratch / ".matplotlib"),
        PYTHONPATH=str(child.FOLDER),
        SNIPPET_GATE_PROJECT=str(root.resolve()),
        SNIPPET_GATE_SNIPPETS=str((root / "snippets").resolve()),
        SNIPPET_GATE_WRITABLE=str(settings.cache_root(root)),
        SNIPPET_GATE_DEPS=str(record or scratch / ".gate-reads"),
    )
    return env


def run_snippet(root: Path, snippet: Path, timeout: float, argv: list[str] | None = None) -> Run:
    """Run ``snippet`` once and collect stdout (bytes), stderr and the files it read.

    ``argv`` replaces the default ``[snippet]`` (a page's doctests run ``-m doctest page``).
    A snippet that uses sentence-transformers runs in a fork of the fork server when one is
    running (``scripts/forkserver.py``); otherwise, or if the server cannot take it, in a
    plain new process.  Either way the snippet sees the same environment and folders.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="snippet-") as tmp:
        scratch, record = Path(tmp) / "scratch", Path(tmp) / "record.json"
        scratch.mkdir()
        env, argv = environment(root, scratch, record), argv or [str(snippet.resolve())]
        server = forkserver.server_for(root) if forkserver.wants(snippet) else None
        forked = server and server.run(argv, scratch, env, Path(tmp) / "stdout", Path(tmp) / "stderr", timeout)
        if isinstance(forked, str):  # the server answered with nonsense: say so, do not guess
            return Run(via="fork", problem=forked, seconds=max(time.perf_counter() - started, 1e-3))
        if forked:
            (returncode, timed_out), out, err = forked, (Path(tmp) / "stdout").read_bytes(), \
                (Path(tmp) / "stderr").read_bytes()
        else:
            returncode, timed_out, out, err = plain_run(argv, scratch, env, timeout)
        run = Run(out, err.decode("utf-8", "replace"), returncode, timed_out, via="fork" if forked else "process")
        add_record(run, record, snippet)
        run.seconds = max(time.perf_counter() - started, 1e-3)
        return run


def plain_run(argv: list[str], scratch: Path, env: dict[str, str], timeout: float):
    """``python ARGV`` in a new process (and session): (returncode, timed_out, out, err)."""
    proc = subprocess.Popen(
        [sys.executable, *argv], cwd=scratch, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, False, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: no orphaned workers
        out, err = proc.communicate()
        return proc.returncode, True, out, err


def add_record(run: Run, path: Path, snippet: Path) -> None:
    """What the sandbox recorded at exit: data files read (without the snippet itself),
    modules imported, Python version.  A killed run leaves no record."""
    if not path.exists():
        return
    record = json.loads(path.read_text(encoding="utf-8"))
    run.reads = sorted({Path(p) for p in record["reads"]} - {snippet.resolve()})
    run.modules, run.python = record["modules"], record["python"]
