"""The OS sandbox holds against snippets written to break it: no network by any route, no
write into the project or its caches, no process outliving its run, bounded output and
memory.  After each attempt the project is unchanged and no process is left."""

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from scripts import gate
from scripts.gate.run import limits
from tests.conftest import processes_running

MARK = "31337"  # in the command line of every process these snippets leave behind


# Every test here is about the OS sandbox: skipped without it, unless it is required (CI).
pytestmark = pytest.mark.usefixtures("os_sandbox")


def check_unchanged(project, snippet_code, expected=None):
    """Check one snippet; the project tree and every cache file must be byte-identical after."""
    path = project.snippet("attack", snippet_code, expected)
    cache = Path(os.environ["STUDY_LLM_CACHE"])
    gate.check(project.root, [path])  # a first check seeds the caches and records nothing bad
    before = project.tree(), {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    [outcome] = gate.check(project.root, [path], use_cache=False)
    after = project.tree(), {p: p.read_bytes() for p in cache.rglob("*") if p.is_file()}
    assert after == before
    assert processes_running(f"sleep {MARK}") == []
    return outcome


class Listener:
    """A TCP and a UDP socket on the host's 127.0.0.1, recording whatever reaches them."""

    def __init__(self, unix_path: Path):
        self.tcp, self.udp, self.unix = socket.socket(), socket.socket(type=socket.SOCK_DGRAM), \
            socket.socket(socket.AF_UNIX)
        self.tcp.bind(("127.0.0.1", 0))
        self.udp.bind(("127.0.0.1", 0))
        self.unix.bind(str(unix_path))
        self.tcp.listen()
        self.unix.listen()
        self.reached: list[str] = []
        for sock, kind in ((self.tcp, "tcp"), (self.unix, "unix")):
            threading.Thread(target=self.accept, args=(sock, kind), daemon=True).start()
        threading.Thread(target=self.receive, daemon=True).start()

    def accept(self, sock, kind):
        try:
            while True:
                sock.accept()
                self.reached.append(kind)
        except OSError:
            pass

    def receive(self):
        try:
            while True:
                self.udp.recvfrom(100)
                self.reached.append("udp")
        except OSError:
            pass

    def close(self):
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


NETWORK = '''
import ctypes, socket, struct, subprocess, sys, _socket
TCP, UDP, UNIX = {tcp}, {udp}, {unix!r}

def attempt(name, action):
    try:
        action()
        print(name, "REACHED")
    except Exception as err:
        print(name, "blocked", type(err).__name__)

def run(*argv):
    if subprocess.run(argv, capture_output=True).returncode:
        raise OSError("the command failed")

def ctypes_connect():
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    address = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(TCP), socket.inet_aton("127.0.0.1"))
    if libc.connect(fd, address, len(address)) != 0:
        raise OSError(ctypes.get_errno(), "connect")

def udp():
    _socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", UDP))
    raise OSError("sent, but nobody outside can receive it")  # the host listener says if it did

def fast_open():
    _socket.socket().sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", TCP))

attempt("subprocess python -I", lambda: run(sys.executable, "-I", "-c",
        f"import socket; socket.create_connection(('127.0.0.1', {{TCP}}), timeout=5)"))
attempt("bash /dev/tcp", lambda: run("bash", "-c", f"echo x > /dev/tcp/127.0.0.1/{{TCP}}"))
attempt("ctypes connect", ctypes_connect)
attempt("_socket connect", lambda: _socket.socket().connect(("127.0.0.1", TCP)))
attempt("raw socket", lambda: _socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("udp sendto", udp)
attempt("MSG_FASTOPEN", fast_open)
attempt("unix socket", lambda: _socket.socket(socket.AF_UNIX).connect(UNIX))
attempt("dns", lambda: _socket.getaddrinfo("example.com", 80))
'''
BLOCKED = """subprocess python -I blocked OSError
bash /dev/tcp blocked OSError
ctypes connect blocked ConnectionRefusedError
_socket connect blocked ConnectionRefusedError
raw socket blocked PermissionError
udp sendto blocked OSError
MSG_FASTOPEN blocked ConnectionRefusedError
unix socket blocked FileNotFoundError
dns blocked gaierror
"""


def test_no_route_reaches_the_network(project, tmp_path):
    listener = Listener(tmp_path / "host.sock")
    try:
        ports = {"tcp": listener.tcp.getsockname()[1], "udp": listener.udp.getsockname()[1]}
        outcome = check_unchanged(project, NETWORK.format(**ports, unix=str(tmp_path / "host.sock")), BLOCKED)
    finally:
        listener.close()
    assert listener.reached == []
    assert outcome.status == "passed", outcome.detail


WRITES = '''
import ctypes, os, subprocess
from pathlib import Path
here = Path(__file__).parent
out, page, cache = here / "attack.out", here.parent / "docs" / "attack.md", Path({cache!r})
seeded = next((cache / "tiktoken").iterdir())
entry = cache / "snippet-results" / "forged.json"

def attempt(name, action):
    try:
        action()
        print(name, "WROTE")
    except Exception as err:  # read-only (as the gate's user) or not permitted (as nobody): both OSError
        print(name, "blocked", "OSError" if isinstance(err, OSError) else type(err).__name__)

def ctypes_open():
    if ctypes.CDLL(None, use_errno=True).open(str(page).encode(), os.O_WRONLY | os.O_TRUNC) < 0:
        raise OSError(ctypes.get_errno(), "open")

def dir_fd_open():
    os.open("attack.md", os.O_WRONLY | os.O_TRUNC, dir_fd=os.open(page.parent, os.O_RDONLY))

def shell(command):
    if subprocess.run(["sh", "-c", command], capture_output=True).returncode:
        raise OSError("the shell could not")

def hard_link_then_write():
    os.link(out, "linked.out")
    Path("linked.out").write_text("forged")

attempt("rename", lambda: os.rename(page, page.with_suffix(".gone")))
attempt("remove", lambda: os.remove(page))
attempt("truncate", lambda: os.truncate(page, 0))
attempt("chmod", lambda: os.chmod(page, 0o777))
attempt("link", lambda: os.link(page, here / "copy.md"))
attempt("mkdir", lambda: os.mkdir(here / "new"))
attempt("dir_fd open", dir_fd_open)
attempt("ctypes open", ctypes_open)
attempt("shell redirect", lambda: shell(f"echo x > {{page}}"))
attempt(".git", lambda: shell(f"echo x > {{here.parent / '.git' / 'HEAD'}}"))
attempt("forged cache entry", lambda: shell(f"echo {{{{}}}} > {{entry}}"))
attempt("seeded model file", lambda: shell(f"printf x >> {{seeded}}"))
attempt("own .out by hard link", hard_link_then_write)
'''
REFUSED = """rename blocked OSError
remove blocked OSError
truncate blocked OSError
chmod blocked OSError
link blocked OSError
mkdir blocked OSError
dir_fd open blocked OSError
ctypes open blocked OSError
shell redirect blocked OSError
.git blocked OSError
forged cache entry blocked OSError
seeded model file blocked OSError
own .out by hard link blocked OSError
"""


def test_nothing_in_the_project_its_caches_or_its_own_output_can_be_written(project):
    (project.root / ".git").mkdir()
    (project.root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    outcome = check_unchanged(project, WRITES.format(cache=os.environ["STUDY_LLM_CACHE"]), REFUSED)
    assert outcome.status == "passed", outcome.detail


def test_endless_output_is_stopped_at_the_cap_naming_the_file(project):
    outcome = check_unchanged(project, 'while True:\n    print("x" * 10000)\n', "x\n")
    assert outcome.status == "failed"
    assert outcome.detail.startswith("snippets/attack.py: printed more than 1024 KB")


PROCESSES = f'''
import os, subprocess, time
for _ in range(200):
    subprocess.Popen(["sleep", "{MARK}"])
if os.fork() == 0:  # a double-forked daemon
    if os.fork() == 0:
        os.setsid()
        os.execvp("sleep", ["sleep", "{MARK}"])
    os._exit(0)
subprocess.Popen(["setsid", "sleep", "{MARK}"])  # a grandchild in its own session, holding stdout
print("left 202 processes behind")
'''


def test_every_process_a_run_starts_ends_with_it_and_stdout_holders_do_not_stall_it(project):
    (project.root / "pyproject.toml").write_text("[tool.snippets]\ndefault-timeout = 60\n")
    outcome = check_unchanged(project, PROCESSES, "left 202 processes behind\n")
    assert outcome.status == "passed", outcome.detail


def test_memory_is_capped_with_a_clear_error(project):
    outcome = check_unchanged(project, "block = bytearray(6 * 1024 ** 3)\nprint(len(block))\n", "x\n")
    assert outcome.status == "failed" and "snippets/attack.py raised" in outcome.detail
    assert "MemoryError" in outcome.detail and "memory cap" in outcome.detail


def test_the_number_of_processes_is_capped(project):
    if limits.pids_parent() is None:
        pytest.skip("no writable pids cgroup on this machine")
    code = f'''
import subprocess
started = []
try:
    for _ in range(400):
        started.append(subprocess.Popen(["sleep", "{MARK}"]))
    print("not capped")
except OSError as err:
    print("capped before 300:", len(started) < 300, type(err).__name__)
'''
    outcome = check_unchanged(project, code, "capped before 300: True BlockingIOError\n")
    assert outcome.status == "passed", outcome.detail


def test_groups_left_by_a_killed_gate_are_removed_and_live_ones_kept():
    parent = limits.pids_parent()
    if parent is None:
        pytest.skip("no writable pids cgroup on this machine")
    gone = subprocess.Popen(["sleep", "0"])
    gone.wait()
    ours = limits.pid_namespace()
    stale, live = parent / f"snippet-gate-{ours}-{gone.pid}-1", parent / f"snippet-gate-{ours}-{os.getpid()}-999999"
    elsewhere = parent / f"snippet-gate-{ours + 1}-{gone.pid}-1"  # that pid names another process there
    for group in (stale, live, elsewhere):
        group.mkdir()
    leftover = subprocess.Popen(["/bin/sh", "-c", limits.ENTER, "sh", "1", str(stale), "sleep", "60"])
    try:
        time.sleep(0.2)  # it has joined the stale group
        limits.sweep(parent)
        assert not stale.exists() and live.exists() and elsewhere.exists()
        assert leftover.wait(timeout=5) == -signal.SIGKILL  # what a killed gate left runs no more
        limits.sweep(parent)  # again, as a second gate starting at the same time would: no error
    finally:
        live.rmdir()
        elsewhere.rmdir()
        leftover.kill()


def test_a_source_that_is_not_utf8_is_an_error_naming_the_file(project):
    path = project.snippet("latin", "", "x\n")
    path.write_bytes(b"import sentence_transformers\nprint('caf\xe9')\n")
    [outcome] = gate.check(project.root, [path])
    assert outcome.status == "failed" and outcome.detail.startswith("snippets/latin.py raised")
    assert "SyntaxError" in outcome.detail
