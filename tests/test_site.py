"""The real site builds strictly, and every page shows the verified outputs."""

from scripts import gate
from scripts.gate import pages
from tests.conftest import REPO


def test_the_real_site_builds_with_strict(site_build):
    site, result = site_build
    assert result.returncode == 0, result.stderr
    assert "snippet gate:" in result.stderr
    tokens_page = (site / "llms" / "tokens" / "index.html").read_text()
    first_line = (REPO / "snippets" / "count_tokens.out").read_text().splitlines()[0]
    assert first_line.split(":")[0] in tokens_page


def test_every_snippet_and_output_is_included_by_a_page():
    included = pages.pages_by_include(REPO)
    for snippet in (REPO / "snippets").rglob("*.py"):
        for path in (snippet, gate.target_for(REPO, snippet).expected):
            assert path.relative_to(REPO).as_posix() in included, f"{path} is on no page"
