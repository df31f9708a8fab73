"""The painted photo as the renderer's warp source, and the cheap per-frame styling of what the
photo never showed (mouth interior, revealed skin): those pixels take the painting's colours
(a Lab mean/spread transfer fitted from the photo to its painting) and its brushwork (the
painting's fine detail at the same screen position, like a canvas under the drawing). Both
are fixed once, so the styled pixels do not flicker either."""

from __future__ import annotations

import cv2
import numpy as np


class PaintedLook:
    """``image``: the warp source, the photo blended toward its painting by ``strength``."""

    def __init__(self, photo: np.ndarray, painted: np.ndarray, strength: float) -> None:
        self.strength = float(strength)
        self.image = cv2.addWeighted(photo, 1.0 - self.strength, painted, self.strength, 0.0)
        photo_lab, painted_lab = (cv2.cvtColor(x.astype(np.float32) / 255, cv2.COLOR_RGB2LAB) for x in (photo, painted))
        self.photo_mean, self.photo_std = photo_lab.reshape(-1, 3).mean(0), photo_lab.reshape(-1, 3).std(0) + 1e-3
        self.painted_mean, self.painted_std = painted_lab.reshape(-1, 3).mean(0), painted_lab.reshape(-1, 3).std(0) + 1e-3
        grey = cv2.cvtColor(painted, cv2.COLOR_RGB2GRAY).astype(np.float32)
        self.brushwork = grey - cv2.GaussianBlur(grey, (0, 0), 2.0)  # grey levels, zero mean

    def finish(self, frame: np.ndarray, synthesized: np.ndarray) -> np.ndarray:
        """``frame`` with the pixels weighted by ``synthesized`` ((H, W) float alpha) painted."""
        if self.strength == 0.0 or not (synthesized > 0).any():
            return frame
        ys, xs = np.nonzero(synthesized > 0)
        box = np.s_[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        region = frame[box].astype(np.float32) / 255
        lab = cv2.cvtColor(region, cv2.COLOR_RGB2LAB)
        lab = (lab - self.photo_mean) / self.photo_std * self.painted_std + self.painted_mean
        styled = np.clip(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB), 0, 1) * 255
        styled += self.brushwork[box][..., None]
        alpha = (synthesized[box] * self.strength)[..., None]
        out = frame.copy()
        out[box] = np.clip(frame[box] * (1 - alpha) + styled * alpha, 0, 255).astype(np.uint8)
        return out
