"""Fit the face model to 2D landmarks: head pose, identity and expression.

Two fits share one solver: :func:`fit_landmarks` to the 68 iBUG points (dlib's), and
:func:`fit_contours` to the 68 points plus detected contours (MediaPipe's inner lips, lids,
jaw line and irises), each contour point matched to the closest point of the model's curve
(:mod:`s2t.face.contours`). :func:`fit_face` picks the one a detection allows.

The fit minimises the 2D reprojection error of the model's landmarks (moved by
:func:`apply_pose`, projected by :class:`Camera`) with ``scipy.optimize.least_squares``,
plus Tikhonov priors that pull identity and expression toward the neutral face so that
modes the 68 points cannot see (cheek puff, tongue, ...) stay at zero instead of drifting.

Reprojection residuals are divided by the face's size in pixels, so the priors weigh the
same for a 100 px face and a 1000 px one.

The jaw line (iBUG points 0-16) is weighted down by ``jaw_weight``: those points are the
face's silhouette, which slides over the mesh as the head turns, so no fixed vertex
corresponds to them once there is yaw.

The 68-point fit runs in stages, each starting where the previous one stopped: a closed-form
scaled-orthographic alignment of the neutral-expression landmarks, then pose only, then pose +
identity, then everything. Solving for everything at once from a poor pose lets identity
and expression absorb pose errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from s2t.face.camera import Camera
from s2t.face.contours import closest_on_polyline, model_curves
from s2t.face.detect import Landmarks68, detect_face, load_image
from s2t.face.mediapipe_mesh import mesh_contours
from s2t.face.model import FaceModel
from s2t.face.pose import angles_from_matrix, apply_pose, rotation_matrix

JAW = slice(0, 17)
MAX_PITCH_YAW = np.radians(85.0)


@dataclass(frozen=True)
class FaceFit:
    """The fitted coefficients and how well they explain the landmarks.

    ``pose`` is ``(6,)`` (pitch, yaw, roll, tx, ty, tz); ``identity`` ``(I,)``;
    ``expression`` ``(K,)``; ``rms_px`` is the root mean square of the 68 per-landmark
    distances ``landmark_errors_px`` (pixels, unweighted, jaw included); ``contour_rms_px``
    is the RMS distance of detected contour points across the fitted curves, for fits that had
    contours (:func:`fit_contours`), else None.
    """

    pose: np.ndarray
    identity: np.ndarray
    expression: np.ndarray
    camera: Camera
    rms_px: float
    landmark_errors_px: np.ndarray
    contour_rms_px: float | None = None

    def project_landmarks(self, model: FaceModel) -> np.ndarray:
        """The fitted model's 68 landmarks in image pixels, ``(68, 2)``."""
        return self.camera.project(apply_pose(model.landmarks(self.expression, self.identity), self.pose))

    def camera_vertices(self, model: FaceModel) -> np.ndarray:
        """All fitted vertices in the camera frame, ``(V, 3)``."""
        return apply_pose(model.geometry(self.expression, self.identity), self.pose)


@dataclass(frozen=True)
class _Targets:
    """Image points the fit explains: model point ``n`` is ``combine[n] @ vertices[vertex_ids]``
    (a vertex, or a point between two on a curve); its residual is ``metric[n] @ (projected -
    points[n])``: a weighted 2D offset for landmarks, the offset across the curve for contours."""

    vertex_ids: np.ndarray  # (M,)
    combine: np.ndarray  # (N, M)
    points: np.ndarray  # (N, 2)
    metric: np.ndarray  # (N, 2, 2)

    @staticmethod
    def stack(*parts: "_Targets") -> "_Targets":
        ids = np.concatenate([p.vertex_ids for p in parts])
        combine = np.zeros((sum(len(p.points) for p in parts), len(ids)))
        row = col = 0
        for p in parts:
            combine[row : row + len(p.points), col : col + len(p.vertex_ids)] = p.combine
            row, col = row + len(p.points), col + len(p.vertex_ids)
        return _Targets(ids, combine, np.concatenate([p.points for p in parts]), np.concatenate([p.metric for p in parts]))


def _landmark_targets(model: FaceModel, points: np.ndarray, weights: np.ndarray, face_px: float) -> _Targets:
    metric = (weights / face_px)[:, None, None] * np.eye(2)
    return _Targets(np.asarray(model.landmark_indices), np.eye(68), points, metric)


def _face_px(points: np.ndarray) -> float:
    """The face's size in pixels: residuals are divided by it (see the module docstring)."""
    return max(float(np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1)))), 1e-6)


