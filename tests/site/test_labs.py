"""Labs: the download is the verified notebook, and it runs offline to the same outputs."""

import html
import json
import re
from dataclasses import replace

import nbformat
import pytest

from scripts import gate
from scripts.gate import run
from scripts.site import labs
from scripts.site.build_state import BuildState
from tests.conftest import REPO

LABS = [lab.stem for lab in labs.discover(REPO)]


RUNNER = REPO / "scripts" / "harness" / "notebook_run.py"
# A fresh kernel imports torch, transformers and outlines itself (no fork server has them loaded)
# and starts Jupyter: the tools lab's notebook used 110-120 CPU s on a quiet machine, against a
# lab budget of 120 (measured 2026-12-02).  It gets twice the lab's budget, as the gate's
# budgets are about twice a quiet run.
KERNEL_BUDGET_FACTOR = 2


def execute(notebook, scratch, name="tokens"):
    """Run a notebook top to bottom in a fresh kernel, as a reader would, inside the gate's
    sandbox with what the gate gives the lab ``name`` (offline, its caps): the notebook is
    contributed code.  A cell that raises is a ``RuntimeError`` with the kernel's message."""
    folder = scratch / "notebook"
    folder.mkdir(parents=True)
    folder.chmod(0o755)  # runs are never root: what they read is readable by others
    nbformat.write(notebook, folder / "lab.ipynb")
    (folder / "lab.ipynb").chmod(0o644)
    project = gate.Project.load(REPO)
    spec = project.target(REPO / "labs" / f"{name}.py").spec(project)
    caps = replace(spec.caps, timeout=spec.caps.timeout * KERNEL_BUDGET_FACTOR)
    ran = run.run(replace(spec, argv=(str(RUNNER), str(folder / "lab.ipynb")), family=None, caps=caps,
                          readable=(*spec.readable, folder)))
    if ran.returncode != 0 or ran.stop is not run.Stop.NONE:
        raise RuntimeError(f"the notebook did not run ({ran.stop.value}, exit code {ran.returncode}):\n{ran.stderr}")
    return nbformat.reads(ran.stdout.decode("utf-8"), as_version=4)


def test_there_are_three_core_labs():
    assert {"tokens", "embeddings", "retrieval"} <= set(LABS)


