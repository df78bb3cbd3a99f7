"""The small line under each verified output: which Python and which packages produced it.

Nothing here is typed by hand.  The sandbox records the modules a run imported and its
Python version; ``describe`` keeps the project's own dependencies among them (from
``pyproject.toml``) with their installed versions; the gate stores that with each pass.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from functools import cache
from html import escape
from importlib import metadata
from pathlib import Path

from scripts.gate import Project, seed
from scripts.gate.pages import INLINE, include_target
from scripts.gate.targets import uses_floats
from scripts.site import memo

# What a float output was verified on (``scripts/gate/run/numerics.py``), and nothing more.
FLOAT_PATH = "x86-64 CPU, AVX2 float path"

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def declared(root: Path) -> frozenset[str]:
    """Normalized names of the dependencies ``pyproject.toml`` declares."""
    deps = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {}).get("dependencies", [])
    return frozenset(normalize(re.split(r"[ <>=!~;\[]", dep, maxsplit=1)[0]) for dep in deps)


@cache
def owners(root: Path, cache_dir: Path) -> dict[str, list[str]]:
    """``{"sklearn": ["scikit-learn"], ...}``: top-level modules of the declared
    dependencies (only those: scanning every installed distribution takes half a second).
    Reading their metadata still takes a tenth of a second, so the map is cached on the
    declared names, ``sys.path`` and the installed distributions (their metadata folders'
    names carry versions)."""
    installed = [name for folder in sys.path if os.path.isdir(folder)
                 for name in sorted(os.listdir(folder)) if name.endswith((".dist-info", ".egg-info", ".egg-link"))]
    inputs = [*sorted(declared(root)), *sys.path, *installed, memo.source_of(__file__)]
    return json.loads(memo.text(cache_dir, "module-owners", inputs, lambda: json.dumps(find_owners(root))))


def find_owners(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in sorted(declared(root)):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        tops = (dist.read_text("top_level.txt") or "").split() or sorted({
            f.parts[0].removesuffix(".py") for f in dist.files or [] if f.suffix == ".py"})
        for top in tops:
            found.setdefault(top, []).append(name)
    return found


version = cache(metadata.version)  # asked for again by every record of a build


def describe(where: Project | Path, modules: list[str], python: str, weights: list[str] = ()) -> dict:
    """``{"python": "3.11.7", "packages": [["tiktoken", "0.14.0"], ...], "weights": [...]}``
    for one run: the packages among its imports, and the seeded weights it read.

    A namespace that several distributions share (``tiktoken_ext``) names none of them:
    loading it says nothing about which one the code used.
    """
    project = Project.of(where)
    names = {dists[0] for module in modules if len(dists := owners(project.root, project.cache).get(module, [])) == 1}
    known = seed.weight_names()
    return {"python": python, "packages": sorted([n, version(n)] for n in names),
            "weights": sorted(known[w] for w in weights if w in known),
            "cpu": FLOAT_PATH if uses_floats(modules, python) else ""}


def line(record: dict) -> str:
    """The words under an output.

    >>> line({"python": "3.11.7", "packages": [["tiktoken", "0.14.0"]]})
    'Output verified with Python 3.11.7 · tiktoken 0.14.0'
    >>> line({"python": "3.11.7", "packages": [["torch", "2.13.0"]], "cpu": FLOAT_PATH})
    'Output verified with Python 3.11.7 · torch 2.13.0 · x86-64 CPU, AVX2 float path'
    """
    used = "".join(f" · {name} {version}" for name, version in record["packages"])
    weights = "".join(f" · {name}" for name in record.get("weights", []))
    cpu = f" · {record['cpu']}" if record.get("cpu") else ""
    return f"Output verified with Python {record['python']}{used}{weights}{cpu}"


def html(record: dict) -> str:
    """The line as HTML, left out of the search index (it repeats on every page)."""
    return f'<p class="provenance" data-search-exclude>{escape(line(record))}</p>'


def annotate(markdown: str, record_for) -> str:
    """Add the provenance line after every fenced block showing a verified output.

    That is a block including ``snippets/<name>.out`` (``record_for("snippets/<name>.py")``)
    or a ``pycon`` session (``record_for(None)``: the page's doctests).  A block without a
    record (its check failed) gets no line.
    """
    lines, opened, source = [], None, None
    for text in markdown.split("\n"):
        lines.append(text)
        match = FENCE.match(text)
        if opened is None and match:
            opened, source = match, ("pycon" if match["info"].strip().startswith("pycon") else None)
        elif opened is not None and match and match["fence"] == opened["fence"] and not match["info"].strip():
            record = record_for(None if source == "pycon" else source) if source else None
            if record:
                lines += ["", opened["indent"] + html(record), ""]
            opened = source = None
        elif opened is not None and (include := INLINE.match(text)) \
                and (target := include_target(include["target"])).endswith(".out"):
            source = target.removesuffix(".out") + ".py"
    return "\n".join(lines)


# The blocks an example shows in full, and the same block left out of the search index: a
# verified output (also classed ``output``, which the stylesheet wraps), any other titled file
# (its code), and a collapsed ``??? example`` (a data file or a helper module).  In order: an
# output is marked before the rule for titled files could match it.
EXAMPLE_BLOCKS = {
    '<div class="highlight"><span class="filename">Output</span>':
        '<div class="highlight output" data-search-exclude><span class="filename">Output</span>',
    '<div class="highlight"><span class="filename">':
        '<div class="highlight" data-search-exclude><span class="filename">',
    '<details class="example">': '<details class="example" data-search-exclude>',
    # The install-and-run steps at the end of each page: commands for the code above, 3 KB of
    # the compressed index that every first visit to any page downloads.
    '<h2 id="try-it-yourself">': '<h2 id="try-it-yourself" data-search-exclude>',
}


# A code block whose code holds no line break but a last one: its opening tags, then its code.
ONE_LINE_BLOCK = re.compile(r'<div class="highlight(?P<rest>"[^>]*>(?:<span class="filename">[^<]*</span>)?'
                            r'<pre>(?:<span></span>)?<code>)(?=[^\n]*\n?</code>)')


def one_line_blocks(html: str) -> str:
    r"""Class each one-line code block ``one-line``, as the labs do, so the stylesheet keeps its
    copy button clear of its only line (blocks carry no per-line anchors to count).

    >>> one_line_blocks('<div class="highlight"><pre><span></span><code>pip install x\n</code></pre></div>')
    '<div class="highlight one-line"><pre><span></span><code>pip install x\n</code></pre></div>'
    >>> one_line_blocks('<div class="highlight"><pre><span></span><code>a\nb\n</code></pre></div>')
    '<div class="highlight"><pre><span></span><code>a\nb\n</code></pre></div>'
    """
    return ONE_LINE_BLOCK.sub(r'<div class="highlight one-line\g<rest>', html)


def examples_out_of_search(html: str) -> str:
    """Leave the examples' files and outputs, and the "Try it yourself" sections, out of the
    search index (the labs leave out their outputs).

    The index is downloaded whole on every first visit to any page, and those files were half
    of it; readers search the prose, where every name that matters is written as inline code
    (which stays in the index).

    >>> examples_out_of_search('<div class="highlight"><span class="filename">a.py</span>')
    '<div class="highlight" data-search-exclude><span class="filename">a.py</span>'
    >>> examples_out_of_search('<div class="highlight"><span class="filename">Output</span>')
    '<div class="highlight output" data-search-exclude><span class="filename">Output</span>'
    """
    for block, excluded in EXAMPLE_BLOCKS.items():
        html = html.replace(block, excluded)
    return html
