"""Fit the face model to every frame of a talking-head video.

The chain, for one clip of frames already at the corpus frame rate:

1. **Landmarks** (:class:`FaceTracker`): the 68 iBUG points per frame, from MediaPipe's
   478-point mesh where MediaPipe is installed (:mod:`s2t.face.mediapipe_mesh`; its lids and
   inner lips are the ones the photo fit trusts) and dlib's 68 points otherwise, or in a frame
   whose face the mesh misses. The search runs on the whole frame only until a face is found;
   after that on a crop around the previous frame's face (where MediaPipe's short-range
   detector sees the face large; for dlib's HOG the crop is scaled so the face is about 60 px
   wide, a fraction of a full-frame search). dlib's shape predictor sees full resolution.
2. **Gaps** (:func:`fill_gaps`): frames without a face are interpolated linearly from their
   neighbours and counted; a clip with too many, or with a long gap, is refused
   (:class:`ClipRejected`), since inventing a second of motion would teach the model nothing.
3. **Landmark smoothing**: a Savitzky–Golay filter along time (5 frames, quadratic). The clip
   is processed offline, so a zero-phase filter can be used: it fits a local polynomial,
   which removes the detector's frame-to-frame jitter while keeping the height and timing
   of short mouth events (a lip closure lasts 2-4 frames). A moving average or a Gaussian
   flattens those peaks; a One-Euro filter, built for live tracking, lags behind fast motion
   and adapts its cut-off to speed, so its error depends on how fast the speaker talks.
4. **Identity** once per clip: full fits (:func:`~s2t.face.fit.fit_landmarks`) on a few
   frames spread over the clip, combined by the median (robust to a frame caught mid-word).
5. **Expression and pose** per frame with that identity held (:class:`FrameFitter`), each
   solve starting from the previous frame's answer: about ten solver steps, 2-3x faster than a
   staged fit from scratch.
6. **Curve smoothing**: the same Savitzky–Golay filter over the fitted expression and pose
   curves, expressions clipped back into their bounds.

The output pose has the head angles as fitted (relative to the camera, which looks at the
speaker in MEAD's front view and in most talking-head footage) and the translation relative
to the clip's median position, in model units: head motion, as the synthetic corpus and
the renderers use it. The median position is kept as ``translation_reference``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import savgol_filter
from threadpoolctl import threadpool_limits

from s2t.face.camera import Camera
from s2t.face import mediapipe_mesh
from s2t.face.detect import FaceImageError, detect_landmarks
from s2t.face.fit import JAW, MAX_PITCH_YAW, fit_landmarks
from s2t.face.model import FaceModel
from s2t.face.pose import apply_pose, rotation_matrix


class ClipRejected(ValueError):
    """A clip that cannot become training data (no face, too many lost frames); the message
    is the reason the corpus summary reports."""


@dataclass(frozen=True)
class VideoFitConfig:
    max_missing: float = 0.2  # refuse a clip when a larger fraction of its frames has no face
    max_gap_s: float = 0.5  # ... or when the face is lost for longer than this
    identity_frames: int = 5  # frames fitted in full to find the clip's identity
    smooth_window: int = 5  # Savitzky–Golay window in frames (odd), for landmarks and curves
    smooth_order: int = 2
    min_face_px: float = 40.0  # smaller faces are not tracked (too coarse to fit)
    full_detect_side: int = 640  # longer side of the frame for the whole-frame search
    track_margin: float = 0.6  # the tracking crop extends this many face widths on each side
    track_face_px: float = 60.0  # face width in the downscaled crop the detector searches
    jaw_weight: float = 0.3  # as in fit_landmarks: the jaw line is the silhouette, weighted down
    expression_prior: float = 3e-2


@dataclass(frozen=True)
class LandmarkTrack:
    """``points`` ``(T, 68, 2)`` pixels (NaN where no face was found), ``found`` ``(T,)``,
    ``image_size`` (width, height), how many frames needed the whole-frame search and how many
    frames' points came from MediaPipe's mesh (the rest from dlib)."""

    points: np.ndarray
    found: np.ndarray
    image_size: tuple[int, int]
    full_searches: int
    mesh_frames: int = 0


@dataclass(frozen=True)
class VideoFit:
    """A clip's fitted curves: ``expression`` ``(T, K)``, ``pose`` ``(T, 6)`` (see the module
    docstring), ``identity`` ``(I,)``, per-frame landmark ``rms_px`` ``(T,)`` and which
    frames were ``interpolated`` because no face was found in them."""

    expression: np.ndarray
    pose: np.ndarray
    identity: np.ndarray
    translation_reference: np.ndarray
    rms_px: np.ndarray
    interpolated: np.ndarray
    image_size: tuple[int, int]
    full_searches: int


class FaceTracker:
    """68 landmarks per frame, searching near the previous face first (see the module docstring)."""

    def __init__(self, config: VideoFitConfig = VideoFitConfig()) -> None:
        self.config = config
        self.box: tuple[float, float, float, float] | None = None  # previous face (left, top, right, bottom)
        self.full_searches = self.mesh_frames = 0
        self.use_mesh = mediapipe_mesh.mediapipe_unavailable() is None
        if not self.use_mesh:
            mediapipe_mesh.note_fallback_once()

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        """The ``(68, 2)`` landmarks of the face in an RGB frame, or None when there is none."""
        points = self._near_previous(frame) if self.box is not None else None
        if points is None:
            self.full_searches += 1
            points = self._detect(frame, self.config.full_detect_side)
        self.box = None if points is None else (*points.min(0), *points.max(0))
        return points

    def _near_previous(self, frame: np.ndarray) -> np.ndarray | None:
        left, top, right, bottom = self.box
        margin = self.config.track_margin * max(right - left, bottom - top)
        height, width = frame.shape[:2]
        x0, y0 = int(max(0, left - margin)), int(max(0, top - margin))
        x1, y1 = int(min(width, right + margin)), int(min(height, bottom + margin))
        if x1 - x0 < self.config.min_face_px or y1 - y0 < self.config.min_face_px:
            return None
        # Scaled so the face is track_face_px wide; detect_landmarks searches it upsampled 2x,
        # which clears HOG's 80 px window with room for the face to have grown.
        side = max(x1 - x0, y1 - y0) * self.config.track_face_px / max(right - left, 1.0)
        points = self._detect(frame[y0:y1, x0:x1], int(round(side)))
        return None if points is None else points + [x0, y0]

    def _detect(self, image: np.ndarray, detect_side: int) -> np.ndarray | None:
        if self.use_mesh:
            points = self._mesh_points(image)
            if points is not None:
                self.mesh_frames += 1
                return points
        try:
            return detect_landmarks(image, min_face_px=self.config.min_face_px, max_detect_side=detect_side).points
        except FaceImageError:
            return None

    def _mesh_points(self, image: np.ndarray) -> np.ndarray | None:
        """The 68 points of the largest mesh MediaPipe finds, if it is wide enough to fit."""
        meshes = mediapipe_mesh.detect_meshes(np.ascontiguousarray(image))
        if not meshes:
            return None
        mesh = max(meshes, key=lambda m: np.ptp(m[:, 0]) * np.ptp(m[:, 1]))
        return mediapipe_mesh.ibug68_from_mesh(mesh) if np.ptp(mesh[:, 0]) >= self.config.min_face_px else None


def track_landmarks(frames: Iterable[np.ndarray], config: VideoFitConfig = VideoFitConfig(),
                    expected_frames: int | None = None) -> LandmarkTrack:  # fmt: skip
    """Landmarks of every frame. With ``expected_frames`` (the clip's length, if known), stops
    early with :class:`ClipRejected` once more frames have been lost than the clip may lose."""
    tracker = FaceTracker(config)
    points, size = [], (0, 0)
    allowed = None if expected_frames is None else config.max_missing * expected_frames
    missing = 0
    for frame in frames:
        size = (frame.shape[1], frame.shape[0])
        found = tracker(frame)
        points.append(np.full((68, 2), np.nan) if found is None else found)
        missing += found is None
        if allowed is not None and missing > allowed:
            raise ClipRejected(f"no face in {missing} of the first {len(points)} frames (of about {expected_frames})")
    if not points:
        raise ClipRejected("the video has no frames")
    stacked = np.stack(points)
    return LandmarkTrack(stacked, ~np.isnan(stacked[:, 0, 0]), size, tracker.full_searches, tracker.mesh_frames)


def fill_gaps(points: np.ndarray, found: np.ndarray, fps: float,
              config: VideoFitConfig = VideoFitConfig()) -> np.ndarray:  # fmt: skip
    """Landmarks with the frames where no face was found interpolated linearly in time (held
    at the clip's ends); raises :class:`ClipRejected` when too much is missing."""
    count = len(found)
    lost = int(count - found.sum())
    if not found.any():
        raise ClipRejected(f"no face found in any of the {count} frames")
    if lost > config.max_missing * count:
        raise ClipRejected(f"no face in {lost} of {count} frames (more than {config.max_missing:.0%})")
    gap = _longest_run(~found)
    if gap > config.max_gap_s * fps:
        raise ClipRejected(f"the face is lost for {gap} frames in a row ({gap / fps:.2f} s; "
                           f"at most {config.max_gap_s} s)")  # fmt: skip
    if lost == 0:
        return points.copy()
    times, known = np.arange(count), np.flatnonzero(found)
    flat = points.reshape(count, -1)
    filled = np.stack([np.interp(times, known, flat[known, j]) for j in range(flat.shape[1])], 1)
    return filled.reshape(points.shape)


def _longest_run(mask: np.ndarray) -> int:
    longest = run = 0
    for value in mask:
        run = run + 1 if value else 0
        longest = max(longest, run)
    return longest


def smooth(values: np.ndarray, config: VideoFitConfig = VideoFitConfig()) -> np.ndarray:
    """Savitzky–Golay smoothing along the first axis (time). Clips shorter than the window get
    the longest odd window that fits; those of ``smooth_order`` frames or fewer are returned as they are."""
    window = min(config.smooth_window, len(values) - (1 - len(values) % 2))
    if window <= config.smooth_order:
        return np.array(values, dtype=np.float64)
    return savgol_filter(np.asarray(values, np.float64), window, config.smooth_order, axis=0)


# The fits solve many tiny systems: BLAS threads only add overhead there, and with several
# workers (or other jobs) on a few cores they slow every solve down tenfold.
_single_threaded = threadpool_limits.wrap(limits=1)


@_single_threaded
def fit_identity(model: FaceModel, points: np.ndarray, camera: Camera, count: int) -> np.ndarray:
    """The median identity of full fits on ``count`` frames spread evenly over ``points`` ``(T, 68, 2)``."""
    frames = np.unique(np.linspace(0, len(points) - 1, min(count, len(points))).round().astype(int))
    identities = [fit_landmarks(model, points[t], camera).identity for t in frames]
    return np.median(identities, axis=0)


class FrameFitter:
    """Pose and expression for one frame's landmarks with the identity held, solved from a
    given start (the previous frame's answer). The objective is :func:`fit_landmarks`'s:
    reprojection error in face sizes, jaw line weighted down, a Tikhonov prior on expression."""

    def __init__(self, model: FaceModel, identity: np.ndarray, camera: Camera,
                 config: VideoFitConfig = VideoFitConfig()) -> None:  # fmt: skip
        idx = model.landmark_indices
        self.camera = camera
        self.base = model.landmarks(identity=identity)
        self.basis = model.expression_basis[:, idx].astype(np.float64)  # (K, 68, 3)
        self.weights = np.ones(68)
        self.weights[JAW] = config.jaw_weight
        self.prior = np.sqrt(config.expression_prior)
        radius = np.max(np.linalg.norm(self.base, axis=1))
        pose_lower = [-MAX_PITCH_YAW, -MAX_PITCH_YAW, -np.pi, -np.inf, -np.inf, -np.inf]
        pose_upper = [MAX_PITCH_YAW, MAX_PITCH_YAW, np.pi, np.inf, np.inf, camera.distance - 3.0 * radius]
        self.lower = np.concatenate([pose_lower, model.expression_bounds[:, 0]])
        self.upper = np.concatenate([pose_upper, model.expression_bounds[:, 1]])

    def _shape(self, params: np.ndarray) -> np.ndarray:
        return self.base + np.tensordot(params[6:], self.basis, axes=1)

    def project(self, params: np.ndarray) -> np.ndarray:
        """The model's 68 landmarks in pixels for ``params`` = pose (6) ⊕ expression (K)."""
        return self.camera.project(apply_pose(self._shape(params), params[:6]))

    @_single_threaded
    def fit_sequence(self, points: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Pose ⊕ expression ``(T, 6 + K)`` for landmarks ``(T, 68, 2)``: the first frame is
        solved from ``start`` ``(6 + K,)``, every later one from the frame before."""
        params = []
        for frame_points in points:
            start = self._fit_frame(frame_points, start)
            params.append(start)
        return np.stack(params)

    def _fit_frame(self, points: np.ndarray, start: np.ndarray) -> np.ndarray:
        face_px = np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1)))
        scale = self.weights[:, None] / max(face_px, 1e-6)
        camera = self.camera

        def residuals(params: np.ndarray) -> np.ndarray:
            return np.concatenate([((self.project(params) - points) * scale).ravel(), self.prior * params[6:]])

        def jacobian(params: np.ndarray) -> np.ndarray:
            local = self._shape(params)
            rotation = rotation_matrix(params[:3])
            cam = local @ rotation.T + params[3:6]
            steps = 1e-6 * np.eye(3)  # d R / d angle by central differences, (3, 3, 3)
            d_rotation = (rotation_matrix(params[:3] + steps) - rotation_matrix(params[:3] - steps)) / 2e-6
            d_cam = np.concatenate([  # d(camera point) / d(params), (68, 3, 6 + K)
                np.stack([local @ d.T for d in d_rotation], -1),
                np.broadcast_to(np.eye(3), (68, 3, 3)),
                np.moveaxis(self.basis @ rotation.T, 0, -1),
            ], -1)  # fmt: skip
            inv_depth = 1.0 / (camera.distance - cam[:, 2])
            d_pixel = np.zeros((68, 2, 3))  # d(pixel) / d(camera point) of the pinhole
            d_pixel[:, 0, 0] = camera.focal * inv_depth
            d_pixel[:, 0, 2] = camera.focal * cam[:, 0] * inv_depth**2
            d_pixel[:, 1, 1] = -camera.focal * inv_depth
            d_pixel[:, 1, 2] = -camera.focal * cam[:, 1] * inv_depth**2
            reprojection = (np.einsum("nij,njp->nip", d_pixel, d_cam) * scale[:, :, None]).reshape(136, -1)
            prior = np.zeros((len(params) - 6, len(params)))
            prior[:, 6:] = self.prior * np.eye(len(params) - 6)
            return np.vstack([reprojection, prior])

        start = np.clip(start, self.lower, self.upper)
        return least_squares(residuals, start, jac=jacobian, bounds=(self.lower, self.upper), x_scale="jac",
                             ftol=1e-5, xtol=1e-5, gtol=1e-5).x


@_single_threaded
def fit_track(model: FaceModel, points: np.ndarray, camera: Camera,
              config: VideoFitConfig = VideoFitConfig()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Identity ``(I,)``, per-frame pose ⊕ expression ``(T, 6 + K)`` and landmark RMS error in
    pixels ``(T,)`` for gap-free landmarks ``(T, 68, 2)``."""
    identity = fit_identity(model, points, camera, config.identity_frames)
    first = fit_landmarks(model, points[0], camera, fit_identity=False, identity=identity)
    fitter = FrameFitter(model, identity, camera, config)
    params = np.concatenate([first.pose, first.expression])[None]
    if len(points) > 1:
        params = np.concatenate([params, fitter.fit_sequence(points[1:], params[0])])
    rms = np.array([np.sqrt(np.mean(np.sum((fitter.project(p) - q) ** 2, -1))) for p, q in zip(params, points)])
    return identity, params, rms


@_single_threaded
def fit_video(model: FaceModel, frames: Iterable[np.ndarray], fps: float, config: VideoFitConfig = VideoFitConfig(),
              expected_frames: int | None = None) -> VideoFit:  # fmt: skip
    """The whole chain of the module docstring for one clip's RGB frames (at ``fps``)."""
    track = track_landmarks(frames, config, expected_frames)
    points = smooth(fill_gaps(track.points, track.found, fps, config), config)
    camera = Camera.for_image(*track.image_size)
    identity, params, rms = fit_track(model, points, camera, config)
    params[:, :3] = np.unwrap(params[:, :3], axis=0)
    params = smooth(params, config)
    expression = np.clip(params[:, 6:], model.expression_bounds[:, 0], model.expression_bounds[:, 1])
    pose = params[:, :6].copy()
    reference = np.median(pose[:, 3:], axis=0)
    pose[:, 3:] -= reference
    return VideoFit(expression, pose, identity, reference, rms, np.flatnonzero(~track.found), track.image_size,
                    track.full_searches)  # fmt: skip
