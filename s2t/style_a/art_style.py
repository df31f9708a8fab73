"""Art style from a picture, with no learned weights: :class:`ArtStyle` analyses the picture
once; :class:`s2t.style_a.stylizer.Stylizer` then restyles every frame after it, and
:mod:`s2t.style_a.art_presets` holds the shipped pictures' analyses.

The analysis measures what an illustrator would notice: the palette, the tone distribution
and colour spread, how flat the regions are, whether there is dark line work and how wide,
and the grain of the paper or canvas. Those measurements choose how frames are rendered
(see the stylizer).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from s2t.style_a.palette import (
    kmeans_palette,
    luminance_quantiles,
    rgb_to_lab,
)

ANALYSIS_SIDE = 512
"""Pictures are analysed with their longer side resized to this (spatial measures are in
pixels at this size; frames scale them by their shorter side / 512)."""

MIN_PICTURE_SIDE = 16
FORMAT_VERSION = 1
TEXTURE_TILE = 128
METHODS = ("palette", "painting")
TONE_TRANSFER = 0.65
CHROMA_TRANSFER = 0.35
"""How far frames move toward the art's tone distribution and mean colour (1 = all the
way; the colour *spread* is always matched fully, so grey art gives grey frames). Art
pictures are rarely portraits: matching a landscape's statistics fully turns skin green or
a face into a uniform wash, so part of the frame's own tones and colour stays."""


