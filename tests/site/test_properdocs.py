"""ProperDocs (the maintained continuation of MkDocs 1.x) builds this site unchanged: the same
pages, the same verified outputs and the same provenance lines as MkDocs."""

import re
from pathlib import Path

from scripts.harness import builder
from tests.conftest import REPO

BLOCKS = re.compile(r'<pre[^>]*>.*?</pre>|<p class="provenance".*?</p>', re.DOTALL)


def shown(site: Path) -> dict[str, list[str]]:
    """Per page: every code block (snippets and their outputs) and every provenance line."""
    return {page.relative_to(site).as_posix(): BLOCKS.findall(page.read_text(encoding="utf-8"))
            for page in sorted(site.rglob("*.html"))}


def test_properdocs_builds_the_same_site_as_mkdocs(built_site, tmp_path):
    result = builder.build(REPO, tmp_path / "site", tool="properdocs")
    assert result.returncode == 0, result.stderr
    with_mkdocs, with_properdocs = shown(built_site), shown(tmp_path / "site")
    assert with_properdocs.keys() == with_mkdocs.keys()
    assert sum(len(blocks) for blocks in with_mkdocs.values()) > 50  # the comparison has content
    for page, blocks in with_mkdocs.items():
        assert with_properdocs[page] == blocks, page
    provenance = [b for blocks in with_mkdocs.values() for b in blocks if "provenance" in b]
    assert len(provenance) >= 20
