"""The MkDocs side: everything that turns the gate's verified outputs into the site.

``build_state`` (what a build or a serve knows between builds: failing pages, provenance),
``labs`` (lab notebooks and their pages), ``provenance`` (the "verified with" line),
``figures`` (pictures drawn from verified outputs), ``tokenizer_data`` (the widget's
vocabulary), ``builder`` (one way to run ``mkdocs build`` for the tests and the bench).
The gate core (``scripts/gate``) never imports from here.
"""
