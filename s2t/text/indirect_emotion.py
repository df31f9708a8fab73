"""Indirect emotion sentences: ones that describe a mood by a situation, a habit of speech or an
idiom instead of naming it ("He has had enough of this." for anger, "She can hardly sit still."
for fear).

The annotation grammar (:mod:`s2t.text.emotion_grammar`) always names the emotion, so a model
trained on it alone read sentences like "His patience is wearing thin." as off its map and
rendered them weakly (bench/RESULTS.md, "Style-E: next level"). Users write such sentences,
so training sees some of them beside the grammar's. Phrases per level follow the grammar's
levels (1 weak, 2 medium, 3 strong): "a bit fed up" is level 1, "fuming" level 2, "ready to
explode" level 3.

These are written to stay apart from the held-out evaluation sentences
(``s2t.eval.expressiveness.MILD_SENTENCES``, ``s2t.eval.quality.PARAPHRASES``): no three-word
run in common (tested), so the evaluation still measures sentences training never saw.
"""

from __future__ import annotations

import numpy as np

INDIRECT_PHRASES: dict[str, dict[int, tuple[str, ...]]] = {
    "neutral": {
        1: ("announces the next stop", "goes through the agenda point by point", "describes the route to the station",
            "answers the question matter-of-factly", "states the opening hours", "reads out a phone number",
            "talks through the instructions", "gives the figures for the last quarter"),
    },
    "angry": {
        1: ("is getting a little short with them", "sounds a bit fed up", "is starting to lose {pos} temper",
            "has had about enough of this", "is mildly put out by the delay", "grits {pos} teeth a little"),
        2: ("is fuming", "has lost {pos} temper", "is cross with everyone", "snaps back at the question",
            "is in a foul mood", "bristles at the remark"),
        3: ("is ready to explode", "shouts, red in the face", "is beside {self}", "could throw something",
            "is shaking with rage at the insult", "blows up at them"),
    },
    "contempt": {
        1: ("rolls {pos} eyes a little", "finds the suggestion faintly silly", "looks mildly unconvinced",
            "gives a small, knowing smirk", "thinks the plan is a bit beneath {pos} notice"),
        2: ("turns up {pos} nose at the offer", "sneers at the offer", "thinks they are fools",
            "dismisses the whole thing", "gives a cold, one-sided smirk"),
        3: ("looks at them as if they were dirt", "openly mocks the idea", "could not care less for these people",
            "treats them as utterly worthless", "sneers at everyone in the room"),
    },
    "disgusted": {
        1: ("finds the taste a little off", "sniffs the milk warily", "is not keen on the leftovers",
            "thinks the sink is a bit icky", "pulls a face at the soup"),
        2: ("is grossed out by the mess", "finds the smell nauseating", "cannot stand the sight of it",
            "recoils from the rotten fruit", "thinks the whole thing is vile"),
        3: ("is about to be sick", "gags at the stench", "finds it absolutely revolting",
            "can barely look at the filth", "retches at the thought of it"),
    },
    "fear": {
        1: ("is a bit on edge", "has butterflies before the talk", "keeps checking over {pos} shoulder",
            "sounds slightly jumpy", "is a little worried about the results"),
        2: ("is scared of what might happen", "is jumpy and tense", "dreads the phone call",
            "cannot hide {pos} worry", "is shaken by the noise outside"),
        3: ("is frozen in horror", "is scared out of {pos} wits", "screams at the shadow",
            "is paralysed with dread", "runs from the danger in a panic"),
    },
    "happy": {
        1: ("smiles a little at the news", "is glad it worked out", "has a pleasant afternoon",
            "is fairly satisfied with the result", "looks mildly amused"),
        2: ("is in high spirits", "grins while telling the story", "is thrilled about the trip",
            "laughs along with the joke", "is having a lovely time"),
        3: ("is over the moon", "grins widely at everyone", "is bursting with joy at the win",
            "could not be happier", "laughs with pure delight"),
    },
    "sad": {
        1: ("is feeling a little low", "seems slightly blue", "sighs over the lost chance",
            "is a touch wistful", "looks somewhat let down"),
        2: ("is feeling down after the call", "fights back tears", "is grieving quietly",
            "has a heavy heart", "talks about the loss with a sigh"),
        3: ("is in tears", "is crushed by what happened", "sobs while speaking", "has lost all hope",
            "weeps for {pos} late father"),
    },
    "surprised": {
        1: ("raises an eyebrow at the answer", "is a little caught off guard", "finds the result a bit unexpected",
            "blinks at the odd request", "sounds mildly puzzled by the twist"),
        2: ("is caught off guard", "cannot believe {pos} ears", "is startled by the knock",
            "gasps at the twist", "is amazed by the result"),
        3: ("is completely stunned", "is speechless at the reveal", "gasps, jaw dropping, at the news",
            "is blown away", "is totally floored by the announcement"),
    },
}  # fmt: skip
"""Verb phrases after a subject ("He {phrase}."), per emotion and level; ``{pos}`` is the
possessive ("his"), ``{self}`` the reflexive ("himself"). Neutral has one level."""

_SUBJECTS = (("He", "his", "himself"), ("She", "her", "herself"), ("The speaker", "their", "themselves"),
             ("The man", "his", "himself"), ("The woman", "her", "herself"))  # fmt: skip


def indirect_sentences(emotion: str, level: int, rng: np.random.Generator, count: int = 2) -> list[str]:
    """``count`` distinct indirect sentences for the emotion at ``level`` (1-3; neutral has
    one level), drawn with ``rng``."""
    if emotion not in INDIRECT_PHRASES:
        raise KeyError(f"unknown emotion {emotion!r}; known: {sorted(INDIRECT_PHRASES)}")
    levels = INDIRECT_PHRASES[emotion]
    phrases = levels.get(level, levels[min(levels)])
    picks = rng.choice(len(phrases), min(count, len(phrases)), replace=False)
    sentences = []
    for index in picks:
        subject, pos, reflexive = _SUBJECTS[int(rng.integers(len(_SUBJECTS)))]
        sentences.append(f"{subject} {phrases[int(index)].format(pos=pos, self=reflexive)}.")
    return sentences


def every_indirect_sentence(emotion: str, level: int) -> list[str]:
    """Each phrase of the emotion at ``level`` once, as a sentence ("He ...", "She ..." in
    turn): the fixed set text anchoring compares with (:mod:`s2t.style_e.anchors`)."""
    levels = INDIRECT_PHRASES[emotion]
    subjects = (_SUBJECTS[0], _SUBJECTS[1])
    return [f"{subjects[i % 2][0]} {phrase.format(pos=subjects[i % 2][1], self=subjects[i % 2][2])}."
            for i, phrase in enumerate(levels.get(level, levels[min(levels)]))]


__all__ = ["INDIRECT_PHRASES", "every_indirect_sentence", "indirect_sentences"]
