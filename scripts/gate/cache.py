"""Result cache: a target is not rerun until something that could change its output changes.

A pass is remembered with what produced it (for the provenance line); a failure with its
report, so saving an unrelated file never reruns a snippet that already failed.  A failure
the machine may have caused (a timeout, a lost fork server, a kill) is not remembered.

The key is the run itself: the ``RunSpec`` it is handed (argv, environment, caps, readable
folders, sandbox) and the bytes of every file of the executor (``run.FILES``) and of the
judge (``targets``, ``report``), plus what the run reads: the target's source and expected output, every data file under
``snippets/`` and ``labs/`` (``Project.data_files``), every installed distribution and
version, the Python version, and the sha256 of each seeded tokenizer/model file.  Editing
one data file reruns every target: coarser than tracking what each run read, but nothing
slips past it.  No list of files is kept by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from scripts.gate import report, run, targets
from scripts.gate.project import Project
from scripts.gate.run import RunSpec
from scripts.gate.seed import sha256_file
from scripts.gate.targets import Target

JUDGE = (targets, report)  # the modules that say what a run means: their code is in every key


def results_dir(cache: Path) -> Path:
    return cache / "snippet-results"


def environment_fingerprint(project: Project, models: dict[str, str]) -> str:
    """What every run of a check shares and can read, and how its runs are judged, as one
    hash (``models``: what ``seed.seed`` returned)."""
    facts = {
        "python": sys.version,
        "packages": list(run.installed_packages()),
        "models": models,
        "executor": {p.relative_to(run.FOLDER).as_posix(): sha256_file(p) for p in run.FILES},
        "judge": {Path(module.__file__).name: sha256_file(Path(module.__file__)) for module in JUDGE},
        "data": {p.relative_to(project.root).as_posix(): sha256_file(p) for p in project.data_files()},
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def relabel(value, folders: dict[str, str]):
    """``value`` (a spec's facts) with every path inside one of ``folders`` written from its
    label: the same project elsewhere (a test's copy) has the same key."""
    if isinstance(value, dict):
        return {name: relabel(item, folders) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [relabel(item, folders) for item in value]
    if isinstance(value, str):
        for folder, label in folders.items():  # deepest first
            if value == folder or value.startswith(folder + os.sep):
                return label + value[len(folder):]
    return value


def key(project: Project, target: Target, spec: RunSpec, fingerprint: str) -> str:
    """One target's key: its source, its expected output, its spec, and the shared fingerprint.

    The spec names the project's, the cache's and the executor's folders; they are written as
    labels, so a copy of the project with the same files (a test's broken copy of the site)
    shares the real one's results instead of rerunning every target."""
    places = {project.cache: "<cache>", project.root: "<project>", run.FOLDER: "<executor>"}
    folders = {str(path): label for path, label in sorted(places.items(), key=lambda item: -len(str(item[0])))}
    facts = [target.rel, *stamp(target), relabel(spec.facts(), folders), fingerprint]
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def stamp(target: Target) -> tuple[str, str]:
    """The hashes of a target's source and expected output, as its key has them."""
    return sha256_file(target.path), sha256_file(target.expected)


def slot(rel: str, spec: RunSpec) -> str:
    """The name a target's result is kept under: its path, and the float code path if not the
    pinned one (a perturbed run of it is another result, kept beside it)."""
    return rel if spec.numerics == "pinned" else f"{rel} [{spec.numerics} numerics]"


def entry_path(cache: Path, rel: str) -> Path:
    name = hashlib.sha256(rel.encode()).hexdigest()[:24]
    return results_dir(cache) / f"{name}.json"


def recorded(cache: Path, rel: str, key: str) -> dict | None:
    """The entry recorded for ``rel`` under this key (only the gate writes these: a run sees
    the cache read-only): ``{"provenance": ...}`` for a pass, ``{"failure": report}`` for a
    failure; None if there is none."""
    try:
        entry = json.loads(entry_path(cache, rel).read_text())
    except (OSError, ValueError):
        return None
    passed = "weights" in entry.get("provenance", {})
    return entry if entry.get("key") == key and (passed or isinstance(entry.get("failure"), str)) else None


def record_pass(cache: Path, rel: str, key: str, provenance: dict) -> None:
    """Remember a pass, and what produced it (the modules it imported, the weights it read
    and its Python version) for the line under its output."""
    record(cache, rel, {"snippet": rel, "key": key, "provenance": provenance})


def record_failure(cache: Path, rel: str, key: str, report: str) -> None:
    """Remember a failure and its report, until something in its key changes."""
    record(cache, rel, {"snippet": rel, "key": key, "failure": report})


def record(cache: Path, rel: str, entry: dict) -> None:
    path = entry_path(cache, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry, indent=1, sort_keys=True))
    tmp.replace(path)


def provenance(cache: Path, rel: str) -> dict | None:
    """The provenance stored with the last recorded pass of ``rel``, if any."""
    try:
        return json.loads(entry_path(cache, rel).read_text()).get("provenance")
    except (OSError, ValueError):
        return None
