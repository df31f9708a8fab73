"""Signed-distance primitives for sculpting the embedded head (vectorised over points (N, 3)).

Formulas are the standard ones for ellipsoids, capsules and smooth (polynomial) min/max.
"""

from __future__ import annotations

import numpy as np


def ellipsoid(p: np.ndarray, centre, radii) -> np.ndarray:
    """Approximate signed distance to an ellipsoid (exact on the surface, good near it)."""
    q = (p - np.asarray(centre)) / np.asarray(radii)
    k0 = np.linalg.norm(q, axis=-1)
    k1 = np.linalg.norm(q / np.asarray(radii), axis=-1)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)


def capsule(p: np.ndarray, a, b, radius_a: float, radius_b: float | None = None) -> np.ndarray:
    """Distance to a segment a-b minus a radius that varies linearly from a to b."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
    radius = radius_a if radius_b is None else radius_a + (radius_b - radius_a) * t
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=-1) - radius


def smooth_union(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def smooth_subtract(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """``a`` with ``b`` carved out, blended over ``k``."""
    return -smooth_union(-a, b, k)


def mirrored(fn, p: np.ndarray, centre, *args) -> np.ndarray:
    """Union of a primitive placed at ``centre`` and at its mirror image across x = 0."""
    cx, cy, cz = centre
    return np.minimum(fn(p, (cx, cy, cz), *args), fn(p, (-cx, cy, cz), *args))
