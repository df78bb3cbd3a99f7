"""What a reader sees (issue 22), at a phone's and a desktop's width, in both colour schemes:
verified outputs wrap inside the column instead of running off its right edge (code still
scrolls sideways: it is never reflowed), and a lab page looks like the rest of the site (the
same code colours, outputs that wrap between words, a copy button clear of one-line code).
Screenshots go to artifacts/screenshots/ for a person to look at."""

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import REPO

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LONG_OUTPUTS = ["building/rag/", "llms/next-token/", "llms/tokens/", "building/function-calling/"]
NORMAL = "building/rag/"  # a page with Python code, to compare the lab's code with
ONE_LINER = "building/"  # a page with a one-line code block
LAB = "labs/generation/"

# The words of ``el``'s text that a line break cuts although they would fit on one line (a word
# longer than a line may be cut).  Characters are measured one by one.
MID_WORD_BREAKS = """el => {
    const range = document.createRange(), found = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const width = el.clientWidth;
    let before = null;
    for (let node; (node = walker.nextNode());) {
        const text = node.data;
        for (let i = 0; i < text.length; i++) {
            if (text[i] === "\\n") { before = null; continue; }
            range.setStart(node, i); range.setEnd(node, i + 1);
            const box = range.getClientRects()[0];
            if (!box) continue;
            if (before && box.top > before.top + before.height / 2 && /\\w/.test(before.ch) && /\\w/.test(text[i])) {
                let start = i, end = i;
                while (start > 0 && /\\S/.test(text[start - 1])) start--;
                while (end < text.length && /\\S/.test(text[end])) end++;
                range.setStart(node, start); range.setEnd(node, end);
                const word = [...range.getClientRects()].reduce((sum, r) => sum + r.width, 0);
                if (word < width) found.push(text.slice(start, end));
            }
            before = {top: box.top, height: box.height, ch: text[i]};
        }
    }
    return found;
}"""

# How much of the text in ``pre`` (its words, not spaces) that a reader can see (clipped to the box it scrolls in) the
# block's copy button covers, in px²; the button is the site's or, before, the notebook's.
COVERED = """(pre, block) => {
    const clip = (a, b) => ({left: Math.max(a.left, b.left), right: Math.min(a.right, b.right),
                             top: Math.max(a.top, b.top), bottom: Math.min(a.bottom, b.bottom)});
    const area = r => Math.max(0, r.right - r.left) * Math.max(0, r.bottom - r.top);
    const range = document.createRange(), text = [];
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
        for (const word of node.data.matchAll(/\\S+/g)) {  // spaces under a button hide nothing
            range.setStart(node, word.index); range.setEnd(node, word.index + word[0].length);
            text.push(...[...range.getClientRects()].filter(r => r.width > 0));
        }
    }
    let port = text.length ? walker.currentNode.parentElement : pre;
    while (port !== block && getComputedStyle(port).overflowX === 'visible') port = port.parentElement;
    const outer = port.getBoundingClientRect();
    const left = outer.left + port.clientLeft, top = outer.top + port.clientTop;
    const shown = {left, top, right: left + port.clientWidth, bottom: top + port.clientHeight};
    const seen = text.map(r => clip(r, shown)).filter(r => area(r) > 0);
    const button = block.querySelector('button.md-code__button[data-md-type=copy], clipboard-copy');
    const box = button && button.getBoundingClientRect();
    return {button: !!box, seen: seen.length,
            covered: box ? Math.round(seen.reduce((sum, r) => sum + area(clip(r, box)), 0)) : null};
}"""

# Each verified output block on a normal page: how wide it scrolls, how wide it shows, how wide
# its longest line is unwrapped, the words it breaks, and the text under its copy button.
OUTPUT_BLOCKS = f"""() => [...document.querySelectorAll('article div.highlight')]
    .filter(block => block.querySelector(':scope > span.filename')?.textContent.trim() === 'Output')
    .map(block => {{
        const code = block.querySelector('pre > code'), style = code.style.whiteSpace;
        code.style.whiteSpace = 'pre';
        const unwrapped = code.scrollWidth;
        code.style.whiteSpace = style;
        return {{scroll: code.scrollWidth, client: code.clientWidth, unwrapped,
                 broken: ({MID_WORD_BREAKS})(code), ...({COVERED})(code.parentElement, block)}};
    }})"""

