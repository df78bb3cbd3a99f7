"""Plain `mkdocs build` runs the gate through the hook and fails on drift."""

import contextlib
import os
import subprocess
import sys

from scripts.harness import builder
from scripts.harness.net import free_port, wait_for_page
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
    return builder.build(project.root, None, *args, timeout=300)


def test_plain_build_passes_and_shows_the_verified_output(project):
    project.snippet("greet", 'print("hello from a snippet")\n', "hello from a snippet\n")
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    assert "snippet gate: 1 checked: 1 passed" in result.stderr
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


def test_serve_reports_drift_keeps_serving_and_recovers(project):
    snippet = project.snippet("greet", 'print("hello")\n', "hellO\n")
    with serving(project) as (base, log):
        url = f"{base}/greet/"
        page = wait_for_page(url, lambda html: "Snippet check failed" in html)
        assert "snippets/greet.py" in page
        snippet.with_suffix(".out").write_text("hello\n")
        wait_for_page(url, lambda html: "Snippet check failed" not in html and "Verifying:" not in html
                      and "hello" in html)
    assert "snippet gate failed (still serving)" in log.read_text()
    assert "-hellO\n+hello" in log.read_text()
    assert "1 checked: 1 passed; 1 run" in log.read_text()  # after the fix only the edited snippet reran


@contextlib.contextmanager
def serving(project):
    """``mkdocs serve`` of the throwaway project: (its address, the file its output goes to, read
    when it has stopped; on a failure inside, the output is shown)."""
    (project.root / "mkdocs.yml").write_text(MKDOCS_YML + "watch:\n  - snippets\n")
    port, log = free_port(), project.root.parent / "serve.log"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--strict", "-a", f"127.0.0.1:{port}"],
                                  cwd=project.root, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        yield f"http://127.0.0.1:{port}", log
    except Exception as failure:
        server.terminate()
        server.wait(timeout=30)
        raise AssertionError(f"{failure}\nmkdocs serve said:\n{log.read_text()[-4000:]}") from failure
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_shows_the_first_page_before_the_check_and_says_it_is_verifying(project):
    """A cold check can take minutes: the preview serves the committed output at once, says
    so on the page, and reloads it verified (or failing) when the background check ends."""
    project.snippet("slow", 'import time\ntime.sleep(6)\nprint("slow but fine")\n', "slow but fine\n")
    project.snippet("wrong", 'import time\ntime.sleep(6)\nprint("right")\n', "wrong\n")
    with serving(project) as (base, log):
        first = wait_for_page(f"{base}/slow/", lambda html: "slow but fine" in html, seconds=30)
        assert "Verifying: <code>snippets/slow.py</code>" in first
        assert "Output verified with" not in first  # no provenance line before the check
        verified = wait_for_page(f"{base}/slow/", lambda html: "Verifying:" not in html, seconds=90)
        assert "slow but fine" in verified and "Snippet check failed" not in verified
        failing = wait_for_page(f"{base}/wrong/", lambda html: "Verifying:" not in html, seconds=30)
        assert "Snippet check failed: <code>snippets/wrong.py</code>" in failing
    said = log.read_text()
    assert "verifying 2 of 2 in the background" in said
    assert "[1/2] " in said and "[2/2] " in said
    assert "snippet gate failed (still serving)" in said and "-wrong\n+right" in said
