import numpy as np
import pytest
from scipy.spatial import Delaunay
from skimage import data

from s2t.face import Camera, FaceModel, apply_pose
from s2t.face.fit import FaceFit, fit_landmarks, fit_photo, initial_pose, render_fit_overlay


def ibug_template() -> np.ndarray:
    """A frontal face's 68 iBUG points (x, y) in metres, in iBUG order (x = subject's left)."""

    def arc(n, cy, w, h):
        a = np.linspace(np.pi, -np.pi, n, endpoint=False)  # from the subject's right corner over the top
        return np.stack([w * np.cos(a), cy + h * np.sin(a)], 1)

    phi = np.linspace(-0.48 * np.pi, 0.48 * np.pi, 17)
    jaw = np.stack([0.068 * np.sin(phi), 0.02 - 0.09 * np.cos(phi)], 1)
    brow_r = np.stack([np.linspace(-0.058, -0.014, 5), 0.045 + 0.006 * np.sin(np.linspace(0, np.pi, 5))], 1)
    bridge = np.stack([np.zeros(4), np.linspace(0.035, -0.002, 4)], 1)
    nose = np.stack([np.linspace(-0.016, 0.016, 5), -0.012 - 0.004 * np.sin(np.linspace(0, np.pi, 5))], 1)
    eye_r = np.array([[-0.046, 0.025], [-0.038, 0.03], [-0.026, 0.03], [-0.018, 0.025], [-0.026, 0.021], [-0.038, 0.021]])
    eye_l = eye_r[[3, 2, 1, 0, 5, 4]] * [-1, 1]
    brow_l = brow_r[::-1] * [-1, 1]
    return np.vstack([jaw, brow_r, brow_l, bridge, nose, eye_r, eye_l, arc(12, -0.042, 0.025, 0.011), arc(8, -0.042, 0.017, 0.004)])


def synthetic_model() -> FaceModel:
    """A small face: the iBUG points plus a grid on a curved surface with a nose, 4 identity
    modes (width, length, depth, nose) and 5 ARKit-named blendshapes in [0, 1]."""
    landmarks = ibug_template()
    gx, gy = np.meshgrid(np.linspace(-0.08, 0.08, 17), np.linspace(-0.11, 0.08, 20))
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    grid = grid[(grid[:, 0] / 0.08) ** 2 + ((grid[:, 1] + 0.015) / 0.1) ** 2 < 1.0]
    grid = grid[np.min(np.linalg.norm(grid[:, None] - landmarks[None], axis=2), 1) > 0.006]
    xy = np.vstack([landmarks, grid])
    x, y = xy.T
    z = 0.05 * np.sqrt(np.clip(1 - (x / 0.085) ** 2 - (y / 0.12) ** 2, 0, 1)) - 0.03
    z += 0.03 * np.exp(-((x / 0.012) ** 2) - (y / np.where(y < 0, 0.03, 0.05)) ** 2)  # nose
    zero = np.zeros_like(x)

    def bump(cx, cy, r, direction):
        return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / r**2)[:, None] * direction

    identity = np.stack(
        [
            np.column_stack([0.1 * x, zero, zero]),
            np.column_stack([zero, 0.1 * (y + 0.02), zero]),
            np.column_stack([zero, zero, 0.3 * (z + 0.03)]),
            bump(0, 0, 0.02, [0, -0.005, 0.01]),
        ]
    )
    chin = np.clip((-0.04 - y) / 0.05, 0, 1)[:, None]
    expression = np.stack(
        [
            chin * [0, -0.025, -0.005] + bump(0, -0.046, 0.006, [0, -0.01, 0]),  # jawOpen
            bump(-0.025, -0.042, 0.012, [-0.006, 0.008, 0]),  # mouthSmileRight
            bump(0.025, -0.042, 0.012, [0.006, 0.008, 0]),  # mouthSmileLeft
            bump(-0.035, 0.047, 0.02, [0, 0.008, 0]) + bump(0.035, 0.047, 0.02, [0, 0.008, 0]),  # browInnerUp
            bump(-0.032, 0.03, 0.006, [0, -0.008, 0]) + bump(0.032, 0.03, 0.006, [0, -0.008, 0]),  # eyeBlink
        ]
    )
    return FaceModel(
        model_id="synthetic-test",
        vertices=np.column_stack([xy, z]).astype(np.float32),
        triangles=Delaunay(xy).simplices.astype(np.int32),
        expression_names=("jawOpen", "mouthSmileRight", "mouthSmileLeft", "browInnerUp", "eyeBlink"),
        expression_basis=expression.astype(np.float32),
        landmark_indices=np.arange(68),
        identity_basis=identity.astype(np.float32),
        identity_names=("width", "length", "depth", "nose"),
        expression_bounds=np.tile([0.0, 1.0], (5, 1)).astype(np.float32),
    )


MODEL = synthetic_model()
CAMERA = Camera.for_image(512, 512)
TRUE_POSE = np.array([np.radians(-10), np.radians(20), np.radians(5), 0.01, -0.02, -0.3])
TRUE_IDENTITY = np.array([0.5, -0.3, 0.4, 0.6])
TRUE_EXPRESSION = np.array([0.4, 0.3, 0.2, 0.5, 0.6])


