"""`>>>` sessions on pages are doctests, which the gate runs in its sandbox (before a build, and
in `make test`); pytest never runs them in its own process."""

import subprocess
import sys

from scripts import gate
from tests.conftest import REPO

WRONG_PAGE = """# Arithmetic

```pycon
>>> 6 * 7
43

```
"""


def test_pytest_runs_and_imports_nothing_under_docs():
    """Pages are contributed: their sessions run in the gate's sandbox, not in pytest's process."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "tests/gate/test_doctests.py::" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("docs/")]


def test_the_gate_checks_page_doctests_and_names_the_page(project):
    (project.root / "docs" / "arithmetic.md").write_text(WRONG_PAGE)
    [outcome] = gate.check(project.root, [project.root / "docs" / "arithmetic.md"])
    assert outcome.status == "failed"
    assert "docs/arithmetic.md: a >>> example on this page no longer prints what it shows" in outcome.detail
    assert "Expected:" in outcome.detail and "Got:" in outcome.detail and "42" in outcome.detail
    (project.root / "docs" / "arithmetic.md").write_text(WRONG_PAGE.replace("43", "42"))
    assert [o.status for o in gate.check(project.root, [project.root / "docs" / "arithmetic.md"])] == ["passed"]
