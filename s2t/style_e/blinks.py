"""Blinks for takes whose generated eyelids never close.

Blink timing is not in the speech, so a model that predicts x_0 averages blinks away unless
sampling happens to place them (the second embedded checkpoint's lids barely move:
bench/RESULTS.md). Like SadTalker, which draws blinks at random for the same reason, a take
without a blink of its own gets natural ones from the blink model the corpus is animated with
(gamma-spaced, asymmetric close/open shapes, :mod:`s2t.face.motion`), seeded by the take's seed.
"""

from __future__ import annotations

import numpy as np

from s2t.face.motion import blink_curve, blink_times

BLINK_CHANNELS = ("eyeBlinkLeft", "eyeBlinkRight")
CLOSED = 0.5  # a generated blink counts if the lid gets at least this far


def ensure_blinks(expression: np.ndarray, channel_names: tuple[str, ...], fps: float, seed: int,
                  rate_per_min: float = 15.0) -> tuple[np.ndarray, bool]:
    """``expression`` ``(T, K)`` with blinks added where it has none; and whether any were added.

    Channels missing from ``channel_names`` (a model without ARKit eyelids) leave it as is.
    """
    if not all(name in channel_names for name in BLINK_CHANNELS):
        return expression, False
    columns = [channel_names.index(name) for name in BLINK_CHANNELS]
    if expression[:, columns].max(initial=0.0) >= CLOSED:
        return expression, False
    rng = np.random.default_rng(seed)
    curve = blink_curve(blink_times(len(expression) / fps, rate_per_min, rng), len(expression), fps, rng)
    blinked = expression.copy()
    for column in columns:
        blinked[:, column] = np.maximum(blinked[:, column], curve)
    return blinked, bool(curve.max() > 0)


__all__ = ["BLINK_CHANNELS", "ensure_blinks"]
