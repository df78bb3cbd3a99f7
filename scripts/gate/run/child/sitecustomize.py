"""Loaded by Python's ``site`` module in every snippet process, before the snippet runs.

The gate puts this folder (``scripts/gate/run/child``) on ``PYTHONPATH``; snippets themselves
stay canonical.  The real isolation is the operating system's (``scripts/gate/run/sandbox.py``:
no network, a read-only project, a PID namespace); this is the friendly first message, and
the only guard where that sandbox is not available:

* **blocks the network** — the first connect or DNS look-up ends the process at once with
  exit code 97 and a message naming the host, so a snippet that would download something
  fails clearly instead of hanging or falling back silently.  Loopback stays open (as in the
  sandbox's own network namespace): an embedded database such as Milvus Lite serves its
  client on 127.0.0.1 from inside the snippet's process;
* **refuses writes into the project** (exit code 98), its caches included;
* **caps the address space** at ``$SNIPPET_GATE_MEMORY_MB`` and the open files at
  ``$SNIPPET_GATE_MAX_OPEN_FILES`` (hard limits: no code in the process or its children can
  raise them again);
* **records the modules the run imported, the seeded weights and tokenizer files it
  opened, and the Python version**, for the provenance line under each output (a JSON
  record written at exit to the descriptor ``$SNIPPET_GATE_RECORD_FD``, which the gate
  handed the run and reads itself: no file is looked up by name.  Only the run's first
  process has it: the variable is removed and the descriptor not inherited).
"""

import atexit
import json
import os
import platform
import resource
import socket
import sys

NETWORK_EXIT = 97
WRITE_EXIT = 98
_encode = json.JSONEncoder().encode  # bound now: a snippet that patches json.dumps still gets a record
_weights = set()  # "org/name" of each Hugging Face snapshot read, the file name of each tiktoken file


def _die(code, message):
    sys.stderr.write(f"\n[snippet gate] {message}\n")
    sys.stderr.flush()
    os._exit(code)


def _deny_network(what, address):
    _die(NETWORK_EXIT, f"network access blocked: the snippet tried to {what} {address!r}. "
                       "Snippets run offline; use the seeded caches or committed data files.")


LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _guard_connect(original):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            _deny_network("connect to", address)
        return original(self, address)
    return connect


def _guard_getaddrinfo(original):
    def getaddrinfo(host, port, *args, **kwargs):
        if (host.decode() if isinstance(host, bytes) else host) not in LOOPBACK:
            _deny_network("look up", (host, port))
        return original(host, port, *args, **kwargs)
    return getaddrinfo


def _protected():
    """The folders a run may read and never write (the project and its caches: the spec's
    ``readable``), a JSON list; anything else stops the run rather than guard nothing."""
    raw = os.environ.get("SNIPPET_GATE_PROTECTED")
    try:
        folders = json.loads(raw) if raw is not None else []
    except ValueError:
        folders = None
    if not isinstance(folders, list) or not all(isinstance(f, str) and os.path.isabs(f) for f in folders):
        _die(WRITE_EXIT, f"SNIPPET_GATE_PROTECTED is not a JSON list of absolute folders: {raw!r}")
    return folders


_PROTECTED = []  # set by ``install``, in the child only


def _inside(path, folder):
    return bool(folder) and (path == folder or path.startswith(folder + os.sep))


def _audit(event, args):
    if event != "open" or not isinstance(args[0], (str, bytes)):
        return
    path = os.path.realpath(os.fsdecode(args[0]))
    mode, flags = args[1] or "", args[2] or 0
    writing = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    if writing and any(_inside(path, folder) for folder in _PROTECTED):
        _die(WRITE_EXIT, f"write blocked: the snippet tried to write {path}; "
                         "a check run never modifies the project (write to a temp dir instead).")
    if not writing:
        _note_weights(path)


def _note_weights(path):
    hub = os.path.join(os.environ.get("HF_HOME", "\0"), "hub")
    tiktoken = os.environ.get("TIKTOKEN_CACHE_DIR", "\0")
    if _inside(path, hub):
        repo = path[len(hub) + 1:].split(os.sep)[0]
        if repo.startswith("models--"):
            _weights.add(repo[len("models--"):].replace("--", "/", 1))
    elif _inside(path, tiktoken):
        _weights.add(os.path.basename(path))


def cap_resources():
    """Lower the address-space and open-file limits, soft and hard, for this process and its children."""
    for variable, limit, scale in (("SNIPPET_GATE_MEMORY_MB", resource.RLIMIT_AS, 1024 * 1024),
                                   ("SNIPPET_GATE_MAX_OPEN_FILES", resource.RLIMIT_NOFILE, 1)):
        value = int(os.environ.get(variable) or 0) * scale
        if value:
            resource.setrlimit(limit, (value, value))


def _record_fd():
    """The descriptor to write the record to (None: no record), taken from the environment
    so that no process the run starts writes one too."""
    raw = os.environ.pop("SNIPPET_GATE_RECORD_FD", "")
    if not raw.isdigit():
        return None
    fd = int(raw)
    try:
        os.set_inheritable(fd, False)
    except OSError:
        return None
    return fd


def _save_record(fd):
    modules = sorted({name.partition(".")[0] for name in list(sys.modules)} - {""})
    record = {"modules": modules, "weights": sorted(_weights), "python": platform.python_version()}
    try:
        os.write(fd, _encode(record).encode())
        os.close(fd)
    except OSError:  # the run closed it: no record, and the gate says so
        pass


def keep_record():
    """Write the record at exit to the descriptor the environment names, if any."""
    fd = _record_fd()
    if fd is not None:
        atexit.register(_save_record, fd)


def install():
    global _PROTECTED
    _PROTECTED = _protected()
    socket.socket.connect = _guard_connect(socket.socket.connect)
    socket.socket.connect_ex = _guard_connect(socket.socket.connect_ex)
    socket.getaddrinfo = _guard_getaddrinfo(socket.getaddrinfo)
    sys.addaudithook(_audit)
    cap_resources()
    keep_record()


if __name__ == "sitecustomize":  # loaded by ``site`` in a child; the gate only reads constants
    install()
