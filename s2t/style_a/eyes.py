"""Closing eyelids for the CPU renderer: a blink is covered with lid skin, not with lashes.

The warp closes an eye by stretching the upper lid's skin over it: each lid point takes the
photo's colour where the fitted lid point was. In a photo the visible upper lid is a thin band
and its edge is the lash line (often fitted a pixel or two into the iris), so a plain stretch
drags lashes and iris down over the eye. As a lid closes beyond the photo's own closure, its
source points slide up onto the lid skin above the lashes, by up to ``LIFT`` of the eye's
opening, so a closed eye shows skin with the lash line only at its edge.
"""

from __future__ import annotations

import numpy as np

from s2t.face import FaceModel

LIFT = 0.55  # how far (in eye openings) a fully closing lid's source moves up
EYES = {"Left": (42, 48), "Right": (36, 42)}  # the subject's left eye is iBUG 42-47 (image right)


class LidSkin:
    """Per-frame source positions of the upper lids for one fitted photo."""

    def __init__(self, model: FaceModel, landmarks: np.ndarray, fit_expression: np.ndarray, scale: float) -> None:
        self.channels, self.shifts, self.closed = [], [], []
        v = model.vertices
        for side, (a, b) in EYES.items():
            k = model.expression_index(f"eyeBlink{side}")
            moves = np.linalg.norm(model.expression_basis[k], axis=1)
            eye = landmarks[a:b]
            opening = 0.5 * (np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4]))
            upper = (v[:, 1] > 0.004) & (np.sign(v[:, 0]) == (1 if side == "Left" else -1))  # above the eye's centre
            weight = np.where(upper, moves / max(moves.max(), 1e-12), 0.0)
            shift = np.zeros((model.num_vertices, 2))
            shift[:, 1] = -LIFT * max(opening, 1.0) * scale * weight  # image y grows downward: up is negative
            self.channels.append(k)
            self.shifts.append(shift)
            self.closed.append(float(fit_expression[k]))

    def sources(self, source_xy: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """``source_xy`` with the upper lids' sources lifted by how far each lid closes beyond the photo's."""
        out = source_xy
        for k, shift, closed in zip(self.channels, self.shifts, self.closed):
            closing = (expression[k] - closed) / max(1.0 - closed, 1e-6)
            if closing > 0:
                out = out + min(closing, 1.0) * shift
        return out
