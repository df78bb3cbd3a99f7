"""One float code path on every x86-64 CPU (``run/numerics.py``), and outputs refused when
another path would print them differently."""

from dataclasses import replace

import pytest

from scripts import gate
from scripts.gate import cache, run

# A matrix product summed in float64: any difference in the float32 kernels' last bits shows.
KERNEL_BITS = """\
import torch
torch.manual_seed(0)
a, b = torch.randn(257, 384), torch.randn(384, 129)  # shapes whose kernels differ by CPU branch
print("a line that never changes")
print(repr((a @ b).double().sum().item()))
"""


def test_a_run_sees_the_pinned_path_and_a_perturbed_run_another(project):
    path = project.snippet("x", "print(1)\n", "1\n")
    loaded = gate.Project.load(project.root)
    spec = loaded.target(path).spec(loaded)
    pinned = run.environment(spec, project.root)
    perturbed = run.environment(replace(spec, numerics="perturbed"), project.root)
    assert {k: pinned[k] for k in run.NUMERICS["pinned"]} == run.NUMERICS["pinned"]
    assert pinned["MKL_CBWR"] == "AVX2,STRICT" and pinned["ATEN_CPU_CAPABILITY"] == "avx2"
    assert any(perturbed.get(k) != v for k, v in run.NUMERICS["pinned"].items())
    fingerprint = "f"
    assert (cache.key(loaded, loaded.target(path), spec, fingerprint)
            != cache.key(loaded, loaded.target(path), replace(spec, numerics="perturbed"), fingerprint))


def test_update_refuses_an_output_another_float_path_prints_differently(project):
    path = project.snippet("bits", KERNEL_BITS)
    [outcome] = gate.update(project.root)
    assert outcome.status == "failed"
    assert "snippets/bits.py: line 2 of its output (snippets/bits.out) depends on the CPU's float code path" \
        in outcome.detail
    assert "round it\n  coarser, or choose data whose values are far from a boundary" in outcome.detail
    assert not path.with_suffix(".out").exists()  # nothing was written


def test_margins_reports_a_committed_output_that_another_path_prints_differently(project):
    path = project.snippet("bits", KERNEL_BITS, "")
    loaded = gate.Project.load(project.root)
    printed = run.run(loaded.target(path).spec(loaded)).stdout  # the pinned path's bytes, as committed
    path.with_suffix(".out").write_bytes(printed)
    [checked] = gate.check(project.root)
    assert checked.status == "passed"
    [outcome] = gate.margins(project.root)
    assert outcome.status == "failed" and "line 2 of its output" in outcome.detail


@pytest.mark.parametrize(("code", "paths"), [
    ('print(" ".join(sorted(["b", "a"])))\n', ["pinned"]),  # no float maths: one run
    ('import os, sys\nprint("ok")\nsys.stdout.flush()\nos._exit(0)\n', ["pinned", "perturbed"]),  # no record
], ids=["no-floats", "no-record"])
def test_update_runs_twice_what_may_do_float_maths(project, monkeypatch, code, paths):
    project.snippet("x", code)
    runs, real = [], run.run
    monkeypatch.setattr(run, "run", lambda spec: runs.append(spec.numerics) or real(spec))
    [outcome] = gate.update(project.root)
    assert outcome.status == "updated" and runs == paths


def test_a_failure_only_on_the_perturbed_path_says_so(project):
    project.snippet("picky", 'import os, sys\nimport numpy\n'
                    'sys.exit(3) if os.environ.get("MKL_CBWR") != "AVX2,STRICT" else print("ok")\n')
    [outcome] = gate.update(project.root)
    assert outcome.status == "failed"
    assert outcome.detail.startswith("on another float code path (")
    assert "where the pinned run passed" in outcome.detail and "raised (exit code 3)" in outcome.detail


def test_update_refuses_on_a_cpu_that_cannot_take_the_pinned_path(project, monkeypatch):
    project.snippet("x", "print(1)\n")
    monkeypatch.setattr(run.numerics, "can_record", lambda: False)
    with pytest.raises(gate.SnippetError, match="this CPU has no AVX2"):
        gate.update(project.root)
    assert not (project.root / "snippets" / "x.out").exists()
