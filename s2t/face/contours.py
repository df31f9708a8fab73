"""Face curves on a model and closest-point matching of detected contours against them.

A dense detector (MediaPipe's mesh, :mod:`s2t.face.mediapipe_mesh`) traces the lips' inner
contour, the eyelids and the jaw line with more points than the 68 iBUG landmarks, and its
points do not sit at the same places along those curves as the model's vertices. So the fit
matches each detected point to the closest point of the model's projected curve and penalises
only the distance across the curve: a point may slide along it (see
:func:`s2t.face.fit.fit_contours`).

The model's curves are vertex chains. On the embedded rig the lips and lids are the slit rows
(``mouth_upper_edge``, ``eye_right_lower_edge``, ...; 25 and 19 vertices from -x to +x) and the
irises' centres are the ``pupil_*`` vertices; models without those regions (the Basel model)
use the iBUG landmarks' own polylines. The jaw is the iBUG jaw polyline on every model.
"""

from __future__ import annotations

import numpy as np

from s2t.face.model import FaceModel

# name -> (rig region, iBUG fallback chain). Curves run from the subject's right (-x) to the left.
_CURVES = {
    "lips_inner_upper": ("mouth_upper_edge", (60, 61, 62, 63, 64)),
    "lips_inner_lower": ("mouth_lower_edge", (60, 67, 66, 65, 64)),
    "eye_right_upper": ("eye_right_upper_edge", (36, 37, 38, 39)),
    "eye_right_lower": ("eye_right_lower_edge", (36, 41, 40, 39)),
    "eye_left_upper": ("eye_left_upper_edge", (42, 43, 44, 45)),
    "eye_left_lower": ("eye_left_lower_edge", (42, 47, 46, 45)),
    "jaw": (None, tuple(range(17))),
    "iris_right": ("pupil_right", None),
    "iris_left": ("pupil_left", None),
}
CURVE_NAMES = tuple(_CURVES)


def model_curves(model: FaceModel) -> dict[str, np.ndarray]:
    """Vertex chains of the model's curves by name; a chain of one vertex is a point (iris
    centre). Curves the model cannot provide (no pupil vertex) are left out."""
    curves = {}
    for name, (region, ibug) in _CURVES.items():
        if region is not None and region in model.regions:
            curves[name] = np.asarray(model.regions[region], np.int64)
        elif ibug is not None:
            curves[name] = np.asarray(model.landmark_indices[list(ibug)], np.int64)
    return curves


def closest_on_polyline(polyline: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``points`` ``(K, 2)``, its closest point on ``polyline`` ``(L, 2)``.

    Returns ``segment`` (K,) the segment index (between vertex ``segment`` and ``segment+1``),
    ``t`` (K,) the position on it in [0, 1], ``normal`` (K, 2) the segment's unit normal, and
    ``inside`` (K,) False where the closest point is an end of the polyline: the detected point
    lies beyond the model's curve, and its distance across the curve means nothing.
    """
    a, b = polyline[:-1], polyline[1:]
    along = b - a
    length2 = np.maximum(np.sum(along**2, 1), 1e-12)
    t = np.clip(np.einsum("ksc,sc->ks", points[:, None] - a[None], along) / length2, 0.0, 1.0)
    nearest = a[None] + t[..., None] * along[None]
    segment = np.argmin(np.sum((points[:, None] - nearest) ** 2, -1), 1)
    rows = np.arange(len(points))
    t = t[rows, segment]
    direction = along[segment] / np.sqrt(length2[segment])[:, None]
    normal = np.stack([-direction[:, 1], direction[:, 0]], 1)
    last = len(polyline) - 2
    inside = ~(((segment == 0) & (t <= 0.0)) | ((segment == last) & (t >= 1.0)))
    return segment, t, normal, inside
