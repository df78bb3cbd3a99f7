"""The caps the kernel enforces for a run as a whole: a cgroup per run, per controller.

``RLIMIT_NPROC`` is not enforced for root, nor in a user namespace that root created, and
``RLIMIT_AS`` is per process (three children held 6 GiB under a 4 GiB cap).  So where a
cgroup hierarchy is writable (cgroup v1's ``pids`` and ``memory`` controllers, or a cgroup v2
folder that delegates them), each run gets a group per controller in ``CONTROLS``, with the
cap written into it.  A plain run enters its groups before the sandbox starts (``prefix``);
a fork joins them first thing, through descriptors the gate opened (``procs``).  Where a
controller is not writable, the gate says once what holds instead (``Control.without``).
``Group.hit`` reads back which cap the kernel enforced, for the judge's message.
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.gate.run.spec import Caps

_ids = itertools.count(1)
# sh: join each group named before the command, then become the command
ENTER = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; n=$((n-1)); done; '
         'exec "$@"')


@dataclass(frozen=True)
class Control:
    """One controller: the file its cap goes in (v1, v2), its value, the cap's name for a
    message, and where the kernel counts the times it enforced it."""

    limit: tuple[str, str]
    value: object  # Caps -> the number written
    cap: str
    events: tuple[str, str, str]  # (v1 file, v2 file, the counter's key)
    without: str  # what holds where the controller is not writable


CONTROLS = {
    # bwrap and its init count too: the run itself gets ``max_processes``
    "pids": Control(("pids.max", "pids.max"), lambda caps: caps.max_processes + 2, "max-processes",
                    ("pids.events", "pids.events", "max"),
                    "nothing caps the number of processes a run starts (its CPU budget and PID namespace "
                    "still end them)"),
    # the whole run's memory, its tmpfs files included (they are charged to the group)
    "memory": Control(("memory.limit_in_bytes", "memory.max"), lambda caps: caps.memory_mb << 20, "memory-mb",
                      ("memory.oom_control", "memory.events", "oom_kill"),
                      "the memory-mb cap holds each process of a run (RLIMIT_AS), not the run as a whole"),
}


def own_cgroup(controller: str) -> tuple[str, str, int] | None:
    """(mount point, our path, cgroup version) of the hierarchy holding ``controller``."""
    paths = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        mount, fstype, options = fields[4], fields[-3], fields[-1].split(",")
        if fstype == "cgroup" and controller in options and controller in paths:
            return mount, paths[controller], 1
        if fstype == "cgroup2" and "" in paths:
            parent = Path(mount) / paths[""].lstrip("/")
            delegated = (parent / "cgroup.subtree_control")
            if delegated.exists() and controller in delegated.read_text().split():
                return mount, paths[""], 2
    return None


_probe_lock = threading.Lock()


def parents() -> dict[str, tuple[Path, int]]:
    """Each controller of ``CONTROLS`` with a folder where this process may create groups
    (and its cgroup version).  Runs start from several threads at once: one of them probes,
    the others wait for its answer."""
    with _probe_lock:
        return _parents()


@functools.cache
def _parents() -> dict[str, tuple[Path, int]]:
    found = {}
    for controller, control in CONTROLS.items():
        parent = _writable_parent(controller)
        if parent is None:
            print(f"snippet gate: no writable {controller} cgroup here, so {control.without}", file=sys.stderr)
        else:
            sweep(parent[0])
            found[controller] = parent
    return found


def pids_parent() -> Path | None:
    return parents().get("pids", (None,))[0]


def _writable_parent(controller: str) -> tuple[Path, int] | None:
    try:
        found = own_cgroup(controller)
        if found:
            parent = Path(found[0]) / found[1].lstrip("/")
            probe = parent / f"snippet-gate-probe-{os.getpid()}"
            probe.mkdir()
            probe.rmdir()
            return parent, found[2]
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
    """Kill what is left in a group, then remove it (a group can only go once empty)."""
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


def count(path: Path, key: str) -> int:
    """The counter ``key`` in a cgroup events file (``key value`` lines); 0 if unreadable."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.split()[:1] == [key]), 0)


class Group:
    """The cgroups of one run: ``prefix`` puts a new process in them, ``procs`` opens their
    membership files for a fork to join, ``hit`` says which cap the kernel enforced, and
    ``close`` kills what is left and removes them."""

    def __init__(self, caps: Caps):
        name = f"snippet-gate-{pid_namespace()}-{os.getpid()}-{next(_ids)}"
        self.groups: dict[str, tuple[Path, int]] = {}
        for controller, (parent, version) in parents().items():
            control, group = CONTROLS[controller], parent / name
            group.mkdir()
            self.groups[controller] = group, version
            (group / control.limit[version - 1]).write_text(str(control.value(caps)))

    def prefix(self) -> list[str]:
        folders = [str(group) for group, _ in self.groups.values()]
        return ["/bin/sh", "-c", ENTER, "sh", str(len(folders)), *folders] if folders else []

    def procs(self) -> list[int]:
        """Descriptors of the groups' ``cgroup.procs``: writing ``0`` to each moves the writer
        in (opened here, so a run without any privilege can join, and only these)."""
        return [os.open(group / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for group, _ in self.groups.values()]

    def hit(self) -> str:
        """The name of a cap the kernel enforced on this run ("" if none)."""
        for controller, (group, version) in self.groups.items():
            control = CONTROLS[controller]
            if count(group / control.events[version - 1], control.events[2]):
                return control.cap
        return ""

    def close(self) -> None:
        for group, _ in self.groups.values():
            remove(group)
