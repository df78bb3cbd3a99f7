"""The tests, mirroring ``scripts/``: ``gate/``, ``site/``, ``content/``, ``browser/``.
May import anything in ``scripts/``; fixtures live in ``conftest.py``."""
