"""The real site builds strictly, and every page shows the verified outputs."""

import os
import subprocess
import sys

from scripts import gate
from tests.conftest import REPO


def test_the_real_site_builds_with_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "snippet gate:" in result.stderr
    tokens_page = (tmp_path / "site" / "llms" / "tokens" / "index.html").read_text()
    first_line = (REPO / "snippets" / "count_tokens.out").read_text().splitlines()[0]
    assert first_line.split(":")[0] in tokens_page


def test_every_snippet_and_output_is_included_by_a_page():
    included = gate.pages.pages_by_include(REPO)
    for snippet in (REPO / "snippets").rglob("*.py"):
        for path in (snippet, gate.expected_path(snippet)):
            assert path.relative_to(REPO).as_posix() in included, f"{path} is on no page"
