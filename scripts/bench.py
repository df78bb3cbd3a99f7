"""``make bench``: what the snippet gate costs, measured in one run on this machine.

Prints, as medians of three rounds that interleave them: two floors (one sandboxed process
that imports, loads all-MiniLM-L6-v2 and encodes once; the same for SmolLM2-135M-Instruct
and one token), the import the fork server pays once, and a cold check (empty result cache,
no fork server: every snippet and lab runs), set against its lower bound (the slowest run
plus one import, or all runs plus one import spread over the cores, whichever is larger).
Then a warm check, a one-snippet rerun with the fork server warm, the time from saving a
snippet to its rebuilt page under ``mkdocs serve`` (MiniLM, SmolLM2's tokenizer, SmolLM2
generating), a warm ``mkdocs build`` with the gate's hook against the same build without
it, how many notebooks a warm build executes (none: labs are rendered from the verified
outputs), and the tokenizer widget in Chromium: bytes transferred on first use, time to
ready, and time to encode 10 KB of text.
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

import numpy as np

from scripts import gate
from scripts.gate import cache, forkserver, runner, seed, settings
from scripts.site import builder, figures, labs, lighthouse, tokenizer_data
from scripts.site.static_server import serving

ROOT = gate.ROOT
REPEATS = 3


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def build_seconds(config: Path, site: Path) -> float:
    """Median wall time of ``mkdocs build`` with one config, after one warm-up build."""
    runs = []
    for _ in range(REPEATS + 1):
        seconds, result = timed(lambda: builder.build(config.parent, site, "-f", str(config)))
        if result.returncode != 0:
            raise RuntimeError(f"mkdocs build -f {config.name} failed:\n{result.stderr[-2000:]}")
        runs.append(seconds)
    return statistics.median(runs[1:])


def counting(counts: dict, key: str, original):
    def counted(*args, **kwargs):
        counts[key] += 1
        return original(*args, **kwargs)
    return counted


def executions_during(action) -> dict[str, int]:
    """Run ``action`` in this process, counting Jupyter kernel starts and gate runs."""
    from jupyter_client.manager import KernelManager

    counts = {"kernels started": 0, "gate runs": 0}
    patched = [(KernelManager, "_async_launch_kernel", "kernels started"), (runner, "run_snippet", "gate runs")]
    originals = [getattr(owner, name) for owner, name, _ in patched]
    for owner, name, key in patched:
        setattr(owner, name, counting(counts, key, getattr(owner, name)))
    try:
        action()
    finally:
        for (owner, name, _), original in zip(patched, originals):
            setattr(owner, name, original)
    return counts


def without_hook(dest: Path, bare: bool) -> Path:
    """A config for the same build without the hook, in a copy of the sources.  ``bare``:
    nothing more (the lab pages, which the hook generates, are then missing: the nav may name
    them).  Otherwise what the hook generates (figures, lab notebooks, tokenizer data) is put
    into ``docs/`` first, so both builds render the same pages and the ratio is the hook's own
    cost.  Both builds are strict."""
    builder.copy_sources(dest)
    if not bare:
        generated = {**{f"assets/figures/{name}": svg for name, svg in figures.build(ROOT).items()},
                     **{f"labs/{name}.ipynb": path.read_bytes() for name, path in labs.build(ROOT).items()},
                     **{tokenizer_data.site_path(name): tokenizer_data.build(ROOT, name)
                        for name in tokenizer_data.URLS}}
        for relative, content in generated.items():
            (dest / "docs" / relative).parent.mkdir(parents=True, exist_ok=True)
            (dest / "docs" / relative).write_bytes(content)
    missing_labs = "validation:\n  nav:\n    not_found: info\n  links:\n    not_found: info\n" if bare else ""
    (dest / "no-hook.yml").write_text(f"INHERIT: mkdocs.yml\nhooks: []\n{missing_labs}")
    return dest / "no-hook.yml"


def warm_build(site: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site)))


def execute_one_lab(scratch: Path) -> None:
    """The control: running one lab notebook must show up in the counts."""
    from nbclient import NotebookClient

    notebook = labs.notebook(labs.discover(ROOT)[-1])
    NotebookClient(notebook, kernel_name="python3").execute(env=runner.environment(ROOT, scratch))


WIDGET_JS = """async (text) => {
  const widget = document.querySelector('.tokenizer-widget');
  widget.scrollIntoView();
  const encoder = await window.studyLLMTokenizer.load();
  const [start] = performance.getEntriesByName('tokenizer-load-start');
  const [ready] = performance.getEntriesByName('tokenizer-ready');
  const [data] = performance.getEntriesByType('resource').filter(r => r.name.includes('cl100k_base'));
  const time = (f) => { const t0 = performance.now(); f(); return performance.now() - t0; };
  const first = time(() => encoder.encode(text));
  const again = [1, 2, 3, 4, 5].map(() => time(() => encoder.encode(text))).sort((a, b) => a - b)[2];
  return {bytes: data.transferSize, ready: ready.startTime - start.startTime, first, again,
          tokens: encoder.encode(text).length};
}"""


def lighthouse_table(site: Path) -> None:
    """Lighthouse performance (mobile preset) and bytes transferred on first visit, per page,
    served with gzip.  Printed, never asserted: the score moves with the machine's load."""
    if why := lighthouse.problem():
        print(f"lighthouse: not measured ({why})")
        return
    print(f"\n{'page (Lighthouse ' + lighthouse.VERSION + ', mobile)':44}{'perf':>5}{'KiB':>7}  (targets: >= 95, <= 150)")
    with serving(site) as url:
        for path in lighthouse.pages(site):
            report = lighthouse.audit(url + path.lstrip("/"), ["performance"])
            print(f"  {path:42}{report.scores['performance']:>5}{report.transferred / 1024:>7.0f}")


