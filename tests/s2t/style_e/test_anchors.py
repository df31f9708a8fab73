"""Text anchoring pulls a sentence toward the nearest label sentence, and leaves those alone."""

import pytest
import torch

from s2t.style_e.anchors import Anchor, TextAnchors, default_anchors
from s2t.style_e.label_texts import emotion_texts, label_texts


class TableEncoder:
    """Fixed vectors: three orthogonal anchors, and sentences between them."""

    name, dim = "table", 4
    vectors = {"angry": [1, 0, 0, 0], "happy": [0, 1, 0, 0], "neutral": [0, 0, 1, 0],
               "a bit cross": [0.8, 0, 0.6, 0], "far away": [0, 0, 0, 1], "fed up": [0, 0, 0.6, 0.8],
               "had enough": [0, 0, 0.5, 0.866]}  # fmt: skip

    def encode(self, texts):
        return torch.tensor([self.vectors[t] for t in texts], dtype=torch.float32) * 2.0  # length 2: kept


LABELS = [Anchor("angry"), Anchor("happy"), Anchor("neutral")]


def test_anchoring_snaps_toward_the_nearest_anchor():
    anchors = TextAnchors(TableEncoder(), temperature=0.05, mix=1.0, anchors=LABELS)
    cross = anchors.encode(["a bit cross"])[0]
    assert cross.norm() == pytest.approx(2.0)
    assert cross[0] > 1.9 and cross[2] < 0.3  # was 0.8 angry / 0.6 neutral: now almost all angry
    assert torch.allclose(anchors.encode(["happy"])[0], torch.tensor([0.0, 2.0, 0.0, 0.0]), atol=1e-3)
    half = TextAnchors(TableEncoder(), temperature=0.05, mix=0.5, anchors=LABELS)
    between = half.encode(["a bit cross"])[0] / 2
    assert 0.8 < between[0] < cross[0] / 2
    off = TextAnchors(TableEncoder(), mix=0.0, anchors=LABELS[:1])
    assert torch.equal(off.encode(["a bit cross"]), TableEncoder().encode(["a bit cross"]))
    assert off.describe() == "off" and half.describe() == {"temperature": 0.05, "mix": 0.5, "anchors": 3}
    with pytest.raises(ValueError, match="mix"):
        TextAnchors(TableEncoder(), mix=1.5)


def test_a_description_takes_the_meaning_of_its_anchor():
    """"had enough" is nearest the anchor "fed up", which means "angry": it lands on angry, though
    it shares nothing with "angry" itself."""
    anchors = TextAnchors(TableEncoder(), temperature=0.05, mix=1.0, anchors=[*LABELS, Anchor("fed up", ("angry",))])
    assert torch.allclose(anchors.encode(["had enough"])[0], torch.tensor([2.0, 0.0, 0.0, 0.0]), atol=0.05)
    assert torch.allclose(anchors.encode(["happy"])[0], torch.tensor([0.0, 2.0, 0.0, 0.0]), atol=1e-3)


def test_the_default_anchors_are_the_label_sentences_and_descriptions_meaning_their_level():
    texts = label_texts()
    assert len(texts) == len(set(texts))
    assert set(emotion_texts("angry", 1)) | set(emotion_texts("neutral", 2)) <= set(texts)
    assert "He is very angry." in texts and "He is slightly angry." in texts
    anchors = default_anchors()
    assert [a.text for a in anchors[: len(texts)]] == texts and not any(a.meaning for a in anchors[: len(texts)])
    assert len({a.text for a in anchors}) == len(anchors) > 8 * len(texts) and anchors == default_anchors()
    meanings = {a.text: a.meaning for a in anchors}
    assert meanings["She has had about enough of this."] == tuple(emotion_texts("angry", 1))
    assert meanings["He is over the moon."] == tuple(emotion_texts("happy", 3))
