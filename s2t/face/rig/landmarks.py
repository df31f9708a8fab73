"""The 68 iBUG landmarks as vertices of the embedded rig.

Eye and inner-lip points are taken on the lid and lip edges (the slit copies), so they
open and close with the blendshapes exactly as a detector's points do on a face. The other
points are the skin vertices nearest to the frontal position of the anatomical point, found
by casting a ray from the front. The jawline points (0-16) follow the cheek and mandible
contour as a detector sees it in a frontal photo.
"""

from __future__ import annotations

import numpy as np

from s2t.face.rig import sculpt
from s2t.face.rig.build import RigGeometry

# Frontal (x, y) targets in metres for the right half (x < 0) or the midline; mirrored for the left.
_JAW_RIGHT = [(-0.075, 0.002), (-0.073, -0.018), (-0.071, -0.037), (-0.068, -0.056), (-0.062, -0.073),
              (-0.052, -0.089), (-0.038, -0.102), (-0.021, -0.111)]  # fmt: skip
_CHIN = (0.0, -0.1145)
# dlib's brow points run from above the inner canthus to well past the outer one.
_BROW_RIGHT = [(-0.064, 0.018), (-0.055, 0.028), (-0.043, 0.031), (-0.030, 0.029), (-0.017, 0.025)]  # outer -> inner
_NOSE_BRIDGE = [(0.0, 0.008), (0.0, -0.006), (0.0, -0.020), (0.0, -0.034)]
_NOSE_BASE_RIGHT = [(-0.0125, -0.0425), (-0.0065, -0.0455), (0.0, -0.0470)]


def _front_hit(x: float, y: float) -> np.ndarray:
    """The skin point seen at frontal position (x, y): march along -z from in front of the face."""
    zs = np.linspace(0.16, -0.05, 400)
    pts = np.stack([np.full_like(zs, x), np.full_like(zs, y), zs], -1)
    k = int(np.argmax(sculpt.head_sdf(pts) < 0))
    return pts[k]


def _outline_vertex(geo: RigGeometry, x: float, y: float, candidates: np.ndarray) -> int:
    """The skin vertex seen nearest to frontal position (x, y) among those facing the camera:
    on the cheek and mandible this lands on the face outline a frontal detector traces."""
    d = np.hypot(geo.vertices[candidates, 0] - x, geo.vertices[candidates, 1] - y)
    return int(candidates[np.argmin(d)])


def _nearest(geo: RigGeometry, point: np.ndarray, candidates: np.ndarray) -> int:
    d = np.linalg.norm(geo.vertices[candidates] - point, axis=1)
    return int(candidates[np.argmin(d)])


def _mirror(points):
    return [(-x, y) for x, y in points]


def ibug68_indices(geo: RigGeometry) -> np.ndarray:
    """Vertex ids of the 68 iBUG landmarks, in iBUG order."""
    skin_front = geo.regions["skin"][geo.normals[geo.regions["skin"], 2] > 0.2]
    skin = geo.regions["skin"]
    front = lambda pts: [_nearest(geo, _front_hit(x, y), skin_front) for x, y in pts]  # noqa: E731
    facing = skin[geo.normals[skin, 2] > 0.05]
    jaw_targets = _JAW_RIGHT + [_CHIN] + _mirror(_JAW_RIGHT)[::-1]
    jaw = [_outline_vertex(geo, x, y, facing) for x, y in jaw_targets]
    brows = front(_BROW_RIGHT) + front(_mirror(_BROW_RIGHT)[::-1])
    nose = front(_NOSE_BRIDGE) + front(_NOSE_BASE_RIGHT + _mirror(_NOSE_BASE_RIGHT[:2])[::-1])
    eyes = _eye_points(geo, "right") + _eye_points(geo, "left")
    lips = _lip_points(geo)
    ids = np.array(jaw + brows + nose + eyes + lips)
    assert len(ids) == 68
    return ids


def _eye_points(geo: RigGeometry, side: str) -> list[int]:
    """iBUG order per eye: 36 outer/42 inner corner, two upper-lid points, the other corner,
    two lower-lid points (clockwise in the image)."""
    up = geo.regions[f"eye_{side}_upper_edge"]
    lo = geo.regions[f"eye_{side}_lower_edge"]
    n = len(up) - 1  # columns run from -x to +x; thirds are grid columns by construction
    a, b = n // 3, 2 * n // 3
    # Right eye (x < 0): column 0 is the outer corner. Left eye: column 0 is the inner corner.
    return [int(up[0]), int(up[a]), int(up[b]), int(up[n]), int(lo[b]), int(lo[a])]


def _lip_points(geo: RigGeometry) -> list[int]:
    """48-59 outer lip contour and 60-67 inner lip (on the slit), clockwise from the right corner."""
    skin = geo.regions["skin"]
    up = geo.regions["mouth_upper_edge"]
    lo = geo.regions["mouth_lower_edge"]
    n = len(up) - 1
    xc = sculpt.MOUTH_CORNER[0]
    y_top, y_bottom, y_m = -0.0593, -0.0828, sculpt.MOUTH_Y
    outer_up = [(-xc - 0.0015, y_m + 0.0005), (-0.66 * xc, y_top - 0.0012), (-0.3 * xc, y_top), (0.0, y_top + 0.0008)]
    outer_up += _mirror(outer_up[:3])[::-1]
    outer_lo = [(0.62 * xc, y_bottom + 0.002), (0.3 * xc, y_bottom + 0.0003), (0.0, y_bottom),
                (-0.3 * xc, y_bottom + 0.0003), (-0.62 * xc, y_bottom + 0.002)]
    above = np.intersect1d(skin, geo.regions["above_mouth"])
    below = np.intersect1d(skin, geo.regions["below_mouth"])
    outer = [_nearest(geo, _front_hit(x, y), above) for x, y in outer_up[:1]]
    outer += [_nearest(geo, _front_hit(x, y + 0.001), above) for x, y in outer_up[1:-1]]
    outer += [_nearest(geo, _front_hit(x, y), above) for x, y in outer_up[-1:]]
    outer += [_nearest(geo, _front_hit(x, y), below) for x, y in outer_lo]
    inner = [int(up[0]), int(up[n // 4]), int(up[n // 2]), int(up[3 * n // 4]), int(up[n]),
             int(lo[3 * n // 4]), int(lo[n // 2]), int(lo[n // 4])]
    return outer + inner