@dataclass(frozen=True)
class _Problem:
    """What stays fixed while solving: the model restricted to the targets, bounds, priors."""

    model: FaceModel
    camera: Camera
    n_id: int
    n_exp: int
    given_identity: np.ndarray
    prior_weights: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def make(cls, model: FaceModel, camera: Camera, fit_identity: bool, fit_expression: bool,
             identity: np.ndarray | None, identity_prior: float, expression_prior: float) -> "_Problem":
        given = np.zeros(model.num_identity) if identity is None else np.asarray(identity, np.float64)
        if given.shape != (model.num_identity,):
            raise ValueError(f"identity must have {model.num_identity} values, got shape {given.shape}")
        n_id = model.num_identity if fit_identity else 0
        n_exp = model.num_expressions if fit_expression else 0
        priors = np.sqrt(np.concatenate([np.full(n_id, identity_prior), np.full(n_exp, expression_prior)]))
        # Keep every landmark in front of the camera: tz stays a few head radii short of it.
        radius = np.max(np.linalg.norm(model.landmarks(), axis=1))
        pose_lower = [-MAX_PITCH_YAW, -MAX_PITCH_YAW, -np.pi, -np.inf, -np.inf, -np.inf]
        pose_upper = [MAX_PITCH_YAW, MAX_PITCH_YAW, np.pi, np.inf, np.inf, camera.distance - 3.0 * radius]
        lower = np.concatenate([pose_lower, np.full(n_id, -np.inf), model.expression_bounds[:n_exp, 0]])
        upper = np.concatenate([pose_upper, np.full(n_id, np.inf), model.expression_bounds[:n_exp, 1]])
        return cls(model, camera, n_id, n_exp, given, priors, lower, upper)

    def unpack(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        identity = params[6 : 6 + self.n_id] if self.n_id else self.given_identity
        expression = params[6 + self.n_id :] if self.n_exp else np.zeros(self.model.num_expressions)
        return params[:6], identity, expression

    def start(self, points68: np.ndarray) -> np.ndarray:
        """Parameters from the closed-form pose of the 68 points, neutral expression."""
        shape = self.model.landmarks(identity=self.given_identity)
        pose0 = np.clip(initial_pose(shape, points68, self.camera), self.lower[:6] + 1e-9, self.upper[:6] - 1e-9)
        expression0 = np.clip(np.zeros(self.n_exp), self.lower[6 + self.n_id :], self.upper[6 + self.n_id :])
        return np.concatenate([pose0, self.given_identity[: self.n_id], expression0])

    def solve(self, targets: _Targets, params: np.ndarray, stages: tuple[int, ...]) -> np.ndarray:
        """Least squares from ``params``, freeing the first ``free`` parameters per stage."""
        model, camera = self.model, self.camera
        ids, combine = targets.vertex_ids, targets.combine
        n = len(targets.points)
        base = combine @ model.vertices[ids].astype(np.float64)
        id_basis = np.einsum("nm,imc->inc", combine, model.identity_basis[:, ids].astype(np.float64))
        exp_basis = np.einsum("nm,kmc->knc", combine, model.expression_basis[:, ids].astype(np.float64))
        params = params.copy()

        def shape(full: np.ndarray) -> np.ndarray:
            _, identity, expression = self.unpack(full)
            return base + np.tensordot(identity, id_basis, axes=1) + np.tensordot(expression, exp_basis, axes=1)

        def residuals(free_params: np.ndarray, free: int) -> np.ndarray:
            full = np.concatenate([free_params, params[free:]])
            offset = camera.project(apply_pose(shape(full), full[:6])) - targets.points
            return np.concatenate([np.einsum("nij,nj->ni", targets.metric, offset).ravel(), self.prior_weights * full[6:]])

        def jacobian(free_params: np.ndarray, free: int) -> np.ndarray:
            full = np.concatenate([free_params, params[free:]])
            local = shape(full)
            rotation = rotation_matrix(full[:3])
            cam = local @ rotation.T + full[3:6]
            # d(camera point)/d(params), (N, 3, P): rotation angles, translation, identity, expression
            d_angles = np.stack([local @ d.T for d in _rotation_derivatives(full[:3])], -1)
            d_translation = np.broadcast_to(np.eye(3), (n, 3, 3))
            d_bases = [np.moveaxis(basis @ rotation.T, 0, -1) for basis in (id_basis[: self.n_id], exp_basis[: self.n_exp])]
            d_cam = np.concatenate([d_angles, d_translation, *d_bases], -1)[..., :free]
            # d(pixel)/d(camera point) of the pinhole, (N, 2, 3)
            inv_depth = 1.0 / (camera.distance - cam[:, 2])
            d_pixel = np.zeros((n, 2, 3))
            d_pixel[:, 0, 0] = camera.focal * inv_depth
            d_pixel[:, 0, 2] = camera.focal * cam[:, 0] * inv_depth**2
            d_pixel[:, 1, 1] = -camera.focal * inv_depth
            d_pixel[:, 1, 2] = -camera.focal * cam[:, 1] * inv_depth**2
            d_image = np.einsum("nij,njp->nip", targets.metric, np.einsum("nij,njp->nip", d_pixel, d_cam))
            priors = np.zeros((len(self.prior_weights), free))
            priors[:, 6:] = np.diag(self.prior_weights)[:, : free - 6]
            return np.vstack([d_image.reshape(2 * n, free), priors])

        for free in stages:
            bounds = (self.lower[:free], self.upper[:free])
            params[:free] = least_squares(
                residuals, params[:free], jac=jacobian, bounds=bounds, args=(free,), x_scale="jac"
            ).x
        return params

    def result(self, params: np.ndarray, points68: np.ndarray, contour_rms_px: float | None = None) -> FaceFit:
        pose, identity, expression = (a.copy() for a in self.unpack(params))
        projected = self.camera.project(apply_pose(self.model.landmarks(expression, identity), pose))
        errors = np.linalg.norm(projected - points68, axis=1)
        rms = float(np.sqrt(np.mean(errors**2)))
        return FaceFit(pose, identity, expression, self.camera, rms, errors, contour_rms_px)


# The fits solve small systems: BLAS threads only add overhead there, and with other jobs on a
# few cores they slow each fit down tenfold and more (measured: 0.1 s -> 2-15 s on 2 busy cores).
_single_threaded = threadpool_limits.wrap(limits=1)


def _check_points(points2d: np.ndarray) -> np.ndarray:
    points = np.asarray(points2d, dtype=np.float64)
    if points.shape != (68, 2) or not np.all(np.isfinite(points)):
        raise ValueError(f"points2d must be 68 finite (x, y) points, got shape {points.shape}")
    return points


@_single_threaded
def fit_landmarks(
    model: FaceModel,
    points2d: np.ndarray,
    camera: Camera,
    *,
    fit_identity: bool = True,
    fit_expression: bool = True,
    identity: np.ndarray | None = None,
    jaw_weight: float = 0.3,
    identity_prior: float = 2e-3,
    expression_prior: float = 3e-2,
) -> FaceFit:
    """Fit pose (and optionally identity and expression) to 68 iBUG points in pixels.

    ``identity`` is the starting identity, or the fixed one with ``fit_identity=False``
    (e.g. fitted once from a photo, then held for every video frame); zero by default.
    ``identity_prior`` and ``expression_prior`` are the Tikhonov weights, relative to a
    squared reprojection error measured in face sizes; raise them for noisy landmarks.
    """
    points = _check_points(points2d)
    problem = _Problem.make(model, camera, fit_identity, fit_expression, identity, identity_prior, expression_prior)
    weights = np.ones(68)
    weights[JAW] = jaw_weight
    targets = _landmark_targets(model, points, weights, _face_px(points))
    # Stages: pose, then pose + identity, then everything (see the module docstring).
    stages = tuple(sorted({6, 6 + problem.n_id, 6 + problem.n_id + problem.n_exp}))
    return problem.result(problem.solve(targets, problem.start(points), stages), points)


CONTOUR_WEIGHTS = {"lips_inner": 1.0, "eye": 1.0, "jaw": 0.6, "iris": 0.5}
"""Weight of one contour point per curve family, relative to one of the 68 landmarks."""


def _contour_weight(name: str) -> float:
    return next(w for family, w in CONTOUR_WEIGHTS.items() if name.startswith(family))


def _contour_targets(model: FaceModel, problem: _Problem, params: np.ndarray, contours: dict[str, np.ndarray],
                     face_px: float) -> tuple[_Targets, np.ndarray]:
    """Targets matching each contour point to the closest point of the model's curve as the
    model is posed now, and the current distances across the curves (pixels)."""
    pose, identity, expression = problem.unpack(params)
    curves = model_curves(model)
    parts, distances = [], []
    for name, found in contours.items():
        if name not in curves or len(found) == 0:
            continue
        ids = curves[name]
        found = np.asarray(found, np.float64).reshape(-1, 2)
        weight = _contour_weight(name) / face_px
        shaped = model.vertices[ids] + np.tensordot(identity, model.identity_basis[:, ids], axes=1) + np.tensordot(
            expression, model.expression_basis[:, ids], axes=1)
        pixels = problem.camera.project(apply_pose(shaped, pose))
        if len(ids) == 1:  # a point (iris centre): a full 2D residual for each detected point
            metric = np.broadcast_to(weight * np.eye(2), (len(found), 2, 2)).copy()
            parts.append(_Targets(ids, np.ones((len(found), 1)), found, metric))
            distances.append(np.linalg.norm(found - pixels, axis=1))
            continue
        segment, t, normal, inside = closest_on_polyline(pixels, found)
        segment, t, normal, found = segment[inside], t[inside], normal[inside], found[inside]
        if len(found) == 0:
            continue
        combine = np.zeros((len(found), len(ids)))
        combine[np.arange(len(found)), segment] = 1.0 - t
        combine[np.arange(len(found)), segment + 1] = t
        parts.append(_Targets(ids, combine, found, weight * normal[:, :, None] * normal[:, None, :]))
        distances.append(np.abs(np.sum((combine @ pixels - found) * normal, 1)))
    if not parts:
        return _Targets(np.zeros(0, np.int64), np.zeros((0, 0)), np.zeros((0, 2)), np.zeros((0, 2, 2))), np.zeros(0)
    return _Targets.stack(*parts), np.concatenate(distances)


@_single_threaded
def fit_contours(
    model: FaceModel,
    points2d: np.ndarray,
    contours: dict[str, np.ndarray],
    camera: Camera,
    *,
    rounds: int = 3,
    jaw_weight: float = 0.1,
    identity_prior: float = 2e-3,
    expression_prior: float = 3e-2,
) -> FaceFit:
    """Fit to 68 iBUG points and to detected contours (see :mod:`s2t.face.contours`).

    ``contours`` maps curve names (:data:`s2t.face.contours.CURVE_NAMES`) to ``(K, 2)`` points
    in pixels. The fit starts from :func:`fit_landmarks`, then alternates ``rounds`` times
    between matching each contour point to the closest point of the model's projected curve
    and solving all parameters against landmarks and matches together. The jaw's 68-point
    terms are weighted down further (``jaw_weight``) since the jaw contour, which may slide
    along the model's jaw line, replaces them. ``contour_rms_px`` of the result is the RMS
    distance of the contour points across the fitted curves.
    """
    points = _check_points(points2d)
    first = fit_landmarks(model, points, camera, identity_prior=identity_prior, expression_prior=expression_prior)
    problem = _Problem.make(model, camera, True, True, None, identity_prior, expression_prior)
    params = np.concatenate([first.pose, first.identity, first.expression])
    face_px = _face_px(points)
    weights = np.ones(68)
    weights[JAW] = jaw_weight
    landmarks = _landmark_targets(model, points, weights, face_px)
    for _ in range(rounds):
        matches, _ = _contour_targets(model, problem, params, contours, face_px)
        params = problem.solve(_Targets.stack(landmarks, matches), params, (len(params),))
    _, distances = _contour_targets(model, problem, params, contours, face_px)
    contour_rms = float(np.sqrt(np.mean(distances**2))) if len(distances) else None
    return problem.result(params, points, contour_rms)


def contour_errors_px(model: FaceModel, fit: FaceFit, contours: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per curve, the distances (pixels) of detected contour points across ``fit``'s projected
    curves (to the point, for iris centres); points beyond a curve's ends are left out. Any
    fit can be measured against any contours: e.g. a 68-point fit against MediaPipe's."""
    problem = _Problem.make(model, fit.camera, False, True, fit.identity, 0.0, 0.0)
    params = np.concatenate([fit.pose, fit.expression])
    return {name: _contour_targets(model, problem, params, {name: found}, 1.0)[1] for name, found in contours.items()}


def _rotation_derivatives(angles: np.ndarray) -> np.ndarray:
    """d R / d(pitch, yaw, roll), ``(3, 3, 3)``, by central differences (accurate to ~1e-10)."""
    h = 1e-6
    return np.stack([(rotation_matrix(angles + h * e) - rotation_matrix(angles - h * e)) / (2 * h) for e in np.eye(3)])


def initial_pose(landmarks3d: np.ndarray, points2d: np.ndarray, camera: Camera) -> np.ndarray:
    """A pose from a closed-form scaled-orthographic alignment of 3D to 2D landmarks.

    Solves ``image ≈ s·R[:2]·X + b`` as an affine map by least squares on the non-jaw
    points, takes the nearest scaled rotation, and turns the scale into depth through the
    camera's focal length.
    """
    x3 = np.asarray(landmarks3d, np.float64)[JAW.stop :]
    x2 = np.asarray(points2d, np.float64)[JAW.stop :]
    centred = np.stack([x2[:, 0] - camera.cx, camera.cy - x2[:, 1]], 1)  # image y down -> model y up
    design = np.hstack([x3, np.ones((len(x3), 1))])
    solution = np.linalg.lstsq(design, centred, rcond=None)[0]
    u, singular, vt = np.linalg.svd(solution[:3].T, full_matrices=False)
    rows = u @ vt
    rotation = np.vstack([rows, np.cross(rows[0], rows[1])])
    s = float(np.mean(singular))
    depth_offset = float(np.mean((x3 @ rotation.T)[:, 2]))
    tz = camera.distance - camera.focal / s - depth_offset
    return np.concatenate([angles_from_matrix(rotation), solution[3] / s, [tz]])


def fit_face(model: FaceModel, landmarks: Landmarks68, camera: Camera, **fit_options) -> FaceFit:
    """Fit to a detection: :func:`fit_contours` when it carries MediaPipe's mesh, else
    :func:`fit_landmarks` on its 68 points."""
    if landmarks.mesh is None:
        return fit_landmarks(model, landmarks.points, camera, **fit_options)
    return fit_contours(model, landmarks.points, mesh_contours(landmarks.mesh), camera, **fit_options)


def fit_photo(model: FaceModel, image: str | Path | np.ndarray, **fit_options) -> tuple[FaceFit, Landmarks68]:
    """Detect the face in a photo (:func:`~s2t.face.detect.detect_face`: MediaPipe's mesh where
    available, else dlib's 68 points) and fit the model with ``Camera.for_image`` of its size."""
    landmarks = detect_face(image)
    camera = Camera.for_image(*landmarks.image_size)
    return fit_face(model, landmarks, camera, **fit_options), landmarks


def render_fit_overlay(
    image: str | Path | np.ndarray,
    model: FaceModel,
    fit: FaceFit,
    landmarks: Landmarks68 | np.ndarray | None = None,
    *,
    opacity: float = 0.5,
) -> np.ndarray:
    """The photo with the fitted mesh shaded over it, ``(H, W, 3)`` uint8.

    Detected landmarks are drawn green, fitted ones red, joined by a yellow line showing
    the error. Triangles are drawn far to near (painter's algorithm), shaded by how
    directly they face the camera, at twice the resolution and then downsampled.
    """
    rgb = load_image(image)
    height, width = rgb.shape[:2]
    ss = 2  # supersampling for smooth edges

    verts = fit.camera_vertices(model)
    pixels = fit.camera.project(verts) * ss
    tris = np.asarray(model.triangles)
    corners = verts[tris]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    to_camera = np.array([0.0, 0.0, fit.camera.distance]) - corners.mean(1)
    cosine = np.abs(np.sum(normals * to_camera, 1)) / (
        np.linalg.norm(normals, axis=1) * np.linalg.norm(to_camera, axis=1) + 1e-12
    )
    shade = 0.3 + 0.7 * cosine

    layer = Image.new("RGB", (width * ss, height * ss))
    mask = Image.new("L", (width * ss, height * ss))
    draw_layer, draw_mask = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
    for t in np.argsort(corners[:, :, 2].mean(1)):  # far (small z) first
        polygon = [tuple(p) for p in pixels[tris[t]]]
        colour = tuple(int(c * shade[t]) for c in (150, 200, 255))
        draw_layer.polygon(polygon, fill=colour)
        draw_mask.polygon(polygon, fill=255)
    layer = np.asarray(layer.resize((width, height), Image.Resampling.LANCZOS), np.float64)
    alpha = opacity * np.asarray(mask.resize((width, height), Image.Resampling.LANCZOS), np.float64)[..., None] / 255
    out = Image.fromarray(np.clip(rgb * (1 - alpha) + layer * alpha, 0, 255).astype(np.uint8))

    draw = ImageDraw.Draw(out)
    fitted = fit.project_landmarks(model)
    detected = landmarks.points if isinstance(landmarks, Landmarks68) else landmarks
    face_px = np.ptp(fitted[:, 0])
    r = max(1.0, face_px / 120)
    if detected is not None:
        for (x0, y0), (x1, y1) in zip(detected, fitted):
            draw.line([(x0, y0), (x1, y1)], fill=(255, 230, 0), width=max(1, int(r / 2)))
        for x, y in detected:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(0, 220, 0))
    for x, y in fitted:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 40, 40))
    return np.asarray(out)
