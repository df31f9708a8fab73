import numpy as np
import pytest

from s2t.face import facs
from s2t.face.rig.blendshapes import ARKIT_52


def test_every_mapped_blendshape_is_a_rig_channel():
    for au, shapes in facs.AU_TO_BLENDSHAPES.items():
        assert set(shapes) <= set(ARKIT_52), au
        assert au in facs.AU_NAMES


def test_au_round_trip_for_single_units():
    for au in (1, 2, 4, 5, 7, 9, 12, 15, 20):
        weights = facs.blendshapes_from_aus({au: 3.0}, ARKIT_52)
        back = facs.aus_from_blendshapes(weights, ARKIT_52)
        assert back[facs.OPENFACE_AUS.index(au)] == pytest.approx(3.0, abs=1e-5)


def test_happy_reads_back_as_cheek_raiser_and_lip_corner_puller():
    weights = facs.emotion_blendshapes("happy", 0.8, ARKIT_52)
    aus = dict(zip(facs.OPENFACE_AUS, facs.aus_from_blendshapes(weights, ARKIT_52)))
    assert aus[12] == pytest.approx(4.0, abs=1e-5) and aus[6] > 3.0
    assert aus[4] == 0 and aus[15] == 0


def test_contempt_is_one_sided_and_neutral_is_zero():
    weights = facs.emotion_blendshapes("contempt", 1.0, ARKIT_52)
    assert weights[ARKIT_52.index("mouthDimpleRight")] > 0 and weights[ARKIT_52.index("mouthDimpleLeft")] == 0
    assert not facs.emotion_blendshapes("neutral", 1.0, ARKIT_52).any()


def test_unknown_inputs_name_what_is_known():
    with pytest.raises(KeyError, match="unknown action units \\[3\\]"):
        facs.blendshapes_from_aus({3: 1.0}, ARKIT_52)
    with pytest.raises(KeyError, match="known: \\['angry'"):
        facs.emotion_blendshapes("bored", 1.0, ARKIT_52)
    assert np.all(facs.blendshapes_from_aus({12: 10.0}, ARKIT_52) <= 1.0)
