"""What a long check says while it runs (apart from ``report``, whose wording is part of every
cache key: saying more while running never reruns a check)."""

from __future__ import annotations

import sys
import threading
import time

from scripts.gate.report import Outcome, visible


def say(text: str) -> None:
    print(f"snippet gate: {visible(text)}", file=sys.stderr, flush=True)


class Progress:
    """What a long check says while it runs: each target as it is judged, and, after
    ``every`` seconds without news, how far it is and what runs longest (a cold check seeds
    models and runs targets of a minute: it is never silent for longer).  A context manager,
    handed to ``check`` or ``update``, which call ``started`` and ``done``."""

    def __init__(self, total: int, every: float = 10.0):
        self.total, self.every, self.count = total, every, 0
        self.began = self.last = time.monotonic()
        self.running: dict[str, float] = {}  # target -> when its run started
        self.stop, self.lock = threading.Event(), threading.Lock()

    def __enter__(self) -> Progress:
        threading.Thread(target=self.heartbeat, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()

    def started(self, rel: str) -> None:
        with self.lock:
            self.running[rel] = time.monotonic()

    def more(self, count: int) -> None:
        """``count`` more runs than announced (``margins``: the perturbed reruns, once known)."""
        with self.lock:
            self.total += count

    def done(self, outcome: Outcome) -> None:
        with self.lock:
            self.count, self.last = self.count + 1, time.monotonic()
            self.running.pop(outcome.snippet, None)
            say(f"[{self.count}/{self.total}] {outcome.status} {outcome.snippet} ({outcome.seconds:.1f} s)")

    def heartbeat(self) -> None:
        while not self.stop.wait(1.0):
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                elapsed = now - self.began
                say(f"still checking: {self.count} of {self.total} done after {elapsed:.0f} s; {self.longest(now)}")

    def longest(self, now: float) -> str:
        with self.lock:
            running = sorted(self.running.items(), key=lambda item: item[1])[:2]
        if not running:
            return "seeding the offline models, starting" if self.count == 0 else "finishing"
        return "running longest: " + ", ".join(f"{rel} ({now - since:.0f} s)" for rel, since in running)