@dataclass(frozen=True, eq=False)
class ArtStyle:
    """What the stylizer needs to know about an art picture. Lab colours (L in 0..100).

    ``flatness``: share of pixels with almost no gradient at a 3 px scale (cel art ~0.7, a photo ~0.3).
    ``edge_sharpness``: the 99th percentile of the gradient, L units per px (cel ~19, pastel ~2).
    ``palette_fit``: share of pixels within 10 ΔE of a palette colour (how palette-limited).
    ``line_density``: share of pixels on thin dark lines; ``line_width`` their width (px).
    ``texture``: a zero-mean, unit-variance, seamless grain tile synthesised from the
    picture's flat areas; its strength in L units is ``texture_dark`` in the picture's dark
    parts (L < 50) and ``texture_light`` in the light ones.
    ``method``: ``"palette"`` restyles every frame with the classical operations below;
    ``"painting"`` paints the identity photo once after ``picture`` (Gram-matrix style transfer,
    :mod:`s2t.style_a.painterly`) and the renderer warps that painting. ``picture`` is the
    analysed picture (RGB, 512 px on the longer side); it is not saved with the analysis.
    """

    name: str
    palette: np.ndarray
    palette_weights: np.ndarray
    lab_mean: np.ndarray
    ab_cov: np.ndarray
    tone_quantiles: np.ndarray
    flatness: float
    edge_sharpness: float
    palette_fit: float
    line_density: float
    line_width: float
    ink: np.ndarray
    texture: np.ndarray
    texture_dark: float
    texture_light: float
    method: str = "palette"
    picture: np.ndarray | None = None

    def __post_init__(self) -> None:
        for value in vars(self).values():  # presets are cached and shared: keep them unchanged
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @classmethod
    def from_picture(cls, picture: np.ndarray, name: str = "custom", *, colours: int = 10,
                     method: str | None = None) -> ArtStyle:
        """Analyse an RGB picture (uint8; grey, RGBA and (H, W, 1) are accepted too: grey is
        repeated, alpha is composited on white). Pictures smaller than 16 px on a side raise
        ValueError; others are resized to 512 px on the longer side first. ``method`` None
        chooses ``"painting"`` for brushwork (busy, crisp, grainy pictures: paintings) and
        ``"palette"`` for the rest (cartoons, flat art, photos)."""
        if method not in (None, *METHODS):
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        rgb = resize_long_side(_as_rgb(picture), ANALYSIS_SIDE)
        lab = rgb_to_lab(rgb)
        lightness = lab[..., 0]
        samples = lab.reshape(-1, 3)[:: max(1, lab.shape[0] * lab.shape[1] // 40_000)]
        palette, weights = kmeans_palette(samples, colours)
        nearest = np.sqrt(((samples[:, None] - palette[None]) ** 2).sum(-1).min(1))

        # a 5 px median first, so grain, paper and halftone do not count as shape edges
        despeckled = cv2.medianBlur(np.round(lightness * 2.55).astype(np.uint8), 5).astype(np.float32) / 2.55
        gradient = _gradient(cv2.GaussianBlur(despeckled, (0, 0), 1.0))
        broad_gradient = _gradient(cv2.GaussianBlur(despeckled, (0, 0), 3.0))
        # thin dark strokes: much darker than a closing (dark detail narrower than 11 px removed)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
        black_hat = cv2.morphologyEx(lightness, cv2.MORPH_BLACKHAT, disc)
        lines = ((black_hat > 25) & (lightness < 45)).astype(np.uint8)
        if lines.mean() > 0.002:
            ink = np.median(lab[lines > 0], axis=0)
            width = 4.0 * float(cv2.distanceTransform(lines, cv2.DIST_L2, 3)[lines > 0].mean())
        else:  # no line work: should lines be asked for, the darkest colour, darkened
            ink, width = palette[0] * [min(1.0, 20.0 / max(palette[0, 0], 1e-3)), 1.0, 1.0], 0.0
        texture, dark, light = _texture(lightness)
        flatness = float((broad_gradient < 0.35).mean())
        sharpness = float(np.percentile(gradient, 99))
        if method is None:
            method = "painting" if brushwork(flatness, sharpness, max(dark, light)) else "palette"
        return cls(
            name=name,
            palette=palette,
            palette_weights=weights,
            lab_mean=lab.reshape(-1, 3).mean(0),
            ab_cov=np.cov(samples[:, 1:].T).astype(np.float32),
            tone_quantiles=luminance_quantiles(lightness),
            flatness=flatness,
            edge_sharpness=sharpness,
            palette_fit=float((nearest < 10).mean()),
            line_density=float(lines.mean()),
            line_width=width,
            ink=np.asarray(ink, np.float32),
            texture=texture,
            texture_dark=dark,
            texture_light=light,
            method=method,
            picture=rgb,
        )

    @classmethod
    def from_file(cls, path: str | Path, name: str | None = None) -> ArtStyle:
        """Analyse a picture file (any format Pillow reads; of an animation, the first frame)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"art picture not found: {path}")
        try:
            with Image.open(path) as image:
                transparent = "A" in image.getbands() or "transparency" in image.info
                picture = np.asarray(image.convert("RGBA" if transparent else "RGB"))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
            raise ValueError(f"cannot read art picture {path}: {error}") from error
        return cls.from_picture(picture, name or path.stem)

    def save(self, path: str | Path) -> None:
        """Write a ``.npz`` (arrays plus a JSON header; no pickle)."""
        values = asdict(self)
        del values["picture"]
        arrays = {k: v for k, v in values.items() if isinstance(v, np.ndarray)}
        arrays["texture"] = arrays["texture"].astype(np.float16)  # half the size, grain needs no more
        header = {k: v for k, v in values.items() if k not in arrays}
        header["format_version"] = FORMAT_VERSION
        np.savez_compressed(path, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> ArtStyle:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.pop("format_version", None) != FORMAT_VERSION:
                raise ValueError(f"{path}: art-style file of another format version; re-analyse the picture")
            arrays = {f.name: data[f.name].astype(np.float32) for f in fields(cls) if f.name in data.files}
        return cls(**header, **arrays)


def _as_rgb(picture: np.ndarray) -> np.ndarray:
    picture = np.asarray(picture)
    if picture.dtype != np.uint8:
        raise TypeError(f"art picture must be uint8, got {picture.dtype}")
    if picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[..., 0]
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    if picture.ndim != 3 or picture.shape[2] not in (3, 4):
        raise ValueError(f"art picture must be (H, W), (H, W, 3) or (H, W, 4), got shape {picture.shape}")
    if min(picture.shape[:2]) < MIN_PICTURE_SIDE:
        raise ValueError(f"art picture is {picture.shape[1]}x{picture.shape[0]} px; "
                         f"it needs at least {MIN_PICTURE_SIDE} px on each side")
    if picture.shape[2] == 4:
        alpha = picture[..., 3:].astype(np.float32) / 255
        picture = np.round(picture[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(picture)


def resize_long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def brushwork(flatness: float, edge_sharpness: float, grain: float) -> bool:
    """Busy (few flat areas), crisp and grainy: painted strokes (set on the presets and on
    scikit-image's photos, which all fall outside; the oil preset falls inside)."""
    sharp = float(np.clip((edge_sharpness - 4.0) / 12.0, 0.0, 1.0))
    return flatness < 0.45 and sharp > 0.3 and grain > 2.0


def _gradient(image: np.ndarray) -> np.ndarray:
    """Gradient magnitude per pixel (Sobel, normalised to units per pixel)."""
    return np.hypot(cv2.Sobel(image, cv2.CV_32F, 1, 0), cv2.Sobel(image, cv2.CV_32F, 0, 1)) / 8


def _texture(lightness: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The picture's grain, as a seamless tile and its strength.

    Grain is the fine detail (L minus a 2 px blur) where the picture has no structure
    (edges and lines, found on a 5 px blur, are masked out). Its power spectrum, averaged
    over the structure-free windows, is given random phases (spectral texture synthesis):
    the tile has the picture's grain (noise, paper tooth, stroke direction, halftone period)
    without copying any of its shapes, and being periodic it tiles without seams. Returns
    the unit-variance tile and the grain's typical (median) std in L units in the picture's
    dark (L < 50) and light parts: halftone shows in shadows, paper tooth in the lights.
    """
    tile = min(TEXTURE_TILE, *lightness.shape) // 2 * 2
    nothing = np.zeros((tile, tile), np.float32), 0.0, 0.0
    detail = lightness - cv2.GaussianBlur(lightness, (0, 0), 2)
    coarse = cv2.GaussianBlur(lightness, (0, 0), 5)
    structure = _gradient(coarse) > 0.8
    free = 1.0 - cv2.dilate(structure.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(np.float32)
    if free.mean() < 0.05:
        return nothing
    taper = np.outer(np.hanning(tile), np.hanning(tile))
    power, total = np.zeros((tile, tile)), 0.0
    for top in range(0, lightness.shape[0] - tile + 1, tile // 4):
        for left in range(0, lightness.shape[1] - tile + 1, tile // 4):
            window = np.s_[top : top + tile, left : left + tile]
            share = free[window].mean()
            if share >= 0.3:
                power += share * np.abs(np.fft.fft2(detail[window] * free[window] * taper)) ** 2
                total += share
    if total == 0:
        return nothing
    power[0, 0] = 0.0
    phases = np.fft.fft2(np.random.default_rng(0).standard_normal((tile, tile)))
    texture = np.real(np.fft.ifft2(np.sqrt(power / total) * phases / np.maximum(np.abs(phases), 1e-9)))
    texture = (texture / max(float(texture.std()), 1e-9)).astype(np.float32)
    local_std = np.sqrt(cv2.GaussianBlur(detail**2, (0, 0), 3))[free > 0]
    dark_side = cv2.GaussianBlur(lightness, (0, 0), 3)[free > 0] < 50
    overall = float(np.median(local_std))
    dark, light = (min(float(np.median(local_std[side])) if side.any() else overall, 12.0)
                   for side in (dark_side, ~dark_side))
    return texture, dark, light
