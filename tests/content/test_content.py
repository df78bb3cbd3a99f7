"""The site covers the whole outline in order, and its pages keep their promises."""

import re

import yaml

from scripts.site import labs
from tests.conftest import REPO

# Each node of ../shared/outline/study-llm-outline.md, in outline order, with a phrase that
# must appear on the page that teaches it.
OUTLINE = [
    ("index.md", "study goal"), ("index.md", "note-share settings"),
    ("class-1.md", "ai full-stack engineer"), ("class-1.md", "principles and theorems"),
    ("class-1.md", "hands-on practice"), ("class-1.md", "real-world cognition"),
    ("class-1.md", "inevitably reshape the world"), ("class-1.md", "importance of coding will rise"),
    ("class-1.md", "non-ai algorithm"), ("class-1.md", "machine learning and neural"),
    ("class-1.md", "node efficiency"), ("class-1.md", "complete a whole workflow"),
    ("class-1.md", "start with familiar domains"), ("class-1.md", "most skilled employees"),
    ("class-1.md", "text in, text out"), ("class-1.md", "node scale"),
    ("llms/index.md", "generative pre-trained transformer"),
    ("llms/tokens.md", "tokenization"), ("llms/next-token.md", "probability distribution"),
    ("llms/architectures.md", "transformers"), ("llms/architectures.md", "rwkv"),
    ("llms/architectures.md", "mamba"), ("llms/neural-networks.md", "mathematical principles"),
    ("llms/neural-networks.md", "ilya sutskever"), ("llms/neural-networks.md", "treat ai like a human"),
    ("building/index.md", "fewer than 1,000"), ("building/index.md", "everyone"),
    ("building/index.md", "embedded"), ("building/index.md", "co-pilot"), ("building/index.md", "agent"),
    ("building/architectures.md", "pure prompt"), ("building/function-calling.md", "function calling"),
    ("building/embeddings.md", "vector database"), ("building/rag.md", "open-book"),
    ("building/fine-tuning.md", "closed-book"), ("building/fine-tuning.md", "changes the model weights"),
    ("choosing/approach.md", "prepare test data"), ("choosing/approach.md", "chat box"),
    ("choosing/approach.md", "add rag"), ("choosing/approach.md", "stability"),
    ("choosing/approach.md", "token costs are high"), ("choosing/approach.md", "generation speed"),
    ("choosing/approach.md", "delivered"), ("choosing/foundation-model.md", "domestic"),
    ("choosing/foundation-model.md", "foreign"), ("choosing/foundation-model.md", "china mainland"),
    ("choosing/foundation-model.md", "open source"), ("choosing/foundation-model.md", "data security"),
]


def nav_pages():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=Loader)

    def walk(items):
        for item in items:
            value = item if isinstance(item, str) else next(iter(item.values()))
            yield from walk(value) if isinstance(value, list) else [value]
    return list(walk(config["nav"]))


def text_of(page):
    return re.sub(r"\s+", " ", (REPO / "docs" / page).read_text(encoding="utf-8").lower())


def test_every_outline_node_is_taught_in_outline_order():
    order = nav_pages()
    positions = [order.index(page) for page, _ in OUTLINE]
    assert positions == sorted(positions), "the navigation does not follow the outline"
    missing = [(page, phrase) for page, phrase in OUTLINE if phrase not in text_of(page)]
    assert not missing


