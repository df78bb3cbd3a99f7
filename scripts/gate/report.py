"""What a check says: the status of each target, the errors, the diff, the summary."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

# What a terminal or a log viewer acts on instead of showing: C0 and C1 controls (ESC starts
# colour, cursor, title and clipboard sequences; CR overwrites a line), DEL, and the Unicode
# marks that reorder or hide text (bidi overrides and isolates, zero-width characters).
UNSEEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def visible(text: str) -> str:
    """``text`` safe to print to a terminal or a CI log: each control character written as
    its escape (newlines and tabs kept), so a report can quote what a run printed, or a
    file's name, and never forge a line, colour it, hide it or reach the clipboard.

    >>> visible("PASSED\\r\\x1b[2KFAILED \\u202eexe.txt\\n")
    'PASSED\\\\r\\\\x1b[2KFAILED \\\\u202eexe.txt\\n'
    """
    return UNSEEN.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), text)


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


def fragile_report(rel: str, out_rel: str, recorded: bytes, perturbed: bytes, path: str) -> str:
    """An output that another float code path (``path``: its settings, in words) prints
    differently: the first line that differs, and what the author can do about it."""
    old, new = (data.decode("utf-8", "replace").splitlines() for data in (recorded, perturbed))
    line = next((n for n, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    shown = lambda lines: repr(lines[line]) if line < len(lines) else "(no such line)"  # noqa: E731
    return (f"{rel}: line {line + 1} of its output ({out_rel}) depends on the CPU's float code path\n"
            f"  on the pinned code path:  {shown(old)}\n"
            f"  on another code path:     {shown(new)}\n"
            f"  (another path: {path})\n"
            "  a value this close to a rounding boundary may print differently on another machine: round it\n"
            "  coarser, or choose data whose values are far from a boundary; then: make update "
            f"SNIPPET={rel}")


def summary(outcomes: list[Outcome]) -> str:
    """One line per target, then each failure in full, then a closing count."""
    lines = [f"{o.status.upper():9} {visible(o.snippet)}" + (f"  ({o.seconds:.2f} s)" if o.seconds else "")
             for o in outcomes]
    for failure in (o.detail for o in outcomes if o.status is Status.FAILED):
        lines += ["", visible(failure.rstrip("\n"))]
    counts = {s: sum(o.status is s for o in outcomes) for s in Status}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    ran = sum(o.seconds > 0 for o in outcomes)
    rerun = "all cached, nothing rerun" if counts[Status.CACHED] == len(outcomes) else f"{ran} run"
    return "\n".join([*lines, "", f"{len(outcomes)} checked: {tally}; {rerun}"])

