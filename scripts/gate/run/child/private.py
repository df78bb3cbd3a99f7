"""What makes each fork of the fork server as private as a run of its own sandbox.

A plain run gets its namespaces from bubblewrap.  Forks of one server share the server's
sandbox, so each child, before any of the snippet's code, makes its own (``isolate``):

* **its own user** (``become``), where the server may change user (the gate is root: the
  server is ``nobody`` with only ``CAP_SETUID``, ``CAP_SETGID`` and ``CAP_KILL``): uid and gid
  ``FIRST_ID + slot``, one per concurrent child, then no capability at all.  The server's
  ``/proc`` shows each user only its own processes (``hide_forks_from_each_other``), so a
  fork cannot see, signal or trace another, nor open its ``/proc/PID/fd``;
* **its own network, IPC and mount namespaces** (``namespaces``), in a user namespace of its
  own: a loopback of its own (an embedded database's port is no other run's); its scratch
  folder ``/tmp/scratch`` and ``/dev/shm`` as tmpfs of its own (of the run's ``scratch_mb``),
  gone with its last process; the server's ``/tmp`` around them read-only.  Then its
  capabilities in that namespace are dropped too.

Without a uid of its own (the gate is not root: a user namespace maps one uid only), forks
of one server could reach each other's processes, so the server runs one at a time
(``forkserver_main.start``) and the gate runs the others plainly.  Standard library only (ctypes).
"""

import ctypes
import fcntl
import os
import socket
import struct

FIRST_ID = 65536  # uids and gids of forks: above every 16-bit id a system hands out
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x08000000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 0x1, 0x2, 0x4, 0x8, 0x20
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
PR_SET_DUMPABLE, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 47, 4
CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN = 5, 6, 7, 21
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
SCRATCH = "/tmp/scratch"

_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def can_change_user() -> bool:
    """Whether this process holds ``CAP_SETUID`` and ``CAP_SETGID`` (the gate is root)."""
    with open("/proc/self/status") as status:
        effective = next(int(line.split()[1], 16) for line in status if line.startswith("CapEff:"))
    return all(effective >> cap & 1 for cap in (CAP_SETGID, CAP_SETUID))


def drop_capabilities() -> None:
    """No capability left: effective, permitted, inheritable and ambient."""
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def hide_forks_from_each_other() -> None:
    """In the server, once, as root's server: its ``/proc`` shows a process only to its own
    user (``hidepid=invisible``) and to the server's group, so a fork, with a user of its own,
    sees no other fork nor the server; then the right to mount is dropped for good."""
    options = f"hidepid=invisible,gid={os.getgid()}".encode()
    _check(_libc.mount(None, b"/proc", None, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, options), "remount /proc")
    keep_only(CAP_SETUID, CAP_SETGID, CAP_KILL)


def keep_only(*caps: int) -> None:
    """These capabilities, effective, permitted and inheritable, and no other."""
    bits = sum(1 << cap for cap in caps)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    data[0].effective = data[0].permitted = data[0].inheritable = bits
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def become(slot: int) -> None:
    """The user and group ``FIRST_ID + slot``, no supplementary groups, no capability."""
    ident = FIRST_ID + slot
    os.setgroups([])
    os.setresgid(ident, ident, ident)
    os.setresuid(ident, ident, ident)
    drop_capabilities()


def namespaces(scratch_mb: int) -> None:
    """A user namespace of its own holding new network, IPC and mount namespaces: loopback up,
    a private ``/tmp`` of ``scratch_mb`` with ``SCRATCH`` in it; then no capability."""
    uid, gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    # a process writes its own maps only while dumpable (the server is not; a change of user unsets it)
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "set dumpable")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "unset dumpable")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    # its folder and /dev/shm: tmpfs of its own.  The server's /tmp, shared, becomes read-only
    # here (the project may be bound inside it, so nothing is mounted over it)
    for folder, mode in ((SCRATCH, "0700"), ("/dev/shm", "1777")):
        options = f"size={scratch_mb << 20},mode={mode}".encode()
        _check(_libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), f"mount {folder}")
    _check(_libc.mount(None, b"/tmp", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None),
           "make the shared /tmp read-only")
    loopback_up()
    drop_capabilities()


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(handle, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(handle, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def isolate(slot: int | None, scratch_mb: int) -> None:
    """Everything above, in order: the user first (a namespace made after is owned by it)."""
    if slot is not None:
        become(slot)
    namespaces(scratch_mb)
