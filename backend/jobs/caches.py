"""What jobs share across requests, loaded once per process: the face rig, fitted photos (a small
LRU cache), Style-E checkpoints and neural Style-A folders."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

from s2t.face import FaceModel
from s2t.face.rig import build_rig
from s2t.style_a.photo import PreparedPhoto, prepare_photo

_MODEL_LOCK = threading.Lock()


def face_model() -> FaceModel:
    """The embedded rig, built once per process (about 2 s) and shared by every worker."""
    with _MODEL_LOCK:
        return build_rig()


PHOTO_CACHE_SIZE = 8
"""Fitted photos kept (by content and size): an animator re-renders a few photos while editing."""

_PHOTOS: OrderedDict[tuple[str, int], PreparedPhoto] = OrderedDict()
_PHOTOS_LOCK = threading.Lock()


def prepared_photo(model: FaceModel, path: Path, size: int) -> PreparedPhoto:
    """The identity photo cropped and fitted for the CPU renderer, cached by content and size:
    an animator re-rendering after editing keyframes sends the same photo again, and the fit
    takes seconds."""
    key = (hashlib.sha256(path.read_bytes()).hexdigest(), size)
    with _PHOTOS_LOCK:
        if key in _PHOTOS:
            _PHOTOS.move_to_end(key)
            return _PHOTOS[key]
    photo = prepare_photo(model, path, size)
    with _PHOTOS_LOCK:
        _PHOTOS[key] = photo
        while len(_PHOTOS) > PHOTO_CACHE_SIZE:
            _PHOTOS.popitem(last=False)
    return photo


_STYLE_E: dict[tuple[str, str], object] = {}
_STYLE_E_LOCK = threading.Lock()


def style_e_model(checkpoint: str, device: str):
    """Style-E (``s2t.style_e.sampler.StyleE``), loaded once per checkpoint and device.

    PyTorch is imported here, on the first coefficients job, so a backend that only renders
    stays small.
    """
    from s2t.style_e.checkpoint import load_style_e

    with _STYLE_E_LOCK:
        if (checkpoint, device) not in _STYLE_E:
            _STYLE_E[checkpoint, device] = load_style_e(checkpoint, device)
        return _STYLE_E[checkpoint, device]



_NEURAL: dict[tuple[Path, str], object] = {}
_NEURAL_LOCK = threading.Lock()


def neural_style_a(folder: Path, device: str):
    """The Style-A folder's networks (``NeuralStyleA``), loaded once per folder and device on
    the first neural render (PyTorch is imported then)."""
    from s2t.style_a.neural.renderer import NeuralStyleA

    with _NEURAL_LOCK:
        if (folder, device) not in _NEURAL:
            _NEURAL[folder, device] = NeuralStyleA(folder, device)
        return _NEURAL[folder, device]
