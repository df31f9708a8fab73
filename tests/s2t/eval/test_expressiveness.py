import numpy as np

from s2t.eval.expressiveness import key_activation, key_channels
from s2t.face.rig.blendshapes import ARKIT_52


def _face(values: dict[str, float], frames: int = 10) -> np.ndarray:
    expression = np.zeros((frames, len(ARKIT_52)), np.float32)
    for name, value in values.items():
        expression[:, ARKIT_52.index(name)] = value
    return expression


def test_contempt_counts_on_either_side():
    keys = key_channels("contempt", ARKIT_52)
    assert keys and all(k.endswith("Right") for k in keys)
    right = _face({k: 0.6 for k in keys})
    left = _face({k.replace("Right", "Left"): 0.6 for k in keys})
    assert key_activation(right, "contempt", ARKIT_52) == key_activation(left, "contempt", ARKIT_52)
    assert abs(key_activation(left, "contempt", ARKIT_52) - 0.6) < 1e-6
    assert key_activation(_face({}), "contempt", ARKIT_52) == 0.0


def test_symmetric_emotions_take_the_mean_of_their_keys():
    keys = key_channels("happy", ARKIT_52)
    assert {"mouthSmileLeft", "mouthSmileRight"} <= set(keys)
    half = _face({"mouthSmileLeft": 1.0})  # one of the keys at 1, the rest 0
    assert abs(key_activation(half, "happy", ARKIT_52) - 1.0 / len(keys)) < 1e-6
    assert np.isnan(key_activation(half, "neutral", ARKIT_52))
