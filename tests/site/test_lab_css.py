"""The lab pages share one purged stylesheet instead of inlining the notebook theme."""

import re

from scripts.site import lab_css

CSS = """
.jupyter-wrapper{--used:red;--chain:var(--used);--unused:blue}
.jp-Cell .jp-InputArea{color:var(--chain)}
.jp-Widget-Slider{color:var(--unused)}
pre{line-height:125%}
@media (max-width:600px){.jp-Cell{padding:0}.jp-Toolbar{display:none}}
"""


def test_purge_keeps_what_the_markup_can_match_and_the_properties_it_reads():
    out = lab_css.purge(CSS, {"jupyter-wrapper", "jp-Cell", "jp-InputArea"})
    assert ".jp-Cell .jp-InputArea{color:var(--chain)}" in out
    assert "--used:red" in out and "--chain:var(--used)" in out  # read through another property
    assert "--unused" not in out and "jp-Widget-Slider" not in out and "jp-Toolbar" not in out
    assert "pre{line-height:125%}" in out  # no class: it can match, so it stays
    assert "@media (max-width:600px){.jp-Cell{padding:0}}" in out


def test_every_lab_page_links_the_shared_stylesheet_and_inlines_no_theme(built_site):
    sheet = built_site / lab_css.HREF
    assert 1_000 < sheet.stat().st_size < 40_000
    labs = sorted((built_site / "labs").glob("*/index.html"))
    assert len(labs) >= 7
    for page in labs:
        html = page.read_text(encoding="utf-8")
        assert "<style" not in html, page
        assert f'href="../../{lab_css.HREF}"' in html, page
        assert "jp-Cell" in html, page
        # code cells are the site's code blocks, with its copy button, not the notebook's
        assert '<div class="highlight' in html and "highlight-ipynb" not in html and "clipboard-copy" not in html, page
    # ...so the notebook theme's rules for .highlight (another background) are left out
    assert not re.search(r"\.highlight(?![\w-])", sheet.read_text(encoding="utf-8"))


def test_lifting_takes_every_whole_style_block_and_leaves_a_broken_one():
    page = '<head><style>.a{}</style></head><style id="x">[1, 2]</style><p>text</p><style>.b{'
    html, blocks = lab_css.lift_styles(page)
    assert blocks == [".a{}"]  # the list repr is not CSS
    assert html == "<head></head><p>text</p><style>.b{"