@pytest.mark.parametrize("name", LABS)
def test_the_download_carries_the_verified_outputs(built_site, name):
    page = (built_site / "labs" / name / "index.html").read_text(encoding="utf-8")
    [link] = re.findall(rf'<a [^>]*href="{name}.ipynb"[^>]*>Download {name}.ipynb</a>', page)
    assert "download" in link
    notebook = nbformat.read(built_site / "labs" / name / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert labs.outputs_text(notebook) == (REPO / "labs" / f"{name}.out").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", LABS)
def test_the_download_runs_offline_in_a_fresh_kernel_to_the_same_outputs(built_site, tmp_path, name):
    notebook = nbformat.read(built_site / "labs" / name / f"{name}.ipynb", as_version=4)
    executed = execute(notebook, tmp_path, name)
    assert labs.outputs_text(executed) == (REPO / "labs" / f"{name}.out").read_text(encoding="utf-8")


def test_the_kernel_used_for_downloads_is_really_offline_and_sandboxed(tmp_path):
    """Below the Python guard (``_socket`` is not patched): the kernel's network namespace has
    no route out; and the kernel is not root and does not see the host's home folders."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (
        "import _socket, errno\nraw = _socket.socket()\nraw.settimeout(3)\n"
        "print(errno.errorcode.get(raw.connect_ex(('1.1.1.1', 443))))",
        "import os\nprint(os.getuid() != 0, os.path.exists(os.path.expanduser('~root/.ssh')))")])
    network, user = execute(notebook, tmp_path).cells
    assert network.outputs[0]["text"] == "ENETUNREACH\n"
    assert user.outputs[0]["text"] == "True False\n"


@pytest.mark.parametrize("name", LABS)
def test_lab_code_and_outputs_are_not_in_the_search_index(built_site, name):
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["text"] for doc in index["docs"] if doc["location"].startswith(f"labs/{name}/"))
    assert "Your turn" in " ".join(doc["title"] for doc in index["docs"]), "lab prose must stay searchable"
    outputs = labs.parse_expected((REPO / "labs" / f"{name}.out").read_text(encoding="utf-8"))
    source = (REPO / "labs" / f"{name}.py").read_text(encoding="utf-8")
    lines = [line.strip() for sections in outputs.values() for _, body in sections
             for line in body.splitlines() if len(line.strip()) > 12 and line.strip() not in source]
    code = [line.strip() for line in source.splitlines()  # code lines, not markdown cells or prose
            if len(line.strip()) > 30 and not line.lstrip().startswith("#") and "=" in line]
    assert lines and code
    assert not [line for line in lines + code if html.escape(line, quote=False) in text or line in text]


def test_the_lab_pages_load_no_third_party_script(built_site):
    for name in LABS:
        html = (built_site / "labs" / name / "index.html").read_text(encoding="utf-8")
        page = re.sub(r"<!--.*?-->", "", html, flags=re.S)
        scripts = re.findall(r"<script\b[^>]*>.*?</script>", page, flags=re.S)
        assert scripts and not [s for s in scripts if re.search(r'src=""|src="(https?:)?//|https://|mathjax', s, re.I)]


def make_lab(project, name, code, expected=None):
    (project.root / "labs").mkdir(exist_ok=True)
    lab = project.root / "labs" / f"{name}.py"
    lab.write_text(code)
    if expected is not None:
        lab.with_suffix(".out").write_text(expected)
    return lab


def test_a_changed_cell_output_fails_the_gate_with_a_diff_naming_the_lab(project):
    lab = make_lab(project, "demo", '# %%\nprint("one")\n\n# %%\n1 + 1\n',
                   "──── cell 1 · stdout ────\none\n\n──── cell 2 · result ────\n3\n")
    [outcome] = gate.check(project.root, [lab])
    assert outcome.status == "failed"
    assert "labs/demo.py: output differs from labs/demo.out" in outcome.detail
    assert "shown on: the lab built from labs/demo.py" in outcome.detail
    assert "-3\n+2\n" in outcome.detail


def test_update_writes_a_lab_output_from_a_real_run(project):
    lab = make_lab(project, "demo", '# %% [markdown]\n# Hi\n\n# %%\nx = [3, 1, 2]\nprint(sorted(x))\nx\n')
    [outcome] = gate.update(project.root, [lab])
    assert outcome.status == "updated"
    assert lab.with_suffix(".out").read_text() == (
        "──── cell 1 · stdout ────\n[1, 2, 3]\n\n──── cell 1 · result ────\n[3, 1, 2]\n")
    assert [o.status for o in gate.check(project.root, [lab])] == ["passed"]


@pytest.mark.parametrize("code, words", [
    ('# %%\nraise ValueError("boom")\n', "cell 1 raised"),
    ('# %%\nfrom IPython.display import HTML, display\ndisplay(HTML("<b>x</b>"))\n', "rich output"),
])
def test_a_lab_that_raises_or_shows_pictures_fails_naming_the_cell(project, code, words):
    lab = make_lab(project, "bad", code, "")
    [outcome] = gate.check(project.root, [lab])
    assert outcome.status == "failed" and "labs/bad.py raised" in outcome.detail and words in outcome.detail


def test_while_serving_a_failed_lab_gets_a_warning_on_its_page(project, capsys):
    make_lab(project, "demo", '# %%\nprint("one")\n', "──── cell 1 · stdout ────\ntwo\n\n")
    state = BuildState(serving=True)
    state.before_build(project.root)  # serves at once
    assert "Verifying: <code>labs/demo.py</code>" in state.lab_banner("labs/demo.ipynb")
    state.after_build()  # then checks in the background
    state.verifier.thread.join(120)
    state.before_build(project.root)  # the rebuild the end of that check asks for
    assert "labs/demo.py: output differs" in capsys.readouterr().err
    warning = state.lab_banner("labs/demo.ipynb")
    assert "Snippet check failed: <code>labs/demo.py</code>" in warning
    page = labs.decorate("<h1>Lab: demo</h1><p>text</p>", "labs/demo.ipynb", "", warning)
    assert page.index("</h1>") < page.index("Snippet check failed") < page.index("Download demo.ipynb")
