"""The GitHub workflows are valid (actionlint), pinned, and minimally privileged."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent))


def actionlint(*files):
    assert ACTIONLINT, "actionlint is missing from the environment (requirements.lock installs it)"
    return subprocess.run([ACTIONLINT, "-no-color", *map(str, files)], capture_output=True, text=True,
                          timeout=120)


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_actionlint_accepts_both_workflows():
    result = actionlint(WORKFLOWS / "ci.yml", WORKFLOWS / "pages.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "pages.yml").read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1))
    result = actionlint(broken)
    assert result.returncode != 0 and "runs-on" in result.stdout


@pytest.mark.parametrize("name", ["ci.yml", "pages.yml"])
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name):
    uses = re.findall(r"uses: (\S+)(.*)", (WORKFLOWS / name).read_text())
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{action}: version comment missing"


def test_ci_runs_the_readme_test_command_with_pip_caching():
    readme = (REPO / "README.md").read_text()
    steps = load("ci.yml")["jobs"]["test"]["steps"]
    assert "make test" in readme and any(step.get("run") == "make test" for step in steps)
    setup = next(step for step in steps if "setup-python" in step.get("uses", ""))
    assert setup["with"]["cache"] == "pip"


def test_pages_builds_strictly_with_minimal_permissions_and_deploys():
    pages = load("pages.yml")
    assert pages["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert pages["concurrency"]["group"]
    build = pages["jobs"]["build"]["steps"]
    assert any(step.get("run") == "make build" for step in build)
    assert "mkdocs build --strict" in (REPO / "Makefile").read_text()
    assert any("upload-pages-artifact" in step.get("uses", "") for step in build)
    assert "deploy-pages" in pages["jobs"]["deploy"]["steps"][0]["uses"]