# Each Python block: whether it keeps its lines (white-space: pre) and whether it scrolls.
CODE_BLOCKS = """() => [...document.querySelectorAll('article div.highlight')]
    .filter(block => block.querySelector(':scope > span.filename')?.textContent.trim().endsWith('.py'))
    .map(block => { const code = block.querySelector('pre > code');
        return {white: getComputedStyle(code).whiteSpace, scrolls: code.scrollWidth > code.clientWidth + 1}; })"""

# The look of Python code on a page: the colour of each token class, and the block's face.
CODE_LOOK = """scope => {
    const root = document.querySelector(scope), look = {};
    for (const token of root.querySelectorAll('pre span[class]')) {
        const name = token.className;
        if (/^(k|kn|kc|s1|s2|sa|si|mi|mf|n|nf|nb|o|ow|p|c1)$/.test(name) && !(name in look))
            look[name] = getComputedStyle(token).color;
    }
    const pre = root.querySelector('pre'), code = pre.querySelector(':scope > code') || pre;
    const face = getComputedStyle(code), frame = getComputedStyle(pre);
    // The site's pages write names as plain code text (scripts/site/minify.py drops their
    // spans): there a name's colour is the code's own.
    if (!('n' in look)) look.n = face.color;
    look['font-family'] = face.fontFamily;
    look['font-size'] = face.fontSize;
    look.background = [face.backgroundColor, getComputedStyle(pre.closest('div')).backgroundColor]
        .find(c => c !== 'rgba(0, 0, 0, 0)');
    look.frame = `${frame.backgroundColor} ${frame.padding} ${frame.borderWidth}`;
    return look;
}"""

# The lab's outputs: scrolling and broken words, per output area.
LAB_OUTPUTS = f"""() => [...document.querySelectorAll('.jupyter-wrapper .jp-OutputArea-output')].map(out => {{
    const pre = out.querySelector('pre');
    return {{scroll: Math.max(out.scrollWidth - out.clientWidth, pre.scrollWidth - pre.clientWidth),
             broken: ({MID_WORD_BREAKS})(pre)}};
}})"""

# Each one-line code block (a lab's cell, or a page's block): whether it has its copy button, how
# many pieces of its text a reader sees, and how much of that text the button covers (px²).
ONE_LINE_BLOCKS = f"""() => [...new Set([...document.querySelectorAll(
        'article div.highlight pre, .jupyter-wrapper .jp-CodeCell .jp-InputArea pre')])]
    .filter(pre => !pre.textContent.trim().includes('\\n'))
    .map(pre => ({{code: pre.textContent.trim().slice(0, 40),
                   ...({COVERED})(pre, pre.closest('div.highlight, .jp-InputArea'))}}))"""


@pytest.fixture(params=["light", "dark"])
def scheme(request):
    return request.param


