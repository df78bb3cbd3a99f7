"""The fork transport: the gate's side of the fork server (``child/forkserver_main.py``).

Importing torch and sentence-transformers costs each snippet process about six seconds
here, more than the snippet itself.  A fork server pays it once: it imports them, then
forks one child per run.  A child is still its own process, with fresh globals, its own
working directory, environment, timeout and the sandbox, so the isolation of a plain run is
kept; only the import is shared, read-only, from before any snippet ran.

There is one server per family in ``FAMILIES``: runs that import ``sentence_transformers``,
and runs that import ``transformers``.  Each server preloads only what every run of its
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
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from scripts.gate.run import limits, sandbox, watch
from scripts.gate.run.environment import CHILD, FILES, environment, installed_packages, with_record
from scripts.gate.run.spec import Caps, Run, RunSpec, Stop

MAIN = CHILD / "forkserver_main.py"
TICK = 0.1  # seconds between looks at a child's end and its output files (its CPU time: ``watch.TICK``)
# The import that routes a run to a family (the first that matches, in this order), and what
# that server imports before it forks.  Each list is what every run of its family imports
# anyway in a plain interpreter, so the provenance line is the same either way:
# sentence-transformers with all-MiniLM-L6-v2 (BERT), transformers with SmolLM2 (Llama).
FAMILIES = {
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
    "transformers": (
        "torch",
        "transformers.models.llama.modeling_llama",
        "transformers.generation.utils",
        "transformers.masking_utils",
        "transformers.modeling_layers",
        "encodings.unicode_escape",
    ),
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
    """One running server and the requests in flight to it."""

    def __init__(self, spec: RunSpec, key: str, preload: tuple[str, ...] = ()):
        self.key, self.folder = key, Path(tempfile.mkdtemp(prefix="forkserver-"))
        home, self.runs = self.folder / "home", self.folder / "runs"
        home.mkdir()
        self.runs.mkdir(mode=0o311)  # a child may enter its own run folder, never list the others
        reply_r, reply_w = os.pipe()
        self.cap = limits.ProcessCap(spec.caps.max_processes)
        command = self.cap.prefix() + sandbox.wrap([sys.executable, str(MAIN), str(reply_w), *preload],
                                                   spec.readable, [self.folder], home, spec.sandboxed)
        with open(self.folder / "server.log", "wb") as log:
            self.proc = subprocess.Popen(command, cwd=home, env=environment(spec, home), stdin=subprocess.PIPE,
                                         stdout=log, stderr=log, pass_fds=(reply_w,), start_new_session=True)
        os.close(reply_w)
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
                    log = (self.folder / "server.log").read_text(errors="replace").strip().splitlines()[-5:]
                    print(f"snippet gate: fork server unavailable ({self.problem}); running each snippet "
                          "in a new interpreter instead", *log, sep="\n    ", file=sys.stderr)
            return self.ready

    def send(self, message: dict) -> None:
        with self.lock:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()

    def run(self, spec: RunSpec) -> Run | None:
        """One run in a fork, in a folder inside the server's sandbox; None if the server
        could not take it (the caller runs it plainly)."""
        if not self.wait_ready():
            return None
        with tempfile.TemporaryDirectory(prefix="run-", dir=self.runs) as tmp:
            scratch, record, out, err = (Path(tmp) / name for name in ("scratch", "record.json", "stdout", "stderr"))
            scratch.mkdir()
            request = {"argv": list(spec.argv), "cwd": str(scratch), "env": environment(spec, scratch, record),
                       "stdout": str(out), "stderr": str(err)}
            ended = self.request(request, spec.caps, (out, err))
            if ended is None or (isinstance(ended, Run) and ended.stop is Stop.LOST):
                return ended
            try:  # what it printed (so far, if stopped), read at most one byte past the cap
                return self.collected(ended, out, err, record, spec.caps.max_output_kb * 1024 + 1)
            except OSError:  # the server was replaced (and its folder removed) meanwhile
                return None

    @staticmethod
    def collected(ended: tuple[int, float] | Run, out: Path, err: Path, record: Path, limit: int) -> Run:
        """The run with what it printed (and, if it ended by itself, its record)."""
        stdout, stderr = head(out, limit), head(err, limit).decode("utf-8", "replace")
        if isinstance(ended, Run):  # stopped by a cap: no record
            ended.stdout, ended.stderr = stdout, stderr
            return ended
        returncode, cpu = ended
        return with_record(Run(stdout, stderr, returncode, via="fork", cpu=cpu), record)

    def request(self, request: dict, caps: Caps, outputs: tuple[Path, Path]) -> tuple[int, float] | Run | None:
        """(returncode, CPU seconds) of a child that ended by itself; a ``Run`` saying why it
        was stopped (stuck, output cap, protocol lost); None if the server could not take it."""
        box = queue.Queue()
        with self.lock:
            self.issued += 1
            request_id = self.issued
            self.waiting[request_id] = box
        try:
            self.send({"id": request_id, **request})
            started = box.get(timeout=60)
            if "pid" not in started:
                return lost(started["problem"]) if "problem" in started else None
            done, stop = self.watch(request_id, started["pid"], box, caps, outputs)
            if "returncode" not in done:  # lost: make sure the child is gone too
                self.send({"kill": request_id})
                return lost(done.get("problem") or done.get("error", "the fork server gave no exit code"))
            if stop is not Stop.NONE:
                return Run(returncode=done["returncode"], stop=stop, via="fork", cpu=done.get("cpu", 0.0))
            return done["returncode"], done.get("cpu", 0.0)
        except (OSError, ValueError):  # the server is gone, or was replaced (closed) meanwhile
            return None
        except queue.Empty:
            return lost("the fork server stopped answering")
        finally:
            self.waiting.pop(request_id, None)

    def watch(self, request_id: int, inner_pid: int, box: queue.Queue, caps: Caps,
              outputs: tuple[Path, Path]) -> tuple[dict, Stop]:
        """Wait for the child's end; stop it once ``watch.Watch`` says it is stuck or a file it
        prints to grows past the output cap: (final message, why it was stopped).  Its CPU
        time is read from here, by the pid this side sees (the server reports its own)."""
        clock, max_output, pid = watch.Watch(caps), caps.max_output_kb * 1024, None

        def cpu() -> float:
            nonlocal pid
            pid = pid or watch.host_pid(self.proc.pid, inner_pid, self.level)
            return watch.cpu_seconds(pid) if pid else 0.0

        while True:
            try:
                return box.get(timeout=TICK), Stop.NONE
            except queue.Empty:
                big = any(path.exists() and path.stat().st_size > max_output for path in outputs)
                stop = Stop.OUTPUT if big else clock.look(cpu)
                if stop is not Stop.NONE:
                    self.send({"kill": request_id})
                    return box.get(timeout=60), stop

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # end of input: the server kills any child and exits
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.cap.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def lost(why: str) -> Run:
    return Run(stop=Stop.LOST, detail=why, via="fork")


_servers: dict[tuple[str, str], ForkServer] = {}  # (family, numerics) -> its running server (one at a time)
_guard = threading.Lock()


def server_key(spec: RunSpec) -> str:
    """Everything the server's imports and sandbox depend on: a change means a new server.
    What differs per run (argv, the timeout, the output cap) is in each request instead."""
    shared = sorted(environment(spec, Path("/")).items())  # the per-run folders left at a placeholder
    facts = json.dumps([shared, spec.caps.max_processes, spec.sandboxed, FAMILIES[spec.family],
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
