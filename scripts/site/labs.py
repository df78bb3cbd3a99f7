"""Labs: notebooks a reader downloads and runs, built from reviewable percent-format sources.

``labs/<name>.py`` (jupytext percent format) is the source; ``labs/<name>.out`` holds the
outputs the gate verified (written by ``make update`` from a real run of
``scripts/gate/run/child/lab_exec.py``, which also owns the ``.out`` format).  The build joins
the two into ``<name>.ipynb`` with those outputs
in place: mkdocs-jupyter renders it without executing anything, and the same file is the
page's download.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from scripts.gate import Kind, Project, Target
from scripts.gate.run import LAB_EXECUTOR, parse_expected, section
from scripts.site import memo

__all__ = ["discover", "parse_expected", "outputs_text", "notebook", "build", "add_to_site", "decorate", "finished"]
# What ``decorate`` parses with (its html.parser comes with Python): part of its cache key.
PARSER = [sys.version, *(metadata.version(name) for name in ("beautifulsoup4", "soupsieve"))]
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}
# What a lab's page shows after its last cell, by the page: the next-token playground (the
# markup the next-token page includes) on the generation lab, whose outputs come from the same
# model file. A heading and a line to say what it is; the next-token page says the rest.
PLAYGROUND = Path(__file__).with_name("playground.html")
AFTER_THE_LAST_CELL = {
    "labs/generation.ipynb": (
        '<h2 id="try-the-model-in-your-browser">Try the model in your browser</h2>\n'
        "<p>The next-token page's playground, here too: SmolLM2 from the same 4-bit file as this lab's "
        "outputs, run in this page by llama.cpp compiled to WebAssembly. Set the temperature, top-k and "
        "top-p of the cells above and watch which tokens survive (greedy: the button that adds the most "
        "likely token). Nothing loads until you click; what it is, and its licences, are "
        "<a href=\"../../llms/next-token/#try-the-real-model-in-your-browser\">on "
        "the next-token page</a>.</p>\n", PLAYGROUND),
}


def discover(where: Project | Path) -> list[Path]:
    """Every lab source (``labs/*.py`` not starting with ``_``), as the gate finds them."""
    return [t.path for t in Project.of(where).targets if t.kind is Kind.LAB]


def notebook_page(lab: Path) -> str:
    """The page (path under ``docs/``) the site builds from ``labs/<name>.py``: its notebook."""
    return f"labs/{lab.stem}.ipynb"


def expected_of(lab: Path) -> Path:
    return Target(lab.parent.parent.resolve(), lab.resolve(), Kind.LAB).expected


def outputs_text(notebook) -> str:
    """A notebook's outputs in the ``.out`` form: how an executed download is compared.

    Stderr is left out, as the gate leaves it out.  Anything else a lab must not show (an
    error, a picture) appears as its own section, so a comparison with the verified ``.out``
    fails and the diff says what it was.
    """
    text = []
    for number, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), start=1):
        stdout = "".join(o["text"] for o in cell.outputs if o.get("name") == "stdout")
        text.append(section(number, "stdout", stdout) if stdout else "")
        for out in (o for o in cell.outputs if o["output_type"] != "stream"):
            shown = out.get("data", {}).get("text/plain", out.get("ename", ""))
            kind = "result" if out["output_type"] == "execute_result" else out["output_type"]
            text.append(section(number, kind, shown))
    return "".join(text)


def notebook(lab: Path):
    """The lab as a notebook carrying the verified outputs from ``labs/<name>.out``.

    Cell ids and metadata are fixed, so the same source and outputs always give the same
    bytes (and mkdocs-jupyter's own cache, keyed on those bytes, stays valid).
    """
    import jupytext
    from nbformat.v4 import new_output

    nb = jupytext.read(lab, fmt="py:percent")
    expected = parse_expected(expected_of(lab).read_text(encoding="utf-8"))
    code = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):  # a raw cell is put on the page as it is: HTML
            raise ValueError(f"{lab.name}: cell {index + 1} is a {cell.cell_type} cell; a lab has code and "
                             "markdown cells only")
        cell.id, cell.metadata = f"cell-{index}", {}
        if cell.cell_type == "code":
            code += 1
            cell.execution_count = code
            cell.outputs = [new_output("stream", name="stdout", text=text) if kind == "stdout"
                            else new_output("execute_result", data={"text/plain": text},
                                            execution_count=code)
                            for kind, text in expected.get(code, [])]
    nb.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    return nb


def build(where: Project | Path) -> dict[str, Path]:
    """``{"tokens": Path(".cache/labs/<key>/labs/tokens.ipynb"), ...}`` for every verified lab.

    A lab without its ``.out`` is left out here; the gate reports it as missing.
    """
    project = Project.of(where)
    return {lab.stem: built_notebook(project.cache, lab) for lab in discover(project) if expected_of(lab).exists()}


def built_notebook(cache: Path, lab: Path) -> Path:
    """The lab's notebook, ``labs/<name>.ipynb`` in a ``memo.files`` entry keyed on its inputs
    (the entry is the source folder MkDocs is given): a warm build neither imports jupytext
    nor rebuilds a notebook."""
    page = notebook_page(lab)
    return memo.files(cache, "labs", notebook_inputs(lab), lambda: {page: notebook_text(lab).encode("utf-8")}) / page


def notebook_inputs(lab: Path) -> list[str]:
    """Everything a lab's notebook is made from: its source, its verified outputs, and the
    code and versions that join them."""
    return [lab.name, lab.read_text(encoding="utf-8"), expected_of(lab).read_text(encoding="utf-8"),
            memo.source_of(__file__), memo.source_of(str(LAB_EXECUTOR)),
            metadata.version("jupytext"), metadata.version("nbformat")]


def notebook_text(lab: Path) -> str:
    import nbformat

    return nbformat.writes(notebook(lab))


def add_to_site(files, config, project: Project) -> None:
    """Add each lab notebook as ``labs/<name>.ipynb``, for mkdocs-jupyter to render.

    A plain ``File`` whose source folder is the cache, not ``File.generated``: mkdocs-jupyter
    finds a notebook's path through its ``src_dir``, which a generated file does not have.
    """
    from mkdocs.structure.files import File

    for name, path in build(project).items():
        files.append(File(f"labs/{name}.ipynb", src_dir=str(path.parents[1]), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))


def download_link(src_uri: str) -> str:
    """The button above a lab page that downloads the notebook (copied beside the page)."""
    name = Path(src_uri).name
    return (f'<p class="lab-download"><a class="md-button md-button--primary" href="{name}" '
            f'download>Download {name}</a> and run it top to bottom: its outputs match these.</p>\n')


def is_lab_page(src_uri: str) -> bool:
    return src_uri.startswith("labs/") and src_uri.endswith(".ipynb")


def source_of(src_uri: str) -> str:
    """``labs/tokens.ipynb`` (the page) -> ``labs/tokens.py`` (what the gate checks)."""
    return src_uri.removesuffix(".ipynb") + ".py"


def decorate(html: str, src_uri: str, provenance_html: str, warning_html: str = "") -> str:
    """A rendered lab page, finished: a download button on top (under a failed check's
    warning, while serving), code cells shown as the site's code blocks, the provenance line
    under each output, the code and outputs left out of the search index so prose is found
    first (the index is downloaded whole on a first visit),
    no script that would reach another host (nbconvert's MathJax and Mermaid loaders), and
    what ``AFTER_THE_LAST_CELL`` adds to its page (the playground, on the generation lab)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    sanitize_prose(soup)
    for script in soup.find_all("script"):
        src, body = script.get("src"), script.string or ""
        if src == "" or (src or "").startswith(("http:", "https:", "//")) \
                or "https://" in body or script.get("type") == "text/x-mathjax-config" \
                or "clipboard-copy" in body:  # the notebook's own copy buttons, replaced below
            script.decompose()
    for number, editor in enumerate(soup.select("div.jp-InputArea-editor"), start=1):
        if block := code_block(soup, editor, f"lab-code-{number}"):
            block["data-search-exclude"] = ""  # as on every page: the index holds the prose
            editor.replace_with(block)
    for area in soup.select("div.jp-OutputArea"):
        area["data-search-exclude"] = ""
        if provenance_html:  # below the output row (a flex box), not beside it
            (area.find_parent("div", class_="jp-Cell-outputWrapper") or area).insert_after(
                BeautifulSoup(provenance_html, "html.parser"))
    if src_uri in AFTER_THE_LAST_CELL:  # site markup, added after the notebook's prose was sanitized
        intro, widget = AFTER_THE_LAST_CELL[src_uri]
        soup.append(BeautifulSoup(intro + widget.read_text(encoding="utf-8"), "html.parser"))
    link = BeautifulSoup(warning_html + download_link(src_uri), "html.parser")
    title = soup.find("h1")
    if title:
        title.insert_after(link)
    else:
        soup.insert(0, link)
    return str(soup)


ACTIVE = ("script", "style", "iframe", "frame", "object", "embed", "form", "input", "button", "link", "meta",
          "base", "svg", "math", "template", "audio", "video", "source", "textarea", "select")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background")


def sanitize_prose(soup) -> None:
    """What a lab's markdown cells may put on the page: prose, never active content.  The
    markdown is contributed, and markdown passes raw HTML through: every element that runs
    or loads something goes (``ACTIVE``), with every event handler and ``style``, and every
    link that is not to a web page, a page of the site or an anchor."""
    for cell in soup.select(".jp-MarkdownCell"):
        for element in cell.find_all(ACTIVE):
            element.decompose()
        for element in cell.find_all(True):
            for name in list(element.attrs):
                value = " ".join(element[name]) if isinstance(element[name], list) else str(element[name])
                if name.lower().startswith("on") or name.lower() == "style" or (
                        name.lower() in URL_ATTRIBUTES and not safe_url(value)):
                    del element[name]


def safe_url(url: str) -> bool:
    """A link to a web page, a page of the site, or an anchor; not ``javascript:`` nor ``data:``.

    >>> [safe_url(u) for u in ("https://a.org", "../x/", "#top", "javascript:alert(1)", " JaVa\tscript:x", "data:x")]
    [True, True, True, False, False, False]
    """
    squeezed = "".join(url.split()).lower()
    scheme = squeezed.split(":", 1)[0] if ":" in squeezed.split("/", 1)[0] else ""
    return scheme in ("", "http", "https", "mailto")


def code_block(soup, editor, block_id: str):
    """A code cell's editor (nbconvert's CodeMirror markup: its own highlighter classes, copy
    button and hidden copy of the source) as the block Material renders for a fenced code
    block, ``<div class="highlight"><pre><code>``: the same colours, font and copy button as
    every other page.  A one-line cell is marked, so its copy button is kept clear of its text.

    The block has an id: Material names a block after the nearest element with one, and its
    copy button finds the code through that name as a CSS selector, which the cell's own id
    (``cell-id=cell-3``) is not."""
    pre = editor.select_one(".highlight-ipynb > pre")
    if pre is None:
        return None
    code = soup.new_tag("code")
    for child in list(pre.contents):
        if not (child.name == "span" and not child.attrs and not child.contents):  # Pygments' empty span
            code.append(child.extract())
    one_line = "\n" not in code.get_text().strip("\n")
    block = soup.new_tag("div", attrs={"class": "highlight one-line" if one_line else "highlight", "id": block_id})
    block.append(soup.new_tag("pre"))
    block.pre.append(code)
    return block


def finished(cache: Path, html: str, src_uri: str, provenance_html: str, warning_html: str = "") -> str:
    """``decorate``, cached on its inputs: parsing a rendered notebook takes tens of
    milliseconds a page, and a warm build renders the same notebooks again."""
    inputs = [html, src_uri, provenance_html, warning_html, memo.source_of(__file__),
              PLAYGROUND.read_text(encoding="utf-8"), *PARSER]
    return memo.text(cache, "lab-pages", inputs, lambda: decorate(html, src_uri, provenance_html, warning_html))
