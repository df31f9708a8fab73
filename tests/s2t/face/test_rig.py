import numpy as np
import pytest
from scipy.spatial import cKDTree

from s2t.face import IBUG68_GROUPS, FaceModel
from s2t.face.rig import RIG_ID, build_rig
from s2t.face.rig.blendshapes import ARKIT_52


@pytest.fixture(scope="module")
def rig() -> FaceModel:
    return build_rig()


@pytest.fixture(scope="module")
def mirror(rig):
    """Vertex map x -> -x. Slit copies share positions, so the side of the slit is a 4th coordinate."""
    side = np.zeros(rig.num_vertices)
    side[rig.regions["below_mouth"]] = 1.0
    for eye in ("left", "right"):
        side[rig.regions[f"eye_{eye}_lower_edge"]] = 2.0
    pts = np.column_stack([rig.vertices, side])
    dist, idx = cKDTree(pts).query(pts * [-1, 1, 1, 1])
    assert dist.max() < 1e-6
    return idx


def test_rig_has_the_52_arkit_channels_and_a_few_thousand_vertices(rig):
    assert rig.model_id == RIG_ID
    assert rig.expression_names == ARKIT_52 and len(set(ARKIT_52)) == 52
    assert 3000 < rig.num_vertices < 15000
    assert rig.expression_basis.shape == (52, rig.num_vertices, 3)
    np.testing.assert_array_equal(rig.expression_bounds, np.tile([0.0, 1.0], (52, 1)))
    assert rig.triangles.min() >= 0 and rig.triangles.max() < rig.num_vertices


def test_every_blendshape_moves_something_and_stays_plausible(rig):
    peak = np.linalg.norm(rig.expression_basis, axis=2).max(axis=1)
    assert peak.min() > 0.0015, dict(zip(ARKIT_52, peak.round(4)))
    assert peak.max() < 0.045  # nothing flies more than 4.5 cm


def test_left_and_right_shapes_mirror_each_other(rig, mirror):
    basis = rig.expression_basis
    flip = np.array([-1.0, 1.0, 1.0])
    for k, name in enumerate(ARKIT_52):
        other = name.replace("Left", "Right") if "Left" in name else name.replace("Right", "Left")
        mirrored = basis[ARKIT_52.index(other)][mirror] * flip
        np.testing.assert_allclose(mirrored, basis[k], atol=1e-6, err_msg=name)


def _gap(model, expression, a, b):
    pts = model.landmarks(expression)
    return np.linalg.norm(pts[a] - pts[b])


def _one(name, weight=1.0):
    w = np.zeros(52)
    w[ARKIT_52.index(name)] = weight
    return w


def test_jaw_open_parts_the_lips_by_about_three_centimetres(rig):
    assert _gap(rig, None, 62, 66) < 1e-6  # closed mouth: inner lip points coincide
    assert 0.02 < _gap(rig, _one("jawOpen"), 62, 66) < 0.04
    closed = _one("jawOpen") + _one("mouthClose")
    assert _gap(rig, closed, 62, 66) < 0.25 * _gap(rig, _one("jawOpen"), 62, 66)


def test_blink_closes_one_eye_only(rig):
    neutral_left = _gap(rig, None, 44, 46)
    assert neutral_left > 0.006
    blink = _one("eyeBlinkLeft")
    assert _gap(rig, blink, 44, 46) < 0.1 * neutral_left
    assert _gap(rig, blink, 37, 41) == pytest.approx(_gap(rig, None, 37, 41))


def test_smile_frown_and_brows_move_the_right_landmarks_the_right_way(rig):
    neutral = rig.landmarks()
    smile = rig.landmarks(_one("mouthSmileLeft"))
    assert smile[54, 1] - neutral[54, 1] > 0.004  # the subject's left corner rises
    assert abs(smile[48, 1] - neutral[48, 1]) < 5e-4  # the right one stays
    frown = rig.landmarks(_one("mouthFrownLeft") + _one("mouthFrownRight"))
    assert (frown[[48, 54], 1] < neutral[[48, 54], 1] - 0.004).all()
    inner_up = rig.landmarks(_one("browInnerUp"))
    assert (inner_up[[21, 22], 1] - neutral[[21, 22], 1] > 0.004).all()
    brow_down = rig.landmarks(_one("browDownLeft"))
    assert (brow_down[list(IBUG68_GROUPS["brow_left"]), 1] < neutral[list(IBUG68_GROUPS["brow_left"]), 1]).all()


