"""``make bench``: what the gate and the site cost, measured in one run on this machine.
May import ``scripts.gate``, ``scripts.site`` and ``scripts.harness``; nothing imports it.

Prints, as medians of three rounds that interleave them: two floors (one sandboxed process
that imports, loads all-MiniLM-L6-v2 and encodes once; the same for SmolLM2-135M-Instruct
and one token), the import the fork server pays once, and a cold check (empty result cache,
no fork server: every snippet and lab runs), set against its lower bound (the slowest run
plus one import, or all runs plus one import spread over the cores, whichever is larger).
Then a warm check, a one-snippet rerun with the fork server warm, the time from saving a
snippet to its rebuilt page under ``mkdocs serve`` (MiniLM, SmolLM2's tokenizer, SmolLM2
generating), each target's run in the last cold check, Milvus Lite's query times (exact and
HNSW), a warm ``mkdocs build`` with the gate's hook against the same build without it,
Lighthouse's mobile performance and KiB per page, how many notebooks a warm build executes
(none: labs are rendered from the verified outputs), and the tokenizer widget in Chromium:
bytes transferred on first use, time to ready, and time to encode 10 KB of text.
A benchmark, not a test: the numbers are for reading and comparing, never asserted.

``__main__`` runs the measurements in that order and prints them; they live in
``gate_costs`` (floors, cold and warm checks, the lower bound, edits under ``mkdocs serve``),
``site_costs`` (builds with and without the hook, Lighthouse, the widget, what a build
executes) and ``vector_db`` (Milvus Lite).  May import ``scripts.gate``, ``scripts.site``
and ``scripts.harness``; nothing imports it.
"""

from __future__ import annotations

import time

REPEATS = 3


def timed(action) -> tuple[float, object]:
    """Wall seconds ``action()`` took, and what it returned."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result
