"""Art style from a picture, with no learned weights: analyse the picture once
(:class:`ArtStyle`), then restyle every frame with classical image operations
(:class:`Stylizer`).

The analysis measures what an illustrator would notice: the palette, the tone distribution
and colour spread, how flat the regions are, whether there is dark line work and how wide,
and the grain of the paper or canvas. Those measurements choose how frames are rendered:
colour and tone transfer, an edge-aware abstraction (bilateral smoothing for flat cel-like
pictures, a soft Kuwahara filter for painterly ones), soft luminance bands and a pull toward
the palette, ink lines, and the picture's texture laid over the result.

Temporal stability: the colour mapping is estimated once, from a reference frame (the
identity photo), and baked into a look-up table, so colours do not flicker; every per-frame
operation is deterministic and continuous in its input (soft bands, soft line thresholds),
so a face that moves a little changes the output a little. The texture is fixed in screen
space, like paper under a moving drawing.

Speed: every per-frame step is an OpenCV call (bilateral and box filters, Gaussian blurs,
remap, LUT) taking a few ms for a 512² frame on 2 cores; scikit-image's equivalents take
tens to hundreds of times longer. Only core OpenCV is used (nothing from contrib), so
``opencv-python-headless`` and ``opencv-contrib-python`` both serve, 4.x and 5.x alike.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from s2t.style_a.palette import (
    ColourLUT,
    blend,
    chroma_gain,
    kmeans_palette,
    lab_to_rgb,
    luminance_quantiles,
    rgb_to_lab,
    soft_bands,
    soft_palette,
    tone_curve,
)

ANALYSIS_SIDE = 512
"""Pictures are analysed with their longer side resized to this (spatial measures are in
pixels at this size; frames scale them by their shorter side / 512)."""

MIN_PICTURE_SIDE = 16
FORMAT_VERSION = 1
PRESET_DIR = Path(__file__).resolve().parents[2] / "presets" / "art"
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
        rgb = _resize_long_side(_as_rgb(picture), ANALYSIS_SIDE)
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
            method = "painting" if _brushwork(flatness, sharpness, max(dark, light)) else "palette"
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


def _resize_long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _brushwork(flatness: float, edge_sharpness: float, grain: float) -> bool:
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


if TYPE_CHECKING:
    from s2t.style_a.painterly.paint import PaintConfig

# -------------------------------------------------------------------------------- stylizer


class Stylizer:
    """Restyles frames (RGB uint8, (H, W, 3)) after an :class:`ArtStyle`.

    ``strength`` blends the result with the frame: 0 returns the frame unchanged (an exact
    copy), 1 the full style. ``line_work``: True/False forces ink lines on/off, None draws
    them when the art picture has line work. ``texture`` lays the picture's grain over the
    result. The colour mapping is fitted to a reference frame: call :meth:`prepare` with the
    identity photo, or the first frame stylized is used (then kept for every later frame;
    :attr:`prepared` tells which). ``painting`` sets how :meth:`source_image` paints the photo
    for art styles of method ``"painting"``. ``face_shape`` (times ``strength``) is how far a
    face in the art picture reshapes the photo's face (:meth:`shape_identity`).
    """

    def __init__(self, style: ArtStyle, strength: float = 1.0, *, line_work: bool | None = None,
                 texture: bool = True, painting: PaintConfig | None = None, face_shape: float = 1.0) -> None:
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        if not 0.0 <= face_shape <= 1.0:
            raise ValueError(f"face_shape must be in [0, 1], got {face_shape}")
        self.face_shape = float(face_shape)
        self.style, self.strength, self.texture = style, float(strength), texture
        self.painting = painting  # how to paint the photo (method "painting"); None: the defaults
        # How the measurements become a look (thresholds set on the presets and on photos):
        # lines when more than 2% of the art is thin dark strokes; edges from soft (pastel,
        # ~2 L/px) to crisp (cel, >16 L/px) set the blur and how hard the tone bands are;
        # flat art is flattened harder and banded more; art that is busy, crisp and grainy
        # is brushwork and gets the painterly filter; palette-limited art pulls colours more.
        self.line_work = style.line_density > 0.02 if line_work is None else line_work
        sharp = float(np.clip((style.edge_sharpness - 4.0) / 12.0, 0.0, 1.0))
        self.painterly = _brushwork(style.flatness, style.edge_sharpness, max(style.texture_dark, style.texture_light))
        self.smoothing = float(np.clip(style.flatness * 1.2, 0.2, 1.0))
        self.soften = 1.0 - sharp  # px of blur
        self.band_amount = 0.4 + 0.5 * self.smoothing
        self.band_width = 1.0 + 4.0 * (1.0 - sharp)  # L units
        self.levels = _band_centres(style.palette, style.palette_weights)
        self.palette_pull = 0.35 + 0.4 * style.palette_fit
        self._lut: ColourLUT | None = None
        self._cache: dict[tuple, np.ndarray] = {}
        self._look = None  # the PaintedLook once the photo is painted (method "painting")

    @property
    def prepared(self) -> bool:
        return self._lut is not None

    def prepare(self, reference: np.ndarray) -> None:
        """Fit the colour and tone mapping to ``reference`` (the identity photo, or the first
        frame) and bake it into the look-up table used for every frame."""
        lab = rgb_to_lab(_check_frame(reference))
        samples = lab.reshape(-1, 3)[:: max(1, lab.shape[0] * lab.shape[1] // 40_000)]
        style = self.style
        matched = tone_curve(luminance_quantiles(lab[..., 0]), style.tone_quantiles)

        def tone(lightness: np.ndarray) -> np.ndarray:
            return lightness + TONE_TRANSFER * (matched(lightness) - lightness)

        mean = samples[:, 1:].mean(0)
        gain = chroma_gain(np.cov(samples[:, 1:].T), style.ab_cov)
        # the frame keeps part of its colour cast, scaled like its spread (none for grey art)
        centre = mean - (1 - CHROMA_TRANSFER) * (mean - style.lab_mean[1:])
        # the art decides how many tone bands; the frame's own tones decide where they sit,
        # so each band holds a fair share of the face instead of all of it landing in one
        # (moved 30% of the way to the art's nearest tone level, for the art's contrast)
        count = np.clip(len(self.levels), 3, 6)
        bands = np.quantile(tone(samples[:, 0]), (np.arange(count) + 0.5) / count)
        nearest = self.levels[np.argmin(np.abs(bands[:, None] - self.levels[None]), axis=1)]
        bands = (bands + 0.3 * (nearest - bands)).astype(np.float32)
        pull = self.palette_pull * np.array([0.25, 1.0, 1.0], np.float32)  # tone is the bands' job

        def colour(rgb: np.ndarray) -> np.ndarray:
            lab = rgb_to_lab(rgb)
            lab[..., 0] = tone(lab[..., 0])
            lab[..., 1:] = (lab[..., 1:] - centre) * gain + style.lab_mean[1:]
            lab += pull * (soft_palette(lab, style.palette, style.palette_weights, 12.0) - lab)
            lab[..., 0] += self.band_amount * (soft_bands(lab[..., 0], bands, self.band_width) - lab[..., 0])
            return lab_to_rgb(lab)

        self._lut = ColourLUT(colour)

    def source_image(self, photo: np.ndarray, landmarks: np.ndarray | None = None, *,
                     show_progress: bool = True, progress=None) -> np.ndarray:
        """The picture a warping renderer should move instead of the identity ``photo``.

        With ``landmarks`` (the photo's 68 points) and a face in the art picture, the photo's
        skin, lips, eyes, hair and background first take the colours of the art face's same
        parts (:mod:`s2t.style_a.painterly.parts`); the colour table is then refitted to that
        photo. With method ``"painting"`` the photo is then painted after the art picture
        (once; later from the user cache) and blended with the photo by the strength;
        ``progress(done, total)`` is called as the painting goes (an exception it raises stops
        the painting and caches nothing). Frames of a painted source need only :meth:`finish`."""
        photo = _check_frame(photo)
        if self.strength == 0.0:
            return photo
        art_face = self.art_face() if landmarks is not None else None
        source = photo
        if art_face is not None:
            from s2t.style_a.painterly.parts import recolour_parts

            source = recolour_parts(photo, landmarks, self.style.picture, art_face)
            self.prepare(source)
        if self.style.method != "painting":
            return source
        if self.style.picture is None:
            raise ValueError(f"art style {self.style.name!r} has no picture to paint after; analyse the picture "
                             "with ArtStyle.from_picture or load it as a preset")
        from s2t.style_a.painterly.cache import painted_photo
        from s2t.style_a.painterly.look import PaintedLook

        if self._lut is None:
            self.prepare(source)
        # start from the palette method's frame: the art's colours and tones are there from the
        # first iteration, and the optimisation spends itself on the strokes
        start = np.round(np.clip(self._render(source), 0, 1) * 255).astype(np.uint8)
        painted = painted_photo(source, self.style.picture, *(() if self.painting is None else (self.painting,)),
                                start=start, show_progress=show_progress, progress=progress)
        self._look = PaintedLook(photo, painted, self.strength)
        return self._look.image

    def shape_identity(self, model, identity: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The identity coefficients a renderer should drive ``model`` with: the photo's
        ``identity`` moved so that the face takes ``face_shape * strength`` of the art face's
        proportions relative to the photo's ``landmarks`` (68 points); unchanged when the
        art picture shows no face."""
        art_face = self.art_face()
        amount = self.face_shape * self.strength
        if art_face is None or amount == 0.0 or model.num_identity == 0:
            return identity
        from s2t.style_a.painterly.shape import shape_identity

        return shape_identity(model, identity, landmarks, art_face, amount)

    def art_face(self) -> np.ndarray | None:
        """The 68 landmarks of the face in the art picture (dlib), or None when it shows none."""
        if "art_face" not in self._cache:
            from s2t.face.detect import FaceImageError, detect_landmarks

            try:
                self._cache["art_face"] = None if self.style.picture is None else detect_landmarks(self.style.picture).points
            except FaceImageError:
                self._cache["art_face"] = None
        return self._cache["art_face"]

    def finish(self, frame: np.ndarray, synthesized: np.ndarray) -> np.ndarray:
        """The last step of a warping renderer. ``synthesized`` ((H, W) float in [0, 1]) marks the
        pixels not sampled from the source (mouth interior): after :meth:`source_image` painted
        the photo only those are styled; otherwise the whole frame is (as :meth:`__call__`)."""
        if self._look is None:
            return self(frame)
        return self._look.finish(_check_frame(frame), synthesized)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The stylized frame (RGB uint8, same shape). Raises ValueError for anything but an
        (H, W, 3) uint8 array."""
        frame = _check_frame(frame)
        if self.strength == 0.0:
            return frame.copy()
        if self._lut is None:
            self.prepare(frame)
        styled = self._render(frame)
        if self.strength < 1.0:
            styled = cv2.addWeighted(frame.astype(np.float32) / 255, 1.0 - self.strength, styled, self.strength, 0.0)
        np.clip(styled, 0.0, 1.0, out=styled)  # grain can overshoot, and convertScaleAbs takes |x|
        return cv2.convertScaleAbs(styled, alpha=255.0)  # rounds to uint8, faster than numpy

    def _render(self, frame: np.ndarray) -> np.ndarray:
        """Full-strength style as float32 RGB in [0, 1]. Abstraction, line finding and the
        colour table run at most at 512 px on the shorter side (abstraction removes the
        finer detail anyway; bigger frames are upsampled after them, which keeps 1024 px
        frames at 2-3x the cost of 512 px ones); grain and ink at the frame's resolution."""
        height, width = frame.shape[:2]
        work = frame
        if min(height, width) > 640:
            factor = 512 / min(height, width)
            work = cv2.resize(frame, (round(width * factor), round(height * factor)), interpolation=cv2.INTER_AREA)
        scale = min(work.shape[:2]) / 512
        flat = _soft_kuwahara(work, 3.0, scale) if self.painterly else _bilateral(work, self.smoothing, scale)
        if self.soften > 0.2:
            flat = cv2.GaussianBlur(flat, (0, 0), self.soften * scale)
        ink = _ink_lines(flat, max(self.style.line_width, 2.0) * scale) if self.line_work else None
        styled = self._lut(flat)
        if work is not frame:
            styled = cv2.resize(styled, (width, height), interpolation=cv2.INTER_LINEAR)
            ink = None if ink is None else cv2.resize(ink, (width, height), interpolation=cv2.INTER_LINEAR)
        if self.texture and max(self.style.texture_dark, self.style.texture_light) > 1.5:
            styled = self._grain(styled, min(height, width) / 512)
        if ink is not None:
            styled = blend(styled, self._constant(styled.shape, tuple(lab_to_rgb(self.style.ink))), ink)
        return styled

    def _grain(self, rgb: np.ndarray, scale: float) -> np.ndarray:
        """Add the picture's grain, as strong as in the art at this lightness. One L unit is
        about 1/80 of the sRGB range at every lightness, so the grain is added in RGB."""
        tiled = self._tiled_texture(rgb.shape[:2], scale)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        dark, light = self.style.texture_dark, self.style.texture_light
        amplitude = dark + (light - dark) * np.clip(grey * 2 - 0.5, 0, 1)  # dark below 25% grey, light above 75%
        grain = tiled * amplitude / 80.0
        return cv2.add(rgb, cv2.merge([grain, grain, grain]))

    def _tiled_texture(self, shape: tuple[int, int], scale: float) -> np.ndarray:
        key = ("texture", shape)
        if key not in self._cache:
            tile = self.style.texture
            if abs(scale - 1.0) > 0.05:
                side = max(2, round(tile.shape[0] * scale))
                # no longer exactly periodic after resizing; the seams are far below the grain
                tile = cv2.resize(tile, (side, side), interpolation=cv2.INTER_LINEAR)
            reps = (-(-shape[0] // tile.shape[0]), -(-shape[1] // tile.shape[1]))
            self._cache[key] = np.ascontiguousarray(np.tile(tile, reps)[: shape[0], : shape[1]])
        return self._cache[key]

    def _constant(self, shape: tuple[int, ...], value: tuple[float, ...]) -> np.ndarray:
        key = ("constant", shape, value)
        if key not in self._cache:
            self._cache[key] = np.full(shape, value, np.float32)
        return self._cache[key]


def _check_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frames must be RGB uint8 arrays of shape (H, W, 3), got {frame.dtype} {frame.shape}")
    if min(frame.shape[:2]) < 2:
        raise ValueError(f"frame too small: {frame.shape[1]}x{frame.shape[0]} px")
    return np.ascontiguousarray(frame)


def _band_centres(palette: np.ndarray, weights: np.ndarray, merge: float = 15.0) -> np.ndarray:
    """The art's tone levels: palette lightnesses, merging levels closer than ``merge``."""
    levels: list[list[float]] = []
    for lightness, weight in sorted(zip(palette[:, 0], weights)):
        if levels and lightness - levels[-1][0] / levels[-1][1] < merge:
            levels[-1][0] += lightness * weight
            levels[-1][1] += weight
        else:
            levels.append([lightness * weight, weight])
    return np.array([total / weight for total, weight in levels], np.float32)


def _bilateral(rgb: np.ndarray, smoothing: float, scale: float) -> np.ndarray:
    """Edge-preserving flattening: up to four passes of a small bilateral filter. Repeating
    a 5 px filter flattens regions like one large filter (each pass averages what the last
    one already made similar) at a fraction of the cost (2 ms a pass at 512², against ~20 ms
    for one 13 px pass)."""
    diameter = 2 * max(1, round(2 * scale)) + 1
    out = rgb
    for _ in range(1 + round(3 * smoothing)):
        out = cv2.bilateralFilter(out, diameter, 12.0 + 20.0 * smoothing, 2.0 * scale)
    return out


def _soft_kuwahara(rgb: np.ndarray, radius: float, scale: float) -> np.ndarray:
    """Painterly smoothing: each pixel takes the means of the four square windows around it,
    weighted by how uniform each window is (a smooth version of the Kuwahara filter, so
    small motions never switch windows abruptly). Box filters make it O(1) per pixel."""
    r = max(1, round(radius * scale))
    image = rgb.astype(np.float32)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    square = grey * grey
    total, weighted = 0.0, 0.0
    for anchor in ((0, 0), (r, 0), (0, r), (r, r)):
        mean = cv2.boxFilter(image, -1, (r + 1, r + 1), anchor=anchor, borderType=cv2.BORDER_REFLECT)
        mean_square = cv2.boxFilter(square, -1, (r + 1, r + 1), anchor=anchor, borderType=cv2.BORDER_REFLECT)
        variance = np.maximum(mean_square - cv2.cvtColor(mean, cv2.COLOR_RGB2GRAY) ** 2, 0.0)
        weight = 1.0 / (1.0 + variance / 25.0) ** 2
        total = total + weight
        weighted = weighted + mean * cv2.merge([weight, weight, weight])
    return cv2.convertScaleAbs(weighted / cv2.merge([total, total, total]))


def _ink_lines(rgb: np.ndarray, width: float) -> np.ndarray:
    """Ink coverage in [0, 1]: a difference of Gaussians on grey (positive where a pixel is
    darker than its surroundings: dark lines and the dark side of edges), thresholded softly
    so that lines fade in and out instead of popping."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sigma = max(0.6, width / 3.0)
    darkness = cv2.GaussianBlur(grey, (0, 0), 1.6 * sigma) - cv2.GaussianBlur(grey, (0, 0), sigma)
    ramp = np.clip((darkness - 2.0) / 6.0, 0.0, 1.0)
    return ramp * ramp * (3.0 - 2.0 * ramp)


# ---------------------------------------------------------------------------------- presets


def list_art_presets() -> list[str]:
    """Names of the art pictures shipped in ``presets/art``."""
    return sorted(p.stem for p in _preset_dir().glob("*.png"))


def load_art_preset(name: str) -> ArtStyle:
    """The analysed style of a shipped art picture (the stored analysis when current,
    otherwise the picture analysed now). Unknown names raise KeyError."""
    known = list_art_presets()
    if name not in known:
        raise KeyError(f"unknown art preset {name!r}; known: {', '.join(known)}")
    return _load_preset(name)


@lru_cache(maxsize=None)
def _load_preset(name: str) -> ArtStyle:
    folder = _preset_dir()
    analysed = folder / f"{name}.artstyle.npz"
    if analysed.is_file():
        try:
            style = ArtStyle.load(analysed)
        except ValueError:
            pass  # an older format: analyse the picture instead
        else:  # the stored analysis has no picture; painting needs it
            with Image.open(folder / f"{name}.png") as image:
                return replace(style, picture=_resize_long_side(np.asarray(image.convert("RGB")), ANALYSIS_SIDE))
    return ArtStyle.from_file(folder / f"{name}.png", name)


def _preset_dir() -> Path:
    if not PRESET_DIR.is_dir():
        raise FileNotFoundError(f"art presets folder not found: {PRESET_DIR} "
                                "(it ships with the repository, next to s2t/)")
    return PRESET_DIR
