"""While serving: the first page at once from what the cache says, the rest verified in the background.

``mkdocs serve`` must not wait for a cold check (minutes on a fresh clone) before its first
page.  A serving build takes the outcomes the cache holds (``gate.known``); every target it
holds none for is *verifying*: the pages that show it say so, and one background thread
checks them, printing its progress.  When that check ends, the thread writes a file the
server watches (``on_serve``), so the site rebuilds with the verdicts and the browser
reloads.  ``mkdocs build`` never comes here: it checks everything first, and nothing
unverified is ever published.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from scripts.gate import Outcome, Project, SeedError, SnippetError, Status, Target, check, summary
from scripts.gate.progress import Progress, say


class Verifier:
    """One background check at a time, and what it found.  ``last`` maps a key (as
    ``gate.known`` gave it) to the outcome its check had: a failure the cache does not keep
    (a timeout) is then not retried until something in its key changes."""

    def __init__(self):
        self.last: dict[str, Outcome] = {}
        self.signal: Path | None = None  # the file the server watches; set by ``watch``
        self.server = None
        self.watched_at = 0.0
        self.thread: threading.Thread | None = None
        self.finished = False  # a check has ended (before the server watched, perhaps)
        self.lock = threading.Lock()  # hands a check's end either to a waiting build or to a rebuild
        self.build_waits = False
        self.handed = False  # the last check's end went to the build that waited for it

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def resolve(self, pending: list[tuple[Target, str]]) -> tuple[list[Outcome], list[tuple[Target, str]]]:
        """The pending targets this verifier has already judged under the same key, and the rest."""
        seen = [self.last[key] for _, key in pending if key in self.last]
        return seen, [(target, key) for target, key in pending if key not in self.last]

    def start(self, project: Project, pending: list[tuple[Target, str]]) -> None:
        """Check ``pending`` in the background, unless a check is running (its end rebuilds the
        site, and that build starts the next check for whatever is still pending)."""
        if self.busy or not pending:
            return
        say(f"serving the committed outputs; verifying {len(pending)} of {len(project.targets)} in the background "
            "(pages that show them say so until then)")
        self.handed = False
        self.thread = threading.Thread(target=self.work, args=(project, pending), daemon=True)
        self.thread.start()

    def work(self, project: Project, pending: list[tuple[Target, str]]) -> None:
        """The check, whatever happens: its verdicts are kept, and the site is rebuilt (unless
        the build that started it is still waiting for it, and shows them itself)."""
        try:
            self.judged(project, pending)
        finally:
            with self.lock:
                self.finished, self.handed = True, self.build_waits
            if not self.handed:
                self.ring()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the running check (a build, after a save: a quick snippet
        then shows verified on this very rebuild); True if it ended, and its verdicts are this
        build's to show."""
        with self.lock:
            self.build_waits = True
        self.thread.join(seconds)
        with self.lock:
            self.build_waits = False
            return self.handed

    def judged(self, project: Project, pending: list[tuple[Target, str]]) -> None:
        try:
            with Progress(len(pending)) as progress:
                outcomes = check(project, [target for target, _ in pending], progress=progress)
        except (SeedError, SnippetError, OSError, ValueError) as err:  # a missing model; a file deleted meanwhile
            say(f"could not verify: {type(err).__name__}: {err}")  # failed on the page until an edit changes its key
            outcomes = [Outcome(t.rel, Status.FAILED, f"{t.rel}: not verified: {err}") for t, _ in pending]
        self.last.update({key: outcome for (_, key), outcome in zip(pending, outcomes, strict=True)})
        report = summary(outcomes)
        if any(not outcome.ok for outcome in outcomes):
            print(f"\nsnippet gate failed (still serving)\n{report}\n", file=sys.stderr, flush=True)
        else:
            say(report.splitlines()[-1])

    def watch(self, server, folder: Path) -> None:
        """Have the server rebuild the site when a check ends (``on_serve``)."""
        folder.mkdir(parents=True, exist_ok=True)
        self.signal, self.server, self.watched_at = folder / "verified", server, time.monotonic()
        server.watch(str(folder))
        if self.finished:  # a check that ended before the server watched
            self.ring()

    def ring(self) -> None:
        """Touch the watched file, once the server's file watcher runs: a change made before
        it takes its first look would go unseen (a check can end before the server starts)."""
        if self.server is None:
            return  # ``watch`` rings when the server comes
        threading.Thread(target=self.ring_when_watched, daemon=True).start()

    def ring_when_watched(self) -> None:
        while not self.server.observer.is_alive():
            time.sleep(0.2)
        if time.monotonic() - self.watched_at < 2.0:
            time.sleep(1.0)  # the watcher's first snapshot of the folder, just after the server started
        self.signal.write_text(f"{time.time()}\n")
