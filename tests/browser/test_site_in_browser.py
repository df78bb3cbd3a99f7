"""The built site in a real browser: clean loads, no third-party requests, and the features a
reader uses (navigation, search, copy, theme toggle, mobile menu)."""

import pytest

from tests.browser.conftest import ARTIFACTS, axe_violations
from tests.conftest import REPO
from tests.content.test_content import nav_pages

PAGES = nav_pages()


def url_of(site, page):
    path = page.removesuffix(".md").removesuffix(".ipynb")
    path = path.removesuffix("index") if path.endswith("index") else path + "/"
    return site + path


@pytest.mark.parametrize("doc", PAGES)
def test_every_page_loads_cleanly_and_only_from_the_local_server(page, site, doc):
    page.goto(url_of(site, doc), wait_until="networkidle")
    assert page.locator("article h1").count() == 1
    page.watcher.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe(browser, site, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    problems = {}
    for doc in PAGES:
        page.goto(url_of(site, doc), wait_until="networkidle")
        if found := axe_violations(page):
            problems[doc] = found
    context.close()
    assert not problems, problems


def test_the_navigation_reaches_every_page(page, site):
    page.goto(site, wait_until="networkidle")
    links = page.locator("nav.md-nav--primary a.md-nav__link[href]")
    hrefs = {link.evaluate("a => a.href") for link in links.all()}
    expected = {url_of(site, doc) for doc in PAGES}
    assert expected <= hrefs
    for href in sorted(expected):
        page.goto(href, wait_until="networkidle")
        assert page.locator("article h1").count() == 1, href
    page.watcher.assert_clean()


def test_search_finds_the_tokens_page(page, site):
    page.goto(site, wait_until="networkidle")
    page.locator("input.md-search__input").click()
    page.keyboard.type("token")
    result = page.locator(".md-search-result__item a[href*='llms/tokens/']").first
    result.wait_for(timeout=20_000)
    result.click()
    page.wait_for_url("**/llms/tokens/**")
    assert page.locator("article h1").inner_text().startswith("Tokens and tokenization")
    page.watcher.assert_clean()


def test_the_copy_button_copies_the_snippet(browser, site):
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    page.goto(site + "llms/tokens/", wait_until="networkidle")
    block = page.locator("div.highlight", has=page.locator("span.filename", has_text="count_tokens.py"))
    block.hover()
    block.locator("button.md-code__button[data-md-type=copy]").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == (REPO / "snippets" / "count_tokens.py").read_text().strip()
    ctx.close()


def test_code_blocks_below_the_fold_are_set_up_only_when_scrolled_to(page, site):
    """``content.lazy``: Material measures each code block when it sets it up (a forced
    layout each); doing that for every block at load cost long pages ~400 ms of blocking time
    in Lighthouse's mobile run."""
    page.goto(site + "building/rag/", wait_until="networkidle")
    last = page.locator("article div.highlight").last
    copy = last.locator("button.md-code__button[data-md-type=copy]")
    assert copy.count() == 0  # not on screen yet
    last.scroll_into_view_if_needed()
    copy.wait_for(state="attached", timeout=5_000)
    page.watcher.assert_clean()


SETTLED = """() => { const e = document.activeElement;
    return !e.matches('pre > code') || e.parentElement.querySelector('.md-code__nav') !== null; }"""
UNSET_BLOCKS = """() => [...document.querySelectorAll('article div.highlight')]
    .flatMap((block, i) => block.querySelector('.md-code__nav') ? [] : [i])"""
WITH_COPY = """() => [...document.querySelectorAll('article div.highlight')]
    .flatMap((block, i) => block.querySelector('button[data-md-type=copy]') ? [i] : [])"""
FOCUSED_BLOCK = """() => { const e = document.activeElement, block = e.closest('article div.highlight');
    const blocks = [...document.querySelectorAll('article div.highlight')];
    return block && [blocks.indexOf(block), e.tagName]; }"""


def test_tabbing_reaches_each_copy_button_before_its_code_although_blocks_are_set_up_late(page, site):
    """With ``content.lazy`` a block gets its copy button when it scrolls into view, which
    tabbing onto its code does: a11y.js then moves the focus to that new button."""
    page.goto(site + "building/rag/", wait_until="networkidle")
    stops: dict[int, list[str]] = {}
    late = set()  # blocks whose button appeared only after the Tab that reached them
    for _ in range(600):
        unset = page.evaluate(UNSET_BLOCKS)
        page.keyboard.press("Tab")
        page.wait_for_function(SETTLED)  # a block set up by this Tab has its button by now
        if found := page.evaluate(FOCUSED_BLOCK):
            stops.setdefault(found[0], []).append(found[1])
            late |= {found[0]} & set(unset) if found[1] == "BUTTON" else set()
        if page.evaluate("document.activeElement.closest('footer') !== null"):
            break
    else:
        pytest.fail("600 Tabs did not reach the footer")
    shown = page.evaluate("""() => [...document.querySelectorAll('article div.highlight')]
        .flatMap((block, i) => block.checkVisibility() ? [i] : [])""")  # not inside a closed <details>
    with_copy = page.evaluate(WITH_COPY)
    assert with_copy == shown and len(shown) >= 8  # every block shown was set up and has its button
    assert late, "no block was set up by tabbing onto it: the late path went untested"
    assert {i for i, kinds in stops.items() if "BUTTON" in kinds} == set(with_copy), stops
    assert all(kinds.index("BUTTON") < kinds.index("CODE") for kinds in stops.values() if "CODE" in kinds), stops


def test_on_a_touch_device_code_that_scrolls_stays_reachable_by_keyboard(browser, site):
    """Material drops tabindex from code blocks where the device cannot hover; a tablet with
    a keyboard still needs them (a11y.js puts it back on blocks that scroll)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site + "building/rag/", wait_until="networkidle")
    assert page.evaluate("matchMedia('(hover)').matches") is False
    for block in page.locator("article div.highlight").all():
        block.scroll_into_view_if_needed()  # each is set up now (content.lazy)
    page.wait_for_timeout(300)
    unreachable = page.evaluate("""() => [...document.querySelectorAll('article pre > code')]
        .filter(code => code.checkVisibility() && code.scrollWidth > code.clientWidth)
        .map(code => [code.closest('.highlight').querySelector('.md-code__nav') !== null,
                      code.getAttribute('tabindex')])""")
    assert len(unreachable) >= 3  # at a phone's width several blocks scroll sideways
    assert all(mounted and tabindex == "0" for mounted, tabindex in unreachable), unreachable
    context.close()


def test_the_light_dark_toggle_switches_the_scheme(page, site):
    page.goto(site, wait_until="networkidle")
    scheme = lambda: page.evaluate("document.body.getAttribute('data-md-color-scheme')")  # noqa: E731
    assert scheme() == "default"
    page.locator("form[data-md-component=palette] label:visible").first.click()
    assert scheme() == "slate"
    page.locator("form[data-md-component=palette] label:visible").first.click()
    assert scheme() == "default"


def test_a_narrow_mobile_viewport_has_a_usable_menu(browser, site):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(site, wait_until="networkidle")
    sidebar_link = page.locator("nav.md-nav--primary a.md-nav__link", has_text="Class 1").first
    on_screen = "e => { const r = e.getBoundingClientRect(); return r.right > 0 && r.left < innerWidth }"
    assert not sidebar_link.evaluate(on_screen), "the menu should start closed on a phone"
    page.locator("label.md-header__button[for=__drawer]").click()
    page.wait_for_function(f"({on_screen})(document.querySelector('nav.md-nav--primary a[href$=\\'class-1/\\']'))")
    sidebar_link.click()
    page.wait_for_url("**/class-1/")
    assert page.locator("article h1").inner_text().startswith("Class 1")
    ctx.close()


@pytest.mark.parametrize("doc, snippet", [
    ("llms/tokens.md", "count_tokens"),
    ("building/embeddings.md", "embedding_similarity"),
    ("building/rag.md", "tiny_retrieval"),
])
def test_the_verified_output_of_each_seed_example_is_visible(page, site, doc, snippet):
    page.goto(url_of(site, doc), wait_until="networkidle")
    expected = (REPO / "snippets" / f"{snippet}.out").read_text(encoding="utf-8").strip()
    output = page.locator("div.highlight", has=page.locator("span.filename", has_text="Output"))
    shown = [text.strip() for text in output.locator("code").all_inner_texts()]
    assert expected in shown
    assert output.first.is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_screenshots_of_home_and_tokens(browser, site, scheme, device):
    size = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}[device]
    ctx = browser.new_context(viewport=size, color_scheme=scheme, is_mobile=device == "mobile")
    page = ctx.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in [("home", ""), ("tokens", "llms/tokens/")]:
        page.goto(site + path, wait_until="networkidle")
        expected = "slate" if scheme == "dark" else "default"
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected
        target = ARTIFACTS / f"{name}-{scheme}-{device}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
    ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_reader_downloads_only_the_figures_of_the_scheme_they_see(browser, site, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if "/assets/figures/" in request.url else None)
    page.goto(site + "building/embeddings/", wait_until="networkidle")
    for figure in page.locator("figure img:visible").all():  # lazy images load near the view
        figure.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    context.close()
    other = "dark" if scheme == "light" else "light"
    assert any(f"-{scheme}.svg" in url for url in fetched), fetched
    assert not any(f"-{other}.svg" in url for url in fetched), fetched
