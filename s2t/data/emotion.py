"""The emotion layer: MEAD's 8 emotions x 3 levels as FACS action units on the rig, blended with speech.

An emotion is its EMFACS prototype (:data:`s2t.face.facs.EMOTION_PROTOTYPES`) at the level's
intensity, varied per clip: every AU's intensity is jittered, the two sides differ a
little, contempt falls on a random side, and the expression drifts slowly over the clip
instead of holding still. Blending keeps speech readable: the emotion's mouth AUs give way
where speech needs the lips (closure seals the lips whatever the emotion, rounding relaxes a
smile, an open jaw releases pressed lips) and emotional jaw drop becomes a bias of the jaw
that speech still closes for /p b m/ via ``mouthClose``.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from s2t.face.facs import AU_MAX_INTENSITY, AU_TO_BLENDSHAPES, EMOTION_PROTOTYPES, blendshapes_from_aus

EMOTIONS = ("neutral", "angry", "contempt", "disgusted", "fear", "happy", "sad", "surprised")
LEVELS = (1, 2, 3)
LEVEL_INTENSITY = {1: 0.4, 2: 0.7, 3: 1.0}
"""Fraction of the prototype's apex at MEAD's levels (weak, medium, strong)."""

ARTICULATION_GAIN = {"neutral": 1.0, "angry": 1.15, "contempt": 0.9, "disgusted": 0.95, "fear": 0.95,
                     "happy": 1.1, "sad": 0.8, "surprised": 1.15}  # fmt: skip
"""How much the emotion at full intensity scales mouth movement (sad speech is slack, angry
speech is wide); applied in proportion to the intensity."""

HEAD_STYLE = {  # (motion scale, pitch offset in degrees (+ = down), roll offset in degrees) at full intensity
    "neutral": (1.0, 0.0, 0.0), "angry": (1.35, 1.5, 0.0), "contempt": (0.9, -2.0, 3.0), "disgusted": (1.0, -1.5, 0.0),
    "fear": (0.9, 1.0, 0.0), "happy": (1.25, -1.0, 1.0), "sad": (0.6, 4.0, 0.0), "surprised": (1.2, -3.0, 0.0),
}  # fmt: skip

# Mouth channels the emotion drives, grouped by which speech gesture overrides them.
_LIP_PARTING = ("mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight")
_LIP_SPREADING = ("mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
                  "mouthDimpleLeft", "mouthDimpleRight")  # fmt: skip
_LIP_PRESSING = ("mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRollLower", "mouthRollUpper")


def level_intensity(emotion: str, level: int) -> float:
    """0 for neutral, else the level's fraction of the apex."""
    if emotion not in EMOTIONS:
        raise KeyError(f"unknown emotion {emotion!r}; known: {EMOTIONS}")
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return 0.0 if emotion == "neutral" else LEVEL_INTENSITY[level]


def sample_action_units(emotion: str, level: int, rng: np.random.Generator) -> dict[int, float]:
    """This clip's AU intensities (0-5 scale): the prototype at the level, each AU jittered ~15%."""
    intensity = level_intensity(emotion, level)
    return {au: float(np.clip(AU_MAX_INTENSITY * intensity * rel * rng.lognormal(0.0, 0.15), 0.0, AU_MAX_INTENSITY))
            for au, rel in EMOTION_PROTOTYPES[emotion].items()}  # fmt: skip


def action_unit_weights(aus: dict[int, float], names: tuple[str, ...], asymmetry: float = 0.0,
                        one_sided: str | None = None) -> np.ndarray:  # fmt: skip
    """Blendshape weights ``(K,)`` of AU intensities; ``asymmetry`` tilts Left (+) vs Right (-);
    ``one_sided`` ("Left"/"Right") moves the lip-corner AUs (12, 14) to that side only, as in contempt."""
    weights = blendshapes_from_aus(aus, names) if aus else np.zeros(len(names), np.float32)
    if one_sided:
        other = "Right" if one_sided == "Left" else "Left"
        for au in (12, 14):
            for shape in AU_TO_BLENDSHAPES[au]:
                if shape.endswith(other) and au in aus:
                    here = names.index(shape.replace(other, one_sided))
                    weights[here] = min(1.0, weights[here] + weights[names.index(shape)])
                    weights[names.index(shape)] = 0.0
    for k, name in enumerate(names):
        if name.endswith("Left"):
            weights[k] *= 1.0 + asymmetry
        elif name.endswith("Right"):
            weights[k] *= 1.0 - asymmetry
    return np.clip(weights, 0.0, 1.0)


def emotion_track(weights: np.ndarray, num_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, K)``: the pattern over time. It starts at 70-100% of its strength, settles within
    about half a second and drifts +-10% slowly (time scale ~1 s), as held expressions do."""
    times = np.arange(num_frames) / fps
    start, settle = rng.uniform(0.7, 1.0), rng.uniform(0.2, 0.6)
    onset = 1.0 - (1.0 - start) * np.exp(-times / settle)
    drift = gaussian_filter1d(rng.normal(0.0, 1.0, num_frames + 50), sigma=fps * 0.5, mode="wrap")[25:25 + num_frames]
    drift *= 0.1 / max(drift.std(), 1e-6)
    return np.clip(weights[None, :] * (onset * (1.0 + drift))[:, None], 0.0, 1.0).astype(np.float32)


def blend_with_speech(speech: np.ndarray, emotion: np.ndarray, closure: np.ndarray, rounding: np.ndarray,
                      jaw: np.ndarray, names: tuple[str, ...]) -> np.ndarray:  # fmt: skip
    """Speech ``(T, K)`` + emotion ``(T, K)`` where they share the mouth.

    ``closure``, ``rounding`` and ``jaw`` ``(T,)`` are the speech's lip seal, lip rounding and
    jaw opening in [0, 1]. The emotion's lip-parting AUs yield to the seal, its spreading AUs
    to rounding, its pressing AUs to jaw opening; its jawOpen must already have been folded
    into the speech (see :func:`s2t.data.visemes.articulation_to_blendshapes`'s ``jaw_bias``).
    Everything else adds. The result is clipped to [0, 1].
    """
    yield_to = {name: 1.0 - closure for name in _LIP_PARTING}
    yield_to |= {name: 1.0 - 0.7 * rounding for name in _LIP_SPREADING}
    yield_to |= {name: np.clip(1.0 - 2.5 * jaw, 0.0, 1.0) for name in _LIP_PRESSING}
    out = speech.astype(np.float32).copy()
    for k, name in enumerate(names):
        if name == "jawOpen":
            continue
        out[:, k] += emotion[:, k] * yield_to.get(name, 1.0)
    return np.clip(out, 0.0, 1.0)