def test_eye_shapes_leave_the_mouth_alone_and_mouth_shapes_leave_the_eyes(rig):
    mouth = list(IBUG68_GROUPS["lips_outer"]) + list(IBUG68_GROUPS["lips_inner"])
    eyes = list(IBUG68_GROUPS["eye_left"]) + list(IBUG68_GROUPS["eye_right"])
    lm = rig.expression_basis[:, rig.landmark_indices]
    for k, name in enumerate(ARKIT_52):
        if name.startswith("eye"):
            assert np.abs(lm[k, mouth]).max() < 1e-4, name
        if name.startswith("mouth") or name.startswith("jaw"):
            assert np.abs(lm[k, eyes]).max() < 1e-3, name


def test_gaze_rotates_the_eyeball_without_changing_its_shape(rig):
    ids = rig.regions["eyeball_left"]
    before = rig.vertices[ids]
    for name in ("eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeLookDownLeft"):
        after = before + rig.expression_basis[ARKIT_52.index(name), ids]
        np.testing.assert_allclose(np.linalg.norm(after - after.mean(0), axis=1),
                                   np.linalg.norm(before - before.mean(0), axis=1), atol=2e-4)
    look_in = rig.expression_basis[ARKIT_52.index("eyeLookInLeft"), rig.regions["pupil_left"]]
    assert look_in[:, 0].mean() < -0.002  # toward the nose (the left eye sits at +x)


def test_landmarks_are_distinct_skin_vertices_in_ibug_order(rig):
    idx = rig.landmark_indices
    assert len(set(idx.tolist())) == 68 and np.isin(idx, rig.regions["skin"]).all()
    lm = rig.landmarks()
    assert (lm[list(IBUG68_GROUPS["eye_right"]), 0] < 0).all() and (lm[list(IBUG68_GROUPS["eye_left"]), 0] > 0).all()
    assert lm[8, 1] == lm[:, 1].min()  # chin lowest
    assert lm[30, 2] == lm[:, 2].max()  # nose tip frontmost
    assert lm[36, 0] < lm[39, 0] < lm[42, 0] < lm[45, 0]


def test_identity_modes_are_symmetric_and_move_the_face(rig, mirror):
    assert rig.identity_basis.shape == (16, rig.num_vertices, 3)
    flip = np.array([-1.0, 1.0, 1.0])
    for k, name in enumerate(rig.identity_names):
        np.testing.assert_allclose(rig.identity_basis[k][mirror] * flip, rig.identity_basis[k], atol=1e-6, err_msg=name)
        assert np.linalg.norm(rig.identity_basis[k], axis=1).max() > 5e-4, name


def test_rig_round_trips_through_its_file_format(rig, tmp_path):
    path = tmp_path / "rig.npz"
    rig.save(path)
    loaded = FaceModel.load(path)
    assert loaded.expression_names == rig.expression_names and loaded.identity_names == rig.identity_names
    np.testing.assert_array_equal(loaded.expression_basis, rig.expression_basis)
    np.testing.assert_array_equal(loaded.regions["iris_left"], rig.regions["iris_left"])
    w = np.random.default_rng(0).uniform(0, 1, (3, 52))
    np.testing.assert_allclose(loaded.geometry(w), rig.geometry(w))


def test_geometry_and_landmarks_agree(rig):
    rng = np.random.default_rng(1)
    w, ident = rng.uniform(0, 1, (4, 52)), rng.normal(size=16)
    geo = rig.geometry(w, ident)
    assert geo.shape == (4, rig.num_vertices, 3)
    np.testing.assert_allclose(geo[:, rig.landmark_indices], rig.landmarks(w, ident), atol=1e-9)
    with pytest.raises(ValueError, match="expected 52 expression values"):
        rig.geometry(np.zeros(10))
    with pytest.raises(KeyError, match="has no expression channel 'smile'"):
        rig.expression_index("smile")
