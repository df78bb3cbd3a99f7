"""The snippet gate: every output shown on a page is what its code prints today.
Imports the standard library and its own modules; never ``scripts.site``, ``scripts.harness`` or the site generator.

The core, apart from the site: it runs each target (snippet, lab, page doctests) in a
sandboxed child, compares its output with the committed one, caches passes and updates
expected outputs.  It knows nothing of the site generator or its URLs: ``scripts/site``
and the hook build on it, and may import anything here; nothing here imports them.

    python -m scripts.gate check [SNIPPET ...] [--no-cache] [--jobs N] [--root DIR]
    python -m scripts.gate update [SNIPPET ...] [--root DIR]
    python -m scripts.gate margins [SNIPPET ...] [--no-cache] [--jobs N] [--root DIR]

Layout: ``run/`` (the executor, one door: ``run(spec) -> Run``, the sandbox, the fork
server, the caps, and ``child/``, the code inside a run), ``targets`` (what is checked: how
each kind runs and what its run means), ``project`` (one project loaded once: settings,
cache folder, targets), ``settings`` (``[tool.snippets]`` and the environment variables),
``cache`` (result cache keyed on the run itself), ``seed`` (offline model caches),
``pages`` (which page includes what), ``report`` (statuses, diffs, summary), ``core``
(check, update, and margins: check again on a perturbed float code path).
"""

from scripts.gate.core import check, known, margins, prepare_fork_servers, site_problems, update
from scripts.gate.project import ROOT, Project
from scripts.gate.report import Outcome, SnippetError, Status, summary
from scripts.gate.seed import SeedError
from scripts.gate.targets import Kind, Target

__all__ = [
    "ROOT", "Project", "check", "known", "margins", "update", "summary", "site_problems", "prepare_fork_servers",
    "Outcome", "Status", "SnippetError", "SeedError", "Kind", "Target",
]
