"""The strict build fails on every kind of breakage, shown on broken copies of the real site."""

import pytest

from scripts.gate import settings
from scripts.harness import builder
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # each test builds a copy of the whole site


@pytest.fixture
def site_copy(tmp_path, monkeypatch):
    """The real project copied into a temp folder, sharing the real (warm) caches."""
    monkeypatch.setenv("STUDY_LLM_CACHE", str(settings.cache_root(REPO)))
    return builder.copy_sources(tmp_path / "site-copy", REPO)


def strict_build(root):
    return builder.build(root)


def append(path, text):
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_unbroken_copy_builds(site_copy):
    result = strict_build(site_copy)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("breakage, expected", [
    (lambda root: append(root / "docs/llms/tokens.md", "\nSee [this](missing-page.md).\n"),
     "missing-page.md"),
    (lambda root: append(root / "docs/llms/tokens.md", "\nSee [this](next-token.md#no-such-heading).\n"),
     "no-such-heading"),
    (lambda root: append(root / "docs/llms/tokens.md", '\n```text\n--8<-- "snippets/gone.out"\n```\n'),
     "snippets/gone.out"),
    (lambda root: (root / "snippets/data/orphan.json").write_text("[]\n"),
     "snippets/data/orphan.json: no page includes it"),
    (lambda root: [(root / "snippets/orphan.py").write_text('print("hi")\n'),
                   (root / "snippets/orphan.out").write_text("hi\n")],
     "snippets/orphan.py: no page includes it"),
    (lambda root: (root / "docs/stray.md").write_text("# Stray\n"), "stray.md"),
], ids=["broken-link", "broken-anchor", "missing-include", "unused-data-file", "unused-snippet", "page-not-in-nav"])
def test_each_breakage_fails_the_strict_build_and_names_it(site_copy, breakage, expected):
    breakage(site_copy)
    result = strict_build(site_copy)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr[-3000:]
