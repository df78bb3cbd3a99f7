"""Isolation by the operating system for every run: Linux namespaces through bubblewrap.

Each snippet, lab, page session and the fork server run under ``bwrap`` with:

* **an unprivileged user** — a run is never root, even when the gate is: as root, bubblewrap
  keeps only the rights to change user (and, for a fork server, those in ``drop``), and
  ``setpriv`` (inside the sandbox, before any of the run's code) becomes ``nobody`` with no
  capabilities and ``no_new_privs``; otherwise a
  user namespace maps the run to the gate's own user, without capabilities.  Permission
  bits hold: ``/proc/sys`` and every host file not world-readable are out of reach;
* **only what a run needs, read-only** — the system's programs and libraries (``/usr`` and
  its links), a few files of ``/etc`` (``ETC``), the Python running the gate (venv and base
  installation), the child code, and the spec's ``readable`` folders (the project and its
  caches).  Not ``/``: no home folders, no ``/root``, no other project, no ``/var``;
* **no disk to write** — the only writable folders are a private ``/tmp`` (the run's
  scratch folder inside it: also ``HOME`` and ``TMPDIR``) and ``/dev/shm``, each a tmpfs of
  ``Caps.scratch_mb``, whose pages count against the run's memory cap;
* **no network** — a new network namespace whose only interface is its own loopback;
* **a PID namespace** — when the run's first process ends, the kernel kills every process
  it started, at any depth (daemons, ``setsid`` grandchildren); and its own IPC and UTS.

The caps the kernel enforces for the run as a whole (memory, processes) are cgroups
(``limits.py``).  The Python guard in ``child/sitecustomize.py`` stays as the friendly first
message.  ``enabled(mode)`` turns ``SNIPPET_GATE_SANDBOX`` into a spec's ``sandboxed``:
``auto`` (default: use it if it works here, else say so once and run with the Python guard
only), ``require`` (refuse to run without it; CI sets this), ``off``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.gate.run.environment import CHILD

MODES = ("auto", "require", "off")
NOBODY = 65534  # the user and group every run has when the gate is root
SCRATCH = Path("/tmp/scratch")  # a run's own folder, inside its sandbox
SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")  # bound read-only, or their links kept
# What of /etc a Python process reads: the loader's cache, names of users and groups, time
# zones, TLS roots (read, never used: there is no network), MIME types.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "localtime", "hosts",
       "host.conf", "ssl", "ca-certificates", "mime.types")


class SandboxUnavailable(RuntimeError):
    """``SNIPPET_GATE_SANDBOX=require`` and no working bubblewrap here; the message says why."""


def as_root() -> bool:
    return os.geteuid() == 0


def identity(changes_user: bool = False) -> list[str]:
    """The namespaces and the user: as root, keep only the rights to become ``nobody`` and,
    for a fork server, to end forks of other users and hide them from each other in its
    ``/proc`` (``drop``); otherwise a user namespace without capabilities."""
    if as_root():
        kept = ["CAP_SETUID", "CAP_SETGID", *(["CAP_KILL", "CAP_SYS_ADMIN"] if changes_user else [])]
        return ["--cap-drop", "ALL", *(arg for cap in kept for arg in ("--cap-add", cap))]
    return ["--unshare-user", "--cap-drop", "ALL"]


def drop(changes_user: bool = False) -> list[str]:
    """What runs the command inside the sandbox: as root, ``setpriv`` to ``nobody`` first.
    A fork server that ``changes_user`` keeps the rights to change user, to end its forks and,
    until it has remounted its ``/proc``, to mount: only those, to give each fork a user of its
    own that sees no other fork (``child/private.py``)."""
    if not as_root():
        return []
    kept = ["--inh-caps=-all"]
    if changes_user:  # the server drops sys_admin once its /proc is remounted (``child/private.py``)
        kept = ["--inh-caps=+setuid,+setgid,+kill,+sys_admin", "--ambient-caps=+setuid,+setgid,+kill,+sys_admin"]
    return [setpriv(), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs", *kept, "--"]


def setpriv() -> str:
    return shutil.which("setpriv", path="/usr/bin:/bin") or "/usr/bin/setpriv"


def system_mounts() -> list[str]:
    """The system's programs and libraries, and the few files of ``/etc`` a run reads."""
    args = []
    for name in SYSTEM:
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    etc = [arg for name in ETC for arg in ("--ro-bind-try", f"/etc/{name}", f"/etc/{name}")]
    return [*args, "--perms", "0755", "--dir", "/etc", *etc]


