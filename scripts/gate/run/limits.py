"""The process cap, which the kernel enforces: how many processes a run has at once.

The other caps are enforced elsewhere (the table in ``run/__init__.py``).  The process
count needs a pids cgroup: ``RLIMIT_NPROC`` is not enforced for root, nor in a user
namespace that root created.  Where a pids cgroup is writable (cgroup v1's ``pids``
controller, or a cgroup v2 folder that delegates ``pids``), each run gets its own group
with ``pids.max`` set, entered before the sandbox starts; elsewhere the gate says once that
the process count is not capped (the PID namespace still ends every process at the end).
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import sys
import threading
import time
from pathlib import Path

_ids = itertools.count(1)
ENTER = 'echo $$ > "$0/cgroup.procs" && exec "$@"'  # sh: join the group, then become the command


def own_cgroup(controller: str) -> tuple[str, str] | None:
    """(mount point, our path) of the hierarchy holding ``controller`` (v1) or of cgroup v2."""
    paths = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        mount, fstype, options = fields[4], fields[-3], fields[-1].split(",")
        if fstype == "cgroup" and controller in options and controller in paths:
            return mount, paths[controller]
        if fstype == "cgroup2" and "" in paths:
            parent = Path(mount) / paths[""].lstrip("/")
            delegated = (parent / "cgroup.subtree_control")
            if delegated.exists() and controller in delegated.read_text().split():
                return mount, paths[""]
    return None


_probe_lock = threading.Lock()


def pids_parent() -> Path | None:
    """A folder where this process may create pids groups, or None (said once).  Runs start
    from several threads at once: one of them probes, the others wait for its answer."""
    with _probe_lock:
        return _pids_parent()


@functools.cache
def _pids_parent() -> Path | None:
    parent = _writable_pids_parent()
    if parent is None:
        print("snippet gate: no writable pids cgroup here, so the number of processes a run starts is "
              "not capped (they still all end with the run)", file=sys.stderr)
    else:
        sweep(parent)
    return parent


def _writable_pids_parent() -> Path | None:
    try:
        found = own_cgroup("pids")
        if found:
            parent = Path(found[0]) / found[1].lstrip("/")
            probe = parent / f"snippet-gate-probe-{os.getpid()}"
            probe.mkdir()
            probe.rmdir()
            return parent
    except OSError:
        pass
    return None


@functools.cache
def pid_namespace() -> int:
    """Our PID namespace (its inode): a pid in a group's name means something only in it."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def sweep(parent: Path) -> None:
    """Remove the groups of gates that are gone: a gate killed by a signal (as ``make bench``
    stops the server it started) never reaches ``close``.  A group's name carries its gate's
    PID namespace and pid; groups of other namespaces, and of live pids, are left alone."""
    if not pid_namespace():  # ours is unknown: a pid could name a process elsewhere
        return
    for group in parent.glob(f"snippet-gate-{pid_namespace()}-*-*"):
        owner = group.name.split("-")[3]
        if owner.isdigit() and not alive(int(owner)):
            try:
                remove(group)
            except OSError:  # another gate is sweeping it, or a process is not ours to kill
                pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove(group: Path) -> None:
    """Kill what is left in a pids group, then remove it (a group can only go once empty)."""
    for _ in range(50):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except FileNotFoundError:  # already removed
            return
        for pid in pids:
            if pid > 0:  # 0: a process outside our PID namespace, which we cannot name
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


class ProcessCap:
    """A pids group for one run: ``prefix`` puts the command in it; ``close`` kills what is
    left and removes the group."""

    def __init__(self, max_processes: int):
        parent = pids_parent()
        self.group = parent / f"snippet-gate-{pid_namespace()}-{os.getpid()}-{next(_ids)}" if parent else None
        if self.group:
            self.group.mkdir()
            # bwrap and its init count too: the run itself gets ``max_processes``.
            (self.group / "pids.max").write_text(str(max_processes + 2))

    def prefix(self) -> list[str]:
        return ["/bin/sh", "-c", ENTER, str(self.group)] if self.group else []

    def close(self) -> None:
        if self.group:
            remove(self.group)
