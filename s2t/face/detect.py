"""Photo loading and facial landmark detection: dlib's 68 points, MediaPipe's 478-point mesh.

:func:`detect_face` is what photo fitting uses: MediaPipe's face mesh
(:mod:`s2t.face.mediapipe_mesh`, the optional extra) where it is installed and finds the face,
dlib's HOG detector and 68-point predictor (:func:`detect_landmarks`) otherwise. Both give the
68 iBUG points; MediaPipe's result also carries its mesh for the contour fit.

Everything a user can get wrong (a missing, empty or corrupt file, a photo with no face or
a face too small to fit) raises :class:`FaceImageError` with a message naming the file, so
the CLI and the backend can show it instead of a traceback.

Choices, documented once here:

- Transparent images (RGBA, LA, palette with transparency) are composited on **white**:
  portraits with a removed background are usually meant to be seen on white, and a black
  backdrop would merge with dark hair and the jaw line.
- Files above :data:`MAX_PIXELS` are decoded downscaled to fit under it, so a huge scan does
  not take gigabytes; every coordinate refers to the array :func:`load_image` returns.
  Arrays passed in are kept at their size.
- Detection runs on a copy whose longer side is at most ``max_detect_side`` (HOG time grows
  with the pixel count); the face box is mapped back and the landmarks are predicted on the
  full-resolution image.
- Several faces: the largest confident one is used and ``num_faces`` tells the caller, who
  may warn. Detections scoring below :data:`CONFIDENT_SCORE` are ignored when a confident
  one exists (dlib's HOG fires weakly on clothing and textures).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import dlib
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from s2t.face import mediapipe_mesh

MAX_PIXELS = 40_000_000
"""Image files with more pixels than this are decoded downscaled (see module docstring)."""

CONFIDENT_SCORE = 0.3
"""HOG detections below this score count only when nothing scores higher."""

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"


class FaceImageError(ValueError):
    """A photo that cannot be used: unreadable, no face, or a face too small."""


@dataclass(frozen=True)
class Landmarks68:
    """The 68 iBUG landmarks of one face.

    ``points`` is ``(68, 2)`` (x, y) in pixels of the analysed image; ``box`` is the face
    detection (left, top, right, bottom) in the same pixels; ``score`` is dlib's HOG score
    (about 0-3, higher is surer); ``num_faces`` counts the faces found in the image;
    ``image_size`` is the analysed image's (width, height). ``detector`` is ``"dlib"`` or
    ``"mediapipe"``; with MediaPipe, ``points`` are taken from the mesh
    (:data:`~s2t.face.mediapipe_mesh.IBUG68_FROM_MESH`), ``mesh`` is its ``(478, 2)`` points in
    the same pixels, ``box`` the mesh's bounds and ``score`` NaN (the legacy API reports none).
    """

    points: np.ndarray
    box: tuple[float, float, float, float]
    score: float
    num_faces: int
    image_size: tuple[int, int]
    detector: str = "dlib"
    mesh: np.ndarray | None = None

    @property
    def face_size(self) -> float:
        """Width of the face box in pixels."""
        return self.box[2] - self.box[0]


def load_image(image: str | Path | np.ndarray) -> np.ndarray:
    """An image as ``(H, W, 3)`` uint8 RGB, from a file path or an array.

    Files get their EXIF orientation applied. Arrays may be ``(H, W)``, ``(H, W, 1|3|4)``,
    uint8, uint16 (16-bit), other integers (8-bit when no value exceeds 255) or float in
    [0, 1]. Raises :class:`FaceImageError` for anything unreadable.
    """
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, "the image array")
    return _read_file(Path(image))


def _read_file(path: Path) -> np.ndarray:
    if not path.is_file():
        what = "is a directory, not an image file" if path.is_dir() else "does not exist"
        raise FaceImageError(f"image file {str(path)!r} {what}")
    if path.stat().st_size == 0:
        raise FaceImageError(f"image file {str(path)!r} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    scale = (MAX_PIXELS / (img.width * img.height)) ** 0.5
                    target = (int(img.width * scale), int(img.height * scale))
                    if img.format == "JPEG":
                        img.draft("RGB", target)  # decodes at 1/2, 1/4 or 1/8 of the size, at least the target's
                    if img.width * img.height > 4 * MAX_PIXELS or img.format != "JPEG":  # refused before decoding
                        raise FaceImageError(
                            f"image file {str(path)!r} is {img.width}x{img.height} pixels; only JPEG photos over "
                            f"{MAX_PIXELS / 1e6:g} megapixels can be read (decoded reduced): scale it down")
                    img.thumbnail(target, Image.Resampling.LANCZOS)
                img = ImageOps.exif_transpose(img)
                return _array_to_rgb(_pil_to_array(img), repr(str(path)))
    except FaceImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise FaceImageError(f"image file {str(path)!r} is too large to open safely: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FaceImageError(f"cannot read image file {str(path)!r}: it is not a valid image ({exc})") from None


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """Pixels as an array that :func:`_array_to_rgb` understands, keeping 16-bit depth."""
    if img.mode.startswith("I"):  # 16/32-bit grayscale: PIL's convert("RGB") would clip
        return np.asarray(img).astype(np.uint16 if img.mode.startswith("I;16") else np.int64)
    if img.mode == "F":
        return np.asarray(img, np.float64) / 255.0
    if "A" in img.getbands() or "transparency" in img.info:
        return np.asarray(img.convert("RGBA"))
    return np.asarray(img.convert("RGB"))


def _array_to_rgb(arr: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)) or arr.size == 0:
        raise FaceImageError(f"{name} has shape {arr.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.uint8:
        values = arr.astype(np.float64)
    elif arr.dtype == bool:
        values = arr * 255.0
    elif np.issubdtype(arr.dtype, np.integer):
        # uint16 is 16-bit; wider integers (PIL's "I" mode, Python ints) are 16-bit only if they need it
        sixteen_bit = arr.dtype == np.uint16 or arr.max() > 255
        values = np.clip(arr, 0, 65535) / 257.0 if sixteen_bit else np.clip(arr, 0, 255).astype(np.float64)
    elif np.issubdtype(arr.dtype, np.floating):
        values = np.nan_to_num(arr.astype(np.float64)) * 255.0
    else:
        raise FaceImageError(f"{name} has unsupported dtype {arr.dtype}")
    if values.ndim == 2:
        values = np.repeat(values[..., None], 3, axis=2)
    elif values.shape[2] == 4:
        alpha = values[..., 3:] / 255.0
        values = values[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return np.ascontiguousarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))


def _predictor_path() -> Path:
    # Importing face_recognition_models itself pulls in the deprecated pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the package 'face_recognition_models' is not installed; it ships dlib's {PREDICTOR_FILE} "
            "(pip install face_recognition_models)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "models" / PREDICTOR_FILE
        if path.is_file():
            return path
    raise RuntimeError(f"the package 'face_recognition_models' has no models/{PREDICTOR_FILE}; reinstall it")


@lru_cache(maxsize=1)
def _dlib_models() -> tuple:
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(_predictor_path()))


def detect_landmarks(
    image: str | Path | np.ndarray,
    *,
    min_face_px: float = 40.0,
    max_detect_side: int = 1024,
) -> Landmarks68:
    """Detect the (largest) face and its 68 iBUG landmarks.

    Detection runs dlib's HOG frontal detector once upsampled, and again twice upsampled
    when nothing was found (small faces). A face box narrower than ``min_face_px`` pixels
    is refused: its landmarks would be too coarse to fit a face model.
    """
    name = repr(str(image)) if isinstance(image, (str, Path)) else "the image"
    rgb = load_image(image)
    detector, predictor = _dlib_models()

    height, width = rgb.shape[:2]
    scale = min(1.0, max_detect_side / max(height, width))
    small = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))

    for upsample in (1, 2):
        rects, scores, _ = detector.run(small, upsample, 0.0)
        if rects:
            break
    else:
        raise FaceImageError(
            f"no face found in {name}; use a photo with one roughly frontal face "
            f"at least {min_face_px:.0f} px wide"
        )

    faces = [(r, s) for r, s in zip(rects, scores) if s >= CONFIDENT_SCORE] or list(zip(rects, scores))
    rect, score = max(faces, key=lambda f: f[0].area())
    box = tuple(float(v) / scale for v in (rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1))
    if box[2] - box[0] < min_face_px:
        raise FaceImageError(
            f"the face in {name} is too small ({box[2] - box[0]:.0f} px wide); at least {min_face_px:.0f} px "
            f"is needed, use a larger or closer photo"
        )

    full_rect = dlib.rectangle(*(int(round(v)) for v in (box[0], box[1], box[2] - 1, box[3] - 1)))
    shape = predictor(rgb, full_rect)
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    return Landmarks68(points, box, float(score), len(faces), (width, height))


def detect_face(image: str | Path | np.ndarray, *, min_face_px: float = 40.0) -> Landmarks68:
    """The (largest) face's landmarks: MediaPipe's mesh where MediaPipe is installed and finds
    the face, else dlib's 68 points (:func:`detect_landmarks`, whose errors it raises).

    MediaPipe's short-range detector looks at the whole image shrunk to 128 px, so it misses
    faces that fill little of a wide or group photo; then dlib finds the face and MediaPipe's
    mesh is taken on a crop around dlib's box (``num_faces`` is dlib's count then). Says once
    per process, on stderr, when MediaPipe is missing or broken and dlib found the face.
    """
    name = repr(str(image)) if isinstance(image, (str, Path)) else "the image"
    rgb = load_image(image)
    if mediapipe_mesh.mediapipe_unavailable():
        found = detect_landmarks(rgb, min_face_px=min_face_px)
        mediapipe_mesh.note_fallback_once()  # after detection: bad input stays one error line
        return found
    meshes = mediapipe_mesh.detect_meshes(rgb)
    num_faces = len(meshes)
    if not meshes:
        found = detect_landmarks(rgb, min_face_px=min_face_px)  # raises when dlib finds none either
        meshes, num_faces = _meshes_around(rgb, found.box), found.num_faces
        if not meshes:
            return found
    mesh = max(meshes, key=lambda m: np.ptp(m[:, 0]) * np.ptp(m[:, 1]))
    box = (float(mesh[:, 0].min()), float(mesh[:, 1].min()), float(mesh[:, 0].max()), float(mesh[:, 1].max()))
    if box[2] - box[0] < min_face_px:
        raise FaceImageError(
            f"the face in {name} is too small ({box[2] - box[0]:.0f} px wide); at least {min_face_px:.0f} px "
            f"is needed, use a larger or closer photo"
        )
    height, width = rgb.shape[:2]
    points = mediapipe_mesh.ibug68_from_mesh(mesh)
    return Landmarks68(points, box, float("nan"), num_faces, (width, height), "mediapipe", mesh)


def _meshes_around(rgb: np.ndarray, box: tuple[float, float, float, float], margin: float = 0.8) -> list[np.ndarray]:
    """MediaPipe's meshes in a crop reaching ``margin`` face widths around ``box``, in full-image pixels."""
    height, width = rgb.shape[:2]
    pad = margin * (box[2] - box[0])
    left, top = max(0, int(box[0] - pad)), max(0, int(box[1] - pad))
    right, bottom = min(width, int(np.ceil(box[2] + pad))), min(height, int(np.ceil(box[3] + pad)))
    return [mesh + [left, top] for mesh in mediapipe_mesh.detect_meshes(rgb[top:bottom, left:right])]
