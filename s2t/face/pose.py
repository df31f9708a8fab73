"""Head pose: 3 rotation angles + 3 translations, as in Deep3DFaceRecon / SadTalker.

A pose vector is ``(pitch, yaw, roll, tx, ty, tz)``: angles in radians about the x, y and z
axes, translation in the face model's units. Points move as ``R @ p + t`` with
``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)``, the same composition Deep3DFaceRecon uses, so
SadTalker's ``coeff_3dmm[:, 64:70]`` columns mean the same thing here.
"""

from __future__ import annotations

import numpy as np

POSE_NAMES = ("pitch", "yaw", "roll", "tx", "ty", "tz")


def rotation_matrix(angles: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from angles ``(..., 3)`` = (pitch, yaw, roll) radians."""
    angles = np.asarray(angles, dtype=np.float64)
    x, y, z = angles[..., 0], angles[..., 1], angles[..., 2]
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    one, zero = np.ones_like(x), np.zeros_like(x)
    rx = np.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], -1).reshape(x.shape + (3, 3))
    ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(x.shape + (3, 3))
    rz = np.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], -1).reshape(x.shape + (3, 3))
    return rz @ ry @ rx


def angles_from_matrix(rotation: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rotation_matrix` for |yaw| < 90 degrees: ``(..., 3, 3)`` -> ``(..., 3)``."""
    r = np.asarray(rotation, dtype=np.float64)
    yaw = np.arcsin(np.clip(-r[..., 2, 0], -1.0, 1.0))
    pitch = np.arctan2(r[..., 2, 1], r[..., 2, 2])
    roll = np.arctan2(r[..., 1, 0], r[..., 0, 0])
    return np.stack([pitch, yaw, roll], -1)


def apply_pose(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Move points ``(..., N, 3)`` by pose ``(..., 6)``; leading dimensions broadcast."""
    pose = np.asarray(pose, dtype=np.float64)
    rot = rotation_matrix(pose[..., :3])
    moved = np.einsum("...ij,...nj->...ni", rot, np.asarray(points, dtype=np.float64))
    return moved + pose[..., None, 3:6]
