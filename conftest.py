"""Root pytest configuration: the `>>>` sessions in docs/ run offline, like the snippets.

Doctests run inside the pytest process, so the seeded caches are wired in here, before any
test imports tiktoken or huggingface_hub.
"""

import os
from pathlib import Path

from scripts.gate import Project, run, seed

ROOT = Path(__file__).resolve().parent
# The child's sitecustomize installs nothing on import, but it is never a test module.
collect_ignore = ["scripts/gate/run/child/sitecustomize.py", "scripts/mkdocs_hook.py", "snippets", "site"]


def pytest_configure(config):
    project = Project.load(ROOT)
    project.seed()
    os.environ.update(seed.snippet_env(project.cache))
    os.environ.update(run.NUMERICS["pinned"])  # the float code path the snippets run on, for the doctests here
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
