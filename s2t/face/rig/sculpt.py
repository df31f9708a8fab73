"""The embedded head, sculpted in code: an SDF head ray-cast onto a spherical grid.

The skin is one grid of rays from a point inside the head (rows = elevation, columns =
azimuth), so the topology is regular and every feature sits on known rows and columns.
The mouth and the two eyes are *slits*: one grid row whose vertices are split into an upper
and a lower copy, so lips part and lids open without any special-case geometry. Eyeballs,
teeth, a tongue and a mouth cavity are separate closed parts placed behind the openings.

Coordinates are metres, y up, z forward, x toward the subject's left; the origin is the head
centre, about level with the ears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from s2t.face.rig import sdf

RAY_CENTRE = np.array([0.0, -0.01, 0.0])
# Left eyeball; the right one mirrors x. Its x is the middle of the lid opening as the skin grid
# makes it (corners at x 0.0173 and 0.0519: the ray through EYE_OUTER, which lies in the socket,
# meets the skin 5 mm beyond it), so the pupil looking ahead sits mid-opening, not 7.5 % nasal.
EYE_CENTRE = np.array([0.0346, 0.004, 0.071])
EYEBALL_RADIUS = 0.0118
LID_RADIUS = 0.0133
EYE_INNER = np.array([0.0165, 0.0035, 0.080])  # inner canthus target (left eye)
EYE_OUTER = np.array([0.0465, 0.0055, 0.064])  # outer canthus target (left eye)
MOUTH_Y = -0.0705
MOUTH_CORNER = np.array([0.0245, MOUTH_Y, 0.088])  # left mouth corner target
JAW_HINGE = np.array([0.0, -0.012, -0.006])  # temporomandibular joint axis (along x)
LID_OPEN_UP = 0.50  # upper lid rotation (radians about the eyeball centre) at mid-eye
LID_OPEN_DOWN = 0.30


def head_sdf(p: np.ndarray) -> np.ndarray:
    """Signed distance (metres) of the neutral head, negative inside."""
    d = sdf.ellipsoid(p, (0, 0.018, -0.014), (0.075, 0.092, 0.100))  # cranium
    d = sdf.smooth_union(d, sdf.ellipsoid(p, (0, -0.036, 0.022), (0.064, 0.080, 0.074)), 0.03)  # face mass
    d = sdf.smooth_union(d, sdf.ellipsoid(p, (0, -0.064, 0.028), (0.056, 0.054, 0.066)), 0.02)  # jaw
    d = sdf.smooth_union(d, sdf.ellipsoid(p, (0, -0.099, 0.066), (0.021, 0.017, 0.017)), 0.016)  # chin
    neck = sdf.capsule(p * np.array([1.0, 1.0, 1.12]), (0, -0.32, -0.017), (0, -0.05, -0.017), 0.054)
    d = sdf.smooth_union(d, neck, 0.03)
    d = sdf.smooth_union(d, sdf.mirrored(sdf.ellipsoid, p, (0.044, -0.018, 0.056), (0.022, 0.016, 0.02)), 0.024)  # cheekbones
    d = sdf.smooth_union(d, sdf.mirrored(sdf.ellipsoid, p, (0.029, 0.025, 0.078), (0.026, 0.010, 0.012)), 0.02)  # brow ridge
    d = sdf.smooth_subtract(d, sdf.mirrored(sdf.ellipsoid, p, (0.032, 0.007, 0.093), (0.02, 0.013, 0.013)), 0.01)  # sockets
    d = sdf.smooth_union(d, sdf.mirrored(sdf.ellipsoid, p, EYE_CENTRE, (LID_RADIUS,) * 3), 0.004)  # lids on eyeballs
    nose = sdf.capsule(p, (0, 0.009, 0.086), (0, -0.030, 0.111), 0.0058, 0.0088)
    nose = sdf.smooth_union(nose, sdf.ellipsoid(p, (0, -0.034, 0.1095), (0.0105, 0.0095, 0.0095)), 0.006)
    nose = sdf.smooth_union(nose, sdf.mirrored(sdf.ellipsoid, p, (0.0135, -0.038, 0.098), (0.0085, 0.0075, 0.0085)), 0.006)
    d = sdf.smooth_union(d, nose, 0.007)
    d = sdf.smooth_union(d, sdf.ellipsoid(p, (0, -0.056, 0.090), (0.026, 0.013, 0.012)), 0.01)  # philtrum/maxilla
    d = sdf.smooth_union(d, sdf.ellipsoid(p, (0, -0.0655, 0.0965), (0.0245, 0.0058, 0.0075)), 0.007)  # upper lip
    d = sdf.smooth_union(d, sdf.ellipsoid(p, (0, -0.0758, 0.0950), (0.0215, 0.0068, 0.0082)), 0.007)  # lower lip
    d = sdf.smooth_subtract(d, sdf.ellipsoid(p, (0, -0.0868, 0.0985), (0.018, 0.0035, 0.006)), 0.004)  # labiomental fold
    d = sdf.smooth_union(d, sdf.mirrored(sdf.ellipsoid, p, (0.0755, -0.006, -0.010), (0.009, 0.027, 0.016)), 0.009)  # ears
    return d


def _direction(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit rays: theta = azimuth from +z toward +x, phi = elevation."""
    return np.stack([np.cos(phi) * np.sin(theta), np.sin(phi), np.cos(phi) * np.cos(theta)], -1)


