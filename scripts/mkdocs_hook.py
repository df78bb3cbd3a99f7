"""MkDocs hook: run the cached snippet gate before every build; add the build-time figures,
the lab notebooks, the tokenizer widget's vocabulary and the playground's engine and model;
put a provenance line under every verified output.

Thin on purpose: the work is in ``scripts.gate`` (the core) and ``scripts.site`` (the MkDocs
side).  It owns one ``BuildState``.  ``mkdocs build`` fails on any drift; ``mkdocs serve``
shows the first page from the cache at once, verifies the rest in the background, prints the
report, keeps serving, and (thanks to the cache) reruns only what was edited.
"""

import sys
from pathlib import Path

from mkdocs.plugins import event_priority

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.site import a11y, figures, labs, memo, minify, playground_data, provenance, tokenizer_data  # noqa: E402
from scripts.site.build_state import BuildState  # noqa: E402

state = BuildState()


def on_startup(command, dirty):
    state.serving = command == "serve"
    state.dirty = dirty


def on_serve(server, config, builder):
    """Rebuild when the background check of a serving build ends (``scripts/site/verify.py``)."""
    state.verifier.watch(server, state.project.cache / "serve")
    return server


def on_pre_build(config):
    state.before_build(Path(config.config_file_path).parent)


@event_priority(100)  # before mkdocs-jupyter, so it renders the generated lab notebooks
def on_files(files, config):
    figures.add_to_site(files, config, state.project)
    labs.add_to_site(files, config, state.project)
    tokenizer_data.add_to_site(files, config, state.project)
    playground_data.add_to_site(files, config, state.project)


def on_page_markdown(markdown, page, config, files):
    return state.drift_banner(page.file.src_uri) + state.with_provenance(page.file.src_uri, markdown)


def on_page_content(html, page, config, files):
    src = page.file.src_uri
    if not labs.is_lab_page(src):
        html = provenance.one_line_blocks(figures.size_and_defer(html, state.project))
        return provenance.examples_out_of_search(html)
    provenance_html, banner = state.lab_provenance(labs.source_of(src)), state.lab_banner(src)
    return labs.finished(state.project.cache, html, src, provenance_html, banner)


def on_post_page(output, page, config):
    output = a11y.name_search_dialog(output)
    if labs.is_lab_page(page.file.src_uri):
        return state.lab_styles.lift(output, page.url)
    return minify.plain_code(output)


def on_post_build(config):
    state.after_build()
    state.lab_styles.write(Path(config.site_dir), state.project.cache)
    minify.assets(Path(config.site_dir), Path(config.docs_dir))
    if not state.dirty:  # a dirty build skips pages: what it did not use may still be current
        memo.prune()  # what this build did not use is an earlier version's


def on_post_template(output_content, template_name, config):  # 404.html, which is no page
    return a11y.name_search_dialog(output_content)
