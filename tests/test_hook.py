"""Plain `mkdocs build` runs the gate through the hook and fails on drift."""

import os
import subprocess
import sys

from tests.conftest import REPO

MKDOCS_YML = f"""\
site_name: throwaway
strict: true
hooks:
  - {REPO / "scripts" / "mkdocs_hook.py"}
markdown_extensions:
  - pymdownx.snippets:
      base_path: [!relative $config_dir]
      check_paths: true
  - pymdownx.superfences
"""


def mkdocs_build(project, *args):
    (project.root / "mkdocs.yml").write_text(MKDOCS_YML)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", *args], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_plain_build_passes_and_shows_the_verified_output(project):
    project.snippet("greet", 'print("hello from a snippet")\n', "hello from a snippet\n")
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    assert "snippet gate: 1 snippets: 1 passed" in result.stderr
    assert "hello from a snippet" in (project.root / "site" / "greet" / "index.html").read_text()


def test_plain_build_fails_when_an_expected_file_is_edited(project):
    snippet = project.snippet("greet", 'print("hello")\n', "hello\n")
    assert mkdocs_build(project).returncode == 0
    snippet.with_suffix(".out").write_text("hellO\n")
    result = mkdocs_build(project)
    assert result.returncode != 0
    assert "snippets/greet.py: output differs from snippets/greet.out" in result.stderr
    assert "shown on: docs/greet.md" in result.stderr
    assert "-hellO\n+hello" in result.stderr


def test_a_missing_include_fails_the_strict_build(project):
    project.snippet("greet", 'print("hello")\n', "hello\n")
    page = project.root / "docs" / "greet.md"
    page.write_text(page.read_text() + '\n```text\n--8<-- "snippets/nowhere.out"\n```\n')
    result = mkdocs_build(project)
    assert result.returncode != 0
    assert "nowhere.out" in result.stderr
