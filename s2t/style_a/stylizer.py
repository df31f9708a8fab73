"""The art filters: :class:`Stylizer` restyles every frame after an :class:`ArtStyle` (the
picture analysed once, :mod:`s2t.style_a.art_style`) with classical image operations.

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

from typing import TYPE_CHECKING

import cv2
import numpy as np

from s2t.style_a.art_style import CHROMA_TRANSFER, TONE_TRANSFER, ArtStyle, brushwork
from s2t.style_a.palette import (
    ColourLUT,
    blend,
    chroma_gain,
    lab_to_rgb,
    luminance_quantiles,
    rgb_to_lab,
    soft_bands,
    soft_palette,
    tone_curve,
)

if TYPE_CHECKING:
    from s2t.style_a.painterly.paint import PaintConfig



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
        self.painterly = brushwork(style.flatness, style.edge_sharpness, max(style.texture_dark, style.texture_light))
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
