"""The plain transport: one run in a new sandboxed Python process (and session).

Used for every run without a fork-server family, and whenever a server cannot take one.
The process gets the run's environment (``environment.py``), the OS sandbox
(``sandbox.py``) and its cgroups (``limits.py``).  What it hands back comes through three
pipes the gate made (stdout, stderr, the record): nothing is looked up by name afterwards,
so nothing the run does to its folders can make the gate read another file.  ``collect``,
shared with the fork transport, reads them under the output cap and stops a stuck run
(``watch.py``).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from scripts.gate.run import limits, sandbox, watch
from scripts.gate.run.environment import RECORD_KB, environment, not_a_record, with_record
from scripts.gate.run.spec import Caps, Run, RunSpec, Stop

STREAMS = ("stdout", "stderr", "record")


def run(spec: RunSpec) -> Run:
    """``python ARGV`` in a new process, in a scratch folder of its own."""
    with ExitStack() as stack:
        scratch = sandbox.SCRATCH if spec.sandboxed else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        pipes = Pipes()
        stack.callback(pipes.close)
        group = limits.Group(spec.caps)
        stack.callback(group.close)
        command = group.prefix() + sandbox.wrap([sys.executable, *spec.argv], spec.readable, spec.caps.scratch_mb,
                                                spec.sandboxed)
        proc = subprocess.Popen(command, cwd=scratch if not spec.sandboxed else "/",
                                env=environment(spec, scratch, pipes.write["record"]), stdin=subprocess.DEVNULL,
                                stdout=pipes.write["stdout"], stderr=pipes.write["stderr"],
                                pass_fds=(pipes.write["record"],), start_new_session=True)
        pipes.close_write()
        got, stop, seen = collect(pipes.read, spec.caps, lambda: ended(proc.pid),
                                  lambda: watch.cpu_seconds(proc.pid), lambda: kill_group(proc.pid))
        # bubblewrap's own rusage leaves out the run (its init in the namespace is not waited
        # for): the most the tree was seen to use stands in, if larger
        cpu = max(reap(proc), seen)
        return finish(Run(returncode=proc.returncode, stop=stop, cpu=cpu), got, group)


def finish(run: Run, got: dict[str, bytes], group: limits.Group) -> Run:
    """The run with what it printed, which cap the kernel enforced, and its record (a run
    stopped by a cap, or killed at the memory cap, has none)."""
    run.stdout, run.stderr, run.capped = got["stdout"], got["stderr"].decode("utf-8", "replace"), group.hit()
    if run.capped == "memory-mb" and run.returncode != 0 and run.stop is Stop.NONE:
        run.stop = Stop.MEMORY
    if run.stop is Stop.RECORD:
        return not_a_record(run, f"more than {RECORD_KB} KB")
    return run if run.stop is not Stop.NONE else with_record(run, got["record"])


class Pipes:
    """A pipe per stream of ``STREAMS``: the run gets the write ends, the gate reads the others."""

    def __init__(self):
        self.read, self.write = {}, {}
        for name in STREAMS:
            self.read[name], self.write[name] = os.pipe()

    def close_write(self) -> None:
        for fd in self.write.values():
            os.close(fd)
        self.write = {}

    def close(self) -> None:
        self.close_write()
        for fd in self.read.values():
            os.close(fd)
        self.read = {}


def collect(pipes: dict[str, int], caps: Caps, has_ended: Callable[[], bool], cpu: Callable[[], float],
            kill: Callable[[], None]) -> tuple[dict[str, bytes], Stop, float]:
    """Read every pipe until all close and the run has ended, or ``watch.Watch`` says it is
    stuck, or one grows past its cap (stdout and stderr: ``max_output_kb``; the record:
    ``RECORD_KB``): (what each held, why it was stopped, the most CPU seconds seen).  On a stop, ``kill`` ends the run;
    what holds the pipes then does not matter, and what they hold is not waited for."""
    got = {name: bytearray() for name in pipes}
    limit = {name: (RECORD_KB if name == "record" else caps.max_output_kb) * 1024 for name in pipes}
    clock, stopped = watch.Watch(caps), Stop.NONE
    with selectors.DefaultSelector() as selector:
        for name, fd in pipes.items():
            selector.register(fd, selectors.EVENT_READ, name)
        while stopped is Stop.NONE:
            if selector.get_map():
                events = selector.select(watch.TICK)
            elif has_ended():
                break
            else:  # every pipe closed: wait for the run's end, looking often
                time.sleep(0.005)
                events = []
            for key, _ in events:
                data = os.read(key.fd, 1 << 16)
                if not data:
                    selector.unregister(key.fd)
                got[key.data] += data
                if len(got[key.data]) > limit[key.data]:
                    stopped = Stop.RECORD if key.data == "record" else Stop.OUTPUT
            if stopped is Stop.NONE:
                stopped = clock.look(cpu)
    if stopped is not Stop.NONE:
        kill()
    return {name: bytes(data) for name, data in got.items()}, stopped, clock.most


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
