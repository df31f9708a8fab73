"""MediaPipe's 478-point face mesh, and how its points correspond to the rig's.

MediaPipe (the optional extra ``.[mediapipe]``, version 0.10.14's legacy ``solutions.face_mesh``
API) finds a face and places 468 mesh points plus 10 iris points (``refine_landmarks``). Its
graph and model files ship inside the wheel, so nothing downloads. The rig is not MediaPipe's
topology, so the fit uses two kinds of correspondence, both tables here:

- :data:`IBUG68_FROM_MESH`: the 68 iBUG points as MediaPipe points (an average of two where
  the iBUG point falls between mesh points), so every later stage keeps its 68 landmarks;
- :data:`CONTOURS`: the lips' inner contour, the eyelids and the jaw line as ordered chains
  of mesh points, fitted against the rig's own curves (:mod:`s2t.face.contours`) by closest
  point, plus the two iris centres.

"Right" is the subject's right (the left of the image), as in iBUG and in MediaPipe's names.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

MESH_POINTS = 478
"""468 face-mesh points and 2 x 5 iris points."""

MAX_FACES = 5

# Each iBUG point as one mesh point or the mean of two (in iBUG order, see s2t.face.model.IBUG68_GROUPS).
IBUG68_FROM_MESH: tuple[tuple[int, ...], ...] = (
    # jaw, from the subject's right ear down to the chin and up to the left ear
    (127,), (234,), (93,), (132,), (58,), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (288,), (361,), (323,), (454,), (356,),
    # brows: the middle of the brow, between MediaPipe's upper and lower rows (right: outer -> inner)
    (70, 46), (63, 53), (105, 52), (66, 65), (107, 55),
    (336, 285), (296, 295), (334, 282), (293, 283), (300, 276),
    # nose bridge down to the tip, then the base from right to left
    (168,), (197,), (5,), (4,),
    (98,), (97,), (2,), (326,), (327,),
    # right eye: outer corner, two upper-lid points, inner corner, two lower-lid points
    (33,), (160,), (158,), (133,), (153,), (144,),
    # left eye: inner corner, two upper-lid points, outer corner, two lower-lid points
    (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lips clockwise in the image from the right corner
    (61,), (185, 40), (39, 37), (0,), (267, 269), (270, 409), (291,),
    (321,), (314, 405), (17,), (84, 181), (91,),
    # inner lips: right corner, upper lip, left corner, lower lip
    (78,), (80, 81), (13,), (311, 310), (308,), (402, 318), (14,), (88, 178),
)

CONTOURS: dict[str, tuple[int, ...]] = {
    "lips_inner_upper": (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
    "lips_inner_lower": (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
    "eye_right_upper": (33, 246, 161, 160, 159, 158, 157, 173, 133),
    "eye_right_lower": (33, 7, 163, 144, 145, 153, 154, 155, 133),
    "eye_left_upper": (362, 398, 384, 385, 386, 387, 388, 466, 263),
    "eye_left_lower": (362, 382, 381, 380, 374, 373, 390, 249, 263),
    "jaw": (127, 234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
            377, 400, 378, 379, 365, 397, 288, 361, 323, 454, 356),
    "iris_right": (468,),
    "iris_left": (473,),
}
"""Ordered chains of mesh points named like the rig curves of :mod:`s2t.face.contours`."""

_lock = threading.Lock()  # one MediaPipe graph per process; its process() is not re-entrant
_noted = False
log = logging.getLogger(__name__)


def ibug68_from_mesh(mesh: np.ndarray) -> np.ndarray:
    """The 68 iBUG points ``(68, 2)`` of a ``(478, 2)`` mesh."""
    return np.stack([mesh[list(ids)].mean(0) for ids in IBUG68_FROM_MESH])


def mesh_contours(mesh: np.ndarray) -> dict[str, np.ndarray]:
    """The :data:`CONTOURS` of a ``(478, 2)`` mesh as point arrays."""
    return {name: mesh[list(ids)] for name, ids in CONTOURS.items()}


@lru_cache(maxsize=1)
def _solutions_face_mesh():
    """MediaPipe's ``solutions.face_mesh`` module, or the reason it cannot be used (a str)."""
    try:
        with warnings.catch_warnings():  # protobuf's deprecation of an API MediaPipe 0.10.14 uses
            warnings.simplefilter("ignore", UserWarning)
            from mediapipe.python.solutions import face_mesh
    except Exception as exc:  # a missing package, or a broken one (protobuf, numpy ABI, ...)
        missing = isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "mediapipe"
        return "MediaPipe is not installed" if missing else f"MediaPipe failed to import ({type(exc).__name__}: {exc})"
    return face_mesh


def mediapipe_unavailable() -> str | None:
    """Why MediaPipe's face mesh cannot be used here, or None when it can."""
    found = _solutions_face_mesh()
    return found if isinstance(found, str) else None


def note_fallback_once() -> None:
    """Say once per process that the fit falls back to dlib's 68 points, and why: a warning on
    this module's logger, which Python prints to stderr as it is while nothing configures
    logging (the CLI's one-line note) and which a library user can silence or route."""
    global _noted
    reason = mediapipe_unavailable()
    if reason and not _noted:
        _noted = True
        log.warning("note: %s; fitting dlib's 68 landmarks (for the 478-point mesh: the [mediapipe] extra, "
                    "then pip install --no-deps mediapipe==0.10.14; see docs/face-model.md)", reason)


@contextmanager
def _quiet_native_stderr():
    """MediaPipe's C++ side logs TFLite and absl start-up lines straight to file descriptor 2,
    past Python and GLOG_minloglevel; the CLI's stderr is for our one-line notes and errors."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=1)
def _graph():
    face_mesh = _solutions_face_mesh()
    return face_mesh.FaceMesh(static_image_mode=True, max_num_faces=MAX_FACES, refine_landmarks=True,
                              min_detection_confidence=0.5)


def detect_meshes(rgb: np.ndarray) -> list[np.ndarray]:
    """Every face MediaPipe finds in an ``(H, W, 3)`` uint8 RGB image, as ``(478, 2)`` pixel
    arrays (x, y); empty when it finds none. Call only when :func:`mediapipe_unavailable` is None."""
    height, width = rgb.shape[:2]
    with _lock, _quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # protobuf's deprecation of an API MediaPipe uses
        result = _graph().process(np.ascontiguousarray(rgb))
    meshes = []
    for face in result.multi_face_landmarks or ():
        xy = np.array([(p.x, p.y) for p in face.landmark], np.float64)
        if len(xy) == MESH_POINTS:
            meshes.append(xy * [width, height] - 0.5)  # pixel centres at integers, as dlib's
    return meshes
