"""The fork server: import the heavy libraries once, then run each snippet in a fresh fork.

Started by ``scripts/forkserver.py`` (the gate's side) with exactly a snippet's environment (so the sandbox in
``sitecustomize`` is active here and in every child).  It imports the modules named on its
command line, checks that it is still a single thread (forking a process with threads can
deadlock a child), and then serves requests, one JSON line each on stdin:

    {"id": 3, "argv": ["/abs/snippet.py"], "cwd": "/tmp/x/scratch", "env": {...},
     "stdout": "/tmp/x/stdout", "stderr": "/tmp/x/stderr"}

For each request it forks.  The child starts a new session (so a timeout can kill its whole
group), takes the request's working directory, environment and ``argv``, points fds 0/1/2
at /dev/null and the two output files, and runs the script with fresh globals
(``runpy``), finishing the way the interpreter would: wait for non-daemon threads, run
``atexit`` handlers, flush.  The server answers on stdout with ``{"id", "pid"}`` at once
and ``{"id", "returncode"}`` when the child ends.  Nothing a child does reaches the server
or another child: each is a separate process, forked from the same pristine state.
"""

import atexit
import importlib
import json
import os
import runpy
import select
import signal
import sys
import tempfile
import threading
import traceback

def threads() -> int:
    """OS-level threads of this process (Python's count misses threads started in C)."""
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()


def redirect(request: dict) -> None:
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)


def run_main(argv: list[str]) -> int:
    """Run ``python ARGV`` semantics in this process; return the exit code."""
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            sys.path[0] = os.path.dirname(argv[0])
            runpy.run_path(argv[0], run_name="__main__")
        return 0
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1


def child(request: dict) -> None:
    """In the forked child: become the snippet's process, run it, and never return."""
    code = 1
    try:
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # re-read TMPDIR: the child's own scratch folder
        sandbox = sys.modules.get("sitecustomize")
        if sandbox is not None and hasattr(sandbox, "_reads"):
            sandbox._reads.clear()  # record only this snippet's reads
        redirect(request)
        code = run_main(request["argv"])
        threading._shutdown()  # as at interpreter exit: wait for non-daemon threads
        atexit._run_exitfuncs()  # includes the sandbox's record of reads and imports
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def reply(message: dict) -> None:
    sys.__stdout__.write(json.dumps(message) + "\n")
    sys.__stdout__.flush()


def reap(children: dict) -> None:
    """Report every child that has ended."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reply({"id": children.pop(pid), "returncode": os.waitstatus_to_exitcode(status)})


def start(request: dict, children: dict, wake_r: int) -> None:
    """Fork one child for ``request`` (only from a single-threaded server) and report it."""
    if threads() != 1:
        reply({"id": request["id"], "error": f"server has {threads()} threads; refusing to fork"})
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(wake_r)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        child(request)  # never returns
    children[pid] = request["id"]
    reply({"id": request["id"], "pid": pid})


def kill_all(children: dict) -> None:
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def serve() -> None:
    """Fork on each request line; report children as they end (SIGCHLD wakes the loop)."""
    children: dict[int, int] = {}
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    buffer = b""
    while True:
        ready, _, _ = select.select([0, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
        if 0 in ready:
            data = os.read(0, 65536)
            if not data:  # the gate went away: take the children with us
                return kill_all(children)
            *lines, buffer = (buffer + data).split(b"\n")
            for line in lines:
                start(json.loads(line), children, wake_r)
        reap(children)


def main() -> None:
    for name in sys.argv[1:]:
        importlib.import_module(name)
    if threads() != 1:
        reply({"error": f"importing {sys.argv[1:]} started {threads() - 1} threads; cannot fork safely"})
        return
    reply({"ready": sorted(sys.argv[1:])})
    serve()


if __name__ == "__main__":
    main()
