"""The fork server: import the heavy libraries once, then run each snippet in a fresh fork.

Started by ``scripts/gate/run/forkserver.py`` (the gate's side) inside the OS sandbox, with
exactly a snippet's environment (so the guard in ``sitecustomize`` is active here and in
every child).  Its command line is the descriptor to answer on, then the modules to import.
It imports them, checks that it is still a single thread (forking a process with threads
can deadlock a child), and then serves requests, one packet each on its stdin, a Unix socket:

    {"id": 3, "argv": ["/abs/snippet.py"], "cwd": "/tmp/run-3", "env": {...}}
        with descriptors: stdout, stderr and record pipes, then the run's cgroup files
    {"kill": 3}                       (the gate's timeout: end that child's whole session)

For each request it forks.  The child first joins the run's cgroups (writing ``0`` to each
file), starts a new session (so a timeout can kill its whole group), makes its working
directory, takes the request's environment and ``argv``, points fds 0/1/2 at /dev/null and
the two output pipes, writes its record to the third, and runs the script with fresh globals
(``runpy``), finishing the way the interpreter would: wait for non-daemon threads, run
``atexit`` handlers, flush.  The server answers on its reply descriptor (never stdout,
which goes to a log) with ``{"id", "pid"}`` at once and ``{"id", "returncode", "cpu"}`` (its
CPU seconds, with its waited-for descendants) when the child ends.  A child closes that
descriptor first thing, and the server is not dumpable, so a child without capabilities
cannot reopen it through ``/proc``: no child can forge a reply.

The server is a child subreaper: whatever a child leaves behind (a daemon, a ``setsid``
grandchild) is re-parented to the server when the child ends, and killed then.  Nothing a
child does reaches the server or another child: each is a separate process, forked from
the same pristine state.
"""

import atexit
import ctypes
import importlib
import json
import os
import runpy
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback

try:
    import private  # the server's own folder is first on its path
except ImportError:  # imported as part of the gate (pytest's collection of docstring examples)
    from scripts.gate.run.child import private


def threads() -> int:
    """OS-level threads of this process (Python's count misses threads started in C)."""
    return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()


def redirect(out: int, err: int) -> None:
    """Point fds 0, 1 and 2 at /dev/null and the run's two output pipes."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    for fd, source in ((0, devnull), (1, out), (2, err)):
        os.dup2(source, fd)
    for fd in (devnull, out, err):
        os.close(fd)


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


def child(request: dict, fds: list[int], slot: int) -> None:
    """In the forked child: become the snippet's process, run it, and never return."""
    code = 1
    try:
        out, err, record, *groups = fds
        for group in groups:  # before anything else: the run's memory and processes count from here
            os.write(group, b"0")
            os.close(group)
        os.setsid()
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # its own orphans stay with it, not with its siblings
        if PRIVATE:  # its own user (as root), network, IPC and /tmp, its folder inside
            private.isolate(slot if CHANGES_USER else None, request["scratch_mb"])
        else:
            os.mkdir(request["cwd"], 0o700)  # fails if it is there: a folder is never shared
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"], SNIPPET_GATE_RECORD_FD=str(record))
        tempfile.tempdir = None  # re-read TMPDIR: the child's own scratch folder
        redirect(out, err)
        import sitecustomize  # the guard, installed at this server's start: each child keeps its own record
        sitecustomize.cap_resources()
        sitecustomize.keep_record()
        code = run_main(request["argv"])
        threading._shutdown()  # as at interpreter exit: wait for non-daemon threads
        atexit._run_exitfuncs()  # includes the guard's record of imports
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


REPLIES = -1  # the descriptor the gate reads, from argv[1]
PRIVATE = False  # argv[2]: "private" (under the sandbox: each fork makes its own namespaces) or "shared"
CHANGES_USER = False  # whether it may give each fork a user of its own (the gate is root)
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def reply(message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(REPLIES, data):]


def prctl(option: int, value: int) -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def orphans(children: dict) -> list[int]:
    """Processes re-parented to this server that are none of its running children."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in children:
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry))
    return found


def sweep(children: dict) -> None:
    """Kill what ended children left behind, until nothing is left (each kill may re-parent
    that process's own children here)."""
    for _ in range(100):
        left = orphans(children)
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)  # collect it, so it does not linger as a zombie
            except (ProcessLookupError, PermissionError, ChildProcessError):
                pass


