"""Text anchoring: an emotion sentence's embedding pulled toward the label sentences the model
was trained on, so mild and indirect wording lands.

The embedded model answers strongly to texts like "He is slightly angry." and barely to ones
it never saw: "She frowns, clearly annoyed." gave browDown ~0.08. The text encoder already
places most such sentences nearest the right emotion, but only a little nearer than neutral's
sentences (cosine 0.52 against 0.38 for that one; bench/RESULTS.md, "Style-E: next level"),
and the network reads a vector off its training manifold as weak. Anchoring replaces the
embedding ``e`` by ``normalize(mix · a + (1 - mix) · e)`` where ``a`` is the softmax-weighted
(temperature ``τ``) mean of the anchors' unit embeddings, ``softmax(e · A / τ) A``: a sentence
close to one label sentence takes most of that sentence's embedding, and since the anchors
come in three levels ("slightly angry", "angry", "very angry"), intensity words pick the
level. A label sentence itself is its own nearest anchor and barely moves.
"""

from __future__ import annotations

import torch
from torch.nn.functional import normalize

from s2t.style_e.label_texts import label_texts

DEFAULT_TEMPERATURE = 0.03
DEFAULT_MIX = 0.8


class TextAnchors:
    """Args:
    encoder: the model's text encoder; the anchors are embedded with it on first use.
    temperature: softmax temperature over cosine similarities (smaller: snap to the nearest).
    mix: share of the anchored vector in the result; 0 turns anchoring off.
    texts: the anchor sentences (by default every label sentence, :func:`label_texts`).
    """

    def __init__(self, encoder, temperature: float = DEFAULT_TEMPERATURE, mix: float = DEFAULT_MIX,
                 texts: list[str] | None = None) -> None:  # fmt: skip
        if not 0 <= mix <= 1 or temperature <= 0:
            raise ValueError(f"need 0 <= mix <= 1 and temperature > 0, got mix {mix}, temperature {temperature}")
        self.encoder, self.temperature, self.mix = encoder, temperature, mix
        self.texts = label_texts() if texts is None else texts
        self._table: torch.Tensor | None = None

    def describe(self) -> dict | str:
        return "off" if self.mix == 0 else {"temperature": self.temperature, "mix": self.mix}

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """``(len(texts), dim)`` anchored embeddings (the encoder's own when ``mix`` is 0)."""
        embedded = self.encoder.encode(texts)
        if self.mix == 0:
            return embedded
        if self._table is None:
            self._table = normalize(self.encoder.encode(self.texts).float(), dim=-1)
        table = self._table.to(embedded.device)
        unit = normalize(embedded.float(), dim=-1)
        anchored = normalize(torch.softmax(unit @ table.T / self.temperature, dim=-1) @ table, dim=-1)
        mixed = normalize(self.mix * anchored + (1 - self.mix) * unit, dim=-1)
        return (mixed * embedded.norm(dim=-1, keepdim=True)).to(embedded.dtype)  # the encoder's own lengths


__all__ = ["DEFAULT_MIX", "DEFAULT_TEMPERATURE", "TextAnchors"]
