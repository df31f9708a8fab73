"""Text anchoring: an emotion sentence's embedding pulled toward the label sentences the model
was trained on, so mild and indirect wording lands.

The embedded model answers strongly to texts like "He is slightly angry." and barely to ones
it never saw: "She frowns, clearly annoyed." gave browDown ~0.08. The text encoder already
places most such sentences nearest the right emotion, but only a little nearer than neutral's
sentences (cosine 0.52 against 0.38 for that one; bench/RESULTS.md, "Style-E: next level"),
and the network reads a vector off its training manifold as weak.

Anchoring replaces the embedding ``e`` by ``normalize(mix · a + (1 - mix) · e)``, where ``a`` is
``softmax(e · A / τ) M``: ``A`` holds the anchors' unit embeddings and ``M`` what each anchor
*means*. Label sentences ("He is slightly angry.") mean themselves. Descriptions in other
words mean their emotion and level's label sentences (the mean of their unit embeddings):
whole-face sentences of the annotation grammar ("The speaker looks irritated.") and indirect
ones ("He has had about enough of this."). A sentence close to one anchor takes most of that
anchor's meaning. Since anchors come in three levels, intensity words pick the level. A label
sentence is its own nearest anchor and barely moves.

The descriptions make the anchors a nearest-neighbour reading of the emotion in the text
encoder's space, with ten times as many neighbours as the label sentences. The anchored vector
(mix 1) was nearest the right emotion's label sentences for 14 of the 24 held-out mild
sentences with labels only, 19 with the descriptions; for the paraphrases, 19 and 22 of 24
(MiniLM, τ 0.03; bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.functional import normalize

from s2t.style_e.label_texts import emotion_texts, label_texts
from s2t.text.emotion_grammar import EMOTION_WORDS, candidate_sentences
from s2t.text.encoders import encode_by_length
from s2t.text.indirect_emotion import every_indirect_sentence

DEFAULT_TEMPERATURE = 0.03
DEFAULT_MIX = 0.8
GRAMMAR_ANCHORS_PER_LEVEL = 16


@dataclass(frozen=True)
class Anchor:
    """A sentence to compare with, and the sentences whose embedding it stands for (``()``:
    itself)."""

    text: str
    meaning: tuple[str, ...] = ()


def default_anchors() -> list[Anchor]:
    """Every label sentence (meaning itself), then for each emotion and level the grammar's
    whole-face sentences and the indirect sentences, meaning that level's label sentences.
    Fixed: the grammar is drawn with a constant seed."""
    anchors = {text: Anchor(text) for text in label_texts()}
    for index, emotion in enumerate(EMOTION_WORDS):
        for level in (1,) if emotion == "neutral" else (1, 2, 3):
            meaning = tuple(emotion_texts(emotion, level))
            rng = np.random.default_rng([index, level])
            grammar = candidate_sentences(emotion, level, [], rng, count=GRAMMAR_ANCHORS_PER_LEVEL)
            for text in (*grammar, *every_indirect_sentence(emotion, level)):
                anchors.setdefault(text, Anchor(text, meaning))
    return list(anchors.values())


class TextAnchors:
    """Args:
    encoder: the model's text encoder; the anchors are embedded with it on first use.
    temperature: softmax temperature over cosine similarities (smaller: snap to the nearest).
    mix: share of the anchored vector in the result; 0 turns anchoring off.
    anchors: the anchor sentences and their meanings (by default :func:`default_anchors`).
    """

    def __init__(self, encoder, temperature: float = DEFAULT_TEMPERATURE, mix: float = DEFAULT_MIX,
                 anchors: list[Anchor] | None = None) -> None:  # fmt: skip
        if not 0 <= mix <= 1 or temperature <= 0:
            raise ValueError(f"need 0 <= mix <= 1 and temperature > 0, got mix {mix}, temperature {temperature}")
        self.encoder, self.temperature, self.mix = encoder, temperature, mix
        self.anchors = default_anchors() if anchors is None else anchors
        self._tables: tuple[torch.Tensor, torch.Tensor] | None = None

    def describe(self) -> dict | str:
        return "off" if self.mix == 0 else {"temperature": self.temperature, "mix": self.mix,
                                            "anchors": len(self.anchors)}

    def _build_tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A, M)``: the anchors' unit embeddings and their meanings' (each sentence encoded once)."""
        sentences = list(dict.fromkeys(s for a in self.anchors for s in (a.text, *a.meaning)))
        unit = dict(zip(sentences, normalize(encode_by_length(self.encoder, sentences, batch=64).float(), dim=-1)))
        compare = torch.stack([unit[a.text] for a in self.anchors])
        meaning = torch.stack([torch.stack([unit[s] for s in a.meaning]).mean(0) if a.meaning else unit[a.text]
                               for a in self.anchors])  # fmt: skip
        return compare, normalize(meaning, dim=-1)

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """``(len(texts), dim)`` anchored embeddings (the encoder's own when ``mix`` is 0)."""
        embedded = self.encoder.encode(texts)
        if self.mix == 0:
            return embedded
        if self._tables is None:
            self._tables = self._build_tables()
        compare, meaning = (table.to(embedded.device) for table in self._tables)
        unit = normalize(embedded.float(), dim=-1)
        anchored = normalize(torch.softmax(unit @ compare.T / self.temperature, dim=-1) @ meaning, dim=-1)
        mixed = normalize(self.mix * anchored + (1 - self.mix) * unit, dim=-1)
        return (mixed * embedded.norm(dim=-1, keepdim=True)).to(embedded.dtype)  # the encoder's own lengths


__all__ = ["DEFAULT_MIX", "DEFAULT_TEMPERATURE", "Anchor", "TextAnchors", "default_anchors"]
