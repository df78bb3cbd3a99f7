"""What the gate costs: the floors no check can beat, cold and warm checks and the lower bound
of a cold one, the import the fork server pays once, a one-snippet rerun, and saving an edit
under ``mkdocs serve``.  Every use of the gate's executor by the bench is here, including the
two that ``site_costs`` needs: a lab run's environment and the function every gate run goes
through."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from scripts import gate
from scripts.bench import REPEATS, timed
from scripts.gate import cache, run
from scripts.harness import builder
from scripts.harness.net import free_port, wait_for_page

ROOT = gate.ROOT
FLOOR = """from sentence_transformers import SentenceTransformer
model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
model.encode(["The floor: one import, one model load, one encode."])
"""
LLM_FLOOR = """from transformers import AutoModelForCausalLM, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
model.generate(**tokenizer("The floor:", return_tensors="pt"), max_new_tokens=1, do_sample=False)
"""
IMPORTS = "import " + ", ".join(sorted({m for family in run.forkserver.FAMILIES.values() for m in family}))
EDITED = "snippets/tiny_retrieval.py"  # the model-using snippet the edit timings touch
LLM_EDITED = "snippets/tokenizers_compared.py"  # loads SmolLM2's tokenizer (and two others)
EDITS = [(EDITED, "building/rag"), (EDITED, "building/rag"), (LLM_EDITED, "llms/tokens"),
         ("snippets/next_token_llm.py", "llms/next-token")]
POLL = 0.05  # seconds between fetches of a page under serve: the wait is what is timed
GATE_RUNS = (run, "run")  # every gate run calls it: site_costs counts its calls during a build


def spec_of(rel: str) -> run.RunSpec:
    """What the gate hands the run of the target ``rel``."""
    project = gate.Project.load(ROOT)
    return project.target(ROOT / rel).spec(project)


def lab_environment(scratch: Path) -> dict[str, str]:
    """The environment the gate runs a lab in, for running one outside the gate."""
    return run.environment(spec_of("labs/tokens.py"), scratch)


def floor_seconds(code: str) -> float:
    """One sandboxed process: import, model load, one encode or token (what any check that
    uses that model must pay at least)."""
    spec = spec_of(EDITED)
    spec = replace(spec, argv=("-c", code), family=None, caps=replace(spec.caps, timeout=300))
    seconds, ran = timed(lambda: run.run(spec))
    if ran.returncode != 0:
        raise RuntimeError(f"the floor script failed:\n{ran.stderr}")
    return seconds


def cold_and_warm_checks():
    """A cold check (empty result cache, no fork server running), then a warm one."""
    results = cache.results_dir(gate.Project.load(ROOT).cache)
    saved = results.with_name("snippet-results.bench-saved")
    shutil.rmtree(saved, ignore_errors=True)  # left by a bench that was killed: older than what is there now
    if results.exists():
        results.rename(saved)  # keep the developer's cache; the cold run needs an empty one
    run.close()
    try:
        cold, outcomes = timed(lambda: gate.check(ROOT))
        warm, warm_outcomes = timed(lambda: gate.check(ROOT))
    finally:
        if saved.exists():
            shutil.rmtree(results, ignore_errors=True)
            saved.rename(results)
    return cold, outcomes, warm, warm_outcomes


def medians_of_floors_and_cold_checks():
    """``REPEATS`` rounds of: the MiniLM floor, the SmolLM2 floor, a cold check; interleaved,
    so a cold disk cache or a busy moment does not favour one of them.  Medians, and the
    outcomes of the last cold check."""
    floors, llm_floors, imports, colds = [], [], [], []
    for _ in range(REPEATS):
        floors.append(floor_seconds(FLOOR))
        llm_floors.append(floor_seconds(LLM_FLOOR))
        imports.append(floor_seconds(IMPORTS))
        cold, outcomes, warm, warm_outcomes = cold_and_warm_checks()
        colds.append(cold)
    median = statistics.median
    return median(floors), median(llm_floors), median(imports), median(colds), outcomes, warm, warm_outcomes


def lower_bound(outcomes, import_seconds: float) -> tuple[float, float]:
    """What no cold check can beat: (a) the slowest run plus one import of what it uses,
    and (b) all the runs' CPU time plus one import, spread over every core.  Forked runs
    do not pay the import, so their times are the runs alone; CPU time, not wall time,
    since runs that share the cores each take longer on the clock."""
    runs = [o.cpu for o in outcomes]
    return max(runs) + import_seconds, (sum(runs) + import_seconds) / (os.cpu_count() or 1)


def margins_costs() -> tuple[float, list[gate.Outcome]]:
    """``gate.margins`` with the pinned results cached and no perturbed one: its wall time is
    the perturbed reruns alone; only their outcomes carry CPU seconds (the pinned ones are
    cached: the bench's own checks ran with the developer's results set aside, so the pinned
    check runs first, untimed)."""
    project = gate.Project.load(ROOT)
    gate.check(project)
    for target in project.targets:
        perturbed = replace(target.spec(project), numerics="perturbed")
        cache.entry_path(project.cache, cache.slot(target.rel, perturbed)).unlink(missing_ok=True)
    return timed(lambda: gate.margins(project))


def rerun_seconds() -> float:
    """One snippet rerun, its fork server warm from the checks.  Then every fork server is
    closed, so none holds memory or cores while ``mkdocs serve`` (with its own) is timed."""
    seconds, _ = timed(lambda: gate.check(ROOT, [ROOT / EDITED], use_cache=False))
    run.close()
    return seconds


def verified(marker: str):
    """A served page that shows ``marker`` and is verified: the background check is done."""
    return lambda html: marker in html and "Verifying:" not in html


def serve_edit_seconds() -> list[float]:
    """Under a real ``mkdocs serve`` of a copy of the sources: save an edit to a snippet and
    time until the rebuilt page shows it verified, for each of ``EDITS``.  The first save may still
    wait for the fork server, which starts importing after the first build; the rest are
    the editing loop."""
    port = free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "STUDY_LLM_CACHE": str(gate.Project.load(ROOT).cache)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = builder.copy_sources(Path(tmp))
        server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"], cwd=folder,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_page(f"http://127.0.0.1:{port}/building/rag/", verified("tiny_retrieval.py"), 300, POLL)
            time.sleep(1.0)  # let the watcher settle after the first build
            seconds = []
            for number, (rel, page) in enumerate(EDITS):
                snippet, started, marker = folder / rel, time.perf_counter(), f"edit {number} by make bench"
                snippet.write_text(snippet.read_text() + f"# {marker}\n")
                wait_for_page(f"http://127.0.0.1:{port}/{page}/", verified(marker), 120, POLL)
                seconds.append(time.perf_counter() - started)
                time.sleep(1.0)
            return seconds
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
