"""The gate's shape holds: the core knows nothing of MkDocs or of the site's URLs, the
executor (``run/``) is one folder that imports nothing from the judge side, and the cache
key is the run itself: every file of that folder, every cap, the sandbox mode."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts import gate
from scripts.gate import cache, run
from tests.conftest import REPO

GATE = REPO / "scripts" / "gate"
RUN = GATE / "run"


def test_the_core_never_mentions_mkdocs():
    found = subprocess.run(["grep", "-rniI", "mkdocs", str(GATE)], capture_output=True, text=True)
    assert found.returncode == 1, found.stdout  # grep: 1 means no line matched


def test_the_core_knows_no_page_urls():
    """Where the site puts a lab or a page is the site's business (``scripts/site``)."""
    found = subprocess.run(["grep", "-rnIF", "-e", "labs/{", "-e", "index.html", "-e", "site_pages", str(GATE)],
                           capture_output=True, text=True)
    assert found.returncode == 1, found.stdout


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, by name; a relative import as its dots (``..targets``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_the_executor_imports_nothing_from_the_judge_side():
    outside = {f"{path.relative_to(RUN)}: {name}" for path in RUN.rglob("*.py") for name in imports_of(path)
               if name.startswith((".", "scripts")) and not name.startswith("scripts.gate.run")}
    assert not outside


def test_the_site_never_imports_the_harness():
    """Building, serving and measuring the site (``scripts/harness``) is the tests' and the bench's."""
    site = [*(REPO / "scripts" / "site").rglob("*.py"), REPO / "scripts" / "mkdocs_hook.py"]
    found = {f"{path.relative_to(REPO)}: {name}" for path in site for name in imports_of(path)
             if name.startswith("scripts.harness")}
    assert not found


def test_the_executor_files_are_exactly_its_folder():
    on_disk = {p for p in RUN.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert on_disk and set(run.FILES) == on_disk


def test_every_package_says_in_two_lines_what_lives_there_and_what_it_may_import():
    for init in [*(REPO / "scripts").rglob("__init__.py"), *(REPO / "tests").rglob("__init__.py")]:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "import" in "\n".join(doc.splitlines()[:2]).lower(), f"{init.relative_to(REPO)}: its first two lines"


@pytest.fixture
def touched(tmp_path, monkeypatch):
    """The cache key reads the executor's files from a copy of ``run/``; ``touch(rel)`` appends a
    comment to one file of that copy (the real files are never edited)."""
    copy = shutil.copytree(RUN, tmp_path / "run", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(run, "FOLDER", copy)
    monkeypatch.setattr(run, "FILES", tuple(copy / p.relative_to(RUN) for p in run.FILES))
    return lambda rel: (copy / rel).write_bytes((copy / rel).read_bytes() + b"\n# touched by a test\n")


@pytest.mark.parametrize("rel", [p.relative_to(RUN).as_posix() for p in run.FILES])
def test_touching_any_file_of_the_executor_changes_every_key(project, touched, rel):
    project.snippet("a", 'print("a")\n', "a\n")
    loaded = gate.Project.load(project.root)
    before = cache.environment_fingerprint(loaded, {})
    touched(rel)
    assert cache.environment_fingerprint(loaded, {}) != before


def test_after_touching_the_child_code_a_warm_check_reruns_instead_of_saying_all_cached(project, touched):
    project.snippet("a", 'print("a")\n', "a\n")
    assert [o.status for o in gate.check(project.root)] == ["passed"]
    assert [o.status for o in gate.check(project.root)] == ["cached"]
    touched("child/sitecustomize.py")
    outcomes = gate.check(project.root)
    assert [o.status for o in outcomes] == ["passed"]
    assert not gate.summary(outcomes).endswith("all cached, nothing rerun")


SETTINGS = "[tool.snippets]\ndefault-timeout = 30\n"
CHANGES = {  # what a maintainer edits -> the same project with that edit
    "default-timeout": ("pyproject", SETTINGS.replace("30", "1")),
    "per-file timeout": ("pyproject", SETTINGS + '[tool.snippets.timeout]\n"snippets/a.py" = 1\n'),
    "memory-mb": ("pyproject", SETTINGS + "memory-mb = 64\n"),
    "max-processes": ("pyproject", SETTINGS + "max-processes = 1\n"),
    "max-output-kb": ("pyproject", SETTINGS + "max-output-kb = 1\n"),
    "sandbox mode": ("env", ("SNIPPET_GATE_SANDBOX", "off")),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_cap_or_sandbox_mode_reruns_the_next_check(project, monkeypatch, change):
    """The stale pass of issue 21: a lowered cap used to leave a cached pass standing."""
    if change == "sandbox mode" and run.sandbox.problem():
        pytest.skip(f"no OS sandbox here to turn off: {run.sandbox.problem()}")
    (project.root / "pyproject.toml").write_text(SETTINGS)
    monkeypatch.setenv("SNIPPET_GATE_SANDBOX", "auto")
    project.snippet("a", 'print("a")\n', "a\n")
    assert [o.status for o in gate.check(project.root)] == ["passed"]
    assert [o.status for o in gate.check(project.root)] == ["cached"]
    where, value = CHANGES[change]
    if where == "pyproject":
        (project.root / "pyproject.toml").write_text(value)
    else:
        monkeypatch.setenv(*value)
    assert [o.status for o in gate.check(project.root)] != ["cached"]
