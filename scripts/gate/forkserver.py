"""The gate's side of the fork server (``child/forkserver_main.py``).

Importing torch and sentence-transformers costs each snippet process about six seconds
here, more than the snippet itself.  A fork server pays it once: it imports them, then
forks one child per snippet.  A child is still its own process, with fresh globals, its
own working directory, environment, timeout and the sandbox, so the isolation of a plain
run is kept; only the import is shared, read-only, from before any snippet ran.

There is one server per family in ``settings.FORK_FAMILIES``: runs that import
``sentence_transformers``, and runs that import ``transformers``.  Each server preloads only
what every run of its family imports anyway, so what a run loads, and its provenance line,
are the same as in a plain run.  Other runs, a machine without ``fork``,
``SNIPPET_GATE_FORK=0`` and a server that failed to start all use the plain
one-process-per-run path.
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
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from scripts.gate import child, limits, sandbox, settings

MAIN = child.FOLDER / "forkserver_main.py"
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
    """Which fork server runs this target (``settings.FORK_FAMILIES``), or None: a plain run."""
    if not settings.forking_enabled():
        return None
    names = imported_names(path)
    return next((anchor for anchor in settings.FORK_FAMILIES if anchor in names), None)


def wants(path: Path) -> bool:
    """Whether this target runs in a fork of a server (see the module docstring)."""
    return family_of(path) is not None


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
    """One running server and the requests in flight to it."""

    def __init__(self, env: dict[str, str], key: str, preload: tuple[str, ...] = (),
                 readable: tuple[Path, ...] = (), max_processes: int = 256):
        self.key, self.folder = key, Path(tempfile.mkdtemp(prefix="forkserver-"))
        home, self.runs = self.folder / "home", self.folder / "runs"
        home.mkdir()
        self.runs.mkdir(mode=0o311)  # a child may enter its own run folder, never list the others
        env = {**env, "HOME": str(home), "TMPDIR": str(home), "MPLCONFIGDIR": str(home), "SNIPPET_GATE_DEPS": ""}
        reply_r, reply_w = os.pipe()
        self.cap = limits.ProcessCap(max_processes)
        command = self.cap.prefix() + sandbox.wrap([sys.executable, str(MAIN), str(reply_w), *preload],
                                                   list(readable), [self.folder], home)
        with open(self.folder / "server.log", "wb") as log:
            self.proc = subprocess.Popen(command, cwd=home, env=env, stdin=subprocess.PIPE, stdout=log, stderr=log,
                                         pass_fds=(reply_w,), start_new_session=True)
        os.close(reply_w)
        self.replies = os.fdopen(reply_r, "rb")
        self.issued, self.lock = 0, threading.Lock()
        self.waiting: dict[int, queue.Queue] = {}
        self.started = queue.Queue()
        threading.Thread(target=self.read_replies, daemon=True).start()
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
                    log = (self.folder / "server.log").read_text(errors="replace").strip().splitlines()[-5:]
                    print(f"snippet gate: fork server unavailable ({self.problem}); running each snippet "
                          "in a new interpreter instead", *log, sep="\n    ", file=sys.stderr)
            return self.ready

    def send(self, message: dict) -> None:
        with self.lock:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()

    def run(self, argv: list[str], cwd: Path, env: dict[str, str], out: Path, err: Path,
            timeout: float, max_output: int) -> tuple[int | None, bool, float] | str | None:
        """(returncode, timed_out, CPU seconds) of one run; None if the server could not take it (the
        caller runs it plainly); a string if the gate stopped it (``limits.OUTPUT``, or the
        server broke its protocol)."""
        if not self.wait_ready():
            return None
        box = queue.Queue()
        with self.lock:
            self.issued += 1
            request_id = self.issued
            self.waiting[request_id] = box
        try:
            self.send({"id": request_id, "argv": argv, "cwd": str(cwd), "env": env,
                       "stdout": str(out), "stderr": str(err)})
            started = box.get(timeout=60)
            if "pid" not in started:
                return started.get("problem")
            done, stopped = self.watch(request_id, box, timeout, (out, err), max_output)
            if "returncode" not in done:  # lost: make sure the child is gone too
                self.send({"kill": request_id})
                return done.get("problem") or done.get("error", "the fork server gave no exit code")
            return limits.OUTPUT if stopped == "output" else (done["returncode"], stopped == "timeout", done.get("cpu", 0.0))
        except (BrokenPipeError, OSError):
            return None
        except queue.Empty:
            return "the fork server stopped answering"
        finally:
            self.waiting.pop(request_id, None)

    def watch(self, request_id: int, box: queue.Queue, timeout: float, outputs: tuple[Path, Path],
              max_output: int) -> tuple[dict, str]:
        """Wait for the child's end; stop it at the wall-clock ``timeout`` or once a file it
        prints to grows past ``max_output``: (final message, "" | "timeout" | "output")."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return box.get(timeout=min(0.1, max(deadline - time.monotonic(), 0.001))), ""
            except queue.Empty:
                big = any(path.exists() and path.stat().st_size > max_output for path in outputs)
                if big or time.monotonic() >= deadline:
                    self.send({"kill": request_id})
                    return box.get(timeout=60), "output" if big else "timeout"

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # end of input: the server kills any child and exits
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.cap.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_servers: dict[tuple[Path, str], ForkServer] = {}
_guard = threading.Lock()


PER_RUN = {"HOME", "TMPDIR", "MPLCONFIGDIR", "SNIPPET_GATE_DEPS"}


def server_key(env: dict[str, str], packages: tuple[str, ...], preload: tuple[str, ...]) -> str:
    """What the server's imports depend on: a change means a new server."""
    files = sorted(p for p in child.FOLDER.glob("*.py")) + [Path(__file__)]
    shared = sorted((k, v) for k, v in env.items() if k not in PER_RUN)
    facts = json.dumps([shared, packages, preload, sys.version])
    return hashlib.sha256(b"".join(p.read_bytes() for p in files) + facts.encode()).hexdigest()


def prepare(root: Path, family: str, env: dict[str, str], packages: tuple[str, ...]) -> None:
    """Start the ``family`` server for ``root`` now (it imports in the background while other
    snippets run), or keep the one already running if nothing it depends on changed."""
    conf, preload = settings.load(root), settings.FORK_FAMILIES[family]
    key = server_key(env, packages, preload)
    with _guard:
        current = _servers.get((root, family))
        if current and current.key == key and current.proc.poll() is None:
            return
        for other in [k for k in _servers if k[0] != root or k[1] == family]:  # one project at a time
            _servers.pop(other).close()
        _servers[root, family] = ForkServer(env, key, preload, tuple(sandbox.readable(root)), conf.max_processes)


def server_for(root: Path, path: Path) -> ForkServer | None:
    """The running server of ``path``'s family, if any."""
    family = family_of(path)
    with _guard:
        return _servers.get((root, family)) if family else None


@atexit.register
def close_all() -> None:
    for server in list(_servers.values()):
        server.close()
    _servers.clear()
