"""``python -m scripts.bench`` (``make bench``): runs the measurements in order and prints them
(what they are: ``scripts/bench/__init__.py``)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from scripts import gate
from scripts.bench import REPEATS, gate_costs, site_costs, vector_db
from scripts.bench.gate_costs import EDITED, LLM_EDITED
from scripts.gate import ROOT
from scripts.gate.run import numerics
from scripts.harness import lighthouse
from scripts.site import labs

TARGET_SECONDS = 60  # a target's cold run on one thread (issue 27)


def print_gate_costs(floor, llm_floor, imports, cold, outcomes, warm, warm_outcomes, rerun, edits) -> None:
    """The floors, the checks against the lower bound, the rerun, the edits under serve, each target's cold run."""
    first_edit, serve_edit, llm_edit, llm_run_edit = edits
    cached = sum(o.status == "cached" for o in warm_outcomes)
    slowest, spread = gate_costs.lower_bound(outcomes, imports)
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
    print(f"\ncold run of each target, last cold check (one thread each, two at a time; target <= {TARGET_SECONDS} s)")
    for outcome in sorted(outcomes, key=lambda o: -o.seconds):
        over = f"  over {TARGET_SECONDS} s" if outcome.seconds > TARGET_SECONDS else ""
        print(f"  {outcome.snippet:40}{outcome.seconds:7.2f} s{over}")


def print_numerics_costs(outcomes, margins: float, perturbed) -> None:
    """The perturbed reruns' cost, and, where they run on this CPU's own (unpinned) kernels,
    the pinned float path's CPU cost against them, over the same targets."""
    rerun = [o for o in perturbed if o.cpu]
    pinned = {o.snippet: o.cpu for o in outcomes}
    path = numerics.described("perturbed")
    print(f"\n{'margins: perturbed reruns':34}{margins:7.2f} s  ({len(rerun)} float targets rerun, on {path})")
    if not numerics.NUMERICS["perturbed"] and rerun:
        own, held = sum(o.cpu for o in rerun), sum(pinned.get(o.snippet, 0.0) for o in rerun)
        print(f"{'pinned AVX2 path vs own kernels':34}{held / own:7.2f}x  (CPU seconds of those targets: "
              f"{held:.1f} pinned, {own:.1f} unpinned)")


def print_vector_db() -> None:
    """Milvus Lite's query times; the heading first, as the timing takes a while."""
    print("\nvector search, 100,000 vectors, Milvus Lite (ms per query, best of "
          f"{REPEATS} rounds of 100 queries)")
    for name, ms in vector_db.vector_query_ms().items():
        print(f"  {name:32}{ms:7.2f} ms")


def print_hook_builds() -> None:
    """Warm builds with and without the hook: the hook's own cost, and the lab pages' rendering."""
    with_hook, same_pages, bare = site_costs.hook_build_seconds()
    print(f"\n{'warm mkdocs build with hook':34}{with_hook:7.2f} s  (median of {REPEATS})")
    print(f"{'same pages, without hook':34}{same_pages:7.2f} s  (what the hook generates put in docs/)")
    print(f"{'with / without hook':34}{with_hook / same_pages:7.2f}x  (target <= 1.2x)")
    print(f"{'bare build without hook':34}{bare:7.2f} s  (no lab pages: {with_hook / bare:.2f}x, "
          f"which adds mkdocs-jupyter's rendering of {len(labs.build(ROOT))} notebooks)")


def print_lighthouse_table(site: Path) -> None:
    """Each page's row as soon as Lighthouse has audited it (a page takes seconds)."""
    if why := lighthouse.problem():
        print(f"lighthouse: not measured ({why})")
        return
    heading = f"page (Lighthouse {lighthouse.VERSION}, mobile)"
    print(f"\n{heading:44}{'perf':>5}{'KiB':>7}  (targets: >= 95, <= 150)")
    for path, report in site_costs.lighthouse_reports(site):
        print(f"  {path:42}{report.scores['performance']:>5}{report.transferred / 1024:>7.0f}")


def print_executions_and_widget() -> None:
    """On one warm build (in this process): what it executed, against one lab run as the
    control; then that site's Lighthouse table and its tokenizer widget's figures."""
    with tempfile.TemporaryDirectory() as tmp:
        in_build = site_costs.executions_during(lambda: site_costs.warm_build(Path(tmp) / "site"))
        control = site_costs.executions_during(lambda: site_costs.execute_one_lab(Path(tmp)))
        widget = site_costs.widget_figures(Path(tmp) / "site")
        playground = site_costs.playground_figures(Path(tmp) / "site")
        print_lighthouse_table(Path(tmp) / "site")
    print(f"{'warm build executes':34}{in_build['kernels started']:7} notebooks"
          f"  ({in_build['kernels started']} kernels started, {in_build['gate runs']} gate runs;"
          f" control, one lab run with nbclient: {control['kernels started']} kernel)")
    if widget is None:
        print("tokenizer widget: not measured (no Chromium; see README)")
        return
    print(f"{'widget data transferred':34}{widget['bytes'] / 1e6:7.2f} MB  (first use; target < 1.5 MB)")
    print(f"{'widget time to ready':34}{widget['ready']:7.0f} ms  (fetch, gunzip, build the rank table)")
    print(f"{'widget encode 10 KB, first time':34}{widget['first']:7.1f} ms  "
          f"({widget['chars']} characters, {widget['utf8']} UTF-8 bytes, {widget['tokens']} tokens; target < 50 ms)")
    print(f"{'widget encode 10 KB, again':34}{widget['again']:7.1f} ms  (median of 5, pieces cached)")
    for visit, figures in playground.items():
        print(f"{'playground, model ' + visit:34}{figures['first'] / 1000:7.1f} s  to the first distribution after the"
              f" click; {figures['before'] / 1e6:.2f} MB before the click, {figures['after'] / 1e6:.1f} MB after")
    print(f"{'playground, one added token':34}{playground['cached']['perStep']:7.0f} ms  "
          f"({1000 / playground['cached']['perStep']:.1f} tokens/s; two engine requests a token, one thread)")


def gate_part() -> int:
    """The gate's costs: floors and cold checks, margins, reruns, edits under serve, vector search."""
    gate.Project.load(ROOT).seed()  # on a fresh clone the floors' model loads need the seeded caches first
    floor, llm_floor, imports, cold, outcomes, warm, warm_outcomes = gate_costs.medians_of_floors_and_cold_checks()
    print(gate.summary(outcomes))
    if not all(o.ok for o in outcomes):
        print("bench: the check failed; fix it first", file=sys.stderr)
        return 1
    margins, perturbed = gate_costs.margins_costs()
    rerun = gate_costs.rerun_seconds()
    edits = gate_costs.serve_edit_seconds()
    print_gate_costs(floor, llm_floor, imports, cold, outcomes, warm, warm_outcomes, rerun, edits)
    print_numerics_costs(outcomes, margins, perturbed)
    print_vector_db()
    return 0


def site_part() -> int:
    """The site's costs: builds with and without the hook, Lighthouse, the widget, the playground."""
    gate.Project.load(ROOT).seed()
    print_hook_builds()
    print_executions_and_widget()
    return 0


PARTS = {"gate": gate_part, "site": site_part}  # ``make bench PART=site``: one part (the gate's takes ~30 min)


def main(parts: list[str]) -> int:
    unknown = [name for name in parts if name not in PARTS]
    if unknown:
        print(f"bench: no part named {', '.join(unknown)}; the parts: {', '.join(PARTS)}", file=sys.stderr)
        return 2
    for name in parts or PARTS:
        if failed := PARTS[name]():
            return failed
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
