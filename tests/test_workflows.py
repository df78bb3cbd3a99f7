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
    workflow = (WORKFLOWS / "pages.yml").read_text()
    broken.write_text(workflow.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest", 1))
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


@pytest.mark.parametrize("site_url", [None, "https://example.github.io/study-llm/"])
def test_site_url_comes_from_configure_pages_and_local_builds_need_none(monkeypatch, site_url):
    from mkdocs.config import load_config

    build = load("pages.yml")["jobs"]["build"]["steps"]
    pages_step = next(step for step in build if "configure-pages" in step.get("uses", ""))
    make_build = next(step for step in build if step.get("run") == "make build")
    assert make_build["env"]["SITE_URL"].startswith(f"${{{{ steps.{pages_step['id']}.outputs.base_url }}}}")
    if site_url:
        monkeypatch.setenv("SITE_URL", site_url)
    else:
        monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    config = load_config(str(REPO / "mkdocs.yml"))
    assert config["site_url"] == site_url