def _angles_of(point: np.ndarray) -> tuple[float, float]:
    q = np.asarray(point) - RAY_CENTRE
    return float(np.arctan2(q[0], q[2])), float(np.arctan2(q[1], np.hypot(q[0], q[2])))


def cast_rays(directions: np.ndarray, t_max: float = 0.36, steps: int = 96) -> np.ndarray:
    """Outermost surface point along each ray from RAY_CENTRE (coarse march, then bisection)."""
    n = len(directions)
    ts = np.linspace(t_max, 0.0, steps)
    inside = np.empty((n, steps), bool)
    for k, t in enumerate(ts):
        inside[:, k] = head_sdf(RAY_CENTRE + t * directions) < 0
    first = inside.argmax(axis=1)  # first sample (from outside) that is inside
    hi, lo = ts[np.maximum(first - 1, 0)], ts[first]
    for _ in range(30):
        mid = 0.5 * (hi + lo)
        out = head_sdf(RAY_CENTRE + mid[:, None] * directions) > 0
        hi, lo = np.where(out, mid, hi), np.where(out, lo, mid)
    return RAY_CENTRE + (0.5 * (hi + lo))[:, None] * directions


def _fill(knots: list[float], spacing) -> np.ndarray:
    """Sorted samples that contain every knot, spaced about ``spacing(x)`` in between."""
    out = [knots[0]]
    for a, b in zip(knots[:-1], knots[1:]):
        n = max(1, int(round((b - a) / spacing(0.5 * (a + b)))))
        out.extend(np.linspace(a, b, n + 1)[1:])
    return np.array(out)


@dataclass
class Slit:
    """A split row segment: ``upper``/``lower`` vertex ids per column (corners shared)."""

    row: int
    columns: np.ndarray
    upper: np.ndarray
    lower: np.ndarray


@dataclass
class Sculpt:
    vertices: np.ndarray
    triangles: np.ndarray
    regions: dict[str, np.ndarray]
    grid: np.ndarray  # (rows, cols) vertex id of each skin grid point (upper copy on slits)
    thetas: np.ndarray
    phis: np.ndarray
    slits: dict[str, Slit] = field(default_factory=dict)


def _row_spacing(phi: float) -> float:
    """Rows are densest across the lips and the eyes, where the shapes move most."""
    if -0.72 <= phi < -0.36 or -0.05 <= phi < 0.36:
        return 0.016
    return 0.03 if -0.95 <= phi < 0.62 else 0.08


def _skin_grid() -> tuple[np.ndarray, np.ndarray, dict[str, tuple]]:
    t_in, p_in = _angles_of(EYE_INNER)
    t_out, p_out = _angles_of(EYE_OUTER)
    t_mc, p_m = _angles_of(MOUTH_CORNER)
    p_eye = 0.5 * (p_in + p_out)
    third = (t_out - t_in) / 3
    half = sorted({0.0, t_mc / 2, t_in, t_mc, t_in + third, t_in + 2 * third, t_out, 0.95, 1.45, np.pi})
    theta_half = _fill(half, lambda t: 0.022 if t < 0.6 else (0.035 if t < 0.95 else (0.07 if t < 1.45 else 0.16)))
    thetas = np.concatenate([-theta_half[::-1][1:-1], theta_half[:-1]])  # periodic: drop -pi and pi
    phis = _fill(sorted({-1.18, -0.95, -0.72, p_m, -0.36, -0.05, p_eye, 0.36, 0.62, 1.47}), _row_spacing)
    slit_specs = {"mouth": (p_m, -t_mc, t_mc), "eye_left": (p_eye, t_in, t_out), "eye_right": (p_eye, -t_out, -t_in)}
    return thetas, phis, slit_specs


