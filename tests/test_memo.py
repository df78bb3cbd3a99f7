"""Build work cached on its inputs: a warm build reads it back, a changed input redoes it."""

import pytest

from scripts.site import lab_css, memo


def counting_maker(calls: list, result: str):
    def make():
        calls.append(result)
        return result
    return make


def test_the_same_inputs_are_made_once_and_a_changed_input_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    calls = []
    assert memo.text(tmp_path, "kind", ["a", "b"], counting_maker(calls, "one")) == "one"
    assert memo.text(tmp_path, "kind", ["a", "b"], counting_maker(calls, "two")) == "one"
    assert memo.text(tmp_path, "kind", ["a", "b2"], counting_maker(calls, "three")) == "three"
    assert memo.text(tmp_path, "kind", ["ab", ""], counting_maker(calls, "four")) == "four"  # parts stay apart
    assert memo.text(tmp_path, "kind", ["a\0b"], counting_maker(calls, "five")) == "five"
    assert calls == ["one", "three", "four", "five"]
    assert sorted(p.suffix for p in (tmp_path / "cache" / "kind").iterdir()) == [".txt"] * 4  # no partial file


def test_a_cached_result_comes_back_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    made = "progress\r50%\r\ndone\n"
    assert memo.text(tmp_path, "kind", ["x"], lambda: made) == made
    assert memo.text(tmp_path, "kind", ["x"], lambda: "not this") == made


def test_prune_keeps_what_was_used_since_the_last_prune_and_only_in_those_kinds(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    memo.prune()  # forget what other tests used
    memo.text(tmp_path, "pages", ["old"], lambda: "old page")
    memo.text(tmp_path, "other", ["kept"], lambda: "other kind")
    memo.prune()
    memo.text(tmp_path, "pages", ["new"], lambda: "new page")  # the next build: the page changed
    memo.prune()
    assert [p.read_text() for p in (tmp_path / "cache" / "pages").iterdir()] == ["new page"]
    assert [p.read_text() for p in (tmp_path / "cache" / "other").iterdir()] == ["other kind"]


def test_a_failed_make_caches_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))

    def broken():
        raise ValueError("bad input")
    with pytest.raises(ValueError, match="bad input"):
        memo.text(tmp_path, "kind", ["x"], broken)
    assert memo.text(tmp_path, "kind", ["x"], lambda: "made") == "made"


def test_the_purged_lab_stylesheet_is_cached_on_the_styles_and_classes(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    purged = []
    monkeypatch.setattr(lab_css, "purge", lambda css, classes: purged.append(classes) or f"/*{sorted(classes)}*/")
    page = '<html><head></head><body><style>.a{color:red}</style><div class="a"></div></body></html>'
    for site, classes in [("one", "a"), ("two", "a"), ("three", "a b")]:
        collector = lab_css.Collector()
        collector.lift(page.replace('class="a"', f'class="{classes}"'), "labs/x/")
        collector.write(tmp_path / site, tmp_path)
    assert purged == [{"a"}, {"a", "b"}]
    assert (tmp_path / "two" / lab_css.HREF).read_text() == "/*['a']*/"
