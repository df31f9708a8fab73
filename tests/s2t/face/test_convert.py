"""ExpressionConverter on synthetic model pairs whose landmark motions are known to correspond."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from s2t.face.coeffs import CoeffSequence
from s2t.face.convert import ExpressionConverter, convert_sequence, similarity_transform
from s2t.face.model import FaceModel

V, KS = 150, 8
ROTATION = Rotation.from_euler("xyz", [20, -35, 10], degrees=True).as_matrix()
SCALE = 10.0  # e.g. decimetres -> centimetres
OFFSET = np.array([1.0, -2.0, 3.0])


def make_model(model_id, vertices, basis, landmarks, bounds=None, units="dm") -> FaceModel:
    return FaceModel(
        model_id=model_id,
        vertices=vertices,
        triangles=np.zeros((0, 3), np.int32),
        expression_names=tuple(f"c{i}" for i in range(len(basis))),
        expression_basis=basis,
        landmark_indices=landmarks,
        expression_bounds=bounds,
        units=units,
    )


@pytest.fixture(scope="module")
def source() -> FaceModel:
    rng = np.random.default_rng(0)
    landmarks = rng.choice(V, 68, replace=False)
    return make_model("src", rng.normal(size=(V, 3)), rng.normal(scale=0.05, size=(KS, V, 3)), landmarks)


def transformed(source: FaceModel, mix: np.ndarray, seed: int = 1):
    """The source in another frame (rotated, scaled, shifted, vertices reordered) with a mixed basis.

    Target channel j moves the vertices like ``sum_i mix[j, i] * source channel i``.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(V)  # target vertex k is source vertex order[k]
    position = np.argsort(order)
    vertices = SCALE * source.vertices[order] @ ROTATION.T + OFFSET
    basis = SCALE * np.einsum("ji,ivc->jvc", mix, source.expression_basis[:, order]) @ ROTATION.T
    return vertices, basis, position[source.landmark_indices]


def landmark_motion(model: FaceModel, expression: np.ndarray) -> np.ndarray:
    return model.landmarks(expression) - model.landmarks()


def test_similarity_transform_recovers_scale_rotation_translation(source):
    points = source.vertices[source.landmark_indices]
    s, r, t = similarity_transform(points, SCALE * points @ ROTATION.T + OFFSET)
    assert s == pytest.approx(SCALE)
    np.testing.assert_allclose(r, ROTATION, atol=1e-10)
    np.testing.assert_allclose(t, OFFSET, atol=1e-9)


def test_square_mixed_basis_recovers_coefficients_exactly(source):
    mix = np.random.default_rng(2).normal(size=(KS, KS)) + 3 * np.eye(KS)
    vertices, basis, landmarks = transformed(source, mix)
    target = make_model("tgt", vertices, basis, landmarks, units="cm")
    conv = ExpressionConverter(source, target, ridge=1e-12)
    assert conv.scale == pytest.approx(SCALE)
    expression = np.random.default_rng(3).normal(size=(25, KS))
    converted = conv.convert(expression)
    assert converted.shape == (25, KS)
    # target channel j moves like sum_i mix[j, i] * source i, so x = mix^-T e
    np.testing.assert_allclose(converted, expression @ np.linalg.inv(mix), atol=1e-7)
    expected = SCALE * landmark_motion(source, expression) @ ROTATION.T
    np.testing.assert_allclose(landmark_motion(target, converted), expected, atol=1e-7)


def test_redundant_and_inert_target_channels(source):
    rng = np.random.default_rng(4)
    mix = rng.normal(size=(KS + 3, KS))  # more channels than motions: the solution is not unique
    vertices, basis, landmarks = transformed(source, mix)
    inert = np.zeros((1, V, 3))
    inert[0, np.setdiff1d(np.arange(V), landmarks)] = 1.0  # moves every vertex except the landmarks
    target = make_model("tgt", vertices, np.concatenate([basis[:4], inert, basis[4:]]), landmarks)
    conv = ExpressionConverter(source, target, ridge=1e-10)
    np.testing.assert_array_equal(conv.active, np.delete(np.arange(KS + 4), 4))
    expression = rng.normal(size=(10, KS))
    converted = conv.convert(expression)
    assert converted.shape == (10, KS + 4) and np.all(converted[:, 4] == 0)
    expected = SCALE * landmark_motion(source, expression) @ ROTATION.T
    np.testing.assert_allclose(landmark_motion(target, converted), expected, atol=1e-6)


