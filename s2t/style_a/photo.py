"""Framing and fitting of the identity photo, shared by every Style-A renderer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from s2t.face import Camera, FaceModel
from s2t.face.detect import detect_face, load_image
from s2t.face.fit import FaceFit, fit_face


@dataclass(frozen=True)
class PreparedPhoto:
    """The photo cropped square around the head at the output size, and the face fitted to it.

    ``crop_box`` is (left, top, side) in the original photo's pixels; ``num_faces`` tells
    callers whether they should warn that the largest of several faces was used.
    """

    image: np.ndarray
    fit: FaceFit
    landmarks: np.ndarray
    crop_box: tuple[float, float, float]
    num_faces: int

    @property
    def size(self) -> int:
        return self.image.shape[0]


def head_crop(points: np.ndarray, width: int, height: int, zoom: float = 2.6) -> tuple[float, float, float]:
    """A square (left, top, side) around the face: ``zoom`` face widths wide, the eyes a
    little above the centre (head-and-shoulders framing), shrunk to fit inside the photo."""
    face = max(np.ptp(points[:, 0]), np.ptp(points[:, 1]))
    side = min(zoom * face, width, height)
    cx = points[:, 0].mean()
    cy = points[:, 1].mean() + 0.12 * face
    left = float(np.clip(cx - side / 2, 0, width - side))
    top = float(np.clip(cy - side / 2, 0, height - side))
    return left, top, float(side)


def prepare_photo(model: FaceModel, image: str | Path | np.ndarray, size: int) -> PreparedPhoto:
    """Detect the face, crop the head square, resize to ``size`` and fit ``model`` to it.

    Detection is :func:`~s2t.face.detect.detect_face` (MediaPipe's mesh with its contours
    where available, dlib's 68 points otherwise); ``landmarks`` are the 68 iBUG points either way."""
    rgb = load_image(image)
    found = detect_face(rgb)
    left, top, side = head_crop(found.points, rgb.shape[1], rgb.shape[0])
    scale = size / side
    affine = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.warpAffine(rgb, affine, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)

    def to_crop(xy: np.ndarray) -> np.ndarray:
        return (xy - [left, top]) * scale

    in_crop = replace(found, points=to_crop(found.points), mesh=None if found.mesh is None else to_crop(found.mesh))
    fit = fit_face(model, in_crop, Camera.for_image(size, size))
    return PreparedPhoto(crop, fit, in_crop.points, (left, top, side), found.num_faces)
