import numpy as np

from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_e.blinks import ensure_blinks


def test_a_take_without_blinks_gets_natural_seeded_ones():
    still = np.full((250, len(ARKIT_52)), 0.1, np.float32)  # 10 s, lids never close
    blinked, added = ensure_blinks(still, ARKIT_52, 25.0, seed=3)
    left, right = blinked[:, ARKIT_52.index("eyeBlinkLeft")], blinked[:, ARKIT_52.index("eyeBlinkRight")]
    assert added and np.array_equal(left, right) and left.max() > 0.8
    closings = np.flatnonzero((left[1:] >= 0.5) & (left[:-1] < 0.5))
    assert 1 <= len(closings) <= 6 and np.all(np.diff(closings) >= 15)  # 15 a minute, at least 0.6 s apart
    others = [k for k, name in enumerate(ARKIT_52) if not name.startswith("eyeBlink")]
    assert np.array_equal(blinked[:, others], still[:, others])
    assert np.array_equal(ensure_blinks(still, ARKIT_52, 25.0, seed=3)[0], blinked)  # seeded
    assert not np.array_equal(ensure_blinks(still, ARKIT_52, 25.0, seed=4)[0], blinked)


def test_generated_blinks_and_rigs_without_eyelids_are_left_alone():
    take = np.zeros((100, len(ARKIT_52)), np.float32)
    take[40:45, ARKIT_52.index("eyeBlinkLeft")] = take[40:45, ARKIT_52.index("eyeBlinkRight")] = 0.9
    kept, added = ensure_blinks(take, ARKIT_52, 25.0, seed=0)
    assert not added and np.array_equal(kept, take)
    names = ("jawOpen", "mouthClose")
    other = np.zeros((100, 2), np.float32)
    assert ensure_blinks(other, names, 25.0, seed=0) == (other, False)
