"""Lighthouse on every page of the built site, served with gzip as GitHub Pages serves it:
accessibility, best practices and SEO at 100.  Performance depends on how busy the machine
is, so it is measured by ``make bench``, never asserted here."""

import os

import pytest

from scripts.site import lighthouse
from scripts.site.static_server import serving

CATEGORIES = ["accessibility", "best-practices", "seo"]


@pytest.fixture(scope="module")
def gzip_site(built_site):
    if why := lighthouse.problem():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Lighthouse is required here: {why}")
        pytest.skip(f"Lighthouse tests skipped: {why}")
    with serving(built_site) as url:
        yield url


def site_pages(built_site) -> list[str]:
    return sorted(page.parent.relative_to(built_site).as_posix().removeprefix(".") + "/"
                  for page in built_site.rglob("index.html"))


def test_every_page_scores_100_for_accessibility_best_practices_and_seo(gzip_site, built_site):
    pages = site_pages(built_site)
    assert len(pages) > 15
    below = {}
    for path in pages:
        report = lighthouse.audit(gzip_site + path.lstrip("/"), CATEGORIES)
        if any(report.scores[c] < 100 for c in CATEGORIES):
            below[path] = (report.scores, report.failing)
    assert not below, f"pages below 100: {below}"
