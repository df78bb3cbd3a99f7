"""Each way a snippet can go wrong gives a clear error naming the file, and changes nothing."""

import time

import pytest

from scripts import gate
from scripts.gate.__main__ import main
from scripts.gate.run import sandbox


def check_one(project, name):
    [outcome] = gate.check(project.root, [project.root / "snippets" / f"{name}.py"])
    assert outcome.status == "failed"
    assert f"snippets/{name}.py" in outcome.detail
    return outcome.detail


def test_drift_shows_a_diff_naming_the_snippet_and_its_page(project):
    project.snippet("greet", 'print("hello")\n', "hallo\n")
    detail = check_one(project, "greet")
    assert "shown on: docs/greet.md" in detail
    assert "-hallo\n+hello\n" in detail
    assert "--- snippets/greet.out (expected, committed)" in detail


def test_a_snippet_that_raises_shows_its_traceback(project):
    project.snippet("boom", 'def f():\n    raise ValueError("boom")\nf()\n', "x\n")
    detail = check_one(project, "boom")
    assert "raised (exit code 1)" in detail
    assert "Traceback" in detail and "ValueError: boom" in detail


def test_output_that_is_not_utf8_is_rejected(project):
    project.snippet("bytes", 'import sys\nsys.stdout.buffer.write(b"ok \\xff\\xfe")\n', "ok\n")
    detail = check_one(project, "bytes")
    assert "not UTF-8 (at byte 3" in detail


@pytest.mark.parametrize("code", [
    'import urllib.request\nurllib.request.urlopen("http://example.com/model.bin", timeout=60)\n',
    'import socket\nsocket.create_connection(("93.184.215.14", 443), timeout=60)\n',
])
def test_network_access_fails_at_once_with_a_clear_message(project, code):
    project.snippet("net", code, "x\n")
    started = time.monotonic()
    detail = check_one(project, "net")
    assert "reached for the network" in detail and "network access blocked" in detail
    assert "stuck" not in detail
    assert time.monotonic() - started < 25  # far below the 60 s socket timeout: it did not wait


def test_stderr_without_stdout_is_an_error(project):
    project.snippet("quiet", 'import sys\nprint("warning only", file=sys.stderr)\n', "x\n")
    detail = check_one(project, "quiet")
    assert "printed nothing on stdout but wrote to stderr" in detail and "warning only" in detail


def test_missing_expected_output_is_an_error_and_is_not_created(project):
    project.snippet("new", 'print("hi")\n')
    detail = check_one(project, "new")
    assert "has no expected output: snippets/new.out is missing" in detail
    assert not (project.root / "snippets" / "new.out").exists()


def test_a_snippet_cannot_write_into_the_project(project):
    project.snippet("writer", 'from pathlib import Path\nPath(__file__).with_name("x.txt").write_text("x")\n'
                              'print("wrote")\n', "wrote\n")
    detail = check_one(project, "writer")
    assert "tried to write into the project" in detail
    assert not (project.root / "snippets" / "x.txt").exists()


def test_a_failing_check_run_modifies_nothing(project):
    project.snippet("greet", 'print("hello")\n', "hallo\n")
    project.snippet("new", 'print("hi")\n')
    before = project.tree()
    outcomes = gate.check(project.root)
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert project.tree() == before


def test_files_starting_with_underscore_are_not_snippets(project):
    project.snippet("real", 'print("1")\n', "1\n")
    (project.root / "snippets" / "_helper.py").write_text("X = 1\n")
    assert [t.path.name for t in gate.Project.load(project.root).runnable] == ["real.py"]


def test_without_bubblewrap_a_required_sandbox_stops_the_gate_and_auto_says_so_once(project, monkeypatch, capsys):
    project.snippet("a", 'print("a")\n', "a\n")
    monkeypatch.setattr(sandbox, "problem", lambda: "bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    monkeypatch.setenv("SNIPPET_GATE_SANDBOX", "require")
    assert main(["check", "--root", str(project.root)]) == 2
    assert "error: SNIPPET_GATE_SANDBOX=require, but bubblewrap (bwrap) is not installed" in capsys.readouterr().err
    monkeypatch.setenv("SNIPPET_GATE_SANDBOX", "auto")
    sandbox._said_once.cache_clear()
    assert [o.status for o in gate.check(project.root)] == ["passed"]
    assert [o.status for o in gate.check(project.root, use_cache=False)] == ["passed"]
    assert capsys.readouterr().err.count("no OS sandbox (bubblewrap (bwrap) is not installed") == 1


LOOPBACK_ECHO = """
import socket, threading
server = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=lambda: (lambda c: c.sendall(c.recv(5)))(server.accept()[0]), daemon=True).start()
with socket.create_connection(("localhost", server.getsockname()[1]), timeout=10) as client:
    client.sendall(b"hello")
    print(client.recv(5).decode())
"""


@pytest.mark.parametrize("sandbox", ["auto", "off"])
def test_loopback_stays_open_for_a_server_inside_the_snippet(project, monkeypatch, sandbox):
    """An embedded database (Milvus Lite) serves its own client on 127.0.0.1: that is no
    network access, with the OS sandbox (its own loopback) or with the Python guard alone."""
    monkeypatch.setenv("SNIPPET_GATE_SANDBOX", sandbox)
    project.snippet("echo", LOOPBACK_ECHO, "hello\n")
    [outcome] = gate.check(project.root)
    assert outcome.status == "passed", outcome.detail
