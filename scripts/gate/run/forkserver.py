"""The fork transport: the gate's side of the fork server (``child/forkserver_main.py``).

Importing torch and sentence-transformers costs each snippet process about six seconds
here, more than the snippet itself.  A fork server pays it once: it imports them, then
forks one child per run.  A child is still its own process, with fresh globals, its own
working directory, environment, timeout and the sandbox, so the isolation of a plain run is
kept; only the import is shared, read-only, from before any snippet ran.

There is one server per family in ``FAMILIES``: runs that import ``peft``, runs that import
``sentence_transformers``, and runs that import ``transformers``.  Each server preloads only what every run of its
family imports anyway, so what a run loads, and its provenance line, are the same as in a
plain run.  A server is keyed on everything its imports and its sandbox depend on
(``server_key``); a spec with another key gets a new server.
"""

from __future__ import annotations

import ast
import atexit
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from scripts.gate.run import limits, process, sandbox, watch
from scripts.gate.run.environment import CHILD, FILES, environment, installed_packages
from scripts.gate.run.spec import Run, RunSpec, Stop

MAIN = CHILD / "forkserver_main.py"
# The import that routes a run to a family (the first that matches, in this order), and what
# that server imports before it forks.  Each list is what every run of its family imports
# anyway in a plain interpreter, so the provenance line is the same either way:
# peft (LoRA) on SmolLM2, whose import alone costs about five seconds here (it loads much of
# transformers), sentence-transformers with all-MiniLM-L6-v2 (BERT), transformers with SmolLM2 (Llama).
SMOLLM2 = (
    "torch",
    "transformers.models.llama.modeling_llama",
    "transformers.generation.utils",
    "transformers.masking_utils",
    "transformers.modeling_layers",
    "encodings.unicode_escape",
)
FAMILIES = {
    "peft": (*SMOLLM2, "peft"),
    "sentence_transformers": (
        "torch",
        "sentence_transformers",
        "transformers.models.bert.modeling_bert",
        "transformers.models.bert.tokenization_bert",
        "transformers.generation.utils",
        "transformers.masking_utils",
        "transformers.modeling_layers",
        "tqdm.contrib.logging",
    ),
    "transformers": SMOLLM2,
}
IMPORT_LINE = re.compile(r"^\s*(?:>>>\s*)?(?:from|import)\s+([A-Za-z_]\w*)", re.M)


