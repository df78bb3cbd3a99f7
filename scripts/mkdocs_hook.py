"""MkDocs hook: run the cached snippet gate before every build, add the build-time figures.

Thin on purpose — all the work is in ``scripts.gate`` and ``scripts.figures``.
``mkdocs build`` fails on any drift; ``mkdocs serve`` prints the report, keeps serving, and
(thanks to the cache) reruns only the snippet that was edited.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import figures, gate  # noqa: E402

_serving = False


def on_startup(command, dirty):
    global _serving
    _serving = command == "serve"


def on_pre_build(config):
    gate.before_build(Path(config.config_file_path).parent, serving=_serving)


def on_files(files, config):
    figures.add_to_site(files, config, Path(config.config_file_path).parent)


def on_page_markdown(markdown, page, config, files):
    return gate.drift_banner(page.file.src_uri) + markdown
