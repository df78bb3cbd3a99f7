"""Round two of the sandbox (issue 24): each class of escape, tried in throwaway projects.

Classes: a run as root; contributed code run outside the sandbox (tests/gate/test_doctests.py
and tests/site/test_labs.py); files read by name or through links; active content on a page;
forks that share too much (tests/gate/test_forkserver.py); caps per process only; terminal
injection.  Each test fails on the code before the fix and passes after."""

import os
import subprocess

import pytest

from scripts import gate
from scripts.gate import files, run
from scripts.gate.report import Outcome, Status, summary
from scripts.gate.run import limits
from scripts.site import labs, provenance

ROOT_ONLY = '''
import os, sys
def attempt(action):
    try:
        action()
        return "DONE"
    except OSError:
        return "refused"
print("root:", os.getuid() == 0 or os.geteuid() == 0)
print("kernel setting:", attempt(lambda: open("/proc/sys/kernel/core_pattern", "w").write("|/bin/sh")))
print("shadow:", attempt(lambda: open("/etc/shadow").read()))
needed = {path.split("/")[1] for path in (sys.prefix, sys.base_prefix, __file__)}  # Python, the project
print("machine:", sorted(set(os.listdir("/")) & {"home", "var", "srv", "opt", "mnt", "boot", "media"} - needed))
print("root's folder:", sorted(set(os.listdir("/root")) - needed - {".pyenv"}) if os.path.isdir("/root") else [])
'''


