"""Tools the tests and the bench use to build, serve and measure the site; never imported by the hook or scripts/site.
May import ``scripts.gate`` and ``scripts.site``; nothing imports it but ``tests/`` and ``scripts/bench/``."""
