"""The snippet gate: every output shown on a page is what its code prints today.

The core, apart from the site: it runs each target (snippet, lab, page doctests) in a
sandboxed child, compares its output with the committed one, caches passes and updates
expected outputs.  It knows nothing of the site generator: ``scripts/site`` and the
hook build on it.

    python -m scripts.gate check [SNIPPET ...] [--no-cache] [--jobs N] [--root DIR]
    python -m scripts.gate update [SNIPPET ...] [--root DIR]

Layout: ``targets`` (what is checked, and how it runs), ``settings`` (``[tool.snippets]``
and the environment variables), ``runner`` (one sandboxed run), ``forkserver`` (one import
of torch, a fork per run), ``cache`` (result cache), ``seed`` (offline model caches),
``pages`` (which page includes what), ``report`` (statuses, diffs, summary), ``core``
(check and update), ``child/`` (what runs inside the sandboxed process).
"""

from scripts.gate.core import ROOT, check, site_problems, start_fork_server, update
from scripts.gate.report import Outcome, SnippetError, Status, summary
from scripts.gate.seed import SeedError
from scripts.gate.targets import Kind, Target, discover, doctest_pages, target_for

__all__ = [
    "ROOT", "check", "update", "summary", "site_problems", "start_fork_server",
    "Outcome", "Status", "SnippetError", "SeedError",
    "Kind", "Target", "discover", "doctest_pages", "target_for",
]
