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
    """The file part of an include target, without line ranges or a section name.

    >>> include_target("snippets/a.py:3:9"), include_target("snippets/a.py:main")
    ('snippets/a.py', 'snippets/a.py')
    >>> include_target("snippets/data/notes.json")
    'snippets/data/notes.json'
    """
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


def unused_files(root: Path, included: dict[str, list[str]]) -> list[str]:
    """Files under ``snippets/`` not in ``included`` (see ``pages_by_include``); ``_helpers``
    and caches excepted.

    An example nobody can see is either dead or forgotten: the strict build refuses both.

    >>> unused_files(Path("/nonexistent"), {})
    []
    """
    files = (p for p in (root / "snippets").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(rel for p in files
                  if not p.name.startswith("_") and (rel := p.relative_to(root).as_posix()) not in included)


def missing_includes(root: Path, included: dict[str, list[str]]) -> list[str]:
    """``page: path`` for every include in ``included`` whose file does not exist."""
    return [f"{page}: {target}" for target, pages in included.items()
            if not (root / target).is_file() for page in pages]