def build_skin() -> Sculpt:
    thetas, phis, slit_specs = _skin_grid()
    rows, cols = len(phis), len(thetas)
    th, ph = np.meshgrid(thetas, phis)
    points = list(cast_rays(_direction(th.ravel(), ph.ravel())))
    grid = np.arange(rows * cols).reshape(rows, cols)
    below = grid.copy()  # vertex ids used by cells *below* each grid point
    slits = {}
    for name, (phi, t0, t1) in slit_specs.items():
        row = int(np.argmin(np.abs(phis - phi)))
        c0, c1 = int(np.argmin(np.abs(thetas - t0))), int(np.argmin(np.abs(thetas - t1)))
        inner = np.arange(c0 + 1, c1)
        copies = np.arange(len(points), len(points) + len(inner))
        points.extend(points[i] for i in grid[row, inner])
        below[row, inner] = copies
        columns = np.arange(c0, c1 + 1)
        slits[name] = Slit(row, columns, grid[row, columns], below[row, columns])
    tris = []
    for r in range(rows - 1):
        for c in range(cols):
            c2 = (c + 1) % cols
            # The cell between rows r and r+1 is above row r (its upper ids, ``grid``) and
            # below row r+1 (its lower ids, ``below``); on slits the two differ.
            lo_a, lo_b = grid[r, c], grid[r, c2]
            a, b = below[r + 1, c], below[r + 1, c2]
            if thetas[c] < 0 and thetas[c2] <= 0:  # mirror the diagonal so the mesh is symmetric
                tris += [(lo_a, lo_b, a), (lo_b, b, a)]
            else:
                tris += [(lo_a, lo_b, b), (lo_a, b, a)]
    pole = len(points)
    points.append(cast_rays(np.array([[0.0, 1.0, 0.0]]))[0])
    for c in range(cols):
        tris.append((grid[-1, c], grid[-1, (c + 1) % cols], pole))
    verts = np.array(points)
    return Sculpt(verts, np.array(tris, np.int64), {}, grid, thetas, phis, slits)


def rotate_about_x(points: np.ndarray, pivot: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate each point about the x axis through ``pivot`` by its own angle (positive: front goes down)."""
    q = points - pivot
    c, s = np.cos(angles), np.sin(angles)
    y = q[:, 1] * c - q[:, 2] * s
    z = q[:, 1] * s + q[:, 2] * c
    return pivot + np.stack([q[:, 0], y, z], -1)


def eyelid_weights(skin: Sculpt, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-vertex lid weights ``(upper, lower)`` and the lid profile over the eye width.

    The weight is the fraction of the lid edge's rotation a vertex follows: 1 on the slit,
    falling to 0 toward the brow (upper) and the cheek (lower), and 0 at the canthi, so
    lids open into an almond and close again without tearing.
    """
    slit = skin.slits[f"eye_{side}"]
    centre = EYE_CENTRE * np.array([1.0 if side == "left" else -1.0, 1.0, 1.0])
    t0, t1 = skin.thetas[slit.columns[0]], skin.thetas[slit.columns[-1]]
    n = len(skin.vertices)
    upper, lower = np.zeros(n), np.zeros(n)
    rows = np.arange(skin.grid.shape[0])
    for col in slit.columns:
        s = (skin.thetas[col] - t0) / (t1 - t0)
        if side == "right":
            s = 1.0 - s  # profile runs inner -> outer on both eyes
        profile = np.sin(np.pi * s) ** 0.8 * (1.0 + 0.25 * (s - 0.5))  # outer half a little fuller
        for ids, sign, weights, reach in ((skin.grid[:, col], 1, upper, 1.1), (None, -1, lower, 0.9)):
            if ids is None:
                ids = skin.grid[:, col].copy()
                ids[slit.row] = slit.lower[list(slit.columns).index(col)]
            q = skin.vertices[ids] - centre
            elev = np.arctan2(q[:, 1], q[:, 2])
            edge = elev[slit.row]
            side_rows = rows >= slit.row if sign > 0 else rows <= slit.row
            fall = np.clip(1.0 - sign * (elev - edge) / reach, 0.0, 1.0) ** 1.5
            w = np.where(side_rows & (q[:, 2] > 0), fall * profile, 0.0)
            weights[ids] = np.maximum(weights[ids], w)
    return upper, lower, centre


def open_eyes(skin: Sculpt) -> None:
    """Open the eye slits into almond-shaped lids resting on the eyeballs (in place)."""
    for side in ("left", "right"):
        upper, lower, centre = eyelid_weights(skin, side)
        angle = -LID_OPEN_UP * upper + LID_OPEN_DOWN * lower
        moved = angle != 0
        skin.vertices[moved] = rotate_about_x(skin.vertices[moved], centre, angle[moved])
