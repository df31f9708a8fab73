import numpy as np
import pytest

from s2t.face import Camera, apply_pose, rotation_matrix
from s2t.face.pose import angles_from_matrix


def test_rotation_is_orthonormal_and_inverts():
    angles = np.random.default_rng(0).uniform(-1.2, 1.2, (50, 3))
    rot = rotation_matrix(angles)
    np.testing.assert_allclose(rot @ rot.swapaxes(1, 2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0)
    np.testing.assert_allclose(angles_from_matrix(rot), angles, atol=1e-9)


def test_composition_matches_deep3dfacerecon():
    # Yaw alone turns the nose (+z) toward +x; pitch alone tips it down toward -y... for positive pitch
    # the x-rotation maps +z to -y*sin: R_x(a) @ (0,0,1) = (0, -sin a, cos a).
    nose = np.array([[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(apply_pose(nose, [0, 0.3, 0, 0, 0, 0])[0], [np.sin(0.3), 0, np.cos(0.3)], atol=1e-12)
    np.testing.assert_allclose(apply_pose(nose, [0.3, 0, 0, 0, 0, 0])[0], [0, -np.sin(0.3), np.cos(0.3)], atol=1e-12)
    pose = np.array([0.1, 0.2, 0.3, 0.01, 0.02, 0.03])
    expected = rotation_matrix(pose[:3])[None] @ nose[..., None]
    np.testing.assert_allclose(apply_pose(nose, pose), expected[..., 0] + pose[3:], atol=1e-12)


def test_pose_broadcasts_over_frames():
    pts = np.random.default_rng(1).normal(size=(5, 3))
    poses = np.zeros((4, 6))
    poses[:, 5] = np.arange(4)
    moved = apply_pose(pts, poses)
    assert moved.shape == (4, 5, 3)
    np.testing.assert_allclose(moved[3] - pts, [[0, 0, 3]] * 5)


def test_camera_projects_the_subjects_left_to_the_image_right_and_up_to_up():
    cam = Camera.for_image(640, 480)
    uv = cam.project(np.array([[0, 0, 0], [0.05, 0, 0], [0, 0.05, 0]]))
    np.testing.assert_allclose(uv[0], [320, 240])
    assert uv[1, 0] > 320 and uv[2, 1] < 240
    with pytest.raises(ValueError, match="behind the camera"):
        cam.project(np.array([[0, 0, 2.0]]))
