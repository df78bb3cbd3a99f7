"""The gate's shape holds: the core knows nothing of MkDocs, and the files that decide how a
target runs are exactly the ones its cache key covers."""

import subprocess

import pytest

from scripts import gate
from scripts.gate import cache, child
from tests.conftest import REPO

GATE = REPO / "scripts" / "gate"


def test_the_core_never_mentions_mkdocs():
    found = subprocess.run(["grep", "-rniI", "mkdocs", str(GATE)], capture_output=True, text=True)
    assert found.returncode == 1, found.stdout  # grep: 1 means no line matched


def test_the_cache_key_covers_the_whole_child_folder_and_the_host_files_that_run_it():
    covered = set(cache.run_files())
    in_child = {p for p in child.FOLDER.rglob("*.py")}
    assert in_child and in_child <= covered
    assert {GATE / name for name in ("targets.py", "runner.py", "forkserver.py", "seed.py", "settings.py")} <= covered


@pytest.fixture
def touched():
    """Append a comment to a real gate file for one check; always restore its exact bytes."""
    saved = {}

    def touch(path):
        saved[path] = path.read_bytes()
        path.write_bytes(saved[path] + b"\n# touched by a test\n")

    yield touch
    for path, data in saved.items():
        path.write_bytes(data)


@pytest.mark.parametrize("path", cache.run_files(), ids=lambda p: p.relative_to(GATE).as_posix())
def test_touching_a_file_that_decides_how_a_target_runs_changes_every_key(project, touched, path):
    project.snippet("a", 'print("a")\n', "a\n")
    before = cache.environment_fingerprint(project.root)
    touched(path)
    assert cache.environment_fingerprint(project.root) != before


def test_after_touching_the_child_code_a_warm_check_reruns_instead_of_saying_all_cached(project, touched):
    project.snippet("a", 'print("a")\n', "a\n")
    assert [o.status for o in gate.check(project.root)] == ["passed"]
    assert [o.status for o in gate.check(project.root)] == ["cached"]
    touched(child.FOLDER / "sitecustomize.py")
    outcomes = gate.check(project.root)
    assert [o.status for o in outcomes] == ["passed"]
    assert not gate.summary(outcomes).endswith("all cached, nothing rerun")
