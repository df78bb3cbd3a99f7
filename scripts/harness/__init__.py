"""Tools the tests and the bench use to build, serve and measure the site (never the hook's).
May import ``scripts.gate`` and ``scripts.site``; only ``tests/`` and ``scripts/bench/`` import it."""
