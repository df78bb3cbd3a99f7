"""The fork server: snippets that use sentence-transformers run in forks of one process
that imported it, and stay exactly as isolated as plain runs."""

import pytest

from scripts import gate
from scripts.gate import run
from scripts.gate.run import forkserver
from scripts.site import provenance
from tests.conftest import REPO, processes_running, run_target

# Each test starts a fork server that imports torch and sentence-transformers (8-40 s a test,
# about two minutes in all): make test and CI run them, the edit loop (make test-fast) does not.
pytestmark = pytest.mark.slow

HEAVY = "import sentence_transformers\n"  # what routes a snippet to the fork server


@pytest.fixture
def forks(monkeypatch):
    monkeypatch.delenv("SNIPPET_GATE_FORK", raising=False)
    yield
    forkserver.close_all()


@pytest.fixture(scope="module")
def repo_server():
    """One fork server for the real project, shared by the tests that run its files (each
    pays torch's import otherwise); closed when the module is done."""
    yield
    forkserver.close_all()


def run_both_ways(root, path, monkeypatch):
    forked = run_target(root, path)
    monkeypatch.setenv("SNIPPET_GATE_FORK", "0")
    plain = run_target(root, path)
    monkeypatch.delenv("SNIPPET_GATE_FORK")
    return forked, plain


@pytest.mark.slow  # the real models, both ways: make test runs it, make test-fast leaves it out
@pytest.mark.parametrize("rel", ["snippets/embedding_similarity.py", "labs/retrieval.py", "snippets/next_token_llm.py",
                                 "snippets/tokenizers_compared.py"])
def test_a_forked_run_prints_the_same_bytes_and_imports_as_a_plain_run(repo_server, monkeypatch, rel):
    monkeypatch.delenv("SNIPPET_GATE_FORK", raising=False)
    path = REPO / rel
    forked, plain = run_both_ways(REPO, path, monkeypatch)
    assert (forked.via, plain.via) == ("fork", "process")
    assert forked.returncode == plain.returncode == 0
    assert forked.stdout == plain.stdout == path.with_suffix(".out").read_bytes()
    describe = provenance.describe
    assert describe(REPO, forked.modules, forked.python) == describe(REPO, plain.modules, plain.python)


def test_only_snippets_that_use_sentence_transformers_are_forked(project):
    light = project.snippet("light", 'import json\nprint(json.dumps(1))\n', "1\n")
    heavy = project.snippet("heavy", HEAVY + 'print("x")\n', "x\n")
    assert forkserver.family_of(light) is None and forkserver.family_of(heavy) == "sentence_transformers"


def test_nothing_one_forked_snippet_does_reaches_the_next(project, forks):
    project.snippet("a_meddles", HEAVY + """\
        import builtins, json, os, tempfile, threading, time
        sentence_transformers.__version__ = "mutated"          # a library's module state
        json.dumps = lambda *args, **kwargs: "monkeypatched"     # a monkeypatch
        builtins.LEAKED = True
        leaked_global = 1
        open("left-behind.txt", "w").write("x")                 # files, in cwd and TMPDIR
        tempfile.NamedTemporaryFile(delete=False).write(b"x")
        os.chdir("/")                                           # the working directory
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()  # a thread
        print("meddled")
        """.replace("        ", ""), "meddled\n")
    checks = project.snippet("b_checks", HEAVY + """\
        import builtins, json, os, tempfile, threading
        from importlib.metadata import version
        print(sentence_transformers.__version__ == version("sentence-transformers"))
        print(json.dumps([1]))
        print(hasattr(builtins, "LEAKED"), "leaked_global" in globals())
        print(os.getcwd() == os.environ["HOME"], os.listdir("."), os.listdir(tempfile.gettempdir()))
        print(threading.active_count())
        """.replace("        ", ""), "True\n[1]\nFalse False\nTrue [] []\n1\n")
    outcomes = gate.check(project.root, use_cache=False, jobs=1)
    assert [o.status for o in outcomes] == ["passed", "passed"], [o.detail for o in outcomes]
    assert run_target(project.root, checks).via == "fork"