def base_args(scratch_mb: int = 512, changes_user: bool = False) -> list[str]:
    """The namespaces and mounts every sandbox gets (before its own binds)."""
    size = str(scratch_mb << 20)
    return ["--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", *identity(changes_user), *system_mounts(), "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
            "--perms", "1777", "--size", size, "--tmpfs", "/tmp", "--perms", "0777", "--dir", str(SCRATCH)]


@functools.cache
def problem() -> str:
    """Why the sandbox cannot run here ("" if it can), found once by a real probe run."""
    bwrap = shutil.which("bwrap")
    if not sys.platform.startswith("linux") or bwrap is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    if as_root() and not Path(setpriv()).exists():
        return "setpriv (util-linux) is not installed, and runs must not be root: apt-get install util-linux"
    try:
        probe = subprocess.run([bwrap, *base_args(), "--", *drop(), "/bin/true"], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bwrap failed to start: {err}"
    if probe.returncode != 0:
        return f"bwrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return ""


@functools.cache
def _said_once(why: str) -> None:
    print(f"snippet gate: no OS sandbox ({why}); runs are guarded by Python hooks only", file=sys.stderr)


def enabled(mode: str) -> bool:
    """Whether runs go through bwrap in this ``mode``; raises if it is required and cannot work here."""
    if mode not in MODES:
        raise SandboxUnavailable(f"SNIPPET_GATE_SANDBOX={mode!r}: use auto, require or off")
    if mode == "off":
        return False
    why = problem()
    if why and mode == "require":
        raise SandboxUnavailable(f"SNIPPET_GATE_SANDBOX=require, but {why}")
    if why:
        _said_once(why)
    return not why


def wrap(command: list[str], readable: tuple[Path, ...], scratch_mb: int, sandboxed: bool,
         changes_user: bool = False) -> list[str]:
    """``command`` run inside a fresh sandbox, in ``SCRATCH`` (or as it is, if not ``sandboxed``).

    ``readable`` folders (the project, the caches) and the ``runtime`` are bound read-only.
    Inherited descriptors pass through unchanged: they are how a run hands back what it made.
    """
    if not sandboxed:
        return command
    shown = sorted({folder.resolve() for folder in [*runtime(), *readable] if folder.exists()},
                   key=lambda folder: len(folder.parts))
    if why := unreadable(shown):
        raise SandboxUnavailable(why)
    binds = [*reachable(shown), *(arg for folder in shown for arg in ("--ro-bind", str(folder), str(folder)))]
    return [shutil.which("bwrap"), *base_args(scratch_mb, changes_user), *binds, "--chdir", str(SCRATCH), "--",
            *drop(changes_user), *command]


def unreadable(folders) -> str:
    """Why a run could not read one of ``folders`` ("" if it can): as root, runs are
    ``nobody``, so each folder a run is shown must be readable and searchable by others."""
    for folder in folders:
        mode = folder.stat().st_mode if as_root() and folder.exists() else 0o755
        if mode & 0o005 != 0o005:
            return (f"runs are never root, and {folder} is not readable by other users (mode {mode & 0o777:o}): "
                    f"chmod o+rx {folder}")
    return ""


def reachable(shown: list[Path]) -> list[str]:
    """Folders leading to each shown one, made searchable by anyone: bubblewrap would make
    them for root alone, and the run is not root.  Only their names: nothing else in them.
    Each folder once, outermost first.

    >>> reachable([Path("/srv/a/x"), Path("/srv/a/y"), Path("/srv/a/x/z")])
    ['--perms', '0755', '--dir', '/srv', '--perms', '0755', '--dir', '/srv/a']
    """
    folders: list[Path] = []
    for folder in shown:
        for parent in reversed(folder.parents[:-1]):  # outermost first, '/' left out
            inside_shown = any(parent == other or other in parent.parents for other in shown)
            if not inside_shown and parent not in folders:
                folders.append(parent)
    return [arg for parent in folders for arg in ("--perms", "0755", "--dir", str(parent))]


def runtime() -> list[Path]:
    """What every run needs to see: the Python running the gate (venv and base installation)
    and the child code."""
    return [Path(sys.prefix), Path(sys.base_prefix), CHILD]
