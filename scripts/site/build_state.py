"""What one MkDocs process knows between builds, and what the hook asks of it.

``mkdocs build`` checks everything first and fails on any drift.  ``mkdocs serve`` shows
the first page at once from what the cache says, verifies the rest in the background
(``verify.py``: those pages say "verifying" until then), reports drift, keeps serving, and
puts a warning on each page whose shown output is out of date.  Under every output that
passed, the page gets its provenance line.  The hook owns one ``BuildState``; nothing is
global.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from scripts.gate import (
    Kind,
    Outcome,
    Project,
    SeedError,
    SnippetError,
    Target,
    cache,
    check,
    files,
    known,
    pages,
    prepare_fork_servers,
    site_problems,
    summary,
)
from scripts.gate.report import visible
from scripts.site import lab_css, labs, provenance
from scripts.site.verify import Verifier

FAILED_TEXT = ("What this page shows is the committed output, which the gate could not confirm. The terminal "
               "running `mkdocs serve` has the details; fix the code, or run `make update` if the new output is "
               "right.")
VERIFYING_TEXT = ("This local preview shows the committed output while the gate checks, in the background, "
                  "that the code still prints it; the page reloads when the check is done. "
                  "A published build checks everything first.")
QUICK = 5.0  # seconds a rebuild after a save waits for its check before showing "Verifying"
# (admonition kind, title, text) of the banner for a page whose targets failed / are being verified
BANNERS = {"failing": ("failure", "Snippet check failed: ", FAILED_TEXT),
           "verifying": ("info", "Verifying: ", VERIFYING_TEXT)}


def inert(text: str) -> str:
    """``text`` as plain characters in Markdown and HTML alike: everything but letters, digits
    and spaces as a character reference, so no markup, link or code span can start in it."""
    return "".join(c if c.isalnum() or c == " " else f"&#{ord(c)};" for c in text)


class BuildState:
    """The last build's project and verdicts: ``pages`` maps "failing" and "verifying" to the
    pages (paths under ``docs/``) that show such targets; ``records`` maps each passed target
    to what produced its output."""

    def __init__(self, serving: bool = False):
        self.serving = serving
        self.dirty = False  # ``mkdocs serve --dirty``: a build may skip pages
        self.project: Project | None = None  # loaded once per build
        self.verifier = Verifier()  # while serving: the background check
        self.pending: list[tuple[Target, str]] = []  # what the last serving build left to verify
        self.pages: dict[str, dict[str, list[str]]] = {"failing": {}, "verifying": {}}  # kind -> page -> targets
        self.records: dict[str, dict] = {}
        self.reasons: dict[str, str] = {}  # failed target -> the first line of its report (what went wrong)
        self.lab_styles = lab_css.Collector()  # a new one each build

    def before_build(self, root: Path) -> None:
        """Check everything (cached); a build fails on drift, a serve reports it and goes on.
        A build with an unused file or a missing include fails before any snippet runs."""
        self.lab_styles = lab_css.Collector()
        from mkdocs.exceptions import PluginError

        try:
            if bad := files.unsafe(root, ("mkdocs.yml",)):  # the site's own file; Project.load checks the rest
                raise SnippetError("; ".join(bad))
            project = self.project = Project.load(root)
            problems = site_problems(project)
            if problems and not self.serving:  # the build fails anyway: say so before running anything
                raise PluginError("snippet gate failed (no snippet was run: fix these first)\n"
                                  + visible("\n".join(problems)))
            outcomes, pending = self.serve_outcomes(project) if self.serving else (check(project), [])
        except SeedError as err:  # a missing or tampered model file: say which, no traceback
            raise PluginError(f"snippet gate could not prepare the offline caches: {err}") from None
        except SnippetError as err:  # e.g. the OS sandbox is required and missing
            raise PluginError(f"snippet gate could not run: {visible(str(err))}") from None
        failed = [o for o in outcomes if not o.ok]
        self.pages = {"failing": pages_showing(project, [o.snippet for o in failed]),
                      "verifying": pages_showing(project, [target.rel for target in pending])}
        self.reasons = {o.snippet: o.detail.splitlines()[0] if o.detail else "it failed" for o in failed}
        self.records = {o.snippet: provenance.describe(project, **ran) for o in outcomes
                        if o.ok and (ran := cache.provenance(project.cache, o.snippet))}
        tally = summary(outcomes) if outcomes else "0 checked"
        report = visible("\n".join([tally, *problems]))
        waiting = f"; {len(pending)} verifying in the background" if pending else ""
        logging.getLogger("mkdocs.hooks.snippet_gate").info("snippet gate: %s%s", tally.splitlines()[-1], waiting)
        if (failed or problems) and not self.serving:
            raise PluginError(f"snippet gate failed\n{report}")
        if failed or problems:  # printed, not logged: a strict serve must keep serving
            print(f"\nsnippet gate failed (still serving)\n{report}\n", file=sys.stderr)

    def serve_outcomes(self, project: Project) -> tuple[list[Outcome], list[Target]]:
        """While serving: what the cache (or the last background check) says now, and the
        targets left to verify, which the background check takes (``verify.py``)."""
        outcomes, pending = known(project)
        seen, self.pending = self.verifier.resolve(pending)
        if self.pending and self.verifier.server and not self.verifier.busy:  # a save, once serving
            self.verifier.start(project, self.pending)
            if self.verifier.wait(QUICK):
                more, self.pending = self.verifier.resolve(self.pending)
                seen += more
        if not self.verifier.busy and not self.pending:  # have the fork servers ready for the next save
            prepare_fork_servers(project)
        return outcomes + seen, [target for target, _ in self.pending]

    def after_build(self) -> None:
        """While serving, once the pages are written: verify what the cache did not hold.  The
        first build starts its check only here, so the first page never waits for what the
        check does first (seeding the models, which holds the seeding lock for minutes on a
        fresh clone); after a save, a rebuild waits ``QUICK`` seconds for its check first."""
        if self.serving and self.project is not None:
            self.verifier.start(self.project, self.pending)

    def names(self, kind: str, page: str) -> str:
        return ", ".join(f"`{name}`" for name in self.pages[kind].get(page, []))

    def text(self, kind: str, page: str) -> str:
        """A banner's text; a failure's says what went wrong with each target (drift, raised,
        stuck, over its CPU budget...), escaped: a report line may quote what a run printed."""
        failed = self.pages[kind].get(page, []) if kind == "failing" else []
        return "".join(f"{inert(self.reasons.get(rel, ''))}. " for rel in failed) + BANNERS[kind][2]

    def drift_banner(self, page: str) -> str:
        """While serving, a visible note (Markdown) on a page whose shown output is out of date
        or still being verified."""
        return "".join(f'!!! {style} "{title}{names}"\n    {self.text(kind, page)}\n\n'
                       for kind, (style, title, _) in BANNERS.items() if (names := self.names(kind, page)))

    def lab_banner(self, page: str) -> str:
        """The same notes as HTML, for a lab page (rendered from a notebook, not Markdown)."""
        code = lambda text: re.sub(r"`([^`]+)`", r"<code>\1</code>", text)  # noqa: E731
        return "".join(f'<div class="admonition {style}"><p class="admonition-title">{code(title + names)}'
                       f"</p><p>{code(self.text(kind, page))}</p></div>" for kind, (style, title, _) in BANNERS.items()
                       if (names := self.names(kind, page)))

    def with_provenance(self, page: str, markdown: str) -> str:
        """A page's Markdown with the provenance line under each output that passed."""
        return provenance.annotate(markdown, lambda source: self.records.get(source or f"docs/{page}"))

    def lab_provenance(self, lab: str) -> str:
        """The provenance line for a lab's outputs (``labs/<name>.py``), or "" if it failed."""
        record = self.records.get(lab)
        return provenance.html(record) if record else ""


def pages_showing(project: Project, rels: list[str]) -> dict[str, list[str]]:
    """Pages (paths under ``docs/``) mapped to those of these targets they show."""
    included = pages.pages_by_include(project.root) if rels else {}
    result: dict[str, list[str]] = {}
    for rel in rels:
        for page in site_pages(project.target(project.root / rel), included):
            result.setdefault(page, []).append(rel)
    return result


def site_pages(target: Target, included: dict[str, list[str]]) -> list[str]:
    """The pages (paths under ``docs/``, as the site names them) that show a target's output:
    a lab's notebook page, a page with ``>>>`` sessions itself, the pages including a snippet."""
    if target.kind is Kind.LAB:
        return [labs.notebook_page(target.path)]
    pages_ = {target.rel} if target.kind is Kind.PAGE else {*included.get(target.rel, []),
                                                            *included.get(target.expected_rel, [])}
    return sorted(Path(page).relative_to("docs").as_posix() for page in pages_)
