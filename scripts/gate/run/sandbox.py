"""Isolation by the operating system for every run: Linux namespaces through bubblewrap.

Each snippet, lab, page session and the fork server run under ``bwrap`` with:

* **no network** — a new network namespace whose only interface is its own loopback, so no
  address outside is reachable by any route (subprocesses, ctypes, raw syscalls, DNS);
* **a read-only machine** — ``/`` bound read-only (the project, its caches and the seeded
  models included); a private ``/tmp`` and ``/run``; the only writable folder is the run's
  own (its scratch working directory, also ``HOME`` and ``TMPDIR``);
* **a PID namespace** — when the run's first process ends, the kernel kills every process
  it started, at any depth (daemons, ``setsid`` grandchildren);
* **no capabilities** — as root, ``--cap-drop ALL``: permission bits apply, no raw sockets;
* **a process cap** — where a pids cgroup is writable (``limits.py``).

The Python guard in ``child/sitecustomize.py`` stays as the friendly first message.
``enabled(mode)`` turns ``SNIPPET_GATE_SANDBOX`` into a spec's ``sandboxed``: ``auto``
(default: use it if it works here, else say so once and run with the Python guard only),
``require`` (refuse to run without it; CI sets this), ``off``.
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


class SandboxUnavailable(RuntimeError):
    """``SNIPPET_GATE_SANDBOX=require`` and no working bubblewrap here; the message says why."""


def base_args() -> list[str]:
    """The namespaces and mounts every sandbox gets (before its own binds)."""
    user = [] if os.geteuid() == 0 else ["--unshare-user"]  # unprivileged: a user namespace
    return ["--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", *user,
            "--cap-drop", "ALL", "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/dev/shm",
            "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run"]


@functools.cache
def problem() -> str:
    """Why the sandbox cannot run here ("" if it can), found once by a real probe run."""
    bwrap = shutil.which("bwrap")
    if not sys.platform.startswith("linux") or bwrap is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    try:
        probe = subprocess.run([bwrap, *base_args(), "--", "/bin/true"], capture_output=True, text=True, timeout=30)
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


def wrap(command: list[str], readable: tuple[Path, ...], writable: list[Path], cwd: Path, sandboxed: bool) -> list[str]:
    """``command`` run inside a fresh sandbox (or as it is, if not ``sandboxed``).

    ``readable`` folders (the project, the caches) and the ``runtime`` are bound read-only
    again after the private ``/tmp`` hides them, in case they live under ``/tmp`` (tests,
    CI clones); ``writable`` ones are the run's own.  Inherited descriptors pass through unchanged.
    """
    if not sandboxed:
        return command
    shown = dict.fromkeys(folder.resolve() for folder in [*runtime(), *readable] if folder.exists())
    binds = [arg for folder in shown for arg in ("--ro-bind", str(folder), str(folder))]
    binds += [arg for folder in writable for arg in ("--bind", str(folder), str(folder))]
    return [shutil.which("bwrap"), *base_args(), *binds, "--chdir", str(cwd), "--", *command]


def runtime() -> list[Path]:
    """What every run needs to see, also when it lives under ``/tmp`` (a CI clone with its
    venv): the Python running the gate (venv and base installation) and the child code."""
    return [Path(sys.prefix), Path(sys.base_prefix), CHILD]
