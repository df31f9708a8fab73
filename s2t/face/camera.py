"""Pinhole camera looking at the face model from the front.

The camera sits on the +z axis at ``distance`` from the model origin and looks toward -z,
like Deep3DFaceRecon's (camera at z=10 decimetres, focal 1015 px for a 224 px crop). Image
x grows to the right (the subject's left, +x, appears on the right) and image y grows down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    focal: float
    cx: float
    cy: float
    distance: float = 1.0

    @classmethod
    def for_image(cls, width: int, height: int, distance: float = 1.0) -> "Camera":
        """A camera of moderate field of view (about 30 degrees across the longer side)."""
        return cls(focal=1.9 * max(width, height), cx=width / 2.0, cy=height / 2.0, distance=distance)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Image coordinates ``(..., 2)`` of camera-frame points ``(..., 3)``."""
        points = np.asarray(points, dtype=np.float64)
        depth = self.distance - points[..., 2]
        if np.any(depth <= 1e-6):
            raise ValueError("points lie at or behind the camera; the translation is implausible")
        u = self.cx + self.focal * points[..., 0] / depth
        v = self.cy - self.focal * points[..., 1] / depth
        return np.stack([u, v], -1)
