"""The site's own stylesheets and scripts, and its pages' code, made smaller as the build
writes them: comments, indentation and spans that change nothing on screen are for authors
or tools, and every reader pays for them on a first visit (the extra CSS went from about 2.0
to 1.0 KB compressed, on every page's 150 KiB budget)."""

from __future__ import annotations

import re
from pathlib import Path


def css(text: str) -> str:
    """The same rules, without comments or needless spaces. A space before ':' is kept: in a
    selector (``.a :is(h1)``) it is the descendant combinator."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};,>])\s*", r"\1", text)
    text = re.sub(r":\s+", ":", text)
    return text.replace(";}", "}").strip()


def js(text: str) -> str:
    """The same script without its comment lines and indentation: only whole lines that are
    comments go (a ``//`` after code may sit in a string), and every statement keeps its line."""
    text = re.sub(r"\A\s*/\*.*?\*/", "", text, flags=re.S)  # the header comment
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


MINIFIERS = {".css": css, ".js": js}

# Pygments wraps every name and every run of spaces in code in a span of its own; Material
# colours a name (`n`) as plain code text (--md-code-hl-name-color is --md-code-fg-color) and
# gives spaces (`w`) no style, so those spans change nothing a reader sees, and on a page of
# code they are about a thousand tags.
PLAIN_SPAN = re.compile(r'<span class="[nw]">([^<]*)</span>')


def plain_code(html: str) -> str:
    """A page's HTML without the code spans that look like no span at all."""
    return PLAIN_SPAN.sub(r"\1", html)


def assets(site: Path, docs: Path) -> None:
    """Make the site's own stylesheets and scripts (those under ``docs/``, copied into the
    built site) smaller, by their kind."""
    for source in sorted(docs.rglob("*")):
        path = site / source.relative_to(docs)
        if path.suffix in MINIFIERS and path.is_file():
            path.write_text(MINIFIERS[path.suffix](path.read_text(encoding="utf-8")), encoding="utf-8")
