"""The NumPy SmolLM2 (``snippets/transformer_numpy.py``) is checked against transformers on
every build through its recorded output.  That check must be able to fail: the same file with
one line broken (the rotary positions dropped) runs in the same sandbox and its verdict is a
drift naming the file and the page."""

from dataclasses import replace

import pytest

from scripts import gate
from scripts.gate import pages, run
from tests.conftest import REPO

ROPE = "    q, k = rope(q), rope(k)\n"


@pytest.mark.slow
def test_dropping_the_rotary_positions_fails_the_check(tmp_path):
    project = gate.Project.load(REPO)
    target = project.target(REPO / "snippets" / "transformer_numpy.py")
    source = target.path.read_text(encoding="utf-8")
    assert source.count(ROPE) == 1, "the line this test breaks has moved: update ROPE"
    tmp_path.chmod(0o755)  # runs are never root: a folder they read must be readable by others
    broken = tmp_path / target.path.name
    broken.write_text(source.replace(ROPE, ""), encoding="utf-8")
    spec = target.spec(project)
    spec = replace(spec, argv=(str(broken),), readable=(*spec.readable, tmp_path), family=None)

    shown_on = target.shown_on(pages.pages_by_include(REPO))  # where the gate finds it shown
    verdict = target.judge(run.run(spec), target.expected.read_bytes(), shown_on)

    assert verdict.output is not None and b"same top-5 tokens: False" in verdict.output
    assert "snippets/transformer_numpy.py" in verdict.problem and "docs/llms/architectures.md" in verdict.problem
    assert "-same top-5 tokens: True" in verdict.problem and "+same top-5 tokens: False" in verdict.problem
