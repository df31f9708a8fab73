"""Training Style-E and Style-A: the loops, their data (read from corpora and dataset folders),
and what both share (:mod:`s2t.training.common`).

A layer above the model packages: ``s2t.style_e`` and ``s2t.style_a`` never import it, so
inference does not pull in the corpus code.
"""
