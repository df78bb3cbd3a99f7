"""Build work kept on disk, keyed on its inputs, so a warm build only reads it back.

One recipe for everything the build caches: each kind of work (``figures``, ``tokenizer``,
``labs``, ``lab-pages``, ``lab-css``, ``module-owners``) has a folder under the cache root,
``.cache/<kind>/``, with one entry per set of inputs.  ``cached`` keeps bytes (a file),
``files`` keeps several files made together (a folder, for work that makes more than one
file or must hand MkDocs a real path), ``text`` is ``cached`` for text.  The key hashes
every input, and callers list the source of the module doing the work among them, so
editing that module invalidates its results.  Every entry is written whole or not at all
(``write``, ``write_folder``), and every entry read or made is remembered, so ``prune`` can
drop what the last build did not use: the cache does not grow with every edit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

PARTIAL = ".part"  # the suffix of an entry still being written; never a finished entry's name
_used: dict[Path, set[str]] = {}  # folder of a kind -> the entries read or made since the last prune


def key(inputs: list[str]) -> str:
    """A hash of the inputs, each length-prefixed: no two different lists share it."""
    digest = hashlib.sha256()
    for part in inputs:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(data) + data)
    return digest.hexdigest()[:24]


def entry(cache: Path, kind: str, inputs: list[str]) -> Path:
    """``<cache>/<kind>/<key>``, remembered as used by this build (``prune`` keeps it)."""
    folder = cache / kind
    name = key(inputs)
    _used.setdefault(folder, set()).add(name)
    return folder / name


def cached(cache: Path, kind: str, inputs: list[str], make: Callable[[], bytes]) -> bytes:
    """``make()``, or the bytes it returned for the same ``inputs`` before, exactly."""
    path = entry(cache, kind, inputs)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = make()
    write(path, data)
    return data


def text(cache: Path, kind: str, inputs: list[str], make: Callable[[], str]) -> str:
    """``cached`` for text: a result comes back exactly as made, ``\\r`` included."""
    return cached(cache, kind, inputs, lambda: make().encode("utf-8")).decode("utf-8")


def files(cache: Path, kind: str, inputs: list[str], make: Callable[[], dict[str, bytes]]) -> Path:
    """The folder holding the files ``make()`` returned (``{relative path: bytes}``) for the
    same ``inputs``, made now if no build made them before."""
    path = entry(cache, kind, inputs)
    if not path.is_dir():
        write_folder(path, make())
    return path


def write(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all: builds running at once, or one killed halfway,
    never leave a partial file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, suffix=PARTIAL)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


def write_folder(path: Path, contents: dict[str, bytes]) -> None:
    """``write`` for a folder of files: filled under a partial name, then renamed in one step.
    When another build renamed its (identical) folder there first, that one stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=path.parent, suffix=PARTIAL))
    try:
        for relative, data in contents.items():
            (partial / relative).parent.mkdir(parents=True, exist_ok=True)
            (partial / relative).write_bytes(data)
        try:
            os.rename(partial, path)
        except OSError:
            if not path.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def prune() -> None:
    """Remove the entries of every kind used since the last prune that were not used: what an
    earlier version of a page, a figure, a lab or a library left.  Entries still being
    written (another build's) are left alone.  Called once a build is done."""
    for folder, names in _used.items():
        for stale in folder.glob("*"):
            if stale.name in names or stale.name.endswith(PARTIAL):
                continue
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    _used.clear()


def source_of(module_file: str) -> str:
    """A module's own text, as part of a key."""
    return Path(module_file).read_text(encoding="utf-8")
