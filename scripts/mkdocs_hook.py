"""MkDocs hook: run the cached snippet gate before every build.

Thin on purpose — all the work is in ``scripts.gate``.  ``mkdocs build`` fails on any
drift; ``mkdocs serve`` prints the report, keeps serving, and (thanks to the cache) reruns
only the snippet that was edited.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import gate  # noqa: E402

_serving = False


def on_startup(command, dirty):
    global _serving
    _serving = command == "serve"


def on_pre_build(config):
    gate.before_build(Path(config.config_file_path).parent, serving=_serving)


def on_page_markdown(markdown, page, config, files):
    return gate.drift_banner(page.file.src_uri) + markdown
