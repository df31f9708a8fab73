"""Evaluation harnesses: they synthesise held-out corpora and score what the models make of
them (:mod:`s2t.eval.quality`: lip sync, landmarks, emotion accuracy;
:mod:`s2t.eval.expressiveness`: key channels, head motion, variants, transitions). A layer
above the model packages and the corpus; the benchmarks in ``bench/`` drive them."""
