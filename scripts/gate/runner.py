"""Run one snippet in its own Python process, the way the gate needs it run.

Each run gets a fresh scratch working directory (also its ``HOME``), a pinned environment
(hash seed, UTF-8, one thread per math library, the seeded offline caches), the OS sandbox
(``sandbox.py``), the caps (``limits.py``) and the Python guard in ``child/sitecustomize.py``,
which records the modules and seeded weights the run used.  Only ``PATH`` and a few
CPU-quirk variables are inherited, so a developer's shell cannot change an output.  The
process is a new interpreter, or a fork of a fork server for runs that import
sentence-transformers or transformers (``forkserver.py``); both see the same.  This file
sets what a run sees, so it is part of every cache key.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.gate import child, forkserver, limits, sandbox, seed, settings

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
    # pyarrow (which sentence-transformers imports through pandas when both are installed)
    # starts a jemalloc background thread at import; a process with threads cannot fork safely.
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
    # glibc reserves a 64 MB arena per thread; gRPC (Milvus Lite) and torch start many, and the
    # reservations count against the memory cap (RLIMIT_AS) though little of them is used.
    "MALLOC_ARENA_MAX": "2",
}


@dataclass
class Run:
    """What one snippet run produced, for the gate to judge."""

    stdout: bytes = b""
    stderr: str = ""
    returncode: int | None = None
    timed_out: bool = False
    modules: list[str] = field(default_factory=list)  # top-level names, for provenance
    weights: list[str] = field(default_factory=list)  # seeded models and tokenizer files it read
    python: str = ""
    via: str = "process"  # or "fork": a child of the fork server
    seconds: float = 0.0  # wall time, at least 1 ms (a report shows 0 for "not run")
    cpu: float = 0.0  # CPU seconds of the run and every process it waited for (for make bench)
    problem: str = ""  # it was stopped for a reason of the gate's (too much output, a broken protocol)


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
        SNIPPET_GATE_CACHE=str(settings.cache_root(root)),
        SNIPPET_GATE_MEMORY_MB=str(settings.load(root).memory_mb),
        SNIPPET_GATE_DEPS=str(record or scratch / ".gate-record.json"),
    )
    return env


def run_snippet(root: Path, snippet: Path, timeout: float, argv: list[str] | None = None) -> Run:
    """Run ``snippet`` once, sandboxed, and collect stdout (bytes), stderr and its record.

    ``argv`` replaces the default ``[snippet]`` (a page's doctests run ``-m doctest page``).
    A run whose family has a fork server running (``forkserver.family_of``) runs in a fork
    of it; otherwise, or if the server cannot take it, in a plain new process.  Either way the snippet sees the same environment, folders and limits.
    """
    started, argv = time.perf_counter(), argv or [str(snippet.resolve())]
    server = forkserver.server_for(root, snippet)
    run = forked_run(root, server, argv, timeout) if server and server.wait_ready() else None
    run = run or plain_run(root, argv, timeout)
    run.seconds = max(time.perf_counter() - started, 1e-3)
    return run


def forked_run(root: Path, server, argv: list[str], timeout: float) -> Run | None:
    """One run in a fork of the server, in a folder inside the server's sandbox; None if the
    server could not take it."""
    with tempfile.TemporaryDirectory(prefix="run-", dir=server.runs) as tmp:
        scratch, record, out, err = (Path(tmp) / name for name in ("scratch", "record.json", "stdout", "stderr"))
        scratch.mkdir()
        kb = settings.load(root).max_output_kb
        result = server.run(argv, scratch, environment(root, scratch, record), out, err, timeout, kb * 1024)
        if result is None:
            return None
        if isinstance(result, str):  # stopped by the gate: too much output, or a broken protocol
            return Run(via="fork", problem=limits.too_much_output(kb) if result == limits.OUTPUT else result)
        (returncode, timed_out, cpu), stdout, stderr = result, out.read_bytes(), err.read_bytes()
        run = Run(stdout, stderr.decode("utf-8", "replace"), returncode, timed_out, via="fork", cpu=cpu)
        return with_record(run, record)


def plain_run(root: Path, argv: list[str], timeout: float) -> Run:
    """``python ARGV`` in a new sandboxed process (and session)."""
    conf = settings.load(root)
    with tempfile.TemporaryDirectory(prefix="snippet-") as tmp:
        scratch, record = Path(tmp) / "scratch", Path(tmp) / "record.json"
        scratch.mkdir()
        cap = limits.ProcessCap(conf.max_processes)
        command = cap.prefix() + sandbox.wrap([sys.executable, *argv], sandbox.readable(root), [Path(tmp)], scratch)
        try:
            proc = subprocess.Popen(command, cwd=scratch, env=environment(root, scratch, record),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
            out, err, stopped, cpu = collect(proc, timeout, conf.max_output_kb * 1024)
        finally:
            cap.close()
        if stopped == limits.OUTPUT:
            return Run(out, err.decode("utf-8", "replace"), proc.returncode, problem=limits.too_much_output(conf.max_output_kb))
        run = Run(out, err.decode("utf-8", "replace"), proc.returncode, stopped == "timeout", cpu=cpu)
        return with_record(run, record)


def collect(proc: subprocess.Popen, timeout: float, cap: int) -> tuple[bytes, bytes, str, float]:
    """Read stdout and stderr until both close, the wall-clock ``timeout`` passes, or one of
    them exceeds ``cap`` bytes: (out, err, "" | "timeout" | "output", CPU seconds).  On a stop the whole
    process group is killed; what holds the pipes then does not matter."""
    chunks = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    deadline, stopped = time.monotonic() + timeout, ""
    with selectors.DefaultSelector() as selector:
        for pipe in chunks:
            selector.register(pipe, selectors.EVENT_READ)
        while selector.get_map() and not stopped:
            left = deadline - time.monotonic()
            if left <= 0:
                stopped = "timeout"
                break
            for key, _ in selector.select(left):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fileobj)
                chunks[key.fileobj] += data
                stopped = limits.OUTPUT if len(chunks[key.fileobj]) > cap else stopped
    cpu = None
    if not stopped:  # both pipes closed; the process itself must still end in time
        cpu = reap(proc, deadline)
        stopped = "timeout" if cpu is None else ""
    if stopped:
        kill_group(proc.pid)
        cpu = reap(proc, None)
    proc.stdout.close()
    proc.stderr.close()
    return bytes(chunks[proc.stdout]), bytes(chunks[proc.stderr]), stopped, cpu


def reap(proc: subprocess.Popen, deadline: float | None) -> float | None:
    """Wait for the process (until ``deadline``, if given): its CPU seconds, with every
    descendant it waited for; None if it is still running at the deadline."""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if deadline else 0)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the whole group: no orphaned workers
    except ProcessLookupError:
        pass


def with_record(run: Run, path: Path) -> Run:
    """Add what the child recorded at exit (modules imported, weights read, Python version);
    a killed run leaves no record."""
    if path.exists():
        record = json.loads(path.read_text(encoding="utf-8"))
        run.modules, run.weights, run.python = record["modules"], record["weights"], record["python"]
    return run
