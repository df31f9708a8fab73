"""FACS action units <-> the rig's ARKit-named blendshapes, and the emotion prototypes.

The mapping follows the standard correspondence between Ekman & Friesen's action units and
Apple's ARKit blendshapes (each blendshape was designed as one AU or one side of one). AU
intensities use OpenFace's 0-5 scale: intensity 5 is the blendshape at weight 1. The
emotion prototypes are EMFACS's (Friesen & Ekman 1983), for the eight MEAD emotions.
"""

from __future__ import annotations

import numpy as np

AU_NAMES = {
    1: "inner brow raiser", 2: "outer brow raiser", 4: "brow lowerer", 5: "upper lid raiser",
    6: "cheek raiser", 7: "lid tightener", 9: "nose wrinkler", 10: "upper lip raiser",
    12: "lip corner puller", 14: "dimpler", 15: "lip corner depressor", 16: "lower lip depressor",
    17: "chin raiser", 18: "lip pucker", 19: "tongue show", 20: "lip stretcher", 22: "lip funneler",
    23: "lip tightener", 24: "lip pressor", 25: "lips part", 26: "jaw drop", 27: "mouth stretch",
    28: "lip suck", 29: "jaw thrust", 34: "cheek puff", 43: "eyes closed", 45: "blink",
    61: "eyes turn left", 62: "eyes turn right", 63: "eyes up", 64: "eyes down",
}  # fmt: skip

