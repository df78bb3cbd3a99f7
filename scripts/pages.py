"""Which pages include which files, read from the ``--8<--`` lines of ``docs/``.

The gate names the page(s) next to a failing snippet so an author knows where a reader
would see the wrong output; the site checks use the same map to find unused snippets.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

INLINE = re.compile(r"""^[ \t]*-+8<-+[ \t]+(["'])(?P<target>.+?)\1[ \t]*$""")
BLOCK = re.compile(r"^[ \t]*-+8<-+[ \t]*$")
SUFFIX = re.compile(r"(?i)(?::-?\d*)+(?:,.*)?$|:[a-z][-_0-9a-z]*$")


def include_target(raw: str) -> str:
    """``snippets/a.py:3:9`` or ``snippets/a.py:section`` -> ``snippets/a.py``."""
    return SUFFIX.sub("", raw.strip())


def includes_of(page: Path) -> list[str]:
    """Paths included by one page, in order, in both the inline and the block form."""
    found, in_block = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if BLOCK.match(line):
            in_block = not in_block
        elif (match := INLINE.match(line)) is not None:
            found.append(include_target(match["target"]))
        elif in_block and line.strip() and not line.lstrip().startswith(";"):
            found.append(include_target(line))
    return found


def pages_by_include(root: Path) -> dict[str, list[str]]:
    """``{"snippets/x.py": ["docs/tokens.md", ...]}`` for every included path."""
    result: dict[str, set[str]] = defaultdict(set)
    for page in sorted((root / "docs").rglob("*.md")):
        for target in includes_of(page):
            result[target].add(page.relative_to(root).as_posix())
    return {target: sorted(pages) for target, pages in result.items()}
