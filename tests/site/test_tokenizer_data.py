"""The widget's vocabularies are exactly tiktoken's cl100k_base and o200k_base, from the verified files."""

import gzip

import pytest
import tiktoken

from scripts.gate import settings
from scripts.site import memo, tokenizer_data
from tests.conftest import REPO


def test_the_compact_file_holds_every_rank_of_tiktoken_in_order():
    tokens = tokenizer_data.expand(gzip.decompress(tokenizer_data.build(REPO)))
    enc = tiktoken.get_encoding("cl100k_base")
    assert len(tokens) == len(enc._mergeable_ranks) == 100_256
    assert all(enc._mergeable_ranks[token] == rank for rank, token in enumerate(tokens))


def test_the_file_is_small_and_the_same_bytes_every_build(tmp_path, monkeypatch):
    first = tokenizer_data.build(REPO)
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path))  # an empty cache: built afresh
    assert tokenizer_data.build(REPO) == first
    assert len(first) < 1_500_000


@pytest.fixture
def small_ranks(project, monkeypatch):
    """Where a small ``.tiktoken`` file stands in for the seeded one (each test writes its ranks)."""
    ranks = project.root / "ranks.tiktoken"
    monkeypatch.setattr(tokenizer_data, "ranks_file", lambda cache, name: ranks)
    monkeypatch.setattr(memo, "_used", {})  # a prune here must not touch other caches
    return ranks


def test_a_second_build_reads_the_file_back(project, small_ranks, monkeypatch):
    small_ranks.write_text("YQ== 0\nYmM= 1\n")
    first = tokenizer_data.build(project.root)
    monkeypatch.setattr(tokenizer_data, "compact", lambda text: pytest.fail("compacted again"))
    assert tokenizer_data.build(project.root) == first
    assert tokenizer_data.expand(gzip.decompress(first)) == [b"a", b"bc"]


def test_prune_removes_a_file_the_last_build_did_not_use(project, small_ranks):
    small_ranks.write_text("YQ== 0\n")
    tokenizer_data.build(project.root)
    memo.prune()
    small_ranks.write_text("YQ== 0\nYmM= 1\n")  # the vocabulary changed
    after = tokenizer_data.build(project.root)
    memo.prune()
    assert [path.read_bytes() for path in (settings.cache_root(project.root) / "tokenizer").iterdir()] == [after]


def test_a_gap_in_the_ranks_is_refused():
    with pytest.raises(ValueError, match="not contiguous at line 2"):
        tokenizer_data.compact("YQ== 0\nYg== 2\n")


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_the_site_serves_each_from_its_own_assets(built_site, name):
    served = built_site / tokenizer_data.site_path(name)
    assert served.read_bytes() == tokenizer_data.build(REPO, name)


def test_o200k_is_tiktokens_o200k_base_rank_for_rank():
    tokens = tokenizer_data.expand(gzip.decompress(tokenizer_data.build(REPO, "o200k_base")))
    enc = tiktoken.get_encoding("o200k_base")
    assert len(tokens) == len(enc._mergeable_ranks) == 199_998
    assert all(enc._mergeable_ranks[token] == rank for rank, token in enumerate(tokens))