def widget_figures(site: Path) -> dict | None:
    """Open the tokens page in Chromium (if installed) and time the widget, cold."""
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return None
    from playwright.sync_api import sync_playwright

    from scripts.site.tokenizer_cases import sample_text

    with serving(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        page.goto(url + "llms/tokens/", wait_until="networkidle")
        text = sample_text(10_000)
        figures = page.evaluate(WIDGET_JS, text)
        figures["chars"], figures["utf8"] = len(text), len(text.encode())
        browser.close()
    return figures


FLOOR = """from sentence_transformers import SentenceTransformer
model = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
model.encode(["The floor: one import, one model load, one encode."])
"""
LLM_FLOOR = """from transformers import AutoModelForCausalLM, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")
model.generate(**tokenizer("The floor:", return_tensors="pt"), max_new_tokens=1, do_sample=False)
"""
IMPORTS = "import " + ", ".join(sorted({m for family in settings.FORK_FAMILIES.values() for m in family}))
EDITED = "snippets/tiny_retrieval.py"  # the model-using snippet the edit timings touch
LLM_EDITED = "snippets/tokenizers_compared.py"  # loads SmolLM2's tokenizer (and two others)


def floor_seconds(code: str) -> float:
    """One sandboxed process: import, model load, one encode or token (what any check that
    uses that model must pay at least)."""
    seconds, run = timed(lambda: runner.plain_run(ROOT, ["-c", code], 300))
    if run.returncode != 0:
        raise RuntimeError(f"the floor script failed:\n{run.stderr}")
    return seconds


def cold_and_warm_checks():
    """A cold check (empty result cache, no fork server running), then a warm one."""
    results = cache.results_dir(ROOT)
    saved = results.with_name("snippet-results.bench-saved")
    if results.exists():
        results.rename(saved)  # keep the developer's cache; the cold run needs an empty one
    forkserver.close_all()
    try:
        cold, outcomes = timed(lambda: gate.check(ROOT))
        warm, warm_outcomes = timed(lambda: gate.check(ROOT))
    finally:
        if saved.exists():
            shutil.rmtree(results, ignore_errors=True)
            saved.rename(results)
    return cold, outcomes, warm, warm_outcomes


def wait_for(url: str, marker: str, seconds: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if marker in urllib.request.urlopen(url, timeout=5).read().decode():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} never showed {marker!r}")


EDITS = [(EDITED, "building/rag"), (EDITED, "building/rag"), (LLM_EDITED, "llms/tokens"),
         ("snippets/next_token_llm.py", "llms/next-token")]


def serve_edit_seconds(folder: Path) -> list[float]:
    """Under a real ``mkdocs serve``: save an edit to a snippet and time until the rebuilt
    page shows it, for each of ``EDITS``.  The first save may still wait for the fork
    server, which starts importing after the first build; the rest are the editing loop."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "STUDY_LLM_CACHE": str(settings.cache_root(ROOT))}
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"], cwd=folder,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/building/rag/", "tiny_retrieval.py", 300)
        time.sleep(1.0)  # let the watcher settle after the first build
        seconds = []
        for number, (rel, page) in enumerate(EDITS):
            snippet, started = folder / rel, time.perf_counter()
            snippet.write_text(snippet.read_text() + f"# edit {number} by make bench\n")
            wait_for(f"http://127.0.0.1:{port}/{page}/", f"edit {number} by make bench")
            seconds.append(time.perf_counter() - started)
            time.sleep(1.0)
        return seconds
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


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


def vector_query_ms(n: int = 100_000, dim: int = 16, queries: int = 100) -> dict[str, float]:
    """Milliseconds per query at n synthetic vectors (as in snippets/vector_db_scaling.py):
    exact search (a FLAT index scores every vector) against HNSW at two ``ef``.  Timings
    belong here, not in the snippet's output, which must be the same on every run."""
    from pymilvus import DataType, MilvusClient

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        client = MilvusClient(str(Path(tmp) / "bench.db"))
        times = {}
        for index_type, efs in (("FLAT", [None]), ("HNSW", [10, 64])):
            schema = client.create_schema()
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            client.create_collection(index_type, schema=schema)
            client.insert(index_type, [{"id": i, "vector": v} for i, v in enumerate(vectors.tolist())])
            client.flush(index_type)
            index = client.prepare_index_params()
            index.add_index("vector", index_type=index_type, metric_type="COSINE")
            client.create_index(index_type, index)
            client.load_collection(index_type)
            for ef in efs:
                params = {"params": {"ef": ef}} if ef else {}
                seconds = min(timed(lambda: [client.search(index_type, [q], limit=10, search_params=params)
                                             for q in vectors[:queries].tolist()])[0] for _ in range(REPEATS))
                times[index_type + (f" ef={ef}" if ef else " (exact)")] = 1000 * seconds / queries
        client.close()
    return times


def main() -> int:
    seed.seed(ROOT)  # on a fresh clone the floors' model loads need the seeded caches first
    floor, llm_floor, imports, cold, outcomes, warm, warm_outcomes = medians_of_floors_and_cold_checks()
    print(gate.summary(outcomes))
    if not all(o.ok for o in outcomes):
        print("bench: the check failed; fix it first", file=sys.stderr)
        return 1
    rerun, _ = timed(lambda: gate.check(ROOT, [ROOT / EDITED], use_cache=False))
    forkserver.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        first_edit, serve_edit, llm_edit, llm_run_edit = serve_edit_seconds(builder.copy_sources(Path(tmp)))
    cached = sum(o.status == "cached" for o in warm_outcomes)
    slowest, spread = lower_bound(outcomes, imports)
    bound = max(slowest, spread)
    print(f"\nmedians of {REPEATS}, floors interleaved with cold checks ({os.cpu_count()} cores)")
    print(f"{'floor: MiniLM import, load, encode':34}{floor:7.2f} s")
    print(f"{'floor: SmolLM2 import, load, 1 token':34}{llm_floor:7.2f} s")
    print(f"{'import of the fork preload':34}{imports:7.2f} s")
    print(f"{'lower bound of a cold check':34}{bound:7.2f} s  (max of: slowest run + import {slowest:.2f} s; "
          f"all runs + import over {os.cpu_count()} cores {spread:.2f} s)")
    print(f"{'cold check, empty cache (' + str(len(outcomes)) + ' run)':34}{cold:7.2f} s  "
          f"({cold / bound:.2f}x the lower bound, target <= 1.3x; {cold / floor:.2f}x the MiniLM floor)")
    print(f"{'warm check (' + str(cached) + ' cached)':34}{warm:7.3f} s  ({cold / warm:.0f}x faster than cold)")
    print(f"{'one-snippet rerun, server warm':34}{rerun:7.2f} s  ({EDITED}; {rerun / floor:.2f}x the floor)")
    print(f"{'serve: save -> rebuilt page':34}{serve_edit:7.2f} s  (edit to {EDITED}; target < 2 s)")
    print(f"{'serve: first save after start':34}{first_edit:7.2f} s  (may wait for the fork server's imports)")
    print(f"{'serve: SmolLM2 tokenizer snippet':34}{llm_edit:7.2f} s  (edit to {LLM_EDITED}; target < 2.5 s)")
    print(f"{'serve: SmolLM2 generation snippet':34}{llm_run_edit:7.2f} s  (edit to snippets/next_token_llm.py, "
          "which itself runs for seconds)")
    print("\ncold run of each target, last cold check (one thread each; target <= 30 s)")
    for outcome in sorted(outcomes, key=lambda o: -o.seconds):
        print(f"  {outcome.snippet:40}{outcome.seconds:7.2f} s{'  over 30 s' if outcome.seconds > 30 else ''}")
    print("\nvector search, 100,000 vectors, Milvus Lite (ms per query, best of "
          f"{REPEATS} rounds of 100 queries)")
    for name, ms in vector_query_ms().items():
        print(f"  {name:32}{ms:7.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        with_hook = build_seconds(ROOT / "mkdocs.yml", Path(tmp) / "a")
        same_pages = build_seconds(without_hook(Path(tmp) / "same", bare=False), Path(tmp) / "b")
        if lighthouse.pages(Path(tmp) / "a") != lighthouse.pages(Path(tmp) / "b"):
            raise RuntimeError("bench: the build without the hook did not render the same pages")
        bare = build_seconds(without_hook(Path(tmp) / "bare", bare=True), Path(tmp) / "c")
    print(f"\n{'warm mkdocs build with hook':34}{with_hook:7.2f} s  (median of {REPEATS})")
    print(f"{'same pages, without hook':34}{same_pages:7.2f} s  (what the hook generates put in docs/)")
    print(f"{'with / without hook':34}{with_hook / same_pages:7.2f}x  (target <= 1.2x)")
    print(f"{'bare build without hook':34}{bare:7.2f} s  (no lab pages: {with_hook / bare:.2f}x, "
          f"which adds mkdocs-jupyter's rendering of {len(labs.build(ROOT))} notebooks)")
    with tempfile.TemporaryDirectory() as tmp:
        in_build = executions_during(lambda: warm_build(Path(tmp) / "site"))
        control = executions_during(lambda: execute_one_lab(Path(tmp)))
        widget = widget_figures(Path(tmp) / "site")
        lighthouse_table(Path(tmp) / "site")
    print(f"{'warm build executes':34}{in_build['kernels started']:7} notebooks"
          f"  ({in_build['kernels started']} kernels started, {in_build['gate runs']} gate runs;"
          f" control, one lab run with nbclient: {control['kernels started']} kernel)")
    if widget is None:
        print("tokenizer widget: not measured (no Chromium; see README)")
        return 0
    print(f"{'widget data transferred':34}{widget['bytes'] / 1e6:7.2f} MB  (first use; target < 1.5 MB)")
    print(f"{'widget time to ready':34}{widget['ready']:7.0f} ms  (fetch, gunzip, build the rank table)")
    print(f"{'widget encode 10 KB, first time':34}{widget['first']:7.1f} ms  "
          f"({widget['chars']} characters, {widget['utf8']} UTF-8 bytes, {widget['tokens']} tokens; target < 50 ms)")
    print(f"{'widget encode 10 KB, again':34}{widget['again']:7.1f} ms  (median of 5, pieces cached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
