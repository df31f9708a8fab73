"""Plain emotion sentences made from a label and a level ("He is very happy."): what every
Style-E training run sees besides a corpus's annotations, and the anchors that read a
generated clip's emotion back (:mod:`s2t.style_e.anchors`)."""

from __future__ import annotations

_LEVEL_WORDS = {1: "slightly ", 2: "", 3: "very "}
_EMOTION_WORDS = {"neutral": "neutral", "angry": "angry", "contempt": "contemptuous", "disgusted": "disgusted",
                  "fear": "fearful", "happy": "happy", "sad": "sad", "surprised": "surprised"}  # fmt: skip


def emotion_texts(emotion: str, level: int) -> list[str]:
    """Plain sentences for a clip with only an emotion label and a level (1-3)."""
    word = _EMOTION_WORDS.get(emotion, emotion)
    if emotion == "neutral":
        return ["a neutral face", "He talks calmly with a neutral expression.", "She looks neutral."]
    how = _LEVEL_WORDS.get(level, "")
    return [f"a {how}{word} face", f"He is {how}{word}.", f"She looks {how}{word} while talking."]


def label_texts() -> list[str]:
    """Every plain label sentence (:func:`emotion_texts` of each emotion and level), once each:
    the texts every training run sees, whatever its annotations."""
    return list(dict.fromkeys(t for emotion in _EMOTION_WORDS for level in (1, 2, 3)
                              for t in emotion_texts(emotion, level)))  # fmt: skip


__all__ = ["emotion_texts", "label_texts"]
