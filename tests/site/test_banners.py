"""A failure banner says what went wrong with each target, and nothing in it becomes markup."""

import html

import markdown

from scripts.site.build_state import BuildState

STRAY = "snippets/a.py: the fork server sent a line that is not a reply: b'<script>x()</script> [y](javascript:z) `c`'"


def failing(reason: str) -> BuildState:
    state = BuildState(serving=True)
    state.pages = {"failing": {"page.md": ["snippets/a.py"]}, "verifying": {}}
    state.reasons = {"snippets/a.py": reason}
    return state


def test_the_banner_names_why_a_target_failed():
    stuck = "snippets/a.py is stuck: stopped after 30 s without using any CPU"
    rendered = markdown.markdown(failing(stuck).drift_banner("page.md"), extensions=["admonition"])
    assert "snippets/a.py is stuck: stopped after 30 s without using any CPU." in html.unescape(rendered)
    assert "no longer prints" not in rendered  # a stuck run is not drift


def test_a_reason_quoting_a_run_is_inert_in_markdown_and_html():
    state = failing(STRAY)
    for page in (markdown.markdown(state.drift_banner("page.md"), extensions=["admonition"]),
                 state.lab_banner("page.md")):
        assert "<script" not in page and "href" not in page and "<code>c</code>" not in page
        assert "<script>x()</script> [y](javascript:z) `c`" in html.unescape(page)  # shown, as text
