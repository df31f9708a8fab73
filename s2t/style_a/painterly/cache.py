"""The painted photo, computed once per (photo, art picture, size, painting settings) and kept in
the user cache: ``$S2T_CACHE_DIR`` or ``$XDG_CACHE_HOME/s2t`` (default ``~/.cache/s2t``), under
``painted/<key>.png``. The key hashes every input that changes the painting (the photo's and
the art's pixels, the settings and seed, a format version); the strength is applied after, so
changing it costs nothing. Files are written to a temporary name and renamed, so an
interrupted painting (Ctrl-C, a cancelled job) leaves no half-written entry.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from s2t.checkpoint import atomic_write
from s2t.style_a.painterly.paint import PaintConfig, Progress, paint

CACHE_VERSION = 1


def cache_dir() -> Path:
    root = os.environ.get("S2T_CACHE_DIR")
    if root:
        return Path(root) / "painted"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "s2t" / "painted"


def painting_key(photo: np.ndarray, art: np.ndarray, config: PaintConfig, start: np.ndarray | None = None) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION} {sorted(asdict(config).items())}".encode())
    for image in (photo, art) if start is None else (photo, art, start):
        digest.update(str(image.shape).encode())
        digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()[:32]


def painted_photo(photo: np.ndarray, art: np.ndarray, config: PaintConfig = PaintConfig(), *,
                  start: np.ndarray | None = None, show_progress: bool = True,
                  progress: Progress | None = None) -> np.ndarray:
    """``photo`` painted after ``art`` (see :func:`~s2t.style_a.painterly.paint.paint`), from the
    cache when it was painted before. ``start`` must be a function of ``photo`` and ``art``
    only (it is not part of the key). ``show_progress`` draws a progress bar with an ETA on
    stderr (when it is a terminal); ``progress`` is called as the painting goes."""
    path = cache_dir() / f"{painting_key(photo, art, config, start)}.png"
    if path.is_file():
        try:
            with Image.open(path) as cached:
                image = np.asarray(cached.convert("RGB"))
            if image.shape == photo.shape:
                return image
        except OSError:
            pass  # unreadable (e.g. a disk error): paint again and overwrite
    from s2t.style_a.painterly.efficientnet import load_efficientnet_lite0

    network = load_efficientnet_lite0()
    from tqdm import tqdm

    with tqdm(total=None, desc=f"painting the photo ({photo.shape[0]} px, once)", unit="it",
              disable=None if show_progress else True, leave=False) as bar:

        def report(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
            if progress is not None:
                progress(done, total)

        image = paint(network, photo, art, config, start=start, progress=report)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda file: Image.fromarray(image).save(file, format="PNG"), mode=None)
    return image
