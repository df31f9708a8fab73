"""A tiny face model and a take on it, built in code, for the coefficient and export tests."""

from types import SimpleNamespace

import numpy as np
import pytest

from s2t.face.coeffs import CoeffSequence
from s2t.face.model import FaceModel

NAMES = ("jawOpen", "mouthSmileLeft", "eyeBlinkLeft")


def tiny_model(units: str = "m") -> FaceModel:
    """A 6x6 curved grid with 3 random blendshapes and 68 (repeating) landmark indices."""
    rng = np.random.default_rng(0)
    n = 6
    x, y = np.meshgrid(np.linspace(-0.08, 0.08, n), np.linspace(-0.1, 0.1, n))
    vertices = np.stack([x.ravel(), y.ravel(), 0.05 - x.ravel() ** 2 - y.ravel() ** 2], -1).astype(np.float32)
    quads = [(r * n + c, r * n + c + 1, (r + 1) * n + c, (r + 1) * n + c + 1) for r in range(n - 1) for c in range(n - 1)]
    triangles = np.array([t for a, b, c, d in quads for t in ((a, b, d), (a, d, c))], np.int64)
    return FaceModel(
        model_id="tiny",
        vertices=vertices,
        triangles=triangles,
        expression_names=NAMES,
        expression_basis=rng.normal(0, 0.01, (3, n * n, 3)).astype(np.float32),
        landmark_indices=np.arange(68) % (n * n),
        units=units,
    )


def tiny_sequence(frames: int = 20, fps: float = 25.0) -> CoeffSequence:
    rng = np.random.default_rng(1)
    t = np.arange(frames) / fps
    pose = np.stack([0.1 * np.sin(t), 0.2 * np.sin(2 * t), 0.05 * np.cos(t), 0.01 * t, -0.02 * t, 0.03 * np.sin(t)], -1)
    return CoeffSequence(
        model_id="tiny",
        fps=fps,
        channel_names=NAMES,
        expression=rng.uniform(0, 1, (frames, 3)),
        pose=pose,
        metadata={"audio": "hello.wav", "seed": 7, "style": {"emotion": "happy", "strength": 0.5}},
    )


@pytest.fixture
def tiny() -> SimpleNamespace:
    """``tiny.model(units)``, ``tiny.sequence(frames, fps)`` and the channel names ``tiny.names``."""
    return SimpleNamespace(model=tiny_model, sequence=tiny_sequence, names=NAMES)
