"""Build work kept on disk, keyed on its inputs, so a warm build only reads it back.

The figures and the tokenizer data are cached the same way; this is the one helper for
text results (a lab page finished, the purged lab stylesheet, the module-to-package map).
The key hashes every input *and* the source of the module doing the work, so editing that
module invalidates its results.  ``prune`` drops what the last build did not use, so the
cache does not grow with every edit.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from scripts.gate.settings import cache_root

_used: dict[Path, set[str]] = {}  # folder of a kind -> the entries read or made since the last prune


def key(inputs: list[str]) -> str:
    """A hash of the inputs, each length-prefixed: no two different lists share it."""
    digest = hashlib.sha256()
    for part in inputs:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(data) + data)
    return digest.hexdigest()[:24]


def text(root: Path, kind: str, inputs: list[str], make) -> str:
    """``make()``, or what it returned for the same ``inputs`` before (under ``.cache/<kind>/``).
    Bytes in, bytes out: a cached result comes back exactly as made, ``\\r`` included."""
    folder = cache_root(root) / kind
    path = folder / f"{key(inputs)}.txt"
    _used.setdefault(folder, set()).add(path.name)
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        pass
    result = make()
    write(path, result.encode("utf-8"))
    return result


def write(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all: builds running at once, or one killed halfway,
    never leave a partial file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


def prune() -> None:
    """Remove the entries of every kind used since the last prune that were not used: what an
    earlier version of a lab or a library left.  Called once a build is done."""
    for folder, names in _used.items():
        for entry in folder.glob("*.txt"):
            if entry.name not in names:
                entry.unlink(missing_ok=True)
    _used.clear()


def source_of(module_file: str) -> str:
    """A module's own text, as part of a key."""
    return Path(module_file).read_text(encoding="utf-8")
