"""Shared fixtures: throwaway projects for testing the gate without touching the real one."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from scripts import gate
from scripts.gate import run
from scripts.harness import builder

REPO = Path(__file__).resolve().parents[1]


class Project:
    """A minimal project in a temporary folder: snippets, pages, pyproject, mkdocs.yml."""

    def __init__(self, root: Path):
        self.root = root
        (root / "snippets").mkdir()
        (root / "docs").mkdir()
        (root / "pyproject.toml").write_text("[tool.snippets]\ndefault-timeout = 30\n")

    def snippet(self, name: str, code: str, expected: str | bytes | None = None) -> Path:
        """Write ``snippets/<name>.py`` (and its ``.out``) plus a page that includes both."""
        path = self.root / "snippets" / f"{name}.py"
        path.write_text(textwrap.dedent(code))
        if expected is not None:
            data = expected.encode() if isinstance(expected, str) else expected
            path.with_suffix(".out").write_bytes(data)
        (self.root / "docs" / f"{name}.md").write_text(
            f'# {name}\n\n```python\n--8<-- "snippets/{name}.py"\n```\n\n'
            f'```text\n--8<-- "snippets/{name}.out"\n```\n'
        )
        return path

    def tree(self) -> dict[str, bytes]:
        """Every file under the project except caches, for 'nothing was modified' checks."""
        return {p.relative_to(self.root).as_posix(): p.read_bytes()
                for p in sorted(self.root.rglob("*")) if p.is_file() and ".cache" not in p.parts}


def run_target(root: Path, path: Path) -> run.Run:
    """One real run of the target at ``path``, as a check would hand it to the executor."""
    project = gate.Project.load(root)
    return run.run(project.target(path).spec(project))


def processes_running(text: str) -> list[str]:
    """Command lines of live processes that contain ``text`` (what a snippet left behind)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and "pytest" not in cmdline:
            found.append(cmdline)
    return found


SITE_BUILDS = {"site_build", "built_site"}  # fixtures that build the whole site


def pytest_collection_modifyitems(items):
    """A test that needs the whole site built is ``slow``: ``pytest -m "not slow"`` is the
    quick loop, and ``make test`` runs everything."""
    for item in items:
        if SITE_BUILDS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Project:
    monkeypatch.setenv("STUDY_LLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CI", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    return Project(root)


BUILD_FAILURES: list[str] = []  # the real site's failed build log, printed once at the end


@pytest.fixture(scope="session")
def site_build(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The real site, built strictly once per test session (read-only for tests), and its log.
    If it fails, every test that needs it fails with one line; the log is printed once."""
    out = tmp_path_factory.mktemp("site")
    try:
        result = builder.build(REPO, out)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the real site's build did not finish in {error.timeout:.0f} s", pytrace=False)
    if result.returncode != 0:
        BUILD_FAILURES.append(result.stderr)
        pytest.fail("the real site does not build (its log is printed once, at the end of the run)", pytrace=False)
    return out, result


def pytest_terminal_summary(terminalreporter):
    for log in BUILD_FAILURES:
        terminalreporter.section("the real site's failed build")
        terminalreporter.write_line(log.rstrip())


@pytest.fixture(scope="session")
def built_site(site_build) -> Path:
    return site_build[0]


@pytest.fixture
def os_sandbox(monkeypatch):
    """For tests of the OS sandbox: skip without it, unless it is required (as in CI)."""
    if run.sandbox.problem():
        if os.environ.get("SNIPPET_GATE_SANDBOX") == "require":
            pytest.fail(f"the OS sandbox is required here: {run.sandbox.problem()}")
        pytest.skip(f"no OS sandbox here: {run.sandbox.problem()}")
    monkeypatch.setenv("SNIPPET_GATE_SANDBOX", "require")
