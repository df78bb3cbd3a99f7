"""Build work cached on its inputs: a warm build reads it back, a changed input redoes it,
every entry is written whole, and what the last build did not use is pruned."""

import os

import nbformat
import pytest

from scripts.gate.run.child.lab_exec import section
from scripts.site import lab_css, labs, memo


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache, and a used-set of its own (a prune here must not touch other caches)."""
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(memo, "_used", {})
    return tmp_path / "cache"


def counting_maker(calls: list, result: str):
    def make():
        calls.append(result)
        return result
    return make


def refuse(*args, **kwargs):
    raise AssertionError("made again: the cached result should have been read back")


def test_the_same_inputs_are_made_once_and_a_changed_input_is_made_again(tmp_path, cache):
    calls = []
    assert memo.text(cache, "kind", ["a", "b"], counting_maker(calls, "one")) == "one"
    assert memo.text(cache, "kind", ["a", "b"], counting_maker(calls, "two")) == "one"
    assert memo.text(cache, "kind", ["a", "b2"], counting_maker(calls, "three")) == "three"
    assert memo.text(cache, "kind", ["ab", ""], counting_maker(calls, "four")) == "four"  # parts stay apart
    assert memo.text(cache, "kind", ["a\0b"], counting_maker(calls, "five")) == "five"
    assert calls == ["one", "three", "four", "five"]
    assert len(list((cache / "kind").iterdir())) == 4  # and no partial file


def test_a_cached_result_comes_back_byte_for_byte(tmp_path, cache):
    made = "progress\r50%\r\ndone\n"
    assert memo.text(cache, "kind", ["x"], lambda: made) == made
    assert memo.text(cache, "kind", ["x"], lambda: "not this") == made
    assert memo.cached(cache, "bytes", ["x"], lambda: b"\x00\xff") == b"\x00\xff"
    assert memo.cached(cache, "bytes", ["x"], refuse) == b"\x00\xff"


def test_prune_keeps_what_was_used_since_the_last_prune_and_only_in_those_kinds(tmp_path, cache):
    memo.text(cache, "pages", ["old"], lambda: "old page")
    memo.text(cache, "other", ["kept"], lambda: "other kind")
    memo.prune()
    memo.text(cache, "pages", ["new"], lambda: "new page")  # the next build: the page changed
    memo.prune()
    assert [p.read_text() for p in (cache / "pages").iterdir()] == ["new page"]
    assert [p.read_text() for p in (cache / "other").iterdir()] == ["other kind"]


def test_a_failed_make_caches_nothing(tmp_path, cache):
    def broken():
        raise ValueError("bad input")
    with pytest.raises(ValueError, match="bad input"):
        memo.text(cache, "kind", ["x"], broken)
    assert memo.text(cache, "kind", ["x"], lambda: "made") == "made"


def test_a_folder_of_files_is_made_once_and_read_back(tmp_path, cache):
    folder = memo.files(cache, "kind", ["x"], lambda: {"a.svg": b"a", "sub/b.svg": b"b"})
    assert (folder / "a.svg").read_bytes() == b"a" and (folder / "sub" / "b.svg").read_bytes() == b"b"
    assert memo.files(cache, "kind", ["x"], refuse) == folder


# What each variant renames into place, and a call that returns what it keeps.
WRITERS = {
    "cached": ("replace", lambda folder: memo.cached(folder, "kind", ["x"], lambda: b"whole")),
    "files": ("rename", lambda folder: (memo.files(folder, "kind", ["x"], lambda: {"a": b"whole", "b": b"b"}) / "a")
              .read_bytes()),
}


@pytest.mark.parametrize("variant", WRITERS)
def test_a_partial_write_never_appears_under_the_final_name(tmp_path, cache, monkeypatch, variant):
    """Everything is written under a partial name, then renamed in one step: a build killed
    before that step (here: at it) leaves no entry, so the next build makes it whole."""
    step, write = WRITERS[variant]
    real = getattr(os, step)
    seen = []

    def killed(partial, final):
        seen.append((os.path.exists(final), sorted(os.listdir(partial)) if os.path.isdir(partial)
                     else open(partial, "rb").read()))
        raise KeyboardInterrupt
    monkeypatch.setattr(os, step, killed)
    with pytest.raises(KeyboardInterrupt):
        write(cache)
    assert seen == [(False, ["a", "b"] if variant == "files" else b"whole")]  # all written, not yet there
    assert not (cache / "kind").exists() or not any((cache / "kind").iterdir())
    monkeypatch.setattr(os, step, real)
    assert write(tmp_path) == b"whole"


def test_a_folder_another_build_finished_first_is_kept(tmp_path, cache):
    def make():  # while this build draws, another one with the same inputs finishes
        memo.files(cache, "kind", ["x"], lambda: {"a": b"theirs"})
        return {"a": b"ours"}
    folder = memo.files(cache, "kind", ["x"], make)
    assert (folder / "a").read_bytes() == b"theirs"
    assert [p.name for p in (cache / "kind").iterdir()] == [folder.name]


def write_lab(root, version: int) -> None:
    """A one-cell lab and its verified output; ``version`` changes both."""
    (root / "labs").mkdir(exist_ok=True)
    (root / "labs" / "lab.py").write_text(f"# %%\nprint({version})\n")
    (root / "labs" / "lab.out").write_text(section(1, "stdout", f"{version}\n"))


def test_a_second_build_reads_the_lab_notebooks_back(project, cache, monkeypatch):
    write_lab(project.root, 1)
    [first] = labs.build(project.root).values()
    monkeypatch.setattr(labs, "notebook_text", refuse)
    assert labs.build(project.root) == {"lab": first}
    assert labs.outputs_text(nbformat.reads(first.read_text(), as_version=4)) == section(1, "stdout", "1\n")


def test_prune_removes_a_lab_notebook_the_last_build_did_not_use(project, cache):
    write_lab(project.root, 1)
    labs.build(project.root)
    memo.prune()
    write_lab(project.root, 2)  # the lab changed
    [notebook] = labs.build(project.root).values()
    memo.prune()
    assert [p.name for p in (cache / "labs").iterdir()] == [notebook.parents[1].name]


def test_the_purged_lab_stylesheet_is_cached_on_the_styles_and_classes(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    purged = []
    monkeypatch.setattr(lab_css, "purge", lambda css, classes: purged.append(classes) or f"/*{sorted(classes)}*/")
    page = '<html><head></head><body><style>.a{color:red}</style><div class="a"></div></body></html>'
    for site, classes in [("one", "a"), ("two", "a"), ("three", "a b")]:
        collector = lab_css.Collector()
        collector.lift(page.replace('class="a"', f'class="{classes}"'), "labs/x/")
        collector.write(tmp_path / site, tmp_path / "cache")
    assert purged == [{"a"}, {"a", "b"}]
    assert (tmp_path / "two" / lab_css.HREF).read_text() == "/*['a']*/"
