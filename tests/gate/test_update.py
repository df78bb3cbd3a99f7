"""`make update` writes expected outputs from real runs, and only then."""

import pytest

from scripts import gate
from scripts.gate.__main__ import main


def test_update_creates_and_rewrites_expected_files_from_real_runs(project):
    snippet = project.snippet("a", 'print(6 * 7)\n')
    [outcome] = gate.update(project.root)
    assert outcome.status == "updated"
    assert snippet.with_suffix(".out").read_text() == "42\n"
    assert [o.status for o in gate.update(project.root)] == ["unchanged"]
    assert [o.status for o in gate.check(project.root)] == ["passed"]


def test_update_never_writes_the_output_of_a_failed_run(project):
    snippet = project.snippet("boom", 'print("partial")\nraise SystemExit(3)\n', "old\n")
    [outcome] = gate.update(project.root)
    assert outcome.status == "failed" and "exit code 3" in outcome.detail
    assert snippet.with_suffix(".out").read_text() == "old\n"


def test_update_refuses_to_run_in_ci(project, monkeypatch):
    project.snippet("a", 'print(1)\n', "2\n")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(gate.SnippetError, match="never runs in CI"):
        gate.update(project.root)
    assert (project.root / "snippets" / "a.out").read_text() == "2\n"


def test_the_command_line_exits_non_zero_on_drift(project, capsys):
    project.snippet("a", 'print(1)\n', "2\n")
    assert main(["check", "--root", str(project.root)]) == 1
    assert "snippets/a.py: output differs" in capsys.readouterr().out
    assert main(["update", "--root", str(project.root)]) == 0
    assert main(["check", "--root", str(project.root)]) == 0
