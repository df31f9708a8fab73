"""Colour maths of the art-style stylizer: Lab conversion, palettes, tone and colour transfer,
and the 3D colour look-up table that applies all of them to a frame in one pass.

Lab here is OpenCV's float Lab: L in [0, 100], a and b roughly in [-128, 127], D65.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

QUANTILE_PROBS = np.linspace(0.0, 1.0, 65)
"""Probabilities at which luminance distributions are summarised (tone curves)."""


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """RGB (uint8, or float in [0, 1]) to float32 Lab, any leading shape."""
    scaled = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    flat = scaled.reshape(1, -1, 3)  # one long row: cvtColor is 5x slower on a tall N x 1 image
    return cv2.cvtColor(flat, cv2.COLOR_RGB2LAB).reshape(rgb.shape)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Float32 Lab to RGB float in [0, 1] (out-of-gamut colours clipped), any leading shape."""
    flat = lab.astype(np.float32).reshape(1, -1, 3)
    return np.clip(cv2.cvtColor(flat, cv2.COLOR_LAB2RGB), 0.0, 1.0).reshape(lab.shape)


def kmeans_palette(lab: np.ndarray, k: int, *, iterations: int = 25,
                   merge_distance: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``k`` palette colours of Lab samples ``(N, 3)`` and their pixel shares.

    Deterministic: k-means++ seeding from a fixed generator, then Lloyd iterations. Centres
    closer than ``merge_distance`` (ΔE) are merged and empty ones dropped, so a picture of
    three flat colours yields three colours even when ``k`` is larger. Sorted dark to light.
    """
    samples = lab.reshape(-1, 3).astype(np.float64)
    rng = np.random.default_rng(0)
    centres = [samples[rng.integers(len(samples))]]
    nearest = np.sum((samples - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        if nearest.sum() <= 1e-9:
            break
        centres.append(samples[rng.choice(len(samples), p=nearest / nearest.sum())])
        nearest = np.minimum(nearest, np.sum((samples - centres[-1]) ** 2, axis=1))
    centres = np.array(centres)
    for _ in range(iterations):
        assignment = _nearest(samples, centres)
        counts = np.bincount(assignment, minlength=len(centres))
        keep = counts > 0
        sums = np.stack([np.bincount(assignment, samples[:, c], minlength=len(centres)) for c in range(3)], 1)
        updated = sums[keep] / counts[keep, None]
        if updated.shape == centres.shape and np.allclose(updated, centres, atol=1e-3):
            break
        centres = updated
    centres, counts = _merge(centres, np.bincount(_nearest(samples, centres), minlength=len(centres)), merge_distance)
    order = np.argsort(centres[:, 0])
    return centres[order].astype(np.float32), (counts[order] / counts.sum()).astype(np.float32)


def _nearest(samples: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distance = (samples**2).sum(1)[:, None] - 2 * samples @ centres.T + (centres**2).sum(1)[None]
    return np.argmin(distance, axis=1)


def _merge(centres: np.ndarray, counts: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedily merge centres closer than ``distance`` into their count-weighted mean."""
    keep = counts > 0
    centres, counts = list(centres[keep]), list(counts[keep].astype(np.float64))
    merged = True
    while merged and len(centres) > 1:
        merged = False
        array = np.array(centres)
        gaps = np.linalg.norm(array[:, None] - array[None], axis=2) + np.eye(len(array)) * 1e9
        i, j = np.unravel_index(np.argmin(gaps), gaps.shape)
        if gaps[i, j] < distance:
            total = counts[i] + counts[j]
            centres[i] = (centres[i] * counts[i] + centres[j] * counts[j]) / total
            counts[i] = total
            del centres[j], counts[j]
            merged = True
    return np.array(centres), np.array(counts)


def luminance_quantiles(lightness: np.ndarray, smoothing: float = 1.5) -> np.ndarray:
    """Quantiles of L at :data:`QUANTILE_PROBS`, from a histogram blurred by ``smoothing``
    L units with a 1% uniform floor, so that tone curves built from them have bounded slope
    (a cel picture's spiky histogram would otherwise turn tone matching into hard steps)."""
    hist, edges = np.histogram(lightness, bins=200, range=(0.0, 100.0))
    hist = cv2.GaussianBlur(hist.astype(np.float64).reshape(1, -1), (0, 0), smoothing * 2).ravel()
    hist = hist / hist.sum() + 0.01 / len(hist)
    cdf = np.concatenate([[0.0], np.cumsum(hist)]) / (1.0 + 0.01)
    return np.interp(QUANTILE_PROBS, cdf, edges).astype(np.float32)


def tone_curve(source_quantiles: np.ndarray, target_quantiles: np.ndarray, *,
               slope: tuple[float, float] = (0.5, 2.5)) -> Callable[[np.ndarray], np.ndarray]:
    """A monotone L -> L curve matching the source distribution to the target one.

    The slope is clamped to ``slope`` and the curve re-integrated (anchored at the source
    median), so no tone range is crushed flat or stretched into a visible step.
    """
    grid = np.linspace(0.0, 100.0, 401)
    matched = np.interp(np.interp(grid, source_quantiles, QUANTILE_PROBS), QUANTILE_PROBS, target_quantiles)
    steps = np.clip(np.diff(matched), slope[0] * np.diff(grid), slope[1] * np.diff(grid))
    curve = np.concatenate([[0.0], np.cumsum(steps)])
    anchor = float(source_quantiles[len(source_quantiles) // 2])
    curve += np.interp(anchor, grid, matched) - np.interp(anchor, grid, curve)
    curve = np.clip(curve, 0.0, 100.0)
    return lambda lightness: np.interp(lightness, grid, curve)


def chroma_gain(source_cov: np.ndarray, target_cov: np.ndarray, *, max_gain: float = 2.0) -> float:
    """The factor that gives (a, b) colours the target's spread (RMS distance from the mean).

    Deliberately a scalar, so hues keep their place: a full covariance match (Monge-
    Kantorovich) rotates hues toward the art's dominant axis, which turns skin green when the
    art is a blue-and-green landscape. Capped at ``max_gain`` so a nearly grey photo is not
    blown up into false colours; grey art gives 0 (grey frames).
    """
    source = float(np.trace(source_cov)) + 8.0  # 2 ΔE of spread on each axis keeps grey frames finite
    return float(min(np.sqrt(max(float(np.trace(target_cov)), 0.0) / source), max_gain))


def soft_bands(lightness: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """Soft luminance quantisation: flat plateaus at ``centres`` joined by logistic ramps
    ``width`` L units wide, so neighbouring tones never flip between bands abruptly."""
    centres = np.sort(centres)
    out = np.full_like(lightness, centres[0])
    for low, high in zip(centres[:-1], centres[1:]):
        out += (high - low) / (1.0 + np.exp(-(lightness - (low + high) / 2) / width))
    return out


def soft_palette(lab: np.ndarray, palette: np.ndarray, weights: np.ndarray, temperature: float) -> np.ndarray:
    """Each colour as a blend of palette colours, weighted by closeness (Gaussian of ΔE with
    ``temperature``, lightness counting half) and by how common each colour is in the art."""
    scale = np.array([0.5, 1.0, 1.0], np.float32)
    flat = lab.reshape(-1, 3) * scale
    centres = palette * scale
    distance = (flat**2).sum(1)[:, None] - 2 * flat @ centres.T + (centres**2).sum(1)[None]
    logits = -np.maximum(distance, 0) / (2 * temperature**2) + 0.25 * np.log(weights + 1e-3)[None]
    logits -= logits.max(1, keepdims=True)
    share = np.exp(logits)
    share /= share.sum(1, keepdims=True)
    return (share @ palette).reshape(lab.shape).astype(np.float32)


class ColourLUT:
    """A function RGB -> RGB tabulated on a ``size``³ grid and applied by trilinear lookup.

    Every per-pixel colour operation of the stylizer (tone curve, colour transfer, palette
    pull, luminance bands, Lab round trip) is baked into one table when the stylizer is
    prepared; a frame then costs one lookup instead of a dozen full-image passes. The table
    is stored as an atlas of blue slices so that ``cv2.remap`` (bilinear within a slice, a
    few ms for a 512² frame) does the red/green interpolation and one blend the blue; a
    second atlas shifted by one slice lets both remaps share the same coordinate maps.
    """

    def __init__(self, function: Callable[[np.ndarray], np.ndarray], size: int = 65) -> None:
        axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
        blue, green, red = np.meshgrid(axis, axis, axis, indexing="ij")
        grid = np.stack([red, green, blue], -1)  # [b, g, r] -> rgb
        self.size = size
        self.atlas = np.ascontiguousarray(function(grid).reshape(size * size, size, 3).astype(np.float32))
        self._next_slice = np.ascontiguousarray(np.concatenate([self.atlas[size:], self.atlas[-size:]]))
        self._coordinate = (np.arange(256, dtype=np.float32) * (size - 1) / 255.0).reshape(1, 256)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """Look up a uint8 RGB image; returns float32 RGB."""
        x, y, z = (cv2.LUT(channel, self._coordinate) for channel in cv2.split(rgb))
        slice_low = np.minimum(z.astype(np.int32), self.size - 2).astype(np.float32)
        y_low = cv2.scaleAdd(slice_low, float(self.size), y)
        low = cv2.remap(self.atlas, x, y_low, cv2.INTER_LINEAR)
        high = cv2.remap(self._next_slice, x, y_low, cv2.INTER_LINEAR)
        return blend(low, high, z - slice_low)


def blend(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``a + (b - a) t`` for float32 images with a per-pixel weight map ``t`` (H, W);
    ``cv2.blendLinear`` is ~8x faster than numpy broadcasting over the channel axis."""
    return cv2.blendLinear(a, b, 1.0 - t, t)
