"""Run a notebook top to bottom in a fresh Jupyter kernel and print it, executed, as JSON.

What a reader does with a lab's download, done where contributed code may run: the tests
hand this file to the gate's executor (``run.run``), so the kernel runs in the sandbox,
offline, under the lab's caps, and never in pytest's own process.  Usage:
``python notebook_run.py NOTEBOOK`` (stdout: the executed notebook; a cell that raises
ends it with exit code 1 and the error on stderr).
"""

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(path: str) -> int:
    notebook = nbformat.read(path, as_version=4)
    try:
        NotebookClient(notebook, timeout=180, kernel_name="python3").execute()
    except CellExecutionError as err:
        print(err, file=sys.stderr)
        return 1
    sys.stdout.write(nbformat.writes(notebook))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
