"""Colours of the synthetic mouth interior, adapted to one photo.

Teeth take the photo's white balance and exposure from the sclera (the other white-ish
tissue in a face, lit like the teeth) steadied by the skin (glasses and reddened eyes shift
the sclera), or from the skin alone when the eyes are too small or hidden; gum, tongue and
cavity take theirs from the lips. Every colour is then clamped in CIELAB to the range a
mouth can have (teeth: light, slightly yellow, never blue or green, never darker than the
skin; soft tissue: red to pink), so a colour cast or an odd exposure cannot produce a grey
slab, a blue tooth or a black-green gum. A black-and-white photo gets a grey mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Typical colours under neutral light (sRGB, 0-1): what the photo's cast and exposure are applied to.
NEUTRAL_TEETH = np.array([0.93, 0.89, 0.80])
NEUTRAL_SCLERA = np.array([0.90, 0.87, 0.84])
NEUTRAL_SKIN = np.array([0.80, 0.62, 0.52])
NEUTRAL_LIPS = np.array([0.72, 0.42, 0.42])

# CIELAB bounds (L 0-100, a, b) of what each tissue may look like in any photo.
TEETH_LAB = ((40.0, 93.0), (-2.0, 6.0), (8.0, 26.0))
GUM_LAB = ((30.0, 72.0), (18.0, 42.0), (4.0, 24.0))
TONGUE_LAB = ((25.0, 62.0), (16.0, 40.0), (4.0, 24.0))
CAVITY_LAB = ((9.0, 22.0), (10.0, 26.0), (3.0, 16.0))


@dataclass(frozen=True)
class MouthColours:
    """sRGB (0-255 floats) base colours of the synthetic interior."""

    teeth: np.ndarray
    gum: np.ndarray
    tongue: np.ndarray
    cavity: np.ndarray
    source: str  # "sclera" or "skin": what the teeth's white balance came from


def clamp_lab(rgb: np.ndarray, bounds) -> np.ndarray:
    """``rgb`` (3,) in 0-1, moved into the CIELAB box ``bounds`` -> (3,) in 0-1."""
    lab = cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32).reshape(1, 1, 3), cv2.COLOR_RGB2LAB).reshape(3)
    lab = np.array([np.clip(v, lo, hi) for v, (lo, hi) in zip(lab, bounds)], np.float32)
    return np.clip(cv2.cvtColor(lab.reshape(1, 1, 3), cv2.COLOR_LAB2RGB).reshape(3), 0, 1).astype(np.float64)


def _polygon_pixels(image: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return image[mask > 0].reshape(-1, 3)


def _sclera(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """Median colour (0-1) of the eyes' bright, unsaturated pixels, or None if too few."""
    pixels = np.concatenate([_polygon_pixels(image, landmarks[a:b]) for a, b in ((36, 42), (42, 48))]) / 255.0
    if len(pixels) < 12:
        return None
    value = pixels.max(1)
    saturation = (value - pixels.min(1)) / np.maximum(value, 1e-6)
    bright = pixels[(value >= np.quantile(value, 0.7)) & (saturation < 0.35)]
    return np.median(bright, 0) if len(bright) >= 4 else None


def _lips(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Median colour (0-1) of the lips' band: outer contour (48-59) minus the inner one (60-67)."""
    outer = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(outer, [np.round(landmarks[48:60]).astype(np.int32)], 1)
    cv2.fillPoly(outer, [np.round(landmarks[60:68]).astype(np.int32)], 0)
    pixels = image[outer > 0].reshape(-1, 3) / 255.0
    return np.median(pixels, 0) if len(pixels) else NEUTRAL_LIPS


def _skin(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Median colour (0-1) of the cheeks: between the eyes' lower lids and the mouth corners."""
    cheeks = [landmarks[[1, 41, 48, 4]], landmarks[[15, 46, 54, 12]]]
    pixels = np.concatenate([_polygon_pixels(image, p) for p in cheeks]) / 255.0
    return np.median(pixels, 0) if len(pixels) else NEUTRAL_SKIN


def mouth_colours(image: np.ndarray, landmarks: np.ndarray) -> MouthColours:
    """Base colours of teeth, gum, tongue and cavity for a photo (RGB uint8) and its 68 landmarks."""
    sclera = _sclera(image, landmarks)
    skin = _skin(image, landmarks)
    skin_cast = skin / NEUTRAL_SKIN
    if sclera is not None:  # the sclera is the better white reference; the skin steadies it (glasses, red eyes)
        cast, source = np.sqrt(sclera / NEUTRAL_SCLERA * skin_cast), "sclera"
    else:
        cast, source = skin_cast, "skin"
    # Teeth are a little brighter than sclera, and brighter than the skin (small, dim eyes read dark).
    skin_lightness = float(cv2.cvtColor(skin.astype(np.float32).reshape(1, 1, 3), cv2.COLOR_RGB2LAB)[0, 0, 0])
    (lo, hi), a, b = TEETH_LAB
    teeth = clamp_lab(NEUTRAL_TEETH * cast * 1.06, ((min(max(lo, skin_lightness + 6.0), hi), hi), a, b))
    lips = _lips(image, landmarks)
    gum = clamp_lab(lips * np.array([1.12, 0.95, 0.98]) + 0.06, GUM_LAB)
    tongue = clamp_lab(lips * np.array([1.0, 0.82, 0.86]), TONGUE_LAB)
    cavity = clamp_lab(lips * 0.3, CAVITY_LAB)
    colours = np.array([teeth, gum, tongue, cavity])
    if _is_grey(image):  # a black-and-white photo gets a grey mouth, at the same lightness
        colours = np.repeat(colours @ np.array([0.299, 0.587, 0.114]), 3).reshape(4, 3)
    return MouthColours(*(colours * 255), source)


def _is_grey(image: np.ndarray) -> bool:
    rgb = image.reshape(-1, 3).astype(np.int16)
    return bool(np.percentile(rgb.max(1) - rgb.min(1), 99) <= 6)