@pytest.fixture(params=list(VIEWPORTS))
def reader(request, browser, site, scheme):
    """A page as a reader on a phone or a desktop sees it, in one colour scheme."""
    device = request.param
    context = browser.new_context(viewport=VIEWPORTS[device], color_scheme=scheme, is_mobile=device == "phone",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.device = device

    def visit(path):
        page.goto(site + path, wait_until="networkidle")
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == \
            ("slate" if scheme == "dark" else "default")
        for block in page.locator("article pre").all():  # code blocks are set up when on screen
            if block.is_visible():
                block.scroll_into_view_if_needed()
                if block.evaluate("pre => pre.matches('div.highlight > pre')"):  # gets its copy button
                    block.locator(".md-code__nav").wait_for(state="attached", timeout=5_000)
        page.evaluate("scrollTo(0, 0)")

    page.visit = visit
    yield page
    context.close()


def screenshot(page, name, scheme):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}-{scheme}-{page.device}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def test_outputs_wrap_inside_the_column_while_code_keeps_its_lines(reader, scheme):
    overflowing, wide, broken, covered, code = {}, 0, {}, {}, []
    for path in LONG_OUTPUTS:
        reader.visit(path)
        blocks = reader.evaluate(OUTPUT_BLOCKS)
        assert blocks, f"{path} shows no verified output"
        wide += sum(b["unwrapped"] > b["client"] + 1 for b in blocks)
        if over := [b["scroll"] - b["client"] for b in blocks if b["scroll"] > b["client"] + 1]:
            overflowing[path] = over
        if words := [w for b in blocks for w in b["broken"]]:
            broken[path] = words
        assert all(b["button"] and b["seen"] for b in blocks), blocks
        if under := [b["covered"] for b in blocks if b["covered"]]:
            covered[path] = under
        code += reader.evaluate(CODE_BLOCKS)
        if path == "building/rag/":
            screenshot(reader, "outputs-rag", scheme)
    print(f"{reader.device}/{scheme}: {wide} outputs wider than the column; "
          f"{sum(map(len, overflowing.values()))} scroll sideways {overflowing}; text under the copy button {covered}")
    assert wide >= 3, "these pages have outputs wider than the column: the check would prove nothing"
    assert not overflowing, f"outputs a reader must scroll sideways (px past the edge): {overflowing}"
    assert not broken, f"outputs broken inside a word that fits on a line: {broken}"
    assert not covered, f"the copy button covers output text (px²): {covered}"
    assert code and all(c["white"] == "pre" for c in code), "code must keep its lines (never reflowed)"
    if reader.device == "phone":
        assert any(c["scrolls"] for c in code), "long code lines still scroll sideways on a phone"


def test_a_lab_page_looks_like_the_rest_of_the_site(reader, scheme):
    reader.visit(NORMAL)
    normal = reader.evaluate(CODE_LOOK, "article .highlight")
    reader.visit(LAB)
    lab = reader.evaluate(CODE_LOOK, ".jupyter-wrapper .jp-CodeCell")
    outputs = reader.evaluate(LAB_OUTPUTS)
    cells = reader.evaluate(ONE_LINE_BLOCKS)
    screenshot(reader, "lab-generation", scheme)
    shared = sorted(set(normal) & set(lab))
    differ = {name: (normal[name], lab[name]) for name in shared if normal[name] != lab[name]}
    print(f"{reader.device}/{scheme}: code look differs in {differ}; outputs {outputs}; one-line cells {cells}")
    assert {"kn", "s2", "n", "p", "background", "frame", "font-family", "font-size"} <= set(shared), shared
    assert not differ, f"the lab's code looks unlike the site's (site, lab): {differ}"
    assert outputs and not [o for o in outputs if o["scroll"] > 1], f"lab outputs scroll sideways: {outputs}"
    broken = [w for o in outputs for w in o["broken"]]
    assert not broken, f"lab outputs broken inside a word that fits on a line: {broken}"
    assert cells and all(c["button"] and c["seen"] for c in cells), cells
    assert not [c for c in cells if c["covered"]], f"the copy button covers one-line code (px²): {cells}"
    reader.locator(".jupyter-wrapper .jp-CodeCell button[data-md-type=copy]").last.click()
    copied = reader.evaluate("navigator.clipboard.readText()").strip()
    assert copied and copied in (REPO / "labs" / "generation.py").read_text(encoding="utf-8"), copied
    reader.visit(ONE_LINER)  # and so does a page's one-line block
    blocks = reader.evaluate(ONE_LINE_BLOCKS)
    assert blocks and all(b["button"] and b["seen"] for b in blocks), blocks
    assert not [b for b in blocks if b["covered"]], f"the copy button covers one-line code (px²): {blocks}"
