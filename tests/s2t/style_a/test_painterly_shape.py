"""Face shape: the art face's proportions carried onto the rig through its identity modes."""

import numpy as np
import pytest
from skimage import data

from s2t.style_a.painterly.shape import proportions, shape_identity
from s2t.style_a.photo import prepare_photo

EYE_WIDTH, EYE_SPACING, MOUTH_WIDTH = 0, 1, 2


@pytest.fixture(scope="module")
def photo(rig):
    return prepare_photo(rig, data.astronaut(), 128)


def cartoonish(points: np.ndarray) -> np.ndarray:
    """The same face drawn with eyes 1.4x larger and set wider, and a narrower mouth."""
    art = points.copy()
    for eye, shift in ((slice(36, 42), -0.04), (slice(42, 48), 0.04)):
        centre = art[eye].mean(0)
        art[eye] = centre + 1.4 * (art[eye] - centre) + [shift * np.ptp(points[:, 0]), 0]
    mouth = art[48:68].mean(0)
    art[48:68] = mouth + [0.75, 1.0] * (art[48:68] - mouth)
    return art


def test_proportions_move_toward_the_art_face(rig, photo):
    art = cartoonish(photo.landmarks)
    wanted = proportions(art) - proportions(photo.landmarks)
    assert wanted[EYE_WIDTH] > 0.05 and wanted[EYE_SPACING] > 0.05 and wanted[MOUTH_WIDTH] < -0.05
    before = proportions(rig.landmarks(None, photo.fit.identity))
    shaped = shape_identity(rig, photo.fit.identity, photo.landmarks, art)
    change = proportions(rig.landmarks(None, shaped)) - before
    for k in (EYE_WIDTH, EYE_SPACING, MOUTH_WIDTH):
        assert np.sign(change[k]) == np.sign(wanted[k]) and abs(change[k]) > 0.3 * abs(wanted[k]), (k, change, wanted)
    half = shape_identity(rig, photo.fit.identity, photo.landmarks, art, 0.5)
    free = np.abs(shaped) < 4.0 - 1e-9  # modes not held at the 4 sd limit change linearly with the strength
    assert free.sum() >= 4
    np.testing.assert_allclose((half - photo.fit.identity)[free], (shaped - photo.fit.identity)[free] / 2, atol=1e-9)


def test_no_change_for_zero_strength_or_same_face(rig, photo):
    identity = photo.fit.identity
    np.testing.assert_array_equal(shape_identity(rig, identity, photo.landmarks, cartoonish(photo.landmarks), 0.0),
                                  identity)
    np.testing.assert_allclose(shape_identity(rig, identity, photo.landmarks, photo.landmarks), identity, atol=1e-9)
    with pytest.raises(ValueError, match="face shape strength"):
        shape_identity(rig, identity, photo.landmarks, photo.landmarks, 1.5)


@pytest.mark.slow
def test_stylizer_reshapes_only_after_an_art_face(rig, photo):
    from s2t.style_a.art_presets import load_art_preset
    from s2t.style_a.stylizer import Stylizer

    identity = photo.fit.identity
    cartoon = Stylizer(load_art_preset("cartoon")).shape_identity(rig, identity, photo.landmarks)
    assert np.abs(cartoon - identity).max() > 0.2
    off = Stylizer(load_art_preset("cartoon"), face_shape=0.0).shape_identity(rig, identity, photo.landmarks)
    np.testing.assert_array_equal(off, identity)
    np.testing.assert_array_equal(Stylizer(load_art_preset("pastel")).shape_identity(rig, identity, photo.landmarks),
                                  identity)  # a landscape has no face