AU_TO_BLENDSHAPES: dict[int, dict[str, float]] = {
    1: {"browInnerUp": 1.0},
    2: {"browOuterUpLeft": 1.0, "browOuterUpRight": 1.0},
    4: {"browDownLeft": 1.0, "browDownRight": 1.0},
    5: {"eyeWideLeft": 1.0, "eyeWideRight": 1.0},
    6: {"cheekSquintLeft": 1.0, "cheekSquintRight": 1.0, "eyeSquintLeft": 0.3, "eyeSquintRight": 0.3},
    7: {"eyeSquintLeft": 1.0, "eyeSquintRight": 1.0},
    9: {"noseSneerLeft": 1.0, "noseSneerRight": 1.0},
    10: {"mouthUpperUpLeft": 1.0, "mouthUpperUpRight": 1.0},
    12: {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0},
    14: {"mouthDimpleLeft": 1.0, "mouthDimpleRight": 1.0},
    15: {"mouthFrownLeft": 1.0, "mouthFrownRight": 1.0},
    16: {"mouthLowerDownLeft": 1.0, "mouthLowerDownRight": 1.0},
    17: {"mouthShrugLower": 1.0, "mouthShrugUpper": 0.3},
    18: {"mouthPucker": 1.0},
    19: {"tongueOut": 1.0, "jawOpen": 0.3},
    20: {"mouthStretchLeft": 1.0, "mouthStretchRight": 1.0},
    22: {"mouthFunnel": 1.0},
    23: {"mouthPressLeft": 0.6, "mouthPressRight": 0.6, "mouthPucker": 0.2},
    24: {"mouthPressLeft": 1.0, "mouthPressRight": 1.0},
    25: {"mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3, "mouthUpperUpLeft": 0.15, "mouthUpperUpRight": 0.15},
    26: {"jawOpen": 0.5},
    27: {"jawOpen": 1.0},
    28: {"mouthRollLower": 1.0, "mouthRollUpper": 1.0},
    29: {"jawForward": 1.0},
    34: {"cheekPuff": 1.0},
    43: {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
    45: {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
    # Gaze: "left" is the subject's left; the left eye turns out, the right eye turns in.
    61: {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0},
    62: {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0},
    63: {"eyeLookUpLeft": 1.0, "eyeLookUpRight": 1.0},
    64: {"eyeLookDownLeft": 1.0, "eyeLookDownRight": 1.0},
}

OPENFACE_AUS = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)
"""The AUs whose intensity OpenFace 2 estimates (the paper's annotation input)."""

EMOTION_PROTOTYPES: dict[str, dict[int, float]] = {
    "neutral": {},
    "happy": {6: 1.0, 12: 1.0, 25: 0.5},
    "sad": {1: 1.0, 4: 0.8, 15: 1.0, 17: 0.4},
    "surprised": {1: 1.0, 2: 1.0, 5: 1.0, 26: 1.0},
    "fear": {1: 1.0, 2: 0.8, 4: 0.8, 5: 1.0, 7: 0.5, 20: 1.0, 26: 0.6},
    "angry": {4: 1.0, 5: 0.6, 7: 1.0, 23: 1.0, 24: 0.5},
    "disgusted": {9: 1.0, 10: 0.8, 15: 0.6, 16: 0.4, 4: 0.4},
    "contempt": {12: 0.6, 14: 1.0},  # unilateral in EMFACS: see `emotion_blendshapes`
}
"""EMFACS prototypes: AU -> relative intensity (1 = the emotion's typical apex)."""

AU_MAX_INTENSITY = 5.0


def au_matrix(names: tuple[str, ...], aus: tuple[int, ...] = tuple(AU_TO_BLENDSHAPES)) -> np.ndarray:
    """``(len(aus), K)``: row i holds the blendshape weights of AU i at full intensity."""
    index = {n: k for k, n in enumerate(names)}
    matrix = np.zeros((len(aus), len(names)), np.float32)
    for i, au in enumerate(aus):
        for shape, weight in AU_TO_BLENDSHAPES[au].items():
            matrix[i, index[shape]] = weight
    return matrix


def blendshapes_from_aus(intensities: dict[int, float], names: tuple[str, ...]) -> np.ndarray:
    """Blendshape weights ``(K,)`` in [0, 1] for AU intensities on the 0-5 scale."""
    unknown = set(intensities) - set(AU_TO_BLENDSHAPES)
    if unknown:
        raise KeyError(f"unknown action units {sorted(unknown)}; known: {sorted(AU_TO_BLENDSHAPES)}")
    aus = tuple(intensities)
    levels = np.array([intensities[a] for a in aus], np.float32) / AU_MAX_INTENSITY
    return np.clip(levels @ au_matrix(names, aus), 0.0, 1.0)


def aus_from_blendshapes(weights: np.ndarray, names: tuple[str, ...], aus: tuple[int, ...] = OPENFACE_AUS) -> np.ndarray:
    """AU intensities ``(..., len(aus))`` on the 0-5 scale from blendshape weights ``(..., K)``.

    Each AU's intensity is the projection of the weights on its blendshape pattern
    (``w·m / m·m``), so a pure AU pattern at weight ``a`` reads back as ``5a``. AU25 and AU26
    share jawOpen/lip shapes with others; the projection splits them as OpenFace would see
    the resulting motion.
    """
    matrix = au_matrix(names, aus)
    return np.clip(AU_MAX_INTENSITY * (np.asarray(weights) @ matrix.T) / (matrix * matrix).sum(1), 0.0, AU_MAX_INTENSITY)


def emotion_blendshapes(emotion: str, level: float, names: tuple[str, ...]) -> np.ndarray:
    """The EMFACS prototype of ``emotion`` at ``level`` (0-1) as blendshape weights ``(K,)``.

    Contempt is one-sided (the subject's right lip corner), so its smile/dimple weights are
    moved to the Right channels only.
    """
    if emotion not in EMOTION_PROTOTYPES:
        raise KeyError(f"unknown emotion {emotion!r}; known: {sorted(EMOTION_PROTOTYPES)}")
    aus = {au: AU_MAX_INTENSITY * level * rel for au, rel in EMOTION_PROTOTYPES[emotion].items()}
    weights = blendshapes_from_aus(aus, names) if aus else np.zeros(len(names), np.float32)
    if emotion == "contempt":
        for left in ("mouthSmileLeft", "mouthDimpleLeft"):
            right = left.replace("Left", "Right")
            weights[names.index(right)] = min(1.0, weights[names.index(right)] + weights[names.index(left)])
            weights[names.index(left)] = 0.0
    return weights
