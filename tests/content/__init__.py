"""Tests of what the pages say: one per snippet, the nav, the page rules.
May import ``scripts.gate`` and ``tests.conftest``."""
