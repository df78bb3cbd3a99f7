"""The result cache: unchanged snippets are not rerun; anything that can change an output
invalidates it."""

import shutil
import threading
from dataclasses import replace

import pytest

from scripts import gate
from scripts.gate import cache, run, seed

DATA_SNIPPET = """
from pathlib import Path
print(Path(__file__).with_name("data.txt").read_text().upper(), end="")
"""


def statuses(project):
    return [o.status for o in gate.check(project.root)]


def test_a_second_check_reruns_nothing_and_says_so(project):
    project.snippet("a", 'print("a")\n', "a\n")
    project.snippet("b", 'print("b")\n', "b\n")
    assert statuses(project) == ["passed", "passed"]
    outcomes = gate.check(project.root)
    assert [o.status for o in outcomes] == ["cached", "cached"]
    assert gate.summary(outcomes).endswith("2 checked: 2 cached; all cached, nothing rerun")


def test_editing_the_source_reruns_only_that_snippet(project):
    a = project.snippet("a", 'print("a")\n', "a\n")
    project.snippet("b", 'print("b")\n', "b\n")
    statuses(project)
    a.write_text('print("a")  # same output, new source\n')
    assert statuses(project) == ["passed", "cached"]


def test_editing_a_data_file_the_snippet_reads_reruns_it(project):
    project.snippet("reader", DATA_SNIPPET, "HELLO")
    data = project.root / "snippets" / "data.txt"
    data.write_text("hello")
    assert statuses(project) == ["passed"]
    assert statuses(project) == ["cached"]
    data.write_text("world")
    [outcome] = gate.check(project.root)
    assert outcome.status == "failed" and "+WORLD" in outcome.detail


def test_editing_the_expected_file_reruns_it(project):
    a = project.snippet("a", 'print("a")\n', "a\n")
    statuses(project)
    a.with_suffix(".out").write_text("b\n")
    assert statuses(project) == ["failed"]


def test_a_changed_package_version_invalidates_the_cache(project, monkeypatch):
    project.snippet("a", 'print("a")\n', "a\n")
    statuses(project)
    real = run.installed_packages()
    bumped = tuple(p.replace("tiktoken-", "tiktoken-99.") for p in real)
    assert bumped != real
    monkeypatch.setattr(run, "installed_packages", lambda: bumped)
    assert statuses(project) == ["passed"]


def test_a_changed_model_file_hash_invalidates_the_cache(project, monkeypatch):
    project.snippet("a", 'print("a")\n', "a\n")
    statuses(project)
    real_seed = seed.seed
    monkeypatch.setattr(seed, "seed", lambda *args: {**real_seed(*args), "tiktoken/x": "0" * 64})
    assert statuses(project) == ["passed"]


def test_a_failure_is_remembered_like_a_pass_until_its_inputs_change(project, monkeypatch):
    """Saving an unrelated file never reruns a snippet that already failed (the edit loop)."""
    a = project.snippet("a", 'print("a")\n', "b\n")
    [first] = gate.check(project.root)
    assert first.status == "failed" and first.seconds > 0
    monkeypatch.setattr(run, "run", lambda spec: pytest.fail("a remembered failure was run again"))
    [again] = gate.check(project.root)
    assert again.status == "failed" and again.seconds == 0
    assert again.detail.startswith(first.detail) and "remembered" in again.detail
    monkeypatch.undo()
    a.with_suffix(".out").write_text("a\n")  # the author accepts the output: the key changes
    assert statuses(project) == ["passed"]


def test_a_stuck_run_is_not_remembered(project):
    """What stopped a run as stuck may be the machine's doing: it is tried again next time."""
    (project.root / "pyproject.toml").write_text('[tool.snippets]\nidle-timeout = 1\n')
    project.snippet("slow", "import time\ntime.sleep(30)\n", "x\n")
    [first] = gate.check(project.root)
    assert first.status == "failed" and "is stuck" in first.detail
    results = cache.results_dir(gate.Project.load(project.root).cache)
    assert not results.exists() or not any(results.iterdir())


def test_independent_snippets_run_at_the_same_time(project, monkeypatch):
    """A rendezvous, not a stopwatch: each run waits at a barrier for the other to start.
    Run one after the other, the first would wait alone and the barrier would break.  (The
    snippets themselves cannot meet: each sandbox has its own /tmp and a read-only project.)"""
    barrier, real = threading.Barrier(2, timeout=60), run.run

    def meet_then_run(*args, **kwargs):
        barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(run, "run", meet_then_run)
    project.snippet("a", 'print("a")\n', "a\n")
    project.snippet("b", 'print("b")\n', "b\n")
    assert [o.status for o in gate.check(project.root, jobs=2)] == ["passed", "passed"]


