"""Corpora for training and evaluation: the synthetic talking corpus builder and its reader.

``build_synthetic_corpus`` writes a sharded corpus of TTS speech with rig animation (see
``docs/corpus.md``); ``CorpusIndex`` / ``load_clip`` read any corpus in that format.
"""

from s2t.data.corpus import Clip, ClipRecord, CorpusIndex, load_clip
from s2t.data.emotion import EMOTIONS, LEVELS
from s2t.data.synth import build_synthetic_corpus, clip_recipe, render_clip
from s2t.data.tts import EngineUnavailable, available_engines

__all__ = [
    "Clip", "ClipRecord", "CorpusIndex", "EMOTIONS", "EngineUnavailable", "LEVELS", "available_engines",
    "build_synthetic_corpus", "clip_recipe", "load_clip", "render_clip",
]  # fmt: skip
