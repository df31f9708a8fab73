import numpy as np
import pytest

from s2t.data.emotion import EMOTIONS, action_unit_weights, blend_with_speech, level_intensity, sample_action_units
from s2t.face.facs import OPENFACE_AUS, aus_from_blendshapes
from s2t.face.rig.blendshapes import ARKIT_52


def au_vector(emotion: str, level: int, rng) -> np.ndarray:
    side = "Right" if emotion == "contempt" else None
    weights = action_unit_weights(sample_action_units(emotion, level, rng), ARKIT_52, rng.normal(0, 0.05), side)
    return aus_from_blendshapes(weights, ARKIT_52, OPENFACE_AUS)


def test_each_emotion_has_a_distinct_au_pattern():
    rng = np.random.default_rng(0)
    samples = {e: np.array([au_vector(e, 3, rng) for _ in range(30)]) for e in EMOTIONS}
    centroids = {e: s.mean(0) for e, s in samples.items()}
    for a in EMOTIONS:
        for b in EMOTIONS:
            if a < b:
                assert np.linalg.norm(centroids[a] - centroids[b]) > 1.0, (a, b)
    # per-clip variation stays closer to its own emotion than to any other, even at level 1
    for level in (1, 3):
        for e in EMOTIONS:
            for x in np.array([au_vector(e, level, rng) for _ in range(10)]):
                scaled = {k: c * level_intensity(k, level) / max(level_intensity(k, 3), 1e-9) for k, c in centroids.items()}
                assert min(scaled, key=lambda k: np.linalg.norm(x - scaled[k])) == e


def test_levels_grow_and_neutral_is_still():
    rng = np.random.default_rng(1)
    for e in EMOTIONS[1:]:
        strength = [np.mean([np.abs(au_vector(e, lv, rng)).sum() for _ in range(20)]) for lv in (1, 2, 3)]
        assert strength[0] < strength[1] < strength[2], e
    assert np.abs(au_vector("neutral", 1, rng)).max() == 0
    with pytest.raises(ValueError):
        level_intensity("happy", 4)


def test_emotion_keeps_speech_lips_sealed():
    rng = np.random.default_rng(2)
    names = ARKIT_52
    speech = np.zeros((3, len(names)), np.float32)
    speech[:, names.index("jawOpen")] = [0.3, 0.3, 0.5]
    speech[:, names.index("mouthClose")] = [0.3, 0.3, 0.0]  # frames 0-1 sealed
    closure, rounding, jaw = np.array([1.0, 1.0, 0.0]), np.zeros(3), speech[:, names.index("jawOpen")]
    for emotion in ("happy", "disgusted", "angry", "fear"):
        pattern = np.tile(action_unit_weights(sample_action_units(emotion, 3, rng), names), (3, 1))
        out = blend_with_speech(speech, pattern, closure, rounding, jaw, names)
        for parting in ("mouthLowerDownLeft", "mouthUpperUpRight"):
            assert out[:2, names.index(parting)].max() == 0.0  # sealed lips stay sealed
        assert out.min() >= 0 and out.max() <= 1
        upper = [names.index(n) for n in ("browInnerUp", "browDownLeft", "cheekSquintLeft", "noseSneerLeft", "eyeWideLeft")]
        assert np.allclose(out[:, upper], pattern[:, upper])  # the upper face shows the emotion untouched
