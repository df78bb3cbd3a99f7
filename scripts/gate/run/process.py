"""The plain transport: one run in a new sandboxed Python process (and session).

Used for every run without a fork-server family, and whenever a server cannot take one.
The process gets the run's environment (``environment.py``), the OS sandbox
(``sandbox.py``) and the process cap (``limits.py``); this module enforces the timeout and
the output cap while it reads the two pipes.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.gate.run import limits, sandbox
from scripts.gate.run.environment import environment, with_record
from scripts.gate.run.spec import Run, RunSpec, Stop


def run(spec: RunSpec) -> Run:
    """``python ARGV`` in a new process, in a scratch folder of its own."""
    with tempfile.TemporaryDirectory(prefix="snippet-") as tmp:
        scratch, record = Path(tmp) / "scratch", Path(tmp) / "record.json"
        scratch.mkdir()
        cap = limits.ProcessCap(spec.caps.max_processes)
        command = cap.prefix() + sandbox.wrap([sys.executable, *spec.argv], spec.readable, [Path(tmp)], scratch,
                                              spec.sandboxed)
        try:
            proc = subprocess.Popen(command, cwd=scratch, env=environment(spec, scratch, record),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
            out, err, stop, cpu = collect(proc, spec.caps.timeout, spec.caps.max_output_kb * 1024)
        finally:
            cap.close()
        run = Run(out, err.decode("utf-8", "replace"), proc.returncode, stop, cpu=cpu)
        return run if stop is Stop.OUTPUT else with_record(run, record)


def collect(proc: subprocess.Popen, timeout: float, cap: int) -> tuple[bytes, bytes, Stop, float]:
    """Read stdout and stderr until both close, the wall-clock ``timeout`` passes, or one of
    them exceeds ``cap`` bytes: (out, err, why it was stopped, CPU seconds).  On a stop the whole
    process group is killed; what holds the pipes then does not matter."""
    chunks = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    deadline, stopped = time.monotonic() + timeout, Stop.NONE
    with selectors.DefaultSelector() as selector:
        for pipe in chunks:
            selector.register(pipe, selectors.EVENT_READ)
        while selector.get_map() and stopped is Stop.NONE:
            left = deadline - time.monotonic()
            if left <= 0:
                stopped = Stop.TIMEOUT
                break
            for key, _ in selector.select(left):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fileobj)
                chunks[key.fileobj] += data
                stopped = Stop.OUTPUT if len(chunks[key.fileobj]) > cap else stopped
    cpu = None
    if stopped is Stop.NONE:  # both pipes closed; the process itself must still end in time
        cpu = reap(proc, deadline)
        stopped = Stop.TIMEOUT if cpu is None else stopped
    if stopped is not Stop.NONE:
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