def test_a_forked_snippet_is_still_offline(project, forks):
    project.snippet("net", HEAVY + 'import socket\nsocket.create_connection(("example.com", 80))\n', "")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "failed" and "reached for the network" in outcome.detail
    assert "example.com" in outcome.detail


def test_a_forked_snippet_that_raises_shows_its_traceback(project, forks):
    project.snippet("boom", HEAVY + 'raise ValueError("boom in a fork")\n', "")
    [outcome] = gate.check(project.root, use_cache=False)
    assert "snippets/boom.py raised (exit code 1)" in outcome.detail
    assert "ValueError: boom in a fork" in outcome.detail and "boom.py" in outcome.detail


def test_a_forked_snippet_has_its_own_watch_and_the_server_survives_it(project, forks):
    """A fork that waits is stopped as stuck; one that computes past the idle time is not
    (its CPU time is read from the gate's side, through the sandbox's PID namespace)."""
    (project.root / "pyproject.toml").write_text("[tool.snippets]\ndefault-timeout = 30\nidle-timeout = 2\n")
    project.snippet("hang", HEAVY + 'import time\nprint("start", flush=True)\ntime.sleep(600)\n', "")
    project.snippet("works", HEAVY + "import time\nend = time.process_time() + 4\n"
                    "while time.process_time() < end:\n    pass\nprint('worked')\n", "worked\n")
    project.snippet("after", HEAVY + 'print("still served")\n', "still served\n")
    outcomes = gate.check(project.root, use_cache=False, jobs=1)
    statuses = {o.snippet: (o.status, o.detail) for o in outcomes}
    assert statuses["snippets/hang.py"][0] == "failed" and "is stuck" in statuses["snippets/hang.py"][1]
    assert statuses["snippets/works.py"] == ("passed", "")
    assert statuses["snippets/after.py"][0] == "passed"


def test_with_forking_off_the_plain_run_is_used(project, monkeypatch):
    monkeypatch.setenv("SNIPPET_GATE_FORK", "0")
    path = project.snippet("heavy", HEAVY + 'print("x")\n', "x\n")
    project_ = gate.Project.load(project.root)
    assert project_.target(path).spec(project_).family is None
    assert run_target(project.root, path).via == "process"


