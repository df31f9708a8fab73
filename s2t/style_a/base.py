"""The interface every Style-A renderer implements (the neural one and the CPU one)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

import numpy as np

from s2t.face import CoeffSequence

Stylizer = Callable[[np.ndarray], np.ndarray]
"""Maps an RGB uint8 frame to a stylised RGB uint8 frame of the same size."""


class StyleARenderer(ABC):
    """Turns a coefficient sequence into frames of one identity in one art style."""

    size: int
    model_id: str

    @abstractmethod
    def render(self, expression: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """One RGB uint8 frame ``(size, size, 3)`` for expression ``(K,)`` and relative pose ``(6,)``."""

    def frames(self, seq: CoeffSequence, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Frames ``start`` to ``stop`` of ``seq``, one at a time (callers stream them)."""
        if seq.model_id != self.model_id:
            raise ValueError(f"coefficients are for {seq.model_id!r} but this renderer drives {self.model_id!r}; "
                             "convert them first (s2t coeffs convert)")
        for t in range(start, seq.num_frames if stop is None else min(stop, seq.num_frames)):
            yield self.render(seq.expression[t], seq.pose[t])
