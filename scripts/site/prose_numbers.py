"""Numbers a page's prose states beside an output must be numbers that output prints.

A re-recorded output can change a count ("6/8"), a rate ("67%") or a value ("0.773") that the
text next to it still quotes; this finds those. The prose checked is each stretch of a page
between two examples (a code include and its ``.out``) up to its closing sections, against
the examples on either side of it; and a lab's markdown against the lab's outputs. A number
passes if an output or the code beside it prints or sets it.

What is not a claim about the output, and so not checked:

| text | why |
| --- | --- |
| inline code, URLs, HTML, images, "From my notes" and quote boxes | code, addresses, markup, notes kept verbatim |
| text in double quotes | the words of a note or an output, quoted |
| a size (`90 MB`, `16 GiB`) | a download or memory size, not an output |
| a sentence with a link | a sourced fact: its source is the link |
| a number glued to letters or a hyphen (`SmolLM2`, `135M`, `GPT-4o`, `top-5`) | a name |
| a number right after a capitalised word (`Llama 3.1`, `Python 3.11`) | a version |
| years and dates (`2017`, `2026-11`) | time, dated on purpose |
| `1` and `0` alone | "1 token", "0 calls": too common to mean a measurement |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scripts.gate.pages import BLOCK, INLINE, include_target

# A rate (8/12), a percentage (67%), or a number (0.773, 49,152, 452, 1.9x's 1.9).
NUMBER = re.compile(r"(?<![\w.,/@-])(\d+/\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(%?)(?![\w/-]|[.,]\d)")
CODE_SPAN = re.compile(r"`[^`]*`|\"[^\"]*\"|“[^”]*”")
SIZE = re.compile(r"\s*(?:[KMGT]i?B)\b")
URL = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
LINK = re.compile(r"\[[^\]]+\]\([^)]*\)")
DATE = re.compile(r"^(19|20)\d\d$")
SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+(?=[A-Z(*\"'\[])")
CLOSING = ("## Sources", "## Try it yourself")
MARKUP = re.compile(r"\s*(<|!\[|\{|!!!|\?\?\?)")  # HTML, images, attributes, box titles
VERBATIM_BOX = re.compile(r'^(!!!|\?\?\?)\+? (abstract|quote|note) "From my notes|^!!! quote')


@dataclass(frozen=True)
class Unprinted:
    """A number in prose that no output or code beside it has."""

    where: str  # page or lab, relative to the project
    line: int
    number: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.number!r} is not in the output beside it: {self.sentence}"


def numbers_in(text: str) -> set[str]:
    """Every number a text prints, normalised (no thousands commas), rates and percentages too.

    >>> sorted(numbers_in("zero-shot accuracy 8/12 = 67%; 49152 tokens, 0.773"))
    ['0.773', '12', '49152', '67', '67%', '8', '8/12']
    """
    found = set()
    for match in re.finditer(r"\d+/\d+|\d+(?:,\d{3})*(?:\.\d+)?%?", text):
        token = match.group().replace(",", "")
        found.add(token)
        found.update(re.split(r"/", token.rstrip("%")))
        found.add(token.rstrip("%"))
    return found


def claims(sentence: str) -> list[str]:
    """The numbers one sentence of prose claims (see the table above), normalised.

    >>> claims("Llama 3.1 8B keeps 452 of 49,152 tokens (67%), see `top_k=50`.")
    ['452', '49152', '67%']
    >>> claims("As of 2026-11, SmolLM2-135M got 1 right and 6/8 wrong.")
    ['6/8']
    >>> claims("It costs 0.12 per [token](https://example.com/1.5).")
    []
    """
    if LINK.search(sentence):
        return []
    text = URL.sub("]", CODE_SPAN.sub(" ", sentence))
    found = []
    for match in NUMBER.finditer(text):
        number = match.group(1).replace(",", "") + match.group(2)
        before = text[:match.start()].rstrip().split(" ")[-1] if text[:match.start()].strip() else ""
        if DATE.match(number) or number in ("0", "1") or re.match(r"\d{4}-\d\d", text[match.start():]):
            continue
        if before[:1].isupper() and before[-1:].isalnum():  # "Llama 3.1", "Python 3.11"
            continue
        if SIZE.match(text, match.end()):
            continue
        found.append(number)
    return found


LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s+")


def _sentences(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The prose lines as sentences, each with the line it starts on: paragraphs break at
    blank lines, list items and table rows, sentences at their final punctuation.

    >>> _sentences([(3, "One 5. Two"), (4, "lines."), (5, ""), (6, "- an item"), (7, "| a | 2 |")])
    [(3, 'One 5.'), (3, 'Two lines.'), (6, 'an item'), (7, '| a | 2 |')]
    """
    paragraphs: list[tuple[int, list[str]]] = []
    for number, line in lines:
        if not line.strip():
            paragraphs.append((number, []))
        elif LIST_ITEM.match(line) or line.lstrip().startswith("|") or not paragraphs or not paragraphs[-1][1]:
            paragraphs.append((number, [LIST_ITEM.sub("", line).strip()]))
        else:
            paragraphs[-1][1].append(line.strip())
    return [(number, sentence) for number, words in paragraphs if words
            for sentence in SENTENCE_END.split(" ".join(words))]