def test_every_page_and_lab_is_in_the_nav_and_pages_end_with_try_it_yourself():
    pages = sorted(p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md"))
    assert sorted(p for p in nav_pages() if p.endswith(".md")) == pages
    assert sorted(p for p in nav_pages() if not p.endswith(".md")) == sorted(
        f"labs/{lab.stem}.ipynb" for lab in labs.discover(REPO))
    for page in pages:
        headings = re.findall(r"^## (.+)$", (REPO / "docs" / page).read_text(encoding="utf-8"), re.M)
        assert headings and headings[-1] == "Try it yourself", page
        assert "```bash" in text_of(page).split("## try it yourself")[-1], f"{page}: no commands"


def test_pinned_versions_in_pages_match_the_lock_file():
    lock = dict(re.findall(r"^([a-z0-9][a-z0-9_.-]*)==(\S+)", (REPO / "requirements.lock").read_text()
                           + (REPO / "requirements-test.lock").read_text(), re.M))
    assert {"torch", "pytest"} <= lock.keys()
    pages = " ".join(text_of(p) for p in nav_pages() if p.endswith(".md"))
    pins = re.findall(r"\b([a-z][a-z0-9-]+)==([0-9][\w.]*)", pages)
    assert pins
    for name, version in pins:
        assert lock.get(name) == version, f"{name}=={version} on a page, {lock.get(name)} in the lock files"


def test_facts_that_age_are_dated():
    for page in ["choosing/foundation-model.md", "llms/architectures.md", "choosing/approach.md"]:
        assert "as of 2026-11" in text_of(page), page


def note_box_items(page: str) -> list[str]:
    """Each bullet (or paragraph) inside the page's "From my notes" boxes, whitespace collapsed."""
    items, inside = [], False
    for line in page.splitlines():
        if re.match(r'(!!!|\?\?\?) \w+ "From my notes', line):
            inside = True
        elif inside and line.strip() and not line.startswith("    "):
            inside = False
        elif inside and line.strip():
            text = line.strip()
            if text.startswith("- ") or not items or items[-1] == "":
                items.append(text.removeprefix("- "))
            else:
                items[-1] += " " + text
        elif inside and items and items[-1] != "":
            items.append("")
    return [" ".join(item.split()) for item in items if item]


def test_the_authors_note_boxes_quote_the_notes_verbatim():
    """The boxes keep the author's words exactly (corrections go beside them, never inside)."""
    notes = (REPO / "snippets" / "data" / "class_notes.md").read_text(encoding="utf-8")
    outline = " ".join(re.sub(r"^\s*(?:[-•]\s*)?", "", line) for line in notes.splitlines())
    outline = " ".join(outline.split())
    checked = 0
    for page in sorted((REPO / "docs").rglob("*.md")):
        for item in note_box_items(page.read_text(encoding="utf-8")):
            assert item in outline, f"{page.relative_to(REPO)}: not verbatim from the notes: {item!r}"
            checked += 1
    assert checked >= 10


def test_every_llms_page_links_its_primary_sources():
    """A learner can check each claim: every page of the LLMs section ends (before "Try it
    yourself") with a Sources list of links to papers, model cards or official docs."""
    for page in sorted((REPO / "docs" / "llms").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        headings = re.findall(r"^## (.+)$", text, re.M)
        assert headings[-2:] == ["Sources", "Try it yourself"], page.name
        sources = text.split("## Sources")[1].split("## Try it yourself")[0]
        links = re.findall(r"\]\((https://[^)]+)\)", sources)
        assert len(links) >= 3, f"{page.name}: {len(links)} source links"


# The LLMs section's nodes and the verified examples that teach each one from the inside: a node
# is taught only where its page explains it beside code that runs (the gate checks each output).
TAUGHT_BY = {
    ("llms/tokens.md", "tokenization"): ["bpe_from_scratch", "tokenizers_compared", "token_embeddings"],
    ("llms/next-token.md", "probability distribution"): ["next_token", "next_token_llm", "llm_perplexity"],
    ("llms/architectures.md", "transformers"): ["attention", "transformer_numpy"],
    ("llms/architectures.md", "rwkv"): ["recurrence", "kv_cache"],
    ("llms/architectures.md", "mamba"): ["recurrence", "kv_cache"],
    ("llms/neural-networks.md", "mathematical principles"): ["learn_next_token"],
}


def test_every_llms_node_has_a_verified_example_on_its_page():
    assert set(TAUGHT_BY) <= set(OUTLINE)
    for (page, _), names in TAUGHT_BY.items():
        text = (REPO / "docs" / page).read_text(encoding="utf-8")
        for name in names:
            for suffix in (".py", ".out"):
                assert f'--8<-- "snippets/{name}{suffix}"' in text, f"{page}: does not show {name}{suffix}"
                assert (REPO / "snippets" / f"{name}{suffix}").is_file(), f"snippets/{name}{suffix}"
