import numpy as np
import pytest

from s2t.data.video_fit import ClipRejected, FrameFitter, VideoFitConfig, fill_gaps, fit_identity, smooth
from s2t.face import Camera, apply_pose
from s2t.face.rig import build_rig


def _track(found: list[bool]) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks moving 1 px a frame to the right, NaN where not ``found``."""
    found = np.array(found)
    points = np.zeros((len(found), 68, 2)) + np.arange(len(found))[:, None, None] * [1.0, 0.0]
    points[~found] = np.nan
    return points, found


def test_lost_frames_are_interpolated_in_time_and_held_at_the_ends():
    points, found = _track([False, True, True, False, False, True, True, True, True, True])
    filled = fill_gaps(points, found, fps=25.0, config=VideoFitConfig(max_missing=0.5))
    np.testing.assert_allclose(filled[:, 0, 0], [1, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert np.isfinite(filled).all()


def test_clips_missing_too_much_are_rejected_with_the_reason():
    config = VideoFitConfig(max_missing=0.2, max_gap_s=0.1)
    with pytest.raises(ClipRejected, match="3 of 10 frames"):
        fill_gaps(*_track([True] * 7 + [False] * 3), fps=25.0, config=config)
    with pytest.raises(ClipRejected, match="lost for 3 frames"):
        fill_gaps(*_track([True] * 17 + [False] * 3), fps=25.0, config=config)  # 0.12 s > 0.1 s
    with pytest.raises(ClipRejected, match="any of the 4 frames"):
        fill_gaps(*_track([False] * 4), fps=25.0)


def test_smoothing_removes_jitter_but_keeps_a_short_peak():
    rng = np.random.default_rng(0)
    t = np.arange(50)
    clean = np.exp(-0.5 * ((t - 25) / 1.5) ** 2)  # a 3-4 frame event, like a lip closure
    noisy = clean + rng.normal(0, 0.05, len(t))
    smoothed = smooth(noisy)
    assert np.std(smoothed - clean) < 0.85 * np.std(noisy - clean)  # SG(5, 2) passes 70% of white noise
    assert smoothed[25] > 0.8  # a moving average of 5 would give 0.69
    assert smooth(np.arange(3.0)).shape == (3,)  # shorter than the window: smoothed with what fits
    np.testing.assert_allclose(smooth(np.arange(2.0)), [0.0, 1.0])


@pytest.fixture(scope="module")
def rig():
    return build_rig()


def test_frame_fitter_recovers_expression_and_pose_from_a_warm_start(rig):
    camera = Camera.for_image(256, 256)
    identity = np.random.default_rng(1).normal(0, 0.5, rig.num_identity)
    expression = np.zeros(rig.num_expressions)
    expression[rig.expression_index("jawOpen")] = 0.4
    expression[rig.expression_index("mouthSmileLeft")] = 0.5
    pose = np.array([0.05, -0.2, 0.03, 0.01, -0.01, 0.15])
    points = camera.project(apply_pose(rig.landmarks(expression, identity), pose))

    previous = np.concatenate([pose + [0.02, 0.05, 0, 0.003, 0, 0.01], np.zeros(rig.num_expressions)])
    fitted = FrameFitter(rig, identity, camera).fit_sequence(points[None], previous)[0]
    assert np.abs(fitted[:3] - pose[:3]).max() < np.radians(1.5)
    assert fitted[6 + rig.expression_index("jawOpen")] == pytest.approx(0.4, abs=0.05)
    assert fitted[6 + rig.expression_index("mouthSmileLeft")] > 0.25  # the prior shrinks it a little
    assert np.sqrt(np.mean(np.sum((FrameFitter(rig, identity, camera).project(fitted) - points) ** 2, -1))) < 0.5


def test_identity_fitted_over_frames_explains_every_frame(rig):
    camera = Camera.for_image(256, 256)
    identity = np.random.default_rng(2).normal(0, 0.6, rig.num_identity)
    pose = np.array([0, 0.1, 0, 0, 0, 0.1])
    frames = []
    for jaw in (0.0, 0.3, 0.1, 0.2):
        expression = np.zeros(rig.num_expressions)
        expression[rig.expression_index("jawOpen")] = jaw
        frames.append(camera.project(apply_pose(rig.landmarks(expression, identity), pose)))
    fitted = fit_identity(rig, np.stack(frames), camera, count=3)
    assert fitted.shape == (rig.num_identity,)
    fitter = FrameFitter(rig, fitted, camera)
    params = fitter.fit_sequence(np.stack(frames), np.concatenate([pose, np.zeros(rig.num_expressions)]))
    for frame_params, points in zip(params, frames):
        assert np.sqrt(np.mean(np.sum((fitter.project(frame_params) - points) ** 2, -1))) < 0.5  # pixels


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def test_tracker_takes_the_68_points_from_mediapipes_mesh_where_it_finds_the_face(astronaut, monkeypatch):
    """MediaPipe stood in for by a fixed mesh (the test runs without it installed): the tracker
    uses the mesh's 68 points, and dlib's where the mesh finds no face."""
    from s2t.data.video_fit import FaceTracker
    from s2t.face import mediapipe_mesh
    from s2t.face.detect import detect_landmarks

    dlib_points = detect_landmarks(astronaut).points
    left, top = dlib_points.min(0)
    size = np.ptp(dlib_points, 0)
    mesh = [left, top] + np.random.default_rng(0).uniform(0, 1, (mediapipe_mesh.MESH_POINTS, 2)) * size
    meshes = [[mesh], []]  # the first frame's search finds the mesh, the second finds none
    monkeypatch.setattr(mediapipe_mesh, "mediapipe_unavailable", lambda: None)
    monkeypatch.setattr(mediapipe_mesh, "detect_meshes", lambda rgb: meshes.pop(0))
    tracker = FaceTracker()
    np.testing.assert_allclose(tracker(astronaut), mediapipe_mesh.ibug68_from_mesh(mesh))
    fallback = tracker(astronaut)  # searched near the previous face, by dlib this time
    assert np.abs(fallback - dlib_points).max() < 3.0
    assert tracker.mesh_frames == 1 and not meshes


def test_tracker_without_mediapipe_uses_dlib_and_says_so_once(astronaut, monkeypatch, caplog):
    from s2t.data.video_fit import track_landmarks
    from s2t.face import mediapipe_mesh
    from s2t.face.detect import detect_landmarks

    monkeypatch.setattr(mediapipe_mesh, "mediapipe_unavailable", lambda: "MediaPipe is not installed")
    monkeypatch.setattr(mediapipe_mesh, "_noted", False)
    with caplog.at_level("WARNING", logger=mediapipe_mesh.__name__):
        track = track_landmarks([astronaut, astronaut])
    assert track.mesh_frames == 0 and track.found.all()
    assert np.abs(track.points[0] - detect_landmarks(astronaut).points).max() < 1e-9
    assert sum("dlib's 68 landmarks" in r.getMessage() for r in caplog.records) == 1
