"""Code that runs inside the sandboxed child process, never in the gate's own.
Imports the standard library (and IPython, for labs) only: never the project's code.

This folder is put on the child's ``PYTHONPATH``, so its modules load there as top-level
modules (``sitecustomize``, ``forkserver_main``, ``lab_exec``): they use the standard
library only (and IPython, for labs), never the project's code.  The gate imports them as
``scripts.gate.run.child.*`` only to read their constants; importing has no side effect.

Like every file under ``run/``, everything here is part of every cache key (``run.FILES``):
changing how a child runs reruns every check.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