def test_a_run_is_never_root_and_sees_only_what_it_needs(project, os_sandbox):
    project.snippet("attack", ROOT_ONLY, "root: False\nkernel setting: refused\nshadow: refused\n"
                                         "machine: []\nroot's folder: []\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "passed", outcome.detail


@pytest.mark.parametrize("make", ["symlink to environ", "symlink to a folder", "fifo", "folder named .py", "hard link",
                                  "name not UTF-8", "huge"])
def test_a_project_file_that_is_not_a_regular_file_is_refused_naming_it(project, make):
    path = project.snippet("hello", 'print("hi")\n', "hi\n")
    out = path.with_suffix(".out")
    if make == "symlink to environ":
        out.unlink()
        out.symlink_to("/proc/self/environ")
    elif make == "symlink to a folder":
        (project.root / "snippets" / "data").symlink_to(project.root.parent)
    elif make == "fifo":
        os.mkfifo(project.root / "snippets" / "words.txt")
    elif make == "folder named .py":
        (project.root / "snippets" / "not_a_file.py").mkdir()
    elif make == "hard link":  # as root, the gate would read a root-only file into the diff
        secret = project.root.parent / "secret"
        secret.write_text("root only\n")
        secret.chmod(0o600)
        out.unlink()
        os.link(secret, out)
    elif make == "name not UTF-8":
        (project.root / "snippets").joinpath(os.fsdecode(b"bad\xff.txt")).write_text("x")
    else:
        with open(project.root / "snippets" / "big.bin", "wb") as handle:
            handle.truncate(20 << 30)  # sparse: 20 GB to hash, on no disk
    with pytest.raises(gate.SnippetError) as refused:
        gate.check(project.root)
    said = str(refused.value)
    assert "the project has files the gate will not read" in said
    named = {"symlink to environ": "snippets/hello.out: is a symbolic link",
             "symlink to a folder": "snippets/data: is a symbolic link",
             "fifo": "snippets/words.txt: is not a regular file (a named pipe)",
             "folder named .py": "snippets/not_a_file.py: is a folder",
             "hard link": "snippets/hello.out: is a hard link",
             "name not UTF-8": "b'snippets/bad\\xff.txt': its name is not UTF-8",
             "huge": "snippets/big.bin: is 20480 MB"}
    assert named[make] in said


def test_an_expected_output_is_replaced_never_written_through(tmp_path):
    target, link = tmp_path / "victim.pth", tmp_path / "x.out"
    target.write_text("untouched\n")
    link.symlink_to(target)
    with pytest.raises(files.UnsafeFile, match="x.out: is not a regular file"):
        files.write(link, b"import os\n", "x.out")
    with pytest.raises(files.UnsafeFile, match="x.out: is a symbolic link"):
        files.read(link, 100, "x.out")
    assert target.read_text() == "untouched\n"
    regular = tmp_path / "y.out"
    files.write(regular, b"new\n", "y.out")
    assert files.read(regular, 100, "y.out") == b"new\n"
    with pytest.raises(files.UnsafeFile, match="larger than 2 bytes"):
        files.read(regular, 2, "y.out")


SPOILED_RECORD = '''
import os
for fd in range(3, 64):
    try:
        os.write(fd, b'{"modules": ["<script>"], "weights": [], "python": "9.9.9"}')
    except OSError:
        pass
print("forged")
'''


def test_a_forged_record_is_an_error_naming_the_file(project):
    project.snippet("forger", SPOILED_RECORD, "forged\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "failed"
    assert outcome.detail.startswith("snippets/forger.py: what it left for the gate is not a run record")


@pytest.mark.parametrize("printed, said", [
    ('print("before")\nprint("```")\nprint("<script>alert(1)</script>")',
     "line 2 of its output would close the code block"),
    ('print("~~~~ text")', "line 1 of its output would close the code block"),
    ('print(\'--8<-- "pyproject.toml"\')', "line 1 of its output holds snippet syntax"),
    ('print("result:")\nprint(\'-8<- "snippets/_payload.txt"\')', "line 2 of its output holds snippet syntax"),
    ('print("ok \\x1b]52;c;ZWNobyBoaQ==\\x07")', "line 1 of its output has a control character"),
])
def test_an_output_a_page_would_read_as_its_own_syntax_is_refused(project, printed, said):
    project.snippet("fence", printed + "\n", "x\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "failed" and outcome.detail.startswith(f"snippets/fence.py: {said}")
    assert "\x1b" not in summary([outcome]) and "\x07" not in summary([outcome])


def test_the_provenance_line_is_escaped():
    record = {"python": "3.11.7", "packages": [["<img src=x onerror=alert(1)>", "1"]]}
    assert "<img" not in provenance.html(record) and "&lt;img" in provenance.html(record)


def test_a_lab_cell_cannot_pass_for_another_cells_output(project):
    (project.root / "labs").mkdir()
    (project.root / "labs" / "forge.py").write_text(
        '# %%\nprint("real")\n\n# %%\nprint("──── cell 1 · stdout ────")\nprint("fake")\n')
    (project.root / "labs" / "forge.out").write_text("x\n")
    [outcome] = gate.check(project.root, [project.root / "labs" / "forge.py"], use_cache=False)
    assert outcome.status == "failed" and "cell 2 printed a line that is a section header" in outcome.detail


def test_lab_markdown_puts_no_active_content_on_the_page():
    page = ('<div class="jp-Cell jp-MarkdownCell"><p>Read <a href="javascript:alert(1)">this</a> '
            '<a href="https://example.org/">and this</a></p><script>alert(1)</script>'
            '<img src="x" onerror="alert(1)"><iframe src="https://evil.example"></iframe></div>')
    html = labs.decorate(page, "labs/x.ipynb", "")
    assert "<script>alert" not in html and "onerror" not in html and "<iframe" not in html
    assert "javascript:" not in html and 'href="https://example.org/"' in html


def test_a_raw_lab_cell_is_refused_naming_it(project):
    (project.root / "labs").mkdir()
    lab = project.root / "labs" / "raw.py"
    lab.write_text('# %% [raw]\n# <script>alert(1)</script>\n\n# %%\nprint("x")\n')
    (project.root / "labs" / "raw.out").write_text("──── cell 1 · stdout ────\nx\n\n")
    with pytest.raises(ValueError, match="raw.py: cell 1 is a raw cell"):
        labs.notebook(lab)


def whole_run_cap(controller):
    if controller not in limits.parents():
        pytest.skip(f"no writable {controller} cgroup on this machine")


CHILDREN_EACH_1_GB = '''
import subprocess, sys
code = "block = bytearray(1200 * 1024 * 1024); import time; time.sleep(3)"
children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
print([child.wait() for child in children])
'''


def test_memory_is_capped_for_the_run_as_a_whole(project):
    whole_run_cap("memory")
    (project.root / "pyproject.toml").write_text("[tool.snippets]\ndefault-timeout = 60\nmemory-mb = 2048\n")
    project.snippet("greedy", CHILDREN_EACH_1_GB, "[0, 0, 0]\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "failed", "three children held 3.6 GB under a 2 GB cap"
    assert "the kernel enforced its memory-mb cap" in outcome.detail, outcome.detail


@pytest.mark.parametrize("code, said", [
    ('import os\nwith open(os.path.join("/tmp", "big"), "wb") as f:\n    f.write(b"x" * (80 << 20))\n',
     "No space left on device"),
    ('import os\nwith open("big", "wb") as f:\n    f.write(b"x" * (80 << 20))\n', "No space left on device"),
    ('handles = [open(__file__) for _ in range(300)]\n', "Too many open files"),
])
def test_disk_and_open_files_are_capped(project, os_sandbox, code, said):
    (project.root / "pyproject.toml").write_text("[tool.snippets]\nscratch-mb = 64\nmax-open-files = 256\n")
    project.snippet("hog", code + 'print("held")\n', "held\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "failed" and said in outcome.detail


def test_a_report_escapes_what_a_run_printed():
    forged = Outcome("snippets/x.py", Status.FAILED, "snippets/x.py raised:\n    \r\x1b[32mPASSED\x1b[0m \u202eevil")
    shown = summary([forged])
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
    assert "\\x1b[32mPASSED" in shown


def test_the_gate_never_reads_output_through_a_name(project):
    """A run that replaces everything in its folder with links to secrets: the gate reads
    the pipes it made, so nothing of the link's target reaches the report."""
    project.snippet("swap", '''
import os
for name in os.listdir("."):
    os.remove(name)
for name in ("stdout", "stderr", "record.json", "../stdout", "../record.json"):
    try:
        os.symlink("/proc/self/environ", name)
    except OSError:
        pass
print("swapped")
''', "swapped\n")
    [outcome] = gate.check(project.root, use_cache=False)
    assert outcome.status == "passed", outcome.detail


def test_a_project_that_ships_its_cache_folder_is_refused(project, monkeypatch):
    """Cached passes and rendered pages come from this machine's runs, never from the checkout."""
    monkeypatch.delenv("STUDY_LLM_CACHE")  # the default: <project>/.cache
    project.snippet("hello", 'print("hi")\n', "forged\n")
    shipped = project.root / ".cache" / "snippet-results" / "snippets__hello.py.json"
    shipped.parent.mkdir(parents=True)
    shipped.write_text("{}")
    git = ["git", "-C", str(project.root), "-c", "user.name=x", "-c", "user.email=x@x"]
    for command in (["init", "-q"], ["add", "-f", "."], ["commit", "-qm", "forged pass"]):
        subprocess.run([*git, *command], check=True)
    with pytest.raises(gate.SnippetError, match=r"ships files in its cache folder \(\.cache/snippet-results/"):
        gate.check(project.root)


def test_a_page_that_is_not_utf8_is_refused_naming_it(project):
    (project.root / "docs" / "latin.md").write_bytes(b"# x\n\n>>> print(1)\n1\n\xff\xfe\n")
    with pytest.raises(gate.SnippetError, match=r"docs/latin.md: is not UTF-8 \(at byte 20\)"):
        gate.check(project.root)


def test_a_project_runs_cannot_read_is_a_clear_error(project, os_sandbox):
    """As root, runs are nobody: a project folder only root can enter is said up front."""
    if not run.sandbox.as_root():
        pytest.skip("only root's runs change user")
    project.snippet("hello", 'print("hi")\n', "hi\n")
    project.root.chmod(0o700)
    with pytest.raises(gate.SnippetError, match="is not readable by other users .mode 700.: chmod o.rx"):
        gate.check(project.root)


def test_a_page_cannot_include_a_link_from_outside_the_contributed_folders(project):
    (project.root / "notes").mkdir()
    (project.root / "notes" / "host.txt").symlink_to("/etc/hostname")
    (project.root / "docs" / "leak.md").write_text('# Leak\n\n```text\n--8<-- "notes/host.txt"\n```\n')
    assert "notes/host.txt: is a symbolic link" in "\n".join(gate.site_problems(project.root))
