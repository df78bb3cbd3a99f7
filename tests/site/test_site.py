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
    """Every snippet with its output, and every module snippets import (it has no output)."""
    included = pages.pages_by_include(REPO)
    project = gate.Project.load(REPO)
    modules = {REPO / rel for rel in project.settings.modules}
    for snippet in (REPO / "snippets").rglob("*.py"):
        shown = [snippet] if snippet in modules else [snippet, project.target(snippet).expected]
        for path in shown:
            assert path.relative_to(REPO).as_posix() in included, f"{path} is on no page"


def test_the_search_dialog_has_an_accessible_name_on_every_page(built_site):
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 15
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert 'role="dialog"' in html, page
        assert 'role="dialog" aria-label="Search"' in html, page
