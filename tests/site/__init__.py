"""Tests of the MkDocs side: the hook, the real site and broken copies of it, figures, labs.
May import ``scripts.site``, ``scripts.harness`` and ``tests.conftest``."""
