"""Build work kept on disk, keyed on its inputs, so a warm build only reads it back.

The figures, the lab notebooks and the tokenizer data are cached the same way; this is the
one helper for text results (a lab page finished, the purged lab stylesheet).  The key
hashes every input *and* the source of the module doing the work, so editing that module
invalidates its results.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from scripts.gate.settings import cache_root


def text(root: Path, kind: str, inputs: list[str], make) -> str:
    """``make()``, or what it returned for the same ``inputs`` before (under ``.cache/<kind>/``)."""
    key = hashlib.sha256("\0".join(inputs).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    path = cache_root(root) / kind / f"{key}.txt"
    if path.exists():
        return path.read_text(encoding="utf-8")
    result = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")  # a killed build leaves no half file
    partial.write_text(result, encoding="utf-8")
    partial.replace(path)
    return result


def source_of(module_file: str) -> str:
    """A module's own text, as part of a key."""
    return Path(module_file).read_text(encoding="utf-8")