def test_bounded_target_splits_signed_motion_into_one_sided_channels(source):
    # an ARKit-like target: each source direction as a (+, -) pair of channels bounded to [0, 1]
    mix = np.repeat(np.eye(KS), 2, axis=0) * np.tile([1.0, -1.0], KS)[:, None]
    vertices, basis, landmarks = transformed(source, mix)
    bounds = np.tile([0.0, 1.0], (2 * KS, 1))
    target = make_model("arkit-like", vertices, basis, landmarks, bounds=bounds, units="m")
    conv = ExpressionConverter(source, target, ridge=1e-10)
    expression = np.random.default_rng(5).uniform(-1, 1, size=(20, KS))
    converted = conv.convert(expression)
    np.testing.assert_allclose(converted[:, 0::2], np.maximum(expression, 0), atol=1e-6)
    np.testing.assert_allclose(converted[:, 1::2], np.maximum(-expression, 0), atol=1e-6)


def test_bounds_hold_beyond_the_range(source):
    mix = np.eye(KS)
    vertices, basis, landmarks = transformed(source, mix)
    target = make_model("tgt", vertices, basis, landmarks, bounds=np.tile([0.0, 1.0], (KS, 1)))
    conv = ExpressionConverter(source, target, ridge=1e-10)
    expression = 3 * np.random.default_rng(6).normal(size=(30, KS))
    converted = conv.convert(expression)
    assert converted.min() >= 0.0 and converted.max() <= 1.0
    # the bounded least-squares optimum fits the landmark motion at least as well as naive clipping
    expected = SCALE * landmark_motion(source, expression) @ ROTATION.T
    error = np.linalg.norm(landmark_motion(target, converted) - expected, axis=(1, 2))
    naive = np.linalg.norm(landmark_motion(target, np.clip(expression, 0, 1)) - expected, axis=(1, 2))
    assert np.all(error <= naive + 1e-9)


def test_same_model_is_identity(source):
    conv = ExpressionConverter(source, source)
    assert conv.scale == pytest.approx(1.0)
    np.testing.assert_allclose(conv.rotation, np.eye(3), atol=1e-12)
    expression = np.random.default_rng(7).normal(size=(5, KS))
    np.testing.assert_allclose(conv.convert(expression), expression, rtol=0, atol=0.01 * np.abs(expression).max())
    exact = ExpressionConverter(source, source, ridge=0.0)
    np.testing.assert_allclose(exact.convert(expression), expression, atol=1e-9)


def test_pose_keeps_angles_and_scales_translation(source):
    vertices, basis, landmarks = transformed(source, np.eye(KS))
    conv = ExpressionConverter(source, make_model("tgt", vertices, basis, landmarks))
    pose = np.random.default_rng(8).normal(size=(12, 6))
    converted = conv.convert_pose(pose)
    np.testing.assert_array_equal(converted[:, :3], pose[:, :3])
    np.testing.assert_allclose(converted[:, 3:], SCALE * pose[:, 3:])
    assert not np.shares_memory(converted, pose)


def test_shape_errors(source):
    conv = ExpressionConverter(source, source)
    with pytest.raises(ValueError, match="src"):
        conv.convert(np.zeros((4, KS + 1)))
    with pytest.raises(ValueError):
        conv.convert(np.zeros(KS))
    with pytest.raises(ValueError):
        conv.convert_pose(np.zeros((4, 7)))
    with pytest.raises(ValueError):
        ExpressionConverter(source, source, ridge=-1.0)


def test_convert_sequence(source):
    mix = np.random.default_rng(9).normal(size=(KS, KS)) + 3 * np.eye(KS)
    vertices, basis, landmarks = transformed(source, mix)
    target = make_model("tgt", vertices, basis, landmarks, units="cm")
    rng = np.random.default_rng(10)
    seq = CoeffSequence("src", 25.0, source.expression_names, rng.normal(size=(6, KS)), rng.normal(size=(6, 6)),
                        {"seed": 3})
    out = convert_sequence(seq, source, target, ridge=1e-12)
    assert out.model_id == "tgt" and out.fps == 25.0 and out.channel_names == target.expression_names
    assert out.metadata == {"seed": 3, "converted_from": "src"}
    np.testing.assert_allclose(out.expression, seq.expression @ np.linalg.inv(mix), atol=1e-4)
    np.testing.assert_allclose(out.pose[:, 3:], SCALE * seq.pose[:, 3:], rtol=1e-6)
    with pytest.raises(ValueError, match="src"):
        convert_sequence(CoeffSequence("other", 25.0, seq.channel_names, seq.expression, seq.pose), source, target)
