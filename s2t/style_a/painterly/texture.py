"""A texture statistic for telling painted frames from photographs: the energy of three
band-pass octaves of lightness and how strongly oriented the fine detail is.

Photos of faces have little fine-scale energy on the skin and detail oriented at random;
brushwork adds energy at the strokes' scale and lines it up along the strokes (the
structure tensor's coherence, 0 for isotropic detail, 1 for parallel strokes)."""

from __future__ import annotations

import cv2
import numpy as np

OCTAVES = (1.0, 2.0, 4.0)


def texture_signature(rgb: np.ndarray) -> np.ndarray:
    """``(4,)``: the RMS of lightness band-passes (difference of Gaussians at sigma 1-2, 2-4 and
    4-8 px; L units, 0..100) and the mean structure-tensor coherence (sigma 2 px)."""
    lightness = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[..., 0]
    bands = [cv2.GaussianBlur(lightness, (0, 0), s) - cv2.GaussianBlur(lightness, (0, 0), 2 * s) for s in OCTAVES]
    gx, gy = cv2.Sobel(lightness, cv2.CV_32F, 1, 0), cv2.Sobel(lightness, cv2.CV_32F, 0, 1)
    xx, yy, xy = (cv2.GaussianBlur(v, (0, 0), 2.0) for v in (gx * gx, gy * gy, gx * gy))
    coherence = np.sqrt((xx - yy) ** 2 + 4 * xy**2) / np.maximum(xx + yy, 1e-6)
    return np.array([*(float(np.sqrt((b**2).mean())) for b in bands), float(coherence.mean())])
