"""MkDocs hook: run the cached snippet gate before every build; add the build-time figures,
the lab notebooks and the tokenizer widget's vocabulary; put a provenance line under every
verified output.

Thin on purpose — all the work is in ``scripts.gate``, ``scripts.figures``,
``scripts.labs`` and ``scripts.tokenizer_data``.  ``mkdocs build`` fails on any drift; ``mkdocs serve`` prints the report,
keeps serving, and (thanks to the cache) reruns only the snippet that was edited.
"""

import sys
from pathlib import Path

from mkdocs.plugins import event_priority

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import figures, gate, labs, tokenizer_data  # noqa: E402

_serving = False


def on_startup(command, dirty):
    global _serving
    _serving = command == "serve"


def on_pre_build(config):
    gate.before_build(Path(config.config_file_path).parent, serving=_serving)


@event_priority(100)  # before mkdocs-jupyter, so it renders the generated lab notebooks
def on_files(files, config):
    root = Path(config.config_file_path).parent
    figures.add_to_site(files, config, root)
    labs.add_to_site(files, config, root)
    tokenizer_data.add_to_site(files, config, root)


def on_page_markdown(markdown, page, config, files):
    return gate.drift_banner(page.file.src_uri) + gate.with_provenance(page.file.src_uri, markdown)


def on_page_content(html, page, config, files):
    if not labs.is_lab_page(page.file.src_uri):
        return html
    src = page.file.src_uri
    return labs.decorate(html, src, gate.lab_provenance(labs.source_of(src)), gate.lab_banner(src))
