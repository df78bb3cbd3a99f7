"""The plain transport: one run in a new sandboxed Python process (and session).

Used for every run without a fork-server family, and whenever a server cannot take one.
The process gets the run's environment (``environment.py``), the OS sandbox
(``sandbox.py``) and the process cap (``limits.py``); this module stops a stuck run
(``watch.py``) and enforces the output cap while it reads the two pipes.
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

from scripts.gate.run import limits, sandbox, watch
from scripts.gate.run.environment import environment, with_record
from scripts.gate.run.spec import Caps, Run, RunSpec, Stop


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
            out, err, stop, cpu = collect(proc, spec.caps)
        finally:
            cap.close()
        run = Run(out, err.decode("utf-8", "replace"), proc.returncode, stop, cpu=cpu)
        return run if stop is Stop.OUTPUT else with_record(run, record)


def collect(proc: subprocess.Popen, caps: Caps) -> tuple[bytes, bytes, Stop, float]:
    """Read stdout and stderr until both close and the process ends, or ``watch.Watch`` says
    the run is stuck, or one of them exceeds the output cap: (out, err, why it was stopped,
    CPU seconds).  On a stop the whole process group is killed; what holds the pipes then
    does not matter."""
    chunks = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    cap, clock, stopped = caps.max_output_kb * 1024, watch.Watch(caps), Stop.NONE
    with selectors.DefaultSelector() as selector:
        for pipe in chunks:
            selector.register(pipe, selectors.EVENT_READ)
        while stopped is Stop.NONE:
            if selector.get_map():
                events = selector.select(watch.TICK)
            elif ended(proc.pid):
                break
            else:  # both pipes closed: wait for the process's end, looking often
                time.sleep(0.005)
                events = []
            for key, _ in events:
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fileobj)
                chunks[key.fileobj] += data
                stopped = Stop.OUTPUT if len(chunks[key.fileobj]) > cap else stopped
            if stopped is Stop.NONE:
                stopped = clock.look(lambda: watch.cpu_seconds(proc.pid))
    if stopped is not Stop.NONE:
        kill_group(proc.pid)
    # bubblewrap's own rusage leaves out the run (its init in the namespace is not waited
    # for): the most the tree was seen to use stands in, if larger
    cpu = max(reap(proc), clock.most)
    proc.stdout.close()
    proc.stderr.close()
    return bytes(chunks[proc.stdout]), bytes(chunks[proc.stderr]), stopped, cpu


def ended(pid: int) -> bool:
    """Whether the process has exited, without collecting it (``reap`` does, for its CPU time)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def reap(proc: subprocess.Popen) -> float:
    """Wait for the process: its CPU seconds, with every descendant it waited for."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the whole group: no orphaned workers
    except ProcessLookupError:
        pass
