"""A stuck run is told apart from a slow machine by the CPU it uses (``run/watch.py``): one
that waits forever and one that computes forever are each stopped, with its own message;
a good run on a fully loaded machine is not."""

import os
import subprocess
import sys

import pytest

from scripts import gate
from scripts.gate.run import Caps, watch

SETTINGS = "[tool.snippets]\ndefault-timeout = 4\nidle-timeout = 3\n"
WAITS_FOREVER = {
    "sleeps": "import time\ntime.sleep(600)\n",
    "reads-a-pipe": "import os\nr, w = os.pipe()\nos.read(r, 1)\n",
    "waits-for-its-child": ("import subprocess, sys\n"
                            "subprocess.run([sys.executable, '-c', 'import time; time.sleep(600)'])\n"),
}


def check_one(project, name: str, code: str, expected: str = "x\n"):
    (project.root / "pyproject.toml").write_text(SETTINGS)
    project.snippet(name, code, expected)
    [outcome] = gate.check(project.root, use_cache=False)
    return outcome


@pytest.mark.parametrize("name", WAITS_FOREVER)
def test_a_run_that_waits_forever_is_stopped_as_stuck(project, name):
    outcome = check_one(project, name, WAITS_FOREVER[name])
    assert outcome.status == "failed"
    assert f"snippets/{name}.py is stuck: it used no CPU for 3 s" in outcome.detail


def test_a_run_that_computes_forever_is_stopped_at_its_cpu_budget(project):
    outcome = check_one(project, "spins", "while True:\n    pass\n")
    assert outcome.status == "failed"
    assert "snippets/spins.py runs too long: stopped after 4 s of CPU time, its budget" in outcome.detail
    assert outcome.seconds >= 4  # at least the budget went by


def test_the_budget_counts_the_cpu_of_every_process_of_the_run(project):
    """Two children spinning use the budget twice as fast as one would."""
    code = ("import subprocess, sys\nspin = [sys.executable, '-c', 'while True: pass']\n"
            "children = [subprocess.Popen(spin) for _ in range(2)]\n[c.wait() for c in children]\n")
    outcome = check_one(project, "spins-twice", code)
    assert "runs too long: stopped after 4 s of CPU time" in outcome.detail


def test_a_good_run_on_a_fully_loaded_machine_passes(project):
    """Three processes spin on every core while a run needing about 2 s of CPU goes; with a
    budget of 4 CPU seconds it passes, though its wall time may be several times that."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3 * (os.cpu_count() or 1))]
    try:
        code = ("import time\nend = time.process_time() + 2\nwhile time.process_time() < end:\n    pass\n"
                "print('done')\n")
        outcome = check_one(project, "busy", code, "done\n")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert outcome.status == "passed", outcome.detail


def test_cpu_seconds_of_a_tree_include_its_children():
    code = ("import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', "
            "'import time\\nend = time.process_time() + 1\\nwhile time.process_time() < end: pass\\ntime.sleep(60)'])\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = 0
        while watch.cpu_seconds(parent.pid) < 1 and deadline < 200:
            deadline += 1
            subprocess.run(["sleep", "0.05"])
        assert watch.cpu_seconds(parent.pid) >= 1  # the child's second, seen through the parent
        assert len(watch.tree(parent.pid)) == 2
    finally:
        for pid in reversed(watch.tree(parent.pid)):
            os.kill(pid, 9)
        parent.wait()


def test_the_cpu_count_never_goes_back():
    """A child reaped by the kernel takes its time out of the tree's sum: held at the most seen."""
    clock = watch.Watch(Caps(timeout=10, memory_mb=1, max_processes=1, max_output_kb=1, idle=60))
    clock.stop(0.28)
    clock.stop(0.16)
    assert clock.most == 0.28
    clock.stop(0.34)
    assert clock.most == 0.34 and clock.cpu_at_last_work == 0.34  # 0.06 s more than the most seen: working
