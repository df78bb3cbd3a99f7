"""``make bench``: what the snippet gate costs, measured in one run on this machine.

Prints a cold check (empty result cache: every snippet runs), a warm check (everything
cached), and a warm ``mkdocs build`` with the gate's hook against the same build without it.
A benchmark, not a test: the numbers are for reading and comparing, never asserted.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts import cache, gate

ROOT = gate.ROOT
REPEATS = 3


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def build_seconds(config: Path, site: Path) -> float:
    """Median wall time of ``mkdocs build`` with one config, after one warm-up build."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    runs = []
    for _ in range(REPEATS + 1):
        seconds, _ = timed(lambda: subprocess.run(cmd, cwd=ROOT, env=env, check=True))
        runs.append(seconds)
    return statistics.median(runs[1:])


def main() -> int:
    results = cache.results_dir(ROOT)
    saved = results.with_name("snippet-results.bench-saved")
    if results.exists():
        results.rename(saved)  # keep the developer's cache; the cold run needs an empty one
    try:
        cold, outcomes = timed(lambda: gate.check(ROOT))
        warm, warm_outcomes = timed(lambda: gate.check(ROOT))
    finally:
        if saved.exists():
            shutil.rmtree(results, ignore_errors=True)
            saved.rename(results)
    print(gate.summary(outcomes))
    if not all(o.ok for o in outcomes):
        print("bench: the check failed; fix it first", file=sys.stderr)
        return 1
    cached = sum(o.status == "cached" for o in warm_outcomes)
    print(f"\n{'cold check, empty cache (' + str(len(outcomes)) + ' run)':34}{cold:7.2f} s  ({os.cpu_count()} cores)")
    print(f"{'warm check (' + str(cached) + ' cached)':34}{warm:7.2f} s  ({cold / warm:.0f}x faster)")
    with tempfile.TemporaryDirectory() as tmp:
        no_hook = ROOT / ".bench-no-hook.yml"  # same config, hooks removed
        no_hook.write_text("INHERIT: mkdocs.yml\nhooks: []\n")
        try:
            with_hook = build_seconds(ROOT / "mkdocs.yml", Path(tmp) / "a")
            without = build_seconds(no_hook, Path(tmp) / "b")
        finally:
            no_hook.unlink()
    print(f"{'warm mkdocs build with hook':34}{with_hook:7.2f} s  (median of {REPEATS})")
    print(f"{'warm mkdocs build without hook':34}{without:7.2f} s")
    print(f"{'with / without hook':34}{with_hook / without:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
