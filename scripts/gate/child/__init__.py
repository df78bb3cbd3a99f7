"""Code that runs inside the sandboxed child process, never in the gate's own.

This folder is put on the child's ``PYTHONPATH``, so its modules load there as top-level
modules (``sitecustomize``, ``forkserver_main``, ``lab_exec``): they use the standard
library only (and IPython, for labs), never the project's code.  The gate imports them as
``scripts.gate.child.*`` only to read their constants; importing has no side effect.

Everything in this folder is part of every cache key (``cache.run_files``): changing how a
child runs reruns every check.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
