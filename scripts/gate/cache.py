"""Result cache: a snippet that passed is not rerun until something that could change
its output changes.

The key covers the snippet source, its expected output, every data file under
``snippets/`` and ``labs/`` (``targets.data_files``), the files that decide how a target
runs (``run_files``: all of ``child/`` plus the runner, the targets, the fork server, the
seeding and the settings), the Python version, every installed distribution and version,
and the sha256 of each seeded tokenizer/model file.  Editing one data file reruns every
target: coarser than tracking what each run read, but nothing slips past it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from scripts.gate import child, seed
from scripts.gate.seed import sha256_file
from scripts.gate.settings import cache_root
from scripts.gate.targets import data_files

# Host-side files that decide how a target runs (its argv, environment, process, timeout).
HOST_RUN_FILES = ("targets.py", "runner.py", "forkserver.py", "seed.py", "settings.py")


def run_files() -> list[Path]:
    """Every file whose change could change what a run prints: the whole child folder (the
    folder boundary is the cache-key boundary) and ``HOST_RUN_FILES``."""
    inside = (p for p in child.FOLDER.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(inside) + [Path(__file__).with_name(name) for name in HOST_RUN_FILES]


def results_dir(root: Path) -> Path:
    return cache_root(root) / "snippet-results"


def installed_packages() -> tuple[str, ...]:
    """``name-version`` of every distribution the snippets can import.

    Read afresh on every check, from the names of the ``*.dist-info`` folders on
    ``sys.path`` (a few milliseconds; parsing every METADATA file took 0.2 s): a long
    site server must notice a ``pip install`` made while it runs.
    """
    found = set()
    for entry in sys.path:
        folder = Path(entry or ".")
        if folder.is_dir():
            found.update(info.name.rsplit(".", 1)[0].lower() for info in folder.iterdir()
                         if info.suffix in (".dist-info", ".egg-info"))
    return tuple(sorted(found))


def environment_fingerprint(root: Path, models: dict[str, str] | None = None) -> str:
    """Everything outside the snippet that can change what it prints, as one hash.
    ``models`` is what ``seed.seed(root)`` returned, when the caller has just seeded."""
    facts = {
        "python": sys.version,
        "packages": list(installed_packages()),
        "models": models if models is not None else seed.seed(root),
        "gate": {p.relative_to(Path(__file__).parent).as_posix(): sha256_file(p) for p in run_files()},
        "data": {p.relative_to(root.resolve()).as_posix(): sha256_file(p) for p in data_files(root)},
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def snippet_key(root: Path, snippet: Path, expected: Path, fingerprint: str) -> str:
    parts = [snippet.relative_to(root).as_posix(), sha256_file(snippet), sha256_file(expected), fingerprint]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def entry_path(root: Path, snippet: Path) -> Path:
    name = hashlib.sha256(snippet.relative_to(root).as_posix().encode()).hexdigest()[:24]
    return results_dir(root) / f"{name}.json"


def is_fresh(root: Path, snippet: Path, key: str) -> bool:
    """True when a pass with this key is recorded (only the gate writes these: a run sees
    the cache read-only)."""
    try:
        entry = json.loads(entry_path(root, snippet).read_text())
    except (OSError, ValueError):
        return False
    return entry.get("key") == key and "weights" in entry.get("provenance", {})


def record_pass(root: Path, snippet: Path, key: str, provenance: dict) -> None:
    """Remember a pass, and what produced it (the modules it imported and its Python
    version) for the line under its output."""
    entry = {"snippet": snippet.relative_to(root).as_posix(), "key": key, "provenance": provenance}
    path = entry_path(root, snippet)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry, indent=1, sort_keys=True))
    tmp.replace(path)


def provenance(root: Path, snippet: Path) -> dict | None:
    """The provenance stored with the last recorded pass of ``snippet``, if any."""
    try:
        return json.loads(entry_path(root, snippet).read_text()).get("provenance")
    except (OSError, ValueError):
        return None
