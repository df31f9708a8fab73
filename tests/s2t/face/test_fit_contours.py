"""The contour fit (68 points + closest-point curves) against the 68-point fit, on the rig
projected at a known pose, identity and expression, where the truth is known exactly."""

import numpy as np
import pytest

from s2t.face import Camera, apply_pose
from s2t.face.contours import closest_on_polyline, model_curves
from s2t.face.fit import contour_errors_px, fit_contours, fit_landmarks

CAMERA = Camera.for_image(512, 512)
POSE = np.array([np.radians(-8.0), np.radians(15.0), np.radians(4.0), 0.0, -0.01, -0.35])
EXPRESSION = {"jawOpen": 0.25, "mouthSmileLeft": 0.4, "mouthSmileRight": 0.3, "eyeBlinkLeft": 0.5,
              "browInnerUp": 0.3, "eyeLookInLeft": 0.3, "eyeLookOutRight": 0.3}
# As many points per curve as MediaPipe's contours have (s2t.face.mediapipe_mesh.CONTOURS).
COUNTS = {"lips_inner_upper": 11, "lips_inner_lower": 11, "eye_right_upper": 9, "eye_right_lower": 9,
          "eye_left_upper": 9, "eye_left_lower": 9, "jaw": 23, "iris_right": 1, "iris_left": 1}


def resample(polyline: np.ndarray, count: int) -> np.ndarray:
    """``count`` points evenly spaced by arc length along a polyline: not at its vertices."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(polyline, axis=0), axis=1))])
    u = np.linspace(0.0, arc[-1], count)
    return np.stack([np.interp(u, arc, polyline[:, 0]), np.interp(u, arc, polyline[:, 1])], 1)


@pytest.fixture(scope="module")
def scene():
    """The rig's true 68 points and curves in pixels, and noisy detections of them (1 px)."""
    rig = pytest.importorskip("s2t.face.rig").build_rig()
    rng = np.random.default_rng(1)
    identity = rng.normal(0.0, 0.5, rig.num_identity)
    expression = np.zeros(rig.num_expressions)
    for name, value in EXPRESSION.items():
        expression[rig.expression_index(name)] = value
    pixels = CAMERA.project(apply_pose(rig.geometry(expression, identity), POSE))
    curves = {name: pixels[ids] for name, ids in model_curves(rig).items()}
    truth68 = pixels[rig.landmark_indices]
    seen68 = truth68 + rng.normal(0.0, 1.0, truth68.shape)
    seen = {name: resample(c, COUNTS[name]) if len(c) > 1 else c for name, c in curves.items()}
    seen = {name: c + rng.normal(0.0, 1.0, c.shape) for name, c in seen.items()}
    dense_truth = {name: resample(c, 60) if len(c) > 1 else c for name, c in curves.items()}
    return rig, expression, truth68, seen68, seen, dense_truth


def errors(rig, fit, truth68, dense_truth) -> tuple[float, float, float]:
    """RMS against the truth: the 68 landmarks, every curve, the inner lips alone (pixels)."""
    landmarks = np.sqrt(np.mean(np.sum((fit.project_landmarks(rig) - truth68) ** 2, 1)))
    per_curve = contour_errors_px(rig, fit, dense_truth)
    curves = np.sqrt(np.mean(np.concatenate(list(per_curve.values())) ** 2))
    lips = np.sqrt(np.mean(np.concatenate([per_curve["lips_inner_upper"], per_curve["lips_inner_lower"]]) ** 2))
    return float(landmarks), float(curves), float(lips)


def test_contour_fit_beats_the_68_point_fit_on_a_known_face(scene):
    rig, expression, truth68, seen68, seen, dense_truth = scene
    sparse = fit_landmarks(rig, seen68, CAMERA)
    dense = fit_contours(rig, seen68, seen, CAMERA)
    sparse_lm, sparse_curves, sparse_lips = errors(rig, sparse, truth68, dense_truth)
    dense_lm, dense_curves, dense_lips = errors(rig, dense, truth68, dense_truth)
    # Measured (1 px noise): landmarks 0.55 -> 0.42 px, curves 0.46 -> 0.34 px, inner lips 0.33 -> 0.23 px.
    assert dense_curves < 0.85 * sparse_curves and dense_curves < 0.4
    assert dense_lips < 0.85 * sparse_lips and dense_lips < 0.3
    assert dense_lm <= sparse_lm and dense_lm < 0.6
    assert dense.contour_rms_px is not None and 0.5 < dense.contour_rms_px < 1.5  # the 1 px noise, across curves
    assert sparse.contour_rms_px is None
    assert np.abs(dense.expression - expression).mean() < 0.05
    assert np.degrees(np.abs(dense.pose[:3] - POSE[:3])).max() < 1.0


def test_noise_free_contours_are_met(scene):
    rig, _, truth68, _, _, dense_truth = scene
    fit = fit_contours(rig, truth68, {k: v for k, v in dense_truth.items() if k.startswith("lips")}, CAMERA, rounds=1)
    assert fit.contour_rms_px < 0.5 and fit.rms_px < 0.6


def test_closest_point_slides_along_the_curve():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    segment, t, normal, inside = closest_on_polyline(line, np.array([[5.0, 2.0], [15.0, -1.0], [-3.0, 1.0], [25.0, 0.0]]))
    assert segment[:2].tolist() == [0, 1] and np.allclose(t[:2], 0.5)
    assert np.allclose(np.abs(normal[:2, 1]), 1.0)
    assert inside.tolist() == [True, True, False, False]  # beyond the ends: not matched


def test_contours_the_model_lacks_are_ignored(scene):
    rig, _, truth68, _, _, _ = scene
    plain = fit_landmarks(rig, truth68, CAMERA)
    fit = fit_contours(rig, truth68, {"forehead": np.zeros((5, 2))}, CAMERA, rounds=1)
    assert fit.contour_rms_px is None
    assert abs(fit.rms_px - plain.rms_px) < 0.3


def test_bad_points_are_refused_by_the_contour_fit(scene):
    rig = scene[0]
    with pytest.raises(ValueError, match="68 finite"):
        fit_contours(rig, np.zeros((67, 2)), {}, CAMERA)
