"""The built-in samples: a photo, a speech recording with its phone timings, and the rig
performing that speech procedurally.

``perform_sample`` is the procedural performer the corpus is made with (visemes from the
sample's phone timings); the demo, tests and docs use it as a reference for Style-E's output.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from s2t.audio import FPS
from s2t.data.corpus import read_wav
from s2t.data.synth import animate_speech
from s2t.data.tts import Phone
from s2t.face import CoeffSequence, FaceModel


def sample_photo() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain), shipped in its wheel."""
    from skimage import data

    return data.astronaut()


def sample_speech() -> tuple[Path, dict]:
    """The shipped speech sample (16 kHz WAV) and its record (text, voice, phone timings)."""
    folder = resources.files("s2t") / "assets" / "samples"
    return Path(str(folder / "speech.wav")), json.loads((folder / "speech.json").read_text())


def perform_sample(model: FaceModel, emotion: str = "happy", level: int = 2, seed: int = 0) -> CoeffSequence:
    """The rig performing the speech sample in ``emotion`` at ``level`` (1-3)."""
    wav, record = sample_speech()
    audio, _ = read_wav(wav)
    phones = tuple(Phone(s, a, b) for s, a, b in record["phones"])
    anim = animate_speech(audio, phones, emotion, level, np.random.default_rng(seed))
    metadata = {"source": "procedural performer (sample phone timings)", "text": record["text"],
                "emotion": emotion, "level": level, "seed": seed}
    return CoeffSequence(model.model_id, FPS, model.expression_names, anim.expression, anim.pose, metadata)


__all__ = ["perform_sample", "sample_photo", "sample_speech"]