def known_points(model=MODEL, pose=TRUE_POSE, identity=TRUE_IDENTITY, expression=TRUE_EXPRESSION):
    return CAMERA.project(apply_pose(model.landmarks(expression, identity), pose))


def angle_error_deg(fit: FaceFit) -> float:
    return float(np.degrees(np.abs(fit.pose[:3] - TRUE_POSE[:3]).max()))


def test_known_identity_recovers_pose_and_expression():
    """Noise-free points and negligible priors: the optimiser itself must reach the truth."""
    fit = fit_landmarks(MODEL, known_points(), CAMERA, fit_identity=False, identity=TRUE_IDENTITY,
                        identity_prior=1e-8, expression_prior=1e-8)
    assert fit.rms_px < 0.01
    assert angle_error_deg(fit) < 0.05
    assert np.abs(fit.pose[3:] - TRUE_POSE[3:]).max() < 0.0005
    assert np.abs(fit.expression - TRUE_EXPRESSION).max() < 0.01
    np.testing.assert_array_equal(fit.identity, TRUE_IDENTITY)


def test_full_fit_recovers_pose():
    """With identity free, depth trades against face size (a scale-like identity mode), so
    tz is checked relative to the camera distance; angles and tx, ty are tight."""
    fit = fit_landmarks(MODEL, known_points(), CAMERA, identity_prior=1e-3, expression_prior=1e-3)
    assert fit.rms_px < 0.5
    assert angle_error_deg(fit) < 2.0
    assert np.abs(fit.pose[3:5] - TRUE_POSE[3:5]).max() < 0.003
    depth = CAMERA.distance - TRUE_POSE[5]
    assert abs(fit.pose[5] - TRUE_POSE[5]) < 0.05 * depth
    assert fit.landmark_errors_px.shape == (68,)


@pytest.mark.slow
def test_full_fit_on_the_embedded_rig():
    """Default priors on the real rig, whose identity modes are in standard deviations."""
    rig = pytest.importorskip("s2t.face.rig").build_rig()
    identity = np.random.default_rng(0).normal(0.0, 0.5, rig.num_identity)
    expression = np.zeros(rig.num_expressions)
    for name, value in {"jawOpen": 0.3, "mouthSmileLeft": 0.5, "browInnerUp": 0.4}.items():
        expression[rig.expression_index(name)] = value
    fit = fit_landmarks(rig, known_points(rig, identity=identity, expression=expression), CAMERA)
    assert fit.rms_px < 0.5
    assert angle_error_deg(fit) < 2.0
    assert np.abs(fit.pose[3:5] - TRUE_POSE[3:5]).max() < 0.003


def test_noisy_landmarks_keep_errors_bounded():
    noise_px = 1.0
    points = known_points() + np.random.default_rng(0).normal(0, noise_px, (68, 2))
    fit = fit_landmarks(MODEL, points, CAMERA)
    assert fit.rms_px < 2.0 * noise_px
    assert angle_error_deg(fit) < 4.0
    assert np.all(np.abs(fit.identity) < 3.0)


def test_expression_stays_within_bounds():
    points = known_points(expression=np.array([1.6, -0.5, 0.0, 2.0, 0.0]))  # outside [0, 1]
    fit = fit_landmarks(MODEL, points, CAMERA)
    lower, upper = MODEL.expression_bounds.T
    assert np.all(fit.expression >= lower - 1e-9) and np.all(fit.expression <= upper + 1e-9)


def test_pose_only_fit_keeps_neutral_shape():
    fit = fit_landmarks(MODEL, known_points(identity=np.zeros(4), expression=np.zeros(5)), CAMERA,
                        fit_identity=False, fit_expression=False)
    assert fit.rms_px < 0.01 and angle_error_deg(fit) < 0.01
    assert not fit.identity.any() and not fit.expression.any()


def test_initial_pose_is_close():
    shape = MODEL.landmarks(TRUE_EXPRESSION, TRUE_IDENTITY)
    pose = initial_pose(shape, known_points(), CAMERA)
    assert np.degrees(np.abs(pose[:3] - TRUE_POSE[:3]).max()) < 5.0
    assert np.abs(pose[3:] - TRUE_POSE[3:]).max() < 0.05


def test_bad_points_are_refused():
    with pytest.raises(ValueError, match="68 finite"):
        fit_landmarks(MODEL, np.zeros((5, 2)), CAMERA)
    with pytest.raises(ValueError, match="68 finite"):
        fit_landmarks(MODEL, np.full((68, 2), np.nan), CAMERA)


def test_fit_photo_and_overlay():
    image = data.astronaut()
    fit, landmarks = fit_photo(MODEL, image)
    assert fit.camera == Camera.for_image(512, 512)
    inner_rms = np.sqrt(np.mean(fit.landmark_errors_px[17:] ** 2))  # jaw conventions differ between detectors
    assert inner_rms < 0.05 * landmarks.face_size  # a crude template still follows the face
    overlay = render_fit_overlay(image, MODEL, fit, landmarks)
    assert overlay.shape == image.shape and overlay.dtype == np.uint8
    left, top, right, bottom = (int(v) for v in landmarks.box)
    changed = np.any(overlay != image, axis=2)
    assert changed[top:bottom, left:right].mean() > 0.3
    assert changed[:, :100].mean() < 0.01  # nothing drawn far from the face