def imported_names(path: Path) -> set[str]:
    """Top-level module names a snippet, lab or page session imports."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()  # not readable as UTF-8: the plain run reports it, naming the file
    try:
        tree = ast.parse(text) if path.suffix == ".py" else None
    except SyntaxError:
        tree = None
    if tree is None:
        return set(IMPORT_LINE.findall(text))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.partition(".")[0])
    return names


def family_of(path: Path) -> str | None:
    """Which fork server would run this file (``FAMILIES``), by what it imports; None: none."""
    names = imported_names(path)
    return next((anchor for anchor in FAMILIES if anchor in names), None)


def parse_reply(line: bytes) -> dict | None:
    """A reply line as a dict, or None if it is not one (a stray print, a forged line).

    >>> parse_reply(b'{"id": 1, "pid": 42}\\n'), parse_reply(b"hello\\n"), parse_reply(b"[1]")
    ({'id': 1, 'pid': 42}, None, None)
    """
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


class ForkServer:
    """One running server and the requests in flight to it.

    Requests go over a Unix socket, one packet each, with the run's descriptors attached:
    the write ends of its stdout, stderr and record pipes, and its cgroups' membership files
    (``limits.Group.procs``).  The gate reads the pipes itself (``process.collect``), as for
    a plain run: no output is a file a run could swap."""

    def __init__(self, spec: RunSpec, key: str, preload: tuple[str, ...] = ()):
        self.key, self.folder = key, Path(tempfile.mkdtemp(prefix="forkserver-"))
        self.sandboxed = spec.sandboxed
        reply_r, reply_w = os.pipe()
        self.requests, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.group = limits.Group(spec.caps)
        # under the sandbox, each fork makes namespaces (and, as root, a user) of its own
        mode = "private" if spec.sandboxed else "shared"
        command = self.group.prefix() + sandbox.wrap([sys.executable, str(MAIN), str(reply_w), mode, *preload],
                                                     spec.readable, spec.caps.scratch_mb, spec.sandboxed,
                                                     changes_user=True)
        home = sandbox.SCRATCH if spec.sandboxed else self.folder
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(command, cwd="/" if spec.sandboxed else home, env=environment(spec, home),
                                     stdin=theirs.fileno(), stdout=self.log, stderr=self.log, pass_fds=(reply_w,),
                                     start_new_session=True)
        os.close(reply_w)
        theirs.close()
        self.replies = os.fdopen(reply_r, "rb")
        self.issued, self.lock = 0, threading.Lock()
        self.waiting: dict[int, queue.Queue] = {}
        self.started = queue.Queue()
        threading.Thread(target=self.read_replies, daemon=True).start()
        # the PID namespace the server's children are in, counted from this one's: its own
        # under the sandbox (bubblewrap makes one), else this one
        self.level = len(watch.namespace_ids(os.getpid())) - 1 + (1 if spec.sandboxed else 0)
        self.ready: bool | None = None
        self.problem = ""  # why it cannot serve, if it cannot

    def read_replies(self) -> None:
        """Route each reply to the request it answers.  A line that is not a reply fails the
        requests in flight with a message (each names its snippet), instead of ending this
        thread and leaving them to wait out their timeouts."""
        for line in self.replies:
            message = parse_reply(line)
            if message is not None and "id" not in message:
                self.started.put(message)
            elif message is not None and message["id"] in self.waiting:
                self.waiting[message["id"]].put(message)
            elif message is None or not isinstance(message["id"], int) or message["id"] >= self.next_id:
                self.fail_all(f"the fork server sent a line that is not a reply: {line[:120]!r}")
        self.started.put({"error": "the fork server exited"})
        self.fail_all("the fork server exited", problem=False)

    def fail_all(self, why: str, problem: bool = True) -> None:
        """Answer every request in flight with ``why`` (a ``problem``: the run is lost)."""
        for box in list(self.waiting.values()):
            box.put({"problem" if problem else "error": why})

    @property
    def next_id(self) -> int:
        return self.issued + 1

    def wait_ready(self, seconds: float = 300) -> bool:
        """Block until the imports are done (once); False if the server cannot serve."""
        with self.lock:
            if self.ready is None:
                try:
                    message = self.started.get(timeout=seconds)
                except queue.Empty:
                    message = {"error": f"no answer in {seconds:g} s"}
                self.ready, self.problem = "ready" in message, message.get("error", "")
                if not self.ready:  # correct but slow from here on: say so, once
                    self.log.seek(0)
                    log = self.log.read(1 << 16).decode(errors="replace").strip().splitlines()[-5:]
                    print(f"snippet gate: fork server unavailable ({self.problem}); running each snippet "
                          "in a new interpreter instead", *log, sep="\n    ", file=sys.stderr)
            return self.ready

    def send(self, message: dict, fds: list[int] = ()) -> None:
        with self.lock:
            socket.send_fds(self.requests, [json.dumps(message).encode()], list(fds))

    def run(self, spec: RunSpec) -> Run | None:
        """One run in a fork, in a folder inside the server's sandbox; None if the server
        could not take it (the caller runs it plainly)."""
        if not self.wait_ready():
            return None
        pipes, group = process.Pipes(), limits.Group(spec.caps)
        try:
            return self.request(spec, pipes, group)
        finally:
            pipes.close()
            group.close()

    def request(self, spec: RunSpec, pipes: process.Pipes, group: limits.Group) -> Run | None:
        """The run, ended by itself or stopped (stuck, a cap, protocol lost); None if the
        server could not take it."""
        box = queue.Queue()
        with self.lock:
            self.issued += 1
            request_id = self.issued
            self.waiting[request_id] = box
        # a fork's own folder: inside its private /tmp under the sandbox, as a plain run's is
        scratch = sandbox.SCRATCH if self.sandboxed else self.folder / f"run-{request_id}"
        request = {"id": request_id, "argv": list(spec.argv), "cwd": str(scratch), "env": environment(spec, scratch),
                   "scratch_mb": spec.caps.scratch_mb}
        procs = group.procs()
        try:
            try:
                self.send(request, [*(pipes.write[name] for name in process.STREAMS), *procs])
            finally:
                pipes.close_write()
                for fd in procs:
                    os.close(fd)
            started = box.get(timeout=60)
            if "pid" not in started:
                return lost(started["problem"]) if "problem" in started else None
            done = {}

            def has_ended() -> bool:
                if not done:
                    try:
                        done.update(box.get_nowait())
                    except queue.Empty:
                        return False
                return True

            got, stop, _ = process.collect(pipes.read, spec.caps, has_ended, self.cpu_of(started["pid"]),
                                           lambda: self.send({"kill": request_id}))
            if not done:
                done.update(box.get(timeout=60))
            if "returncode" not in done:  # lost: make sure the child is gone too
                self.send({"kill": request_id})
                return lost(done.get("problem") or done.get("error", "the fork server gave no exit code"))
            ran = Run(returncode=done["returncode"], stop=stop, via="fork", cpu=done.get("cpu", 0.0))
            return process.finish(ran, got, group)
        except (OSError, ValueError):  # the server is gone, or was replaced (closed) meanwhile
            return None
        except queue.Empty:
            return lost("the fork server stopped answering")
        finally:
            self.waiting.pop(request_id, None)

    def cpu_of(self, inner_pid: int):
        """The CPU seconds of the child the server calls ``inner_pid``, read from here by the
        pid this side sees (the server reports its own)."""
        pid = None

        def cpu() -> float:
            nonlocal pid
            pid = pid or watch.host_pid(self.proc.pid, inner_pid, self.level)
            return watch.cpu_seconds(pid) if pid else 0.0
        return cpu

    def close(self) -> None:
        try:
            self.requests.close()  # end of input: the server kills any child and exits
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.group.close()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def lost(why: str) -> Run:
    return Run(stop=Stop.LOST, detail=why, via="fork")


_servers: dict[tuple[str, str], ForkServer] = {}  # (family, numerics) -> its running server (one at a time)
_guard = threading.Lock()


def server_key(spec: RunSpec) -> str:
    """Everything the server's imports and sandbox depend on: a change means a new server.
    What differs per run (argv, the timeout, the output cap) is in each request instead."""
    shared = sorted(environment(spec, Path("/")).items())  # the per-run folders left at a placeholder
    caps = [spec.caps.max_processes, spec.caps.memory_mb, spec.caps.scratch_mb]
    facts = json.dumps([shared, caps, spec.sandboxed, FAMILIES[spec.family],
                        installed_packages(), sys.version])
    return hashlib.sha256(b"".join(p.read_bytes() for p in FILES) + facts.encode()).hexdigest()


def prepare(spec: RunSpec) -> ForkServer:
    """The server for ``spec`` (its family, its key), started now if none runs: it imports in
    the background while other runs go on.  A server with another key is replaced."""
    key, slot = server_key(spec), (spec.family, spec.numerics)
    with _guard:
        current = _servers.get(slot)
        # the same server while it runs; one that could not serve stays, so its runs go plain
        # (and it says so once) until something in its key changes
        if current and current.key == key and (current.proc.poll() is None or current.ready is False):
            return current
        if current:
            current.close()
        _servers[slot] = ForkServer(spec, key, FAMILIES[spec.family])
        return _servers[slot]


@atexit.register
def close_all() -> None:
    with _guard:
        for server in _servers.values():
            server.close()
        _servers.clear()
