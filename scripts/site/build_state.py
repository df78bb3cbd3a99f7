"""What one MkDocs process knows between builds, and what the hook asks of it.

``mkdocs build`` fails on any drift; ``mkdocs serve`` reports it, keeps serving, and puts a
warning on each page whose shown output is out of date.  Under every output that passed,
the page gets its provenance line.  The hook owns one ``BuildState``; nothing is global.
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
    pages,
    prepare_fork_servers,
    site_problems,
    summary,
)
from scripts.site import lab_css, labs, provenance

DRIFT_TEXT = ("What this page shows is the committed output, and the code no longer prints it. "
              "The diff is in the terminal running `mkdocs serve`; fix the code or run `make update`.")


class BuildState:
    """The last build's project and verdicts: ``drifting`` maps a page (path under ``docs/``)
    to its failing targets; ``records`` maps each passed target to what produced its output."""

    def __init__(self, serving: bool = False):
        self.serving = serving
        self.dirty = False  # ``mkdocs serve --dirty``: a build may skip pages
        self.project: Project | None = None  # loaded once per build
        self.drifting: dict[str, list[str]] = {}
        self.records: dict[str, dict] = {}
        self.lab_styles = lab_css.Collector()  # a new one each build

    def before_build(self, root: Path) -> None:
        """Check everything (cached); a build fails on drift, a serve reports it and goes on.
        A build with an unused file or a missing include fails before any snippet runs."""
        self.lab_styles = lab_css.Collector()
        from mkdocs.exceptions import PluginError

        try:
            project = self.project = Project.load(root)
            if self.serving:  # start importing now, for the author's next save
                prepare_fork_servers(project)
            problems = site_problems(project)
            if problems and not self.serving:  # the build fails anyway: say so before running anything
                raise PluginError("snippet gate failed (no snippet was run: fix these first)\n" + "\n".join(problems))
            outcomes = check(project)
        except SeedError as err:  # a missing or tampered model file: say which, no traceback
            raise PluginError(f"snippet gate could not prepare the offline caches: {err}") from None
        except SnippetError as err:  # e.g. the OS sandbox is required and missing
            raise PluginError(f"snippet gate could not run: {err}") from None
        failed = [o for o in outcomes if not o.ok]
        self.drifting = failing_pages(project, failed)
        self.records = {o.snippet: provenance.describe(project, **ran) for o in outcomes
                        if o.ok and (ran := cache.provenance(project.cache, o.snippet))}
        tally = summary(outcomes)
        report = "\n".join([tally, *problems])
        logging.getLogger("mkdocs.hooks.snippet_gate").info("snippet gate: %s", tally.splitlines()[-1])
        if (failed or problems) and not self.serving:
            raise PluginError(f"snippet gate failed\n{report}")
        if failed or problems:  # printed, not logged: a strict serve must keep serving
            print(f"\nsnippet gate failed (still serving)\n{report}\n", file=sys.stderr)

    def failing(self, page: str) -> str:
        return ", ".join(f"`{name}`" for name in self.drifting.get(page, []))

    def drift_banner(self, page: str) -> str:
        """While serving, a visible warning (Markdown) on a page whose shown output is out of date."""
        names = self.failing(page)
        return f'!!! failure "Snippet check failed: {names}"\n    {DRIFT_TEXT}\n\n' if names else ""

    def lab_banner(self, page: str) -> str:
        """The same warning as HTML, for a lab page (rendered from a notebook, not Markdown)."""
        code = lambda text: re.sub(r"`([^`]+)`", r"<code>\1</code>", text)  # noqa: E731
        names = self.failing(page)
        return (f'<div class="admonition failure"><p class="admonition-title">{code("Snippet check failed: " + names)}'
                f"</p><p>{code(DRIFT_TEXT)}</p></div>") if names else ""

    def with_provenance(self, page: str, markdown: str) -> str:
        """A page's Markdown with the provenance line under each output that passed."""
        return provenance.annotate(markdown, lambda source: self.records.get(source or f"docs/{page}"))

    def lab_provenance(self, lab: str) -> str:
        """The provenance line for a lab's outputs (``labs/<name>.py``), or "" if it failed."""
        record = self.records.get(lab)
        return provenance.html(record) if record else ""


def failing_pages(project: Project, failed: list[Outcome]) -> dict[str, list[str]]:
    """Pages (paths under ``docs/``) mapped to the failing targets they show."""
    included = pages.pages_by_include(project.root) if failed else {}
    result: dict[str, list[str]] = {}
    for outcome in failed:
        for page in site_pages(project.target(project.root / outcome.snippet), included):
            result.setdefault(page, []).append(outcome.snippet)
    return result


def site_pages(target: Target, included: dict[str, list[str]]) -> list[str]:
    """The pages (paths under ``docs/``, as the site names them) that show a target's output:
    a lab's notebook page, a page with ``>>>`` sessions itself, the pages including a snippet."""
    if target.kind is Kind.LAB:
        return [labs.notebook_page(target.path)]
    pages_ = {target.rel} if target.kind is Kind.PAGE else {*included.get(target.rel, []),
                                                            *included.get(target.expected_rel, [])}
    return sorted(Path(page).relative_to("docs").as_posix() for page in pages_)
