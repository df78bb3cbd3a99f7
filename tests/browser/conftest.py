"""Fixtures for browser tests: the real site, built once, served on 127.0.0.1, and
Debian's Chromium driven by Playwright (no browser download).

Without Chromium the tests are skipped with a message saying how to enable them;
with REQUIRE_BROWSER=1 (set by .ci/run) a missing browser is a failure instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scripts.harness.static_server import serving
from tests.conftest import REPO

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update"]
ARTIFACTS = REPO / "artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        message = (f"browser tests skipped: no Chromium at {CHROMIUM}. Enable them with "
                   "`apt-get install -y chromium` (or set CHROMIUM_PATH to a Chrome/Chromium binary).")
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message.replace("skipped", "required"))
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(built_site) -> str:
    """Serve the real site (built once per session, strictly), compressed as GitHub Pages
    serves it, and yield its base URL."""
    with serving(built_site) as url:
        yield url


class Watcher:
    """Everything a page did that a reader would call broken or leaky."""

    def __init__(self, page, base: str):
        self.base, self.errors, self.failed, self.foreign = base, [], [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} -> {r.status}"))
        page.on("request", lambda r: self.is_foreign(r.url) and self.foreign.append(r.url))

    def is_foreign(self, url: str) -> bool:
        return not url.startswith(self.base) and not url.startswith(("data:", "blob:", "about:"))

    def assert_clean(self):
        assert not self.foreign, f"requests to other hosts: {self.foreign}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, site):
    page = context.new_page()
    page.watcher = Watcher(page, site)
    yield page
    page.close()


def axe_violations(page) -> list:
    """WCAG 2.1 A/AA problems axe-core finds on the loaded page: [(rule, [(target, html)])].

    Fails the calling test if axe did not actually run its rules.
    """
    from axe_playwright_python.base import AXE_SCRIPT

    page.add_script_tag(content=AXE_SCRIPT)
    result = page.evaluate("""() => axe.run(document,
        {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    assert len(result["passes"]) > 10, "axe ran no rules"
    return [(v["id"], [(n["target"], n["html"][:80]) for n in v["nodes"][:3]]) for v in result["violations"]]
