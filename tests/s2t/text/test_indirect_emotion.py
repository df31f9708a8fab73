import re

import numpy as np
import pytest

from s2t.text.emotion_grammar import mentions_emotion
from s2t.data.emotion import EMOTIONS
from s2t.text.indirect_emotion import INDIRECT_PHRASES, every_indirect_sentence, indirect_sentences
from s2t.eval.expressiveness import MILD_SENTENCES
from s2t.eval.quality import PARAPHRASES


def _every_sentence() -> set[str]:
    rng = np.random.default_rng(0)
    return {s for _ in range(300) for e in EMOTIONS for level in (1, 2, 3) for s in indirect_sentences(e, level, rng)}


_LIGHT_WORDS = frozenset("a an the he she his her their they them is in on by to from with at of it bit little not "
                         "gives finds sounds looks".split())  # fmt: skip


def _trigrams(sentence: str) -> set[tuple[str, ...]]:
    """Three-word runs with at least two content words ("ear to ear", not "he is a")."""
    words = re.findall(r"[a-z'-]+", sentence.lower())
    runs = (tuple(words[i : i + 3]) for i in range(len(words) - 2))
    return {run for run in runs if sum(w not in _LIGHT_WORDS for w in run) >= 2}


def test_every_emotion_and_level_has_whole_sentences():
    assert set(INDIRECT_PHRASES) == set(EMOTIONS)
    rng = np.random.default_rng(1)
    for emotion in EMOTIONS:
        for level in (1, 2, 3):
            sentences = indirect_sentences(emotion, level, rng, count=3)
            assert len(sentences) == 3 == len(set(sentences))
            for sentence in sentences:
                assert sentence[0].isupper() and sentence.endswith(".") and "{" not in sentence
    assert "The speaker is beside themselves." in _every_sentence()


def test_levels_use_their_own_phrases():
    rng = np.random.default_rng(2)
    weak = {s.split(" ", 1)[1] for _ in range(50) for s in indirect_sentences("angry", 1, rng)}
    strong = {s.split(" ", 1)[1] for _ in range(50) for s in indirect_sentences("angry", 3, rng)}
    assert not weak & strong and any("fed up" in s for s in weak) and any("explode" in s for s in strong)


def test_most_sentences_do_not_name_their_emotion():
    named = [s for s in _every_sentence() if any(mentions_emotion(s, e) for e in EMOTIONS if e != "neutral")]
    assert len(named) < 0.2 * len(_every_sentence())


def test_the_held_out_evaluation_sentences_stay_apart():
    held_out = set().union(*(_trigrams(t) for texts in (*MILD_SENTENCES.values(), *PARAPHRASES.values())
                             for t in texts))  # fmt: skip
    shared = {s for s in _every_sentence() if _trigrams(s) & held_out}
    assert not shared


def test_unknown_emotion_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown emotion 'bored'.*angry"):
        indirect_sentences("bored", 1, np.random.default_rng(0))


def test_every_indirect_sentence_says_each_phrase_once():
    sentences = every_indirect_sentence("happy", 3)
    assert len(sentences) == len(INDIRECT_PHRASES["happy"][3]) == len(set(sentences))
    assert sentences[0] == "He is over the moon." and sentences[1].startswith("She ")
    assert every_indirect_sentence("neutral", 3) == every_indirect_sentence("neutral", 1)  # one level
