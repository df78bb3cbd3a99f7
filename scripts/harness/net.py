"""Waiting on a local dev server: a free port to start it on, and polling a page until it shows
what an edit should have made it show."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable


def free_port() -> int:
    """A port of 127.0.0.1 that is free now, for a server to be started on next."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_page(url: str, predicate: Callable[[str], bool], seconds: float = 90, poll: float = 0.5) -> str:
    """Fetch ``url`` every ``poll`` seconds until its page satisfies ``predicate``; returns that page.
    A server still starting (connection refused) is one more try; after ``seconds``, TimeoutError
    with the last page seen.  The bench polls finely, since the wait is what it times."""
    deadline, last = time.monotonic() + seconds, ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                last = response.read().decode()
            if predicate(last):
                return last
        except OSError:
            pass
        time.sleep(poll)
    raise TimeoutError(f"{url} never matched; last page:\n{last[:2000]}")
