"""``make bench-newcomer``: the README's quick start, timed as a newcomer meets it.

On a fresh clone of ``HEAD`` in a temporary folder (shared caches of pip, uv and npm are the
machine's, as for anyone who installed something before): ``make venv``, then ``make serve``
until the home page answers, then ``make test`` (``NO_TEST=1`` leaves it out: it takes as long
as the suite).  Standard library only, so it runs before any venv exists.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# As a newcomer's shell has it: nothing of the make that started this bench.
ENV = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(command: list[str], cwd: Path, log: Path) -> float:
    """Wall seconds of ``command``, its output kept in ``log``; a failure stops the bench."""
    started = time.perf_counter()
    with open(log, "wb") as out:
        done = subprocess.run(command, cwd=cwd, env=ENV, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"bench-newcomer: {' '.join(command)} failed; its log: {log}")
    return time.perf_counter() - started


def first_page_seconds(clone: Path, log: Path) -> float:
    """From ``make serve`` to the home page answering (the venv is already there)."""
    started, port = time.perf_counter(), free_port()
    with open(log, "wb") as out:
        server = subprocess.Popen(["make", "serve", f"SERVE_ADDRESS=127.0.0.1:{port}"], cwd=clone, env=ENV,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    if page.status == 200 and b"Study LLM" in page.read():  # this site, not another server's
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.5)
        sys.exit(f"bench-newcomer: make serve exited; its log: {log}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main() -> None:
    logs = Path(tempfile.mkdtemp(prefix="bench-newcomer-logs-"))
    with tempfile.TemporaryDirectory(prefix="bench-newcomer-") as tmp:
        clone = Path(tmp) / "clone"
        seconds = {"clone": timed(["git", "clone", "--quiet", str(ROOT), str(clone)], Path(tmp), logs / "clone.log")}
        seconds["make venv"] = timed(["make", "venv"], clone, logs / "venv.log")
        seconds["make serve -> first page"] = first_page_seconds(clone, logs / "serve.log")
        if not os.environ.get("NO_TEST"):
            seconds["make test"] = timed(["make", "test"], clone, logs / "test.log")
        size = subprocess.run(["du", "-sh", str(clone / ".venv")], capture_output=True, text=True).stdout.split()[0]
    print(f"fresh clone of {ROOT.name} HEAD, {os.cpu_count()} cores (logs: {logs})")
    for step, value in seconds.items():
        print(f"  {step:28}{value:8.1f} s  ({value / 60:.1f} min)")
    first = seconds["make venv"] + seconds["make serve -> first page"]
    print(f"  {'clone -> first page':28}{first:8.1f} s  (target: 5 min, venv included)  venv: {size}")


if __name__ == "__main__":
    main()
