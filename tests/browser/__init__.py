"""Tests that drive Debian's Chromium against the built, served site.
May import ``scripts.harness`` and ``tests.conftest``."""
