"""Fit the face model to 68 2D landmarks: head pose, identity and expression.

The fit minimises the 2D reprojection error of the model's landmarks (moved by
:func:`apply_pose`, projected by :class:`Camera`) with ``scipy.optimize.least_squares``,
plus Tikhonov priors that pull identity and expression toward the neutral face so that
modes the 68 points cannot see (cheek puff, tongue, ...) stay at zero instead of drifting.

Reprojection residuals are divided by the face's size in pixels, so the priors weigh the
same for a 100 px face and a 1000 px one.

The jaw line (iBUG points 0-16) is weighted down by ``jaw_weight``: those points are the
face's silhouette, which slides over the mesh as the head turns, so no fixed vertex
corresponds to them once there is yaw.

The fit runs in stages, each starting where the previous one stopped: a closed-form
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

from s2t.face.camera import Camera
from s2t.face.detect import Landmarks68, detect_landmarks, load_image
from s2t.face.model import FaceModel
from s2t.face.pose import angles_from_matrix, apply_pose, rotation_matrix

JAW = slice(0, 17)
MAX_PITCH_YAW = np.radians(85.0)


@dataclass(frozen=True)
class FaceFit:
    """The fitted coefficients and how well they explain the landmarks.

    ``pose`` is ``(6,)`` (pitch, yaw, roll, tx, ty, tz); ``identity`` ``(I,)``;
    ``expression`` ``(K,)``; ``rms_px`` is the root mean square of the 68 per-landmark
    distances ``landmark_errors_px`` (pixels, unweighted, jaw included).
    """

    pose: np.ndarray
    identity: np.ndarray
    expression: np.ndarray
    camera: Camera
    rms_px: float
    landmark_errors_px: np.ndarray

    def project_landmarks(self, model: FaceModel) -> np.ndarray:
        """The fitted model's 68 landmarks in image pixels, ``(68, 2)``."""
        return self.camera.project(apply_pose(model.landmarks(self.expression, self.identity), self.pose))

    def camera_vertices(self, model: FaceModel) -> np.ndarray:
        """All fitted vertices in the camera frame, ``(V, 3)``."""
        return apply_pose(model.geometry(self.expression, self.identity), self.pose)


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
    points = np.asarray(points2d, dtype=np.float64)
    if points.shape != (68, 2) or not np.all(np.isfinite(points)):
        raise ValueError(f"points2d must be 68 finite (x, y) points, got shape {points.shape}")

    idx = model.landmark_indices
    base = model.landmarks()
    id_basis = model.identity_basis[:, idx].astype(np.float64)
    exp_basis = model.expression_basis[:, idx].astype(np.float64)
    given_identity = np.zeros(model.num_identity) if identity is None else np.asarray(identity, np.float64)
    if given_identity.shape != (model.num_identity,):
        raise ValueError(f"identity must have {model.num_identity} values, got shape {given_identity.shape}")
    n_id = model.num_identity if fit_identity else 0
    n_exp = model.num_expressions if fit_expression else 0

    weights = np.ones(68)
    weights[JAW] = jaw_weight
    face_px = np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1)))
    scale = weights[:, None] / max(face_px, 1e-6)

    def unpack(params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        identity = params[6 : 6 + n_id] if n_id else given_identity
        expression = params[6 + n_id :] if n_exp else np.zeros(model.num_expressions)
        return params[:6], identity, expression

    def shape(params: np.ndarray) -> np.ndarray:
        _, identity, expression = unpack(params)
        return base + np.tensordot(identity, id_basis, axes=1) + np.tensordot(expression, exp_basis, axes=1)

    def project(params: np.ndarray) -> np.ndarray:
        return camera.project(apply_pose(shape(params), params[:6]))

    prior_weights = np.sqrt(np.concatenate([np.full(n_id, identity_prior), np.full(n_exp, expression_prior)]))

    def residuals(free_params: np.ndarray, free: int) -> np.ndarray:
        full = np.concatenate([free_params, params[free:]])
        reprojection = ((project(full) - points) * scale).ravel()
        return np.concatenate([reprojection, prior_weights * full[6:]])

    def jacobian(free_params: np.ndarray, free: int) -> np.ndarray:
        full = np.concatenate([free_params, params[free:]])
        local = shape(full)
        rotation = rotation_matrix(full[:3])
        cam = local @ rotation.T + full[3:6]
        # d(camera point)/d(params), (68, 3, P): rotation angles, translation, identity, expression
        d_angles = np.stack([local @ d.T for d in _rotation_derivatives(full[:3])], -1)
        d_translation = np.broadcast_to(np.eye(3), (68, 3, 3))
        d_bases = [np.moveaxis(basis @ rotation.T, 0, -1) for basis in (id_basis[: n_id], exp_basis[: n_exp])]
        d_cam = np.concatenate([d_angles, d_translation, *d_bases], -1)[..., :free]
        # d(pixel)/d(camera point) of the pinhole, (68, 2, 3)
        inv_depth = 1.0 / (camera.distance - cam[:, 2])
        d_pixel = np.zeros((68, 2, 3))
        d_pixel[:, 0, 0] = camera.focal * inv_depth
        d_pixel[:, 0, 2] = camera.focal * cam[:, 0] * inv_depth**2
        d_pixel[:, 1, 1] = -camera.focal * inv_depth
        d_pixel[:, 1, 2] = -camera.focal * cam[:, 1] * inv_depth**2
        reprojection = (np.einsum("nij,njp->nip", d_pixel, d_cam) * scale[:, :, None]).reshape(136, free)
        priors = np.zeros((len(prior_weights), free))
        priors[:, 6:] = np.diag(prior_weights)[:, : free - 6]
        return np.vstack([reprojection, priors])

    # Keep every landmark in front of the camera: tz stays a few head radii short of it.
    radius = np.max(np.linalg.norm(base, axis=1))
    pose_lower = [-MAX_PITCH_YAW, -MAX_PITCH_YAW, -np.pi, -np.inf, -np.inf, -np.inf]
    pose_upper = [MAX_PITCH_YAW, MAX_PITCH_YAW, np.pi, np.inf, np.inf, camera.distance - 3.0 * radius]
    lower = np.concatenate([pose_lower, np.full(n_id, -np.inf), model.expression_bounds[:n_exp, 0]])
    upper = np.concatenate([pose_upper, np.full(n_id, np.inf), model.expression_bounds[:n_exp, 1]])

    start_shape = base + np.tensordot(given_identity, id_basis, axes=1)
    pose0 = np.clip(initial_pose(start_shape, points, camera), lower[:6] + 1e-9, upper[:6] - 1e-9)
    expression0 = np.clip(np.zeros(n_exp), lower[6 + n_id :], upper[6 + n_id :])
    params = np.concatenate([pose0, given_identity[:n_id], expression0])

    # Stages: pose, then pose + identity, then everything (see the module docstring).
    for free in sorted({6, 6 + n_id, 6 + n_id + n_exp}):
        bounds = (lower[:free], upper[:free])
        params[:free] = least_squares(
            residuals, params[:free], jac=jacobian, bounds=bounds, args=(free,), x_scale="jac"
        ).x

    pose, identity, expression = (a.copy() for a in unpack(params))
    errors = np.linalg.norm(project(params) - points, axis=1)
    return FaceFit(pose, identity, expression, camera, float(np.sqrt(np.mean(errors**2))), errors)


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


def fit_photo(model: FaceModel, image: str | Path | np.ndarray, **fit_options) -> tuple[FaceFit, Landmarks68]:
    """Detect the face in a photo and fit the model with ``Camera.for_image`` of its size."""
    landmarks = detect_landmarks(image)
    camera = Camera.for_image(*landmarks.image_size)
    return fit_landmarks(model, landmarks.points, camera, **fit_options), landmarks


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
