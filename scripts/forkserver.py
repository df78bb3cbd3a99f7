"""The gate's side of the fork server (``scripts/forkserver_main.py``).

Importing torch and sentence-transformers costs each snippet process about six seconds
here, more than the snippet itself.  A fork server pays it once: it imports them, then
forks one child per snippet.  A child is still its own process, with fresh globals, its
own working directory, environment, timeout and the sandbox, so the isolation of a plain
run is kept; only the import is shared, read-only, from before any snippet ran.

Only snippets that import ``sentence_transformers`` use it (their plain run imports all
of ``PRELOAD`` anyway, so what they load, and the provenance line, are the same).  Other
snippets, a machine without ``fork``, ``SNIPPET_GATE_FORK=0`` and a server that failed to
start all use the plain one-process-per-snippet run.
"""

from __future__ import annotations

import ast
import atexit
import hashlib
import itertools
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
from pathlib import Path

MAIN = Path(__file__).with_name("forkserver_main.py")
ANCHOR = "sentence_transformers"
# What a snippet that uses sentence-transformers imports anyway, including the modules it
# imports lazily when it loads all-MiniLM-L6-v2 (BERT).  Imports only: no model is loaded
# and no thread is started before a fork.
PRELOAD = [
    "torch",
    "sentence_transformers",
    "transformers.models.bert.modeling_bert",
    "transformers.models.bert.tokenization_bert",
    "transformers.generation.utils",
    "transformers.masking_utils",
    "transformers.modeling_layers",
    "tqdm.contrib.logging",
]
IMPORT_LINE = re.compile(r"^\s*(?:>>>\s*)?(?:from|import)\s+([A-Za-z_]\w*)", re.M)


def imported_names(path: Path) -> set[str]:
    """Top-level module names a snippet, lab or page session imports."""
    text = path.read_text(encoding="utf-8")
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


def enabled() -> bool:
    return hasattr(os, "fork") and os.environ.get("SNIPPET_GATE_FORK", "1") != "0"


def wants(path: Path) -> bool:
    """Whether this snippet runs in a fork of the server (see the module docstring)."""
    return enabled() and ANCHOR in imported_names(path)


class ForkServer:
    """One running server and the requests in flight to it."""

    def __init__(self, env: dict[str, str], key: str):
        self.key, self.folder = key, Path(tempfile.mkdtemp(prefix="forkserver-"))
        (self.folder / "home").mkdir()
        home = str(self.folder / "home")
        env = {**env, "HOME": home, "TMPDIR": home, "MPLCONFIGDIR": home, "SNIPPET_GATE_DEPS": ""}
        self.proc = subprocess.Popen(
            [sys.executable, str(MAIN), *PRELOAD], cwd=self.folder / "home", env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(self.folder / "server.log", "wb"), start_new_session=True)
        self.ids, self.lock = itertools.count(1), threading.Lock()
        self.waiting: dict[int, queue.Queue] = {}
        self.started = queue.Queue()
        threading.Thread(target=self.read_replies, daemon=True).start()
        self.ready: bool | None = None
        self.problem = ""  # why it cannot serve, if it cannot

    def read_replies(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            if "id" in message:
                self.waiting[message["id"]].put(message)
            else:
                self.started.put(message)
        self.started.put({"error": "the fork server exited"})
        for box in list(self.waiting.values()):
            box.put({"error": "the fork server exited"})

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

    def run(self, argv: list[str], cwd: Path, env: dict[str, str], out: Path, err: Path,
            timeout: float) -> tuple[int | None, bool] | None:
        """(returncode, timed_out) of one run, or None if the server could not run it."""
        if not self.wait_ready():
            return None
        request_id, box = next(self.ids), queue.Queue()
        self.waiting[request_id] = box
        request = {"id": request_id, "argv": argv, "cwd": str(cwd), "env": env,
                   "stdout": str(out), "stderr": str(err)}
        try:
            with self.lock:
                self.proc.stdin.write((json.dumps(request) + "\n").encode())
                self.proc.stdin.flush()
            started = box.get()
            if "pid" not in started:
                return None
            try:
                done, timed_out = box.get(timeout=timeout), False
            except queue.Empty:
                try:
                    os.killpg(started["pid"], signal.SIGKILL)  # the child's whole session
                except ProcessLookupError:
                    pass  # it ended just now
                done, timed_out = box.get(), True
            return done.get("returncode"), timed_out
        except (BrokenPipeError, OSError):
            return None
        finally:
            self.waiting.pop(request_id, None)

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # end of input: the server kills any child and exits
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)


_servers: dict[Path, ForkServer] = {}
_guard = threading.Lock()


PER_RUN = {"HOME", "TMPDIR", "MPLCONFIGDIR", "SNIPPET_GATE_DEPS"}


def server_key(env: dict[str, str], packages: tuple[str, ...]) -> str:
    """What the server's imports depend on: a change means a new server."""
    files = [MAIN.read_bytes(), Path(__file__).read_bytes(),
             (Path(__file__).parent / "sandbox" / "sitecustomize.py").read_bytes()]
    shared = sorted((k, v) for k, v in env.items() if k not in PER_RUN)
    facts = json.dumps([shared, packages, PRELOAD, sys.version])
    return hashlib.sha256(b"".join(files) + facts.encode()).hexdigest()


def prepare(root: Path, env: dict[str, str], packages: tuple[str, ...]) -> None:
    """Start the server for ``root`` now (it imports in the background while other snippets
    run), or keep the one already running if nothing it depends on changed."""
    key = server_key(env, packages)
    with _guard:
        current = _servers.get(root)
        if current and current.key == key and current.proc.poll() is None:
            return
        for other in list(_servers):  # one server at a time: each holds torch in memory
            _servers.pop(other).close()
        _servers[root] = ForkServer(env, key)


def server_for(root: Path) -> ForkServer | None:
    with _guard:
        return _servers.get(root)


@atexit.register
def close_all() -> None:
    for server in list(_servers.values()):
        server.close()
    _servers.clear()