def test_a_module_snippets_import_is_no_target_and_its_edit_reruns_them(project):
    (project.root / "pyproject.toml").write_text('[tool.snippets]\nmodules = ["snippets/shared.py"]\n')
    shared = project.root / "snippets" / "shared.py"
    shared.write_text('WORD = "hello"\n')
    project.snippet("user", 'from shared import WORD\nprint(WORD)\n', "hello\n")
    assert [o.snippet for o in gate.check(project.root)] == ["snippets/user.py"]
    shared.write_text('WORD = "hallo"\n')
    [outcome] = gate.check(project.root)
    assert outcome.status == "failed" and "hallo" in outcome.detail


def test_a_module_listed_but_missing_is_an_error_naming_it(project):
    (project.root / "pyproject.toml").write_text('[tool.snippets]\nmodules = ["snippets/gone.py"]\n')
    project.snippet("a", 'print("a")\n', "a\n")
    with pytest.raises(FileNotFoundError, match="snippets/gone.py"):
        gate.check(project.root)


def test_a_copy_of_the_project_with_the_same_files_shares_its_passes(project, tmp_path):
    """A broken copy of the site (tests/site/test_strict_site.py) reruns only what its breakage touches."""
    project.snippet("a", 'print("a")\n', "a\n")
    assert statuses(project) == ["passed"]
    copy = shutil.copytree(project.root, tmp_path / "copy")
    assert [o.status for o in gate.check(copy)] == ["cached"]
    (copy / "snippets" / "a.py").write_text('print("a")  # edited in the copy\n')
    assert [o.status for o in gate.check(copy)] == ["passed"]


def test_the_key_covers_the_sandbox_switch_on_every_machine(project):
    """(Where bubblewrap works, tests/gate/test_layout.py also shows the rerun end to end.)"""
    project.snippet("a", 'print("a")\n', "a\n")
    loaded = gate.Project.load(project.root)
    [target] = loaded.runnable
    spec = target.spec(loaded)
    flipped = replace(spec, sandboxed=not spec.sandboxed)
    assert cache.key(loaded, target, spec, "f") != cache.key(loaded, target, flipped, "f")


def test_a_lab_in_a_copy_of_the_project_has_the_same_key(project, tmp_path):
    """A lab's argv names the gate's own lab executor, which is outside the project."""
    (project.root / "labs").mkdir()
    (project.root / "labs" / "demo.py").write_text("# %%\n1 + 1\n")
    (project.root / "labs" / "demo.out").write_text("──── cell 1 · result ────\n2\n")
    copy = shutil.copytree(project.root, tmp_path / "copy")
    keys = []
    for root in (project.root, copy):
        loaded = gate.Project.load(root)
        [lab] = loaded.runnable
        keys.append(cache.key(loaded, lab, lab.spec(loaded), "f"))
    assert keys[0] == keys[1]


def test_an_editors_scratch_files_are_no_data_files(project):
    """A swap or backup file written while the author types must not rerun every target."""
    project.snippet("a", 'print("a")\n', "a\n")
    assert statuses(project) == ["passed"]
    for name in (".a.py.swp", "a.py~", "#a.py#", "__pycache__/a.cpython-311.pyc"):
        (project.root / "snippets" / name).parent.mkdir(exist_ok=True)
        (project.root / "snippets" / name).write_text("scratch")
    assert statuses(project) == ["cached"]


def test_no_cache_reruns_and_its_result_replaces_a_remembered_failure(project):
    """What a run reads outside snippets/ and labs/ is in no key: --no-cache is the way out."""
    flag = project.root / "flag.txt"
    flag.write_text("b")
    project.snippet("a", f'from pathlib import Path\nprint(Path("{flag}").read_text())\n', "a\n")
    assert statuses(project) == ["failed"]
    flag.write_text("a")
    [remembered] = gate.check(project.root)
    assert remembered.status == "failed" and "--no-cache" in remembered.detail
    assert [o.status for o in gate.check(project.root, use_cache=False)] == ["passed"]
    assert statuses(project) == ["cached"]
