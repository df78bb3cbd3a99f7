"""What a check says: the status of each target, the errors, the diff, the summary, and its
progress while it runs."""

from __future__ import annotations

import difflib
import sys
import threading
import time
from dataclasses import dataclass
from enum import StrEnum


class SnippetError(Exception):
    """A snippet could not produce a usable output; the message names the file."""


class Status(StrEnum):
    """How one target came out.  A ``StrEnum``: it prints and compares as its word."""

    PASSED = "passed"  # ran, and printed exactly the expected output
    CACHED = "cached"  # a recorded pass whose key still matches: not rerun
    UPDATED = "updated"  # (update) the expected output was rewritten from this run
    UNCHANGED = "unchanged"  # (update) the run printed what was already expected
    FAILED = "failed"  # drift, or no usable output: ``detail`` says which


@dataclass
class Outcome:
    snippet: str  # the target's path relative to the project root
    status: Status
    detail: str = ""
    seconds: float = 0.0  # wall time of the run (0: not run)
    cpu: float = 0.0  # its CPU seconds, for make bench's lower bound

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED


def tail(text: str, lines: int = 40) -> str:
    """The end of a long stderr (a traceback's useful part is last), indented."""
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept)


def drift_report(rel: str, out_rel: str, shown_on: list[str], expected: bytes, actual: bytes) -> str:
    """A unified diff of expected vs actual output, naming the file and where it is shown."""
    diff = difflib.unified_diff(
        expected.decode("utf-8", "replace").splitlines(keepends=True),
        actual.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{out_rel} (expected, committed)", tofile=f"{rel} (actual output)",
    )
    body = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)
    return (f"{rel}: output differs from {out_rel}\n  shown on: {', '.join(shown_on or ['(no page includes it)'])}\n"
            f"  accept the new output with: make update SNIPPET={rel}\n{body}")


def summary(outcomes: list[Outcome]) -> str:
    """One line per target, then each failure in full, then a closing count."""
    lines = [f"{o.status.upper():9} {o.snippet}" + (f"  ({o.seconds:.2f} s)" if o.seconds else "")
             for o in outcomes]
    for failure in (o.detail for o in outcomes if o.status is Status.FAILED):
        lines += ["", failure.rstrip("\n")]
    counts = {s: sum(o.status is s for o in outcomes) for s in Status}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    ran = sum(o.seconds > 0 for o in outcomes)
    rerun = "all cached, nothing rerun" if counts[Status.CACHED] == len(outcomes) else f"{ran} run"
    return "\n".join([*lines, "", f"{len(outcomes)} checked: {tally}; {rerun}"])


def say(text: str) -> None:
    print(f"snippet gate: {text}", file=sys.stderr, flush=True)


class Progress:
    """What a long check says while it runs: each target as it is judged, and, after
    ``every`` seconds without news, how far it is (a cold check seeds models and runs targets
    of a minute: it is never silent for longer).  A context manager; ``done`` is the
    ``on_done`` of ``check``."""

    def __init__(self, total: int, every: float = 10.0):
        self.total, self.every, self.count = total, every, 0
        self.started = self.last = time.monotonic()
        self.stop, self.lock = threading.Event(), threading.Lock()

    def __enter__(self) -> Progress:
        threading.Thread(target=self.heartbeat, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()

    def done(self, outcome: Outcome) -> None:
        with self.lock:
            self.count, self.last = self.count + 1, time.monotonic()
            say(f"[{self.count}/{self.total}] {outcome.status} {outcome.snippet} ({outcome.seconds:.1f} s)")

    def heartbeat(self) -> None:
        while not self.stop.wait(1.0):
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                step = "seeding the offline models, starting" if self.count == 0 else "running"
                say(f"still checking: {self.count} of {self.total} done after {now - self.started:.0f} s ({step})")