def test_a_server_with_a_thread_refuses_to_fork(tmp_path, monkeypatch, forks):
    """Forking a process that has threads can deadlock the child: the server checks first."""
    tmp_path.chmod(0o755)  # runs are never root: a folder they read must be readable by others
    (tmp_path / "starts_a_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
    real = forkserver.environment
    monkeypatch.setattr(forkserver, "environment",
                        lambda *args: {**real(*args), "PYTHONPATH": f"{forkserver.CHILD}:{tmp_path}"})
    spec = run.RunSpec((str(tmp_path / "x.py"),), (), run.Caps(10, 4096, 256, 1024), (tmp_path,), "json",
                       sandboxed=bool(run.sandbox.enabled("auto")))
    server = forkserver.ForkServer(spec, "test", ("json", "starts_a_thread"))
    try:
        assert server.wait_ready(60) is False
        assert "started 1 threads; cannot fork safely" in server.problem
        assert server.run(spec) is None
    finally:
        server.close()


STRAY = HEAVY + """\
import os, stat, time
server = f"/proc/{os.getppid()}/fd"
for fd in os.listdir(server):  # every pipe the server holds, its reply channel among them
    if stat.S_ISFIFO(os.stat(f"{server}/{fd}").st_mode):
        try:
            with open(f"{server}/{fd}", "w") as pipe:
                pipe.write("not a reply\\n")
        except OSError:
            pass
time.sleep(600)
"""


def test_a_stray_line_on_the_reply_channel_fails_the_run_naming_it_instead_of_hanging(project, forks, monkeypatch):
    """Without the OS sandbox a child can reach the server's reply pipe through /proc.  A
    line there that is not a reply fails the runs in flight at once, each naming its snippet,
    instead of leaving them to wait out their timeouts."""
    monkeypatch.setenv("SNIPPET_GATE_SANDBOX", "off")
    (project.root / "pyproject.toml").write_text("[tool.snippets]\ndefault-timeout = 120\n")
    project.snippet("stray", STRAY, "")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "failed"
    assert outcome.detail.startswith("snippets/stray.py: the fork server sent a line that is not a reply")
    assert "not a reply\\n" in outcome.detail and "stuck" not in outcome.detail


FORGE = HEAVY + """\
import os
server = f"/proc/{os.getppid()}/fd"
opened = []
try:
    listed = os.listdir(server)
except (PermissionError, FileNotFoundError):  # not the server's user: not listed, or not even seen
    listed = []
for fd in listed:
    try:
        os.close(os.open(f"{server}/{fd}", os.O_WRONLY))
        opened.append(fd)
    except OSError:
        pass
print("server's descriptors opened for writing:", opened)
open_fds = []
for fd in range(3, 64):
    try:
        os.write(fd, b'{"id": 1, "returncode": 0}\\n')
        open_fds.append(fd)
    except OSError:
        pass
print("descriptors that take a forged reply:", len(open_fds))
"""


def test_in_the_os_sandbox_a_forked_child_cannot_reach_the_reply_channel(project, forks, os_sandbox):
    """The one descriptor a forged reply can be written to is the run's own record pipe: the
    forgery spoils its own record, which the gate refuses, and the server answers on."""
    project.snippet("forge", FORGE, "server's descriptors opened for writing: []\n"
                                    "descriptors that take a forged reply: 1\n")
    project.snippet("next", HEAVY + 'print("fine")\n', "fine\n")
    forged, following = gate.check(project.root, use_cache=False, jobs=1)
    assert forged.status == "failed" and "forge.py: what it left for the gate is not a run record" in forged.detail
    assert following.status == "passed", following.detail


def test_what_a_forked_child_leaves_behind_is_killed_when_it_ends(project, forks):
    marker = "sleep 31338"
    project.snippet("daemons", HEAVY + f"""\
import os, subprocess
for _ in range(20):
    subprocess.Popen({marker.split()!r})
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", {marker.split()!r})
print("left 21 behind")
""", "left 21 behind\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "passed", outcome.detail
    assert run_target(project.root, project.root / "snippets" / "daemons.py").via == "fork"
    assert processes_running(marker) == []


FIRST_FORK = HEAVY + """\
import os, socket, subprocess, time
listener = socket.create_server(("127.0.0.1", 45679))
sleeper = subprocess.Popen(["sleep", "31339"])
open("secret", "w").write("mine")
try:
    open("/tmp/shared", "w").write("for the next run")
    print("shared /tmp: written")
except OSError:
    print("shared /tmp: read-only")
time.sleep(8)
sleeper.kill()
print("first done")
"""
SECOND_FORK = HEAVY + """\
import os, socket, time
time.sleep(3)  # the first fork is set up by now
try:
    socket.create_connection(("127.0.0.1", 45679), timeout=2)
    print("its port: reached")
except OSError:
    print("its port: not reached")
print("its files:", os.path.exists("/tmp/shared"), os.path.exists("secret"))
seen = reachable = 0
for entry in filter(str.isdigit, os.listdir("/proc")):
    try:
        if b"31339" in open(f"/proc/{entry}/cmdline", "rb").read():
            seen += 1
            os.kill(int(entry), 0)
            os.close(os.open(f"/proc/{entry}/fd/1", os.O_WRONLY))
            reachable += 1
    except OSError:
        pass
print("its processes seen:", seen, "reachable:", reachable)
"""


def test_two_concurrent_forks_cannot_reach_each_other(project, forks, os_sandbox):
    """Each fork has its own network, files and (when the gate is root) user: a fork can
    neither connect to another's port, nor see its files or its processes.  (Without root,
    forks share a uid, so the second runs plainly, in a sandbox of its own: the same holds.)"""
    project.snippet("a_first", FIRST_FORK, "shared /tmp: read-only\nfirst done\n")
    project.snippet("b_second", SECOND_FORK,
                    "its port: not reached\nits files: False False\nits processes seen: 0 reachable: 0\n")
    outcomes = gate.check(project.root, use_cache=False, jobs=2)
    assert [o.status for o in outcomes] == ["passed", "passed"], [o.detail for o in outcomes]
    assert {run_target(project.root, path).via for path in sorted((project.root / "snippets").glob("*.py"))} == {"fork"}