def _page_items(root: Path, page: Path) -> list[tuple[str, object]]:
    """The page as ("example", numbers its includes print) and ("prose", [(line, text)]) items:
    consecutive includes, with only fences, headings or blank lines between them, are one
    example. Fences, verbatim boxes, markup and the closing sections are left out."""
    items: list[tuple[str, object]] = []
    in_fence = in_block = in_box = closed = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        target = None
        if BLOCK.match(line):
            in_block = not in_block
            continue
        if (match := INLINE.match(line)) is not None:
            target = include_target(match["target"])
        elif in_block and line.strip():
            target = include_target(line)
        if target is not None:
            path = root / target
            printed = numbers_in(path.read_text(encoding="utf-8")) if path.is_file() else set()
            if items and items[-1][0] == "example":
                items[-1][1].update(printed)
            else:
                items.append(("example", printed))
            continue
        closed = closed or line.startswith(CLOSING)
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_box:
            if not line.strip() or line.startswith("    "):
                continue
            in_box = False
        in_box = bool(VERBATIM_BOX.match(line))
        text = line.removeprefix("    ")
        if closed or in_fence or in_box or not line.strip() or MARKUP.match(text):
            continue
        if items and items[-1][0] == "prose":
            items[-1][1].append((number, text))
        else:
            items.append(("prose", [(number, text)]))
    return items


def page_regions(root: Path, page: Path) -> list[tuple[set[str], list[tuple[int, str]]]]:
    """Each stretch of prose after the first example, with the numbers of the examples on
    either side of it."""
    items = _page_items(root, page)
    regions = []
    for i, (kind, prose) in enumerate(items):
        if kind != "prose" or i == 0:
            continue
        printed = set(items[i - 1][1]) | (set(items[i + 1][1]) if i + 1 < len(items) else set())
        regions.append((printed, prose))
    return regions


def lab_regions(lab: Path, outputs: Path) -> list[tuple[set[str], list[tuple[int, str]]]]:
    """A lab's markdown cells against everything the lab prints and its code sets."""
    text = lab.read_text(encoding="utf-8")
    printed = numbers_in(outputs.read_text(encoding="utf-8")) if outputs.is_file() else set()
    printed |= numbers_in("\n".join(line for line in text.splitlines() if not line.startswith("#")))
    prose = [(number, line[2:] if line.startswith("# ") and not line.startswith(("# #", "# %%")) else "")
             for number, line in enumerate(text.splitlines(), 1)]
    return [(printed, prose)]


def unprinted(where: str, regions: list[tuple[set[str], list[tuple[int, str]]]]) -> list[Unprinted]:
    """Every claimed number of the regions' prose that its region's output does not print."""
    return [Unprinted(where, line, number, sentence.strip())
            for printed, prose in regions for line, sentence in _sentences(prose)
            for number in claims(sentence) if number not in printed and number.rstrip("%") not in printed]
