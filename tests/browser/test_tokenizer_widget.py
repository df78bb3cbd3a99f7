"""The tokenizer widget on the tokens page: tiktoken's exact ids, lazy, accessible, local."""

import pytest
import tiktoken

from scripts.harness.tokenizer_cases import all_cases
from tests.browser.conftest import axe_violations

TOKENS_PAGE = "llms/tokens/"
VOCABULARY = "assets/tokenizer/cl100k_base.bin.gz"


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_the_widget_gives_tiktokens_ids_for_every_string(page, site, name):
    cases = all_cases()
    assert len(cases) > 3000
    enc = tiktoken.get_encoding(name)
    expected = [enc.encode(text, disallowed_special=()) for text in cases]
    page.goto(site + TOKENS_PAGE, wait_until="networkidle")
    got = page.evaluate("([texts, name]) => window.studyLLMTokenizer.encodeAll(texts, name)", [cases, name])
    wrong = [(text, want, have) for text, want, have in zip(cases, expected, got, strict=True) if want != have]
    assert not wrong, f"{len(wrong)} of {len(cases)} differ, first: {wrong[:5]}"
    page.watcher.assert_clean()


def vocabulary_requests(page, vocabulary=VOCABULARY):
    requests = []
    page.on("request", lambda r: vocabulary in r.url and requests.append(r.url))
    return requests


def test_o200k_loads_only_when_the_reader_picks_it_and_gives_its_ids(page, site):
    o200k = vocabulary_requests(page, "assets/tokenizer/o200k_base.bin.gz")
    page.goto(site + TOKENS_PAGE, wait_until="networkidle")
    box = page.get_by_label("Text to tokenize")
    box.focus()
    page.wait_for_selector(".tokenizer-widget.tokenizer-ready")
    box.fill("我正在学习大语言模型。")
    page.wait_for_function("document.querySelector('.tokenizer-ids').textContent.startsWith('[')")
    assert o200k == [], "o200k_base was fetched before the reader picked it"
    cl100k_ids = page.locator(".tokenizer-ids").inner_text()
    page.get_by_label("Tokenizer").select_option("o200k_base")
    page.wait_for_selector(".tokenizer-widget.tokenizer-ready")
    page.wait_for_function("ids => document.querySelector('.tokenizer-ids').textContent !== ids", arg=cl100k_ids)
    expected = tiktoken.get_encoding("o200k_base").encode("我正在学习大语言模型。")
    assert page.locator(".tokenizer-ids").inner_text() == f"[{', '.join(map(str, expected))}]"
    assert len(o200k) == 1
    page.watcher.assert_clean()


def test_the_vocabulary_loads_only_when_the_widget_is_on_screen(page, site):
    requests = vocabulary_requests(page)
    page.goto(site + TOKENS_PAGE, wait_until="networkidle")
    page.wait_for_timeout(300)
    assert requests == [], "the vocabulary was fetched before the widget was visible"
    page.locator(".tokenizer-widget").scroll_into_view_if_needed()
    page.wait_for_selector(".tokenizer-widget.tokenizer-ready")
    assert len(requests) == 1
    assert page.locator("#tokenizer-count").inner_text().endswith("characters")
    page.watcher.assert_clean()


def test_other_pages_never_fetch_the_vocabulary(page, site):
    requests = vocabulary_requests(page)
    page.goto(site + "llms/next-token/", wait_until="networkidle")
    page.mouse.wheel(0, 20_000)
    page.wait_for_timeout(300)
    assert requests == []


def test_typing_shows_count_pieces_and_ids_and_announces_politely(page, site):
    page.goto(site + TOKENS_PAGE, wait_until="networkidle")
    box = page.get_by_label("Text to tokenize")  # a real <label>, found the way a screen reader would
    box.focus()  # focus alone (keyboard users) starts the load
    page.wait_for_selector(".tokenizer-widget.tokenizer-ready")
    box.fill("")
    page.keyboard.type("Hi  there\n🧠")
    status = page.locator("#tokenizer-count")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    page.wait_for_function("document.querySelector('#tokenizer-count').textContent.startsWith('7 tokens')")
    assert status.inner_text() == "7 tokens, 11 characters"
    pieces = page.locator(".tokenizer-pieces .tk")
    assert pieces.count() == 5  # Hi, ' ', ' there', '\n', and the brain split over three tokens
    assert pieces.nth(4).get_attribute("class").endswith("tk-split")
    assert "·" in pieces.nth(1).inner_text() and "↵" in pieces.nth(3).inner_text()
    assert page.locator(".tokenizer-ids").inner_text() == "[13347, 220, 1070, 198, 9468, 100, 254]"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280], ids=["phone", "desktop"])
def test_the_tokens_page_with_the_widget_passes_axe_and_fits(browser, site, scheme, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme,
                                  is_mobile=width < 500, has_touch=width < 500)
    page = context.new_page()
    page.goto(site + TOKENS_PAGE, wait_until="networkidle")
    page.locator(".tokenizer-widget").scroll_into_view_if_needed()
    page.wait_for_selector(".tokenizer-widget.tokenizer-ready")
    assert not axe_violations(page)
    widget = page.locator(".tokenizer-widget").bounding_box()
    assert widget["x"] >= 0 and widget["x"] + widget["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
