"""The project's own code: ``gate/`` (the snippet gate, knowing nothing of the site),
``site/`` (the MkDocs side, importing the gate), ``harness/`` and ``bench/`` (tests' and the
bench's tools, importing both) and ``mkdocs_hook.py`` (thin, imports ``site/``)."""