def reap(children: dict) -> None:
    """Report every child that has ended, once what it left behind is gone."""
    ended = []
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in children:  # (anything else is an orphan that just ended)
            ended.append((*children.pop(pid), os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime))
    if ended:  # clear away what they left behind before saying they are done
        sweep(children)
    for request_id, folder, _, returncode, cpu in ended:
        if not PRIVATE:  # (a private /tmp goes with its last process)
            shutil.rmtree(folder, ignore_errors=True)
        reply({"id": request_id, "returncode": returncode, "cpu": cpu})


def start(request: dict, fds: list[int], children: dict, wake: tuple[int, int]) -> None:
    """Fork one child for ``request`` (only from a single-threaded server) and report it."""
    try:
        if threads() != 1:
            reply({"id": request["id"], "error": f"server has {threads()} threads; refusing to fork"})
            return
        if len(fds) < 3:
            reply({"id": request["id"], "error": f"a request came with {len(fds)} descriptors, not 3 or more"})
            return
        if PRIVATE and not CHANGES_USER and children:  # forks of one uid could reach each other's processes
            reply({"id": request["id"], "error": "busy: without a uid per fork, one fork at a time"})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        slot = min(set(range(len(children) + 1)) - {taken for *_, taken in children.values()})
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (REPLIES, *wake):  # before any of the snippet's code runs
                os.close(fd)
            child(request, fds, slot)  # never returns
        children[pid] = request["id"], request["cwd"], slot
        reply({"id": request["id"], "pid": pid})
    finally:
        for fd in fds:  # the child has its copies: the pipes close when it and its own are gone
            os.close(fd)


def kill(request: dict, children: dict) -> None:
    """The gate's timeout: kill that child's whole session (what escaped it is swept later)."""
    for pid, (request_id, *_) in list(children.items()):
        if request_id == request["kill"]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def kill_all(children: dict) -> None:
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def serve() -> None:
    """Fork on each request line; report children as they end (SIGCHLD wakes the loop)."""
    children: dict[int, tuple[int, str, int]] = {}  # pid -> (request id, its folder, its slot)
    requests = socket.socket(fileno=0)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([0, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
        if 0 in ready:
            data, fds, _, _ = socket.recv_fds(requests, 1 << 20, 16)
            if not data:  # the gate went away: take the children with us
                return kill_all(children)
            request = json.loads(data)
            kill(request, children) if "kill" in request else start(request, fds, children, (wake_r, wake_w))
        reap(children)


def can_isolate() -> str:
    """Why a fork cannot make its own namespaces here ("" if it can), tried in a probe fork."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            private.isolate(0 if CHANGES_USER else None, 1)
            os._exit(0)
        except BaseException as err:
            os.write(write, str(err).encode()[:500])
            os._exit(1)
    os.close(write)
    why = os.read(read, 1000).decode(errors="replace")
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return "" if os.waitstatus_to_exitcode(status) == 0 else (why or "the probe failed")


def main() -> None:
    global REPLIES, PRIVATE, CHANGES_USER
    REPLIES, PRIVATE, preload = int(sys.argv[1]), sys.argv[2] == "private", sys.argv[3:]
    CHANGES_USER = PRIVATE and private.can_change_user()
    if CHANGES_USER:  # before anything is imported: then the right to mount is gone
        private.hide_forks_from_each_other()
    if PRIVATE and (why := can_isolate()):
        reply({"error": f"a fork cannot have namespaces of its own here ({why})"})
        return
    for name in preload:
        importlib.import_module(name)
    if threads() != 1:
        reply({"error": f"importing {preload} started {threads() - 1} threads; cannot fork safely"})
        return
    prctl(PR_SET_DUMPABLE, 0)  # no child can open /proc/<server>/fd/<REPLIES>
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # what a child leaves behind comes back here
    reply({"ready": sorted(preload)})
    serve()


if __name__ == "__main__":
    main()
