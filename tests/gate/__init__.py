"""Tests of the snippet gate on throwaway projects: cache, errors, sandbox, fork server, layout.
May import ``scripts.gate`` and ``tests.conftest``."""
