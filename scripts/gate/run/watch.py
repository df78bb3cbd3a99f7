"""When a run is stuck, told apart from a slow machine by the CPU it uses, not the clock.

A run that is still using CPU is working, however busy the machine: other work on the
cores stretches its wall time, not its CPU time.  So the transports stop a run when it has

* used its budget of CPU seconds (``Caps.timeout``: it computes forever), or
* used no CPU for ``Caps.idle`` seconds (it waits on something that never comes: a pipe,
  a lock, input, ``sleep``), or
* run ``WALL_FACTOR`` times its CPU budget in wall time (a ceiling for a run that wakes
  now and then to do almost nothing, which neither rule above would catch soon).

The CPU time is the whole process tree's, read from ``/proc`` by the gate (outside the
sandbox: nothing the run does can change it): every live descendant's own time and that of
the children it has waited for.  Standard library only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from scripts.gate.run.spec import Caps, Stop

WALL_FACTOR = 10  # the wall-time ceiling, as a multiple of the CPU budget
TICK = 0.5  # seconds between looks at a run's CPU time (a look reads /proc: about 1 ms)
WORKING = 0.05  # CPU seconds a run must use to count as working since the last time it did
CLOCK_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (which may hold spaces), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def tree(root: int) -> list[int]:
    """``root`` and every live process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(int(entry))):
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_seconds(root: int) -> float:
    """CPU seconds of ``root``'s tree: each process's user and system time, with its waited-for children's."""
    total = 0
    for pid in tree(root):
        if fields := stat_fields(pid):
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_HZ


def namespace_ids(pid: int) -> list[str]:
    """``pid`` in each PID namespace it is in, outermost (this one's) first; [] if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return []
    return next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [str(pid)])


def host_pid(root: int, inner_pid: int, level: int) -> int | None:
    """The pid, as this process sees it, of the process in ``root``'s tree that PID namespace
    ``level`` (0: this one's) calls ``inner_pid``: a fork server inside bubblewrap reports its
    children so.  The level is fixed, not the innermost: a run can make namespaces of its own."""
    for pid in tree(root):
        ids = namespace_ids(pid)
        if len(ids) > level and ids[level] == str(inner_pid):
            return pid
    return None


class Watch:
    """The clock of one run: ``look(cpu)``, called as often as the transport likes, reads the
    tree's CPU seconds (``cpu()``) every ``TICK`` and says whether (and why) the run must end."""

    def __init__(self, caps: Caps):
        self.caps = caps
        self.began = self.last_work = self.looked = time.monotonic()
        self.cpu_at_last_work = self.most = 0.0

    def look(self, cpu: Callable[[], float]) -> Stop:
        if time.monotonic() - self.looked < TICK:
            return Stop.NONE
        self.looked = time.monotonic()
        return self.stop(cpu())

    def stop(self, cpu: float) -> Stop:
        """A child the kernel reaps by itself (``SIGCHLD`` ignored) takes its CPU time out of
        the tree's sum when it ends: the count is held at the most seen, so it never goes back."""
        now, cpu = time.monotonic(), max(cpu, self.most)
        self.most = cpu
        if cpu - self.cpu_at_last_work >= WORKING:
            self.last_work, self.cpu_at_last_work = now, cpu
        if cpu >= self.caps.timeout:
            return Stop.CPU
        if now - self.last_work >= self.caps.idle:
            return Stop.IDLE
        if now - self.began >= WALL_FACTOR * self.caps.timeout:
            return Stop.WALL
        return Stop.NONE
