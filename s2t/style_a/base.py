"""What every Style-A implementation provides (the CPU renderer and the neural one).

:class:`StyleA` is the pipeline's view of Style-A: it turns one prepared photo and one
:class:`~s2t.style_a.art.Art` into a :class:`StyleARenderer`, which draws frames for any
coefficients of that face.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from s2t.face import CoeffSequence

if TYPE_CHECKING:
    from s2t.face import FaceModel
    from s2t.style_a.art import Art
    from s2t.style_a.photo import PreparedPhoto


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


class StyleA(Protocol):
    """A Style-A implementation: :class:`s2t.style_a.cpu_renderer.CpuStyleA` (no weights) or
    :class:`s2t.style_a.neural.renderer.NeuralStyleA` (a trained Style-A folder)."""

    def check(self, art: Art) -> None:
        """Raise ``ValueError`` for art this implementation cannot draw; cheap, so front ends
        call it before anything slow."""

    def prepare(self, model: FaceModel, photo: PreparedPhoto, art: Art, size: int) -> StyleARenderer:
        """A renderer of ``photo`` (fitted to ``model``) in ``art``, drawing ``size`` px frames."""
