"""The house style is kept by a machine: ruff, configured under ``[tool.ruff]`` in
``pyproject.toml``, finds nothing in the project's own code."""

import subprocess
import sys

from tests.conftest import REPO


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "scripts", "tests", "conftest.py"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
