"""The MkDocs side: everything that turns the gate's verified outputs into the site.
May import ``scripts.gate`` and MkDocs; never ``scripts.harness``.

``build_state`` (what a build or a serve knows between builds: failing pages, provenance),
``labs`` (lab notebooks and their pages), ``provenance`` (the "verified with" line),
``figures`` (pictures drawn from verified outputs), ``tokenizer_data`` (the widget's
vocabulary).  May import the gate core (``scripts/gate``), which never imports from here;
never imports ``scripts/harness`` (building, serving and measuring the site: the tests' and
the bench's tools).
"""
