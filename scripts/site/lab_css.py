"""One small stylesheet for every lab page, instead of about 590 KB of notebook CSS inlined
into each (mkdocs-jupyter inlines JupyterLab's whole theme).

The lab pages' ``<style>`` blocks are the same on every lab page.  They are lifted out of
the pages and purged to the rules that can match the lab pages' markup: a rule whose
selector names a class that no lab page uses can match nothing, and a custom property that
no kept rule reads is never used.  What is left keeps the labs' look, except where a lab page
uses the site's own markup (its code cells are Material's code blocks, ``scripts/site/labs.py``):
the notebook theme's rules for those classes are dropped, so they look as on every other page."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import tinycss2

from scripts.site import memo

CLASS_ATTR = re.compile(r'class="([^"]*)"')
SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
VAR = re.compile(r"var\(\s*(--[\w-]+)")
HREF = "assets/stylesheets/labs.css"
# Classes a lab page shares with the rest of the site, styled by the site's stylesheets only: the
# notebook theme restyles ``.highlight pre`` (its own background and padding, in the dark scheme
# on the whole page), which would make a lab's code blocks unlike every other page's.
SITE_STYLED = {"highlight"}


def lift_styles(html: str) -> tuple[str, list[str]]:
    """The page without its ``<style>`` blocks, and the blocks (stylesheets only: one block
    mkdocs-jupyter writes is a Python list's repr, not CSS, and is dropped).  Plain string
    search: a lazy regular expression over 600 KB of CSS takes ten times as long."""
    kept, blocks, at = [], [], 0
    while (start := html.find("<style", at)) != -1:
        body = html.find(">", start) + 1
        end = html.find("</style>", body)
        if not body or end == -1:  # not a whole block: left as it is
            break
        kept.append(html[at:start])
        blocks.append(html[body:end])
        at = end + len("</style>")
    kept.append(html[at:])
    return "".join(kept), [css for css in blocks if not css.lstrip().startswith("[")]


def classes_in(html: str) -> set[str]:
    return {name for attr in CLASS_ATTR.findall(html) for name in attr.split()}


def purge(css: str, classes: set[str]) -> str:
    """The rules of ``css`` that can match markup using only ``classes``, with the custom
    properties they read (directly or through other properties)."""
    rules = _keep_rules(tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True), classes)
    used = _used_properties(rules)
    return "".join(_serialize(rule, used) for rule in rules)


def _keep_rules(rules, classes):
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s for s in tinycss2.serialize(rule.prelude).split(",")
                         if set(SELECTOR_CLASS.findall(s)) <= classes]
            if selectors:
                rule.prelude = tinycss2.parse_component_value_list(",".join(selectors))
                kept.append(rule)
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content:
            inner = _keep_rules(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True),
                                classes)
            if inner:
                rule.content = [token for r in inner for token in tinycss2.parse_component_value_list(
                    tinycss2.serialize([r]))]
                kept.append(rule)
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("keyframes", "font-face"):
            kept.append(rule)
    return kept


def _declarations(rule):
    if rule.type == "qualified-rule":
        return tinycss2.parse_declaration_list(rule.content, skip_whitespace=True, skip_comments=True)
    return []


def _used_properties(rules) -> set[str]:
    """Custom properties read by a normal declaration, and what those read in turn."""
    custom, reads = {}, set()
    for rule in _flatten(rules):
        for decl in _declarations(rule):
            if decl.type != "declaration":
                continue
            value = tinycss2.serialize(decl.value)
            if decl.name.startswith("--"):
                custom.setdefault(decl.name, set()).update(VAR.findall(value))
            else:
                reads.update(VAR.findall(value))
    pending = list(reads)
    while pending:
        for name in custom.get(pending.pop(), ()):
            if name not in reads:
                reads.add(name)
                pending.append(name)
    return reads


def _flatten(rules):
    for rule in rules:
        if rule.type == "qualified-rule":
            yield rule
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content:
            yield from _flatten(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True))


def _serialize(rule, used: set[str]) -> str:
    if rule.type == "qualified-rule":
        kept = [decl for decl in _declarations(rule) if decl.type == "declaration"
                and (not decl.name.startswith("--") or decl.name in used)]
        if not kept:
            return ""
        body = ";".join(f"{d.name}:{tinycss2.serialize(d.value).strip()}{'!important' if d.important else ''}"
                        for d in kept)
        return f"{tinycss2.serialize(rule.prelude).strip()}{{{body}}}"
    if rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports"):
        inner = "".join(_serialize(r, used) for r in tinycss2.parse_rule_list(
            rule.content, skip_whitespace=True, skip_comments=True))
        return f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{inner}}}" if inner else ""
    return tinycss2.serialize([rule])


class Collector:
    """Lifts the style blocks out of each lab page as it is written, then writes the one
    purged stylesheet they all link to, after the build (when every lab's classes are known).
    Purging takes about a third of a second, so the result is cached on its inputs."""

    def __init__(self):
        self.blocks: dict[str, None] = {}  # ordered, without repeats
        self.classes: set[str] = set()

    def lift(self, page_html: str, page_url: str) -> str:
        html, blocks = lift_styles(page_html)
        self.blocks.update(dict.fromkeys(blocks))
        self.classes |= classes_in(html)
        link = f'<link rel="stylesheet" href="{"../" * page_url.count("/")}{HREF}">'
        return html.replace("</head>", f"{link}\n</head>", 1)

    def write(self, site_dir: Path, cache: Path) -> None:
        if self.blocks:
            css, classes = "\n".join(self.blocks), sorted(self.classes - SITE_STYLED)
            inputs = [css, " ".join(classes), memo.source_of(__file__), metadata.version("tinycss2")]
            sheet = memo.text(cache, "lab-css", inputs, lambda: purge(css, set(classes)))
            target = site_dir / HREF
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(sheet, encoding="utf-8")
