"""`>>>` sessions on pages are doctests: pytest runs them, and so does the gate before a build."""

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


def test_pytest_collects_the_pages_with_sessions():
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "docs"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert "docs/llms/tokens.md::tokens.md" in result.stdout
    assert "docs/building/rag.md::rag.md" in result.stdout


def test_a_wrong_output_fails_pytest_with_a_report_naming_the_page(tmp_path):
    (tmp_path / "arithmetic.md").write_text(WRONG_PAGE)
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--doctest-glob=*.md",
                             str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "arithmetic.md" in result.stdout and "Expected:" in result.stdout and "42" in result.stdout


def test_the_gate_checks_page_doctests_and_names_the_page(project):
    (project.root / "docs" / "arithmetic.md").write_text(WRONG_PAGE)
    [outcome] = gate.check(project.root, [project.root / "docs" / "arithmetic.md"])
    assert outcome.status == "failed"
    assert "docs/arithmetic.md: a >>> example on this page no longer prints what it shows" in outcome.detail
    assert "Expected:" in outcome.detail and "Got:" in outcome.detail and "42" in outcome.detail
    (project.root / "docs" / "arithmetic.md").write_text(WRONG_PAGE.replace("43", "42"))
    assert [o.status for o in gate.check(project.root, [project.root / "docs" / "arithmetic.md"])] == ["passed"]
