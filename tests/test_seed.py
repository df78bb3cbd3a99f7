"""The offline caches are seeded from packages and verified by hash."""

import hashlib

import pytest

from scripts.gate import seed


def test_seeding_puts_files_where_tiktoken_and_huggingface_look(project):
    hashes = seed.seed(project.root)
    cache = seed.cache_root(project.root)
    url_key = hashlib.sha1(seed.TIKTOKEN_URL.encode()).hexdigest()
    assert hashes[f"tiktoken/{url_key}"] == seed.TIKTOKEN_SHA256
    snapshot = seed.hf_snapshot_dir(cache)
    assert seed.sha256_file(snapshot / "model.safetensors") == seed.MODEL_SHA256["model.safetensors"]
    assert (snapshot.parents[1] / "refs" / "main").read_text() == snapshot.name


def test_a_tampered_seeded_file_is_replaced_by_the_verified_one(project):
    seed.seed(project.root)
    [tik] = (seed.cache_root(project.root) / "tiktoken").iterdir()
    tik.write_bytes(b"not a tokenizer")
    seed.seed(project.root)
    assert seed.sha256_file(tik) == seed.TIKTOKEN_SHA256


def test_a_hash_mismatch_is_a_clear_error(project, monkeypatch):
    monkeypatch.setattr(seed, "TIKTOKEN_SHA256", "0" * 64)
    with pytest.raises(seed.SeedError, match=r"hash mismatch for .*cl100k_base\.tiktoken: expected sha256 0{64}"):
        seed.seed(project.root)


def test_the_gate_reports_a_hash_mismatch_without_a_traceback(project, monkeypatch, capsys):
    from scripts.gate.__main__ import main

    project.snippet("a", 'print("a")\n', "a\n")
    monkeypatch.setattr(seed, "TIKTOKEN_SHA256", "0" * 64)
    assert main(["check", "--root", str(project.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: hash mismatch for ") and "Traceback" not in err
