"""The sentence grammar of the emotion-text annotation: emotion words, facial cues, templates.

The paper asks GPT-3 for synonyms of each emotion and action unit at each level and for
candidate sentences in varied syntax. Here that knowledge is written down: every emotion has
adjectives, nouns and manner phrases per level (1 weak, 2 medium, 3 strong), every visible
movement (a *cue*: one action unit, or a combination that reads as one thing, such as the
raised-and-drawn-together brows of fear) has verb phrases and "state" phrases, and sentence
templates combine them with subjects (he, she, the speaker, a person...) into whole-face
sentences ("She looks furious.") and detail sentences ("He looks furious, lowering his brows
and narrowing his eyes."). :func:`candidate_sentences` samples them with a seeded generator.

Words users would write are used, never AU names or numbers. Cues that contradict the
clip's emotion (a smile on a sad face) are left out by :data:`CONFLICTS`; neutral clips are
described by relaxed-face cues only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

LEVEL_ADVERBS = {1: ("slightly", "subtly", "faintly", "mildly"), 2: ("clearly", "visibly", "noticeably", ""),
                 3: ("strongly", "intensely", "sharply", "markedly")}  # fmt: skip
"""Adverbs for a cue's intensity level; "" lets a medium cue go unqualified."""


@dataclass(frozen=True)
class EmotionWords:
    """An emotion's words per level. ``adjectives`` work before a noun and after "looks";
    ``predicates`` only after "looks"/"is"; ``nouns`` are mass nouns ("a look of ..."); ``manners``
    follow "speaks". ``keywords`` are the words that show a sentence names this emotion."""

    adjectives: dict[int, tuple[str, ...]]
    predicates: dict[int, tuple[str, ...]]
    nouns: dict[int, tuple[str, ...]]
    manners: dict[int, tuple[str, ...]]
    keywords: frozenset[str]


def _words(adjectives, predicates, nouns, manners, keywords: str) -> EmotionWords:
    return EmotionWords(adjectives, predicates, nouns, manners, frozenset(keywords.split()))


_NEUTRAL_ADJECTIVES = ("calm", "neutral", "relaxed", "composed", "impassive", "expressionless", "unemotional")
_NEUTRAL_NOUNS = ("calm", "composure", "calm composure")
_NEUTRAL_MANNERS = ("calmly", "evenly", "in a calm, neutral way", "with calm composure", "in a relaxed, neutral tone")

EMOTION_WORDS: dict[str, EmotionWords] = {
    "neutral": _words({1: _NEUTRAL_ADJECTIVES, 2: _NEUTRAL_ADJECTIVES, 3: _NEUTRAL_ADJECTIVES},
                      {1: ("calm and composed",), 2: ("calm and composed",), 3: ("calm and composed",)},
                      {1: _NEUTRAL_NOUNS, 2: _NEUTRAL_NOUNS, 3: _NEUTRAL_NOUNS},
                      {1: _NEUTRAL_MANNERS, 2: _NEUTRAL_MANNERS, 3: _NEUTRAL_MANNERS},
                      "calm calmly neutral relaxed composed composure impassive expressionless unemotional evenly"),
    "angry": _words({1: ("slightly angry", "mildly angry", "annoyed", "irritated"),
                     2: ("angry", "cross", "irate"),
                     3: ("furious", "enraged", "livid", "very angry", "seething")},
                    {1: ("a bit annoyed",), 2: ("clearly angry",), 3: ("full of rage", "boiling with anger")},
                    {1: ("mild irritation", "annoyance", "slight anger"), 2: ("anger", "irritation"),
                     3: ("rage", "fury", "intense anger")},
                    {1: ("irritably", "with mild annoyance"), 2: ("angrily", "in anger"),
                     3: ("furiously", "in a rage", "with fury")},
                    "anger angry angrily annoyed annoyance irritated irritation irritably cross irate "
                    "furious furiously fury enraged rage livid seething"),
    "contempt": _words({1: ("slightly contemptuous", "faintly scornful", "mildly disdainful"),
                        2: ("contemptuous", "scornful", "disdainful"),
                        3: ("openly contemptuous", "deeply scornful", "utterly disdainful", "very contemptuous")},
                       {1: ("a little scornful",), 2: ("full of disdain",), 3: ("full of contempt",)},
                       {1: ("faint contempt", "mild scorn", "slight disdain"), 2: ("contempt", "scorn", "disdain"),
                        3: ("open contempt", "utter scorn", "deep disdain")},
                       {1: ("with a hint of contempt", "with faint disdain"),
                        2: ("contemptuously", "scornfully", "disdainfully"),
                        3: ("with open contempt", "with utter disdain", "with deep scorn")},
                       "contempt contemptuous contemptuously scorn scornful scornfully disdain disdainful "
                       "disdainfully"),
    "disgusted": _words({1: ("slightly disgusted", "mildly repulsed", "faintly disgusted"),
                         2: ("disgusted", "repulsed", "revolted"),
                         3: ("deeply disgusted", "utterly revolted", "sickened", "very disgusted")},
                        {1: ("a bit grossed out",), 2: ("grossed out",), 3: ("thoroughly grossed out",)},
                        {1: ("mild disgust", "slight distaste", "distaste"), 2: ("disgust", "revulsion"),
                         3: ("deep disgust", "strong revulsion", "utter disgust")},
                        {1: ("with mild distaste", "with slight disgust"), 2: ("with disgust", "in disgust"),
                         3: ("with deep disgust", "in utter revulsion")},
                        "disgust disgusted repulsed revolted revulsion distaste sickened grossed"),
    "fear": _words({1: ("uneasy", "nervous", "slightly scared", "anxious"),
                    2: ("scared", "frightened", "fearful"),
                    3: ("terrified", "panicked", "very frightened", "petrified")},
                   {1: ("a little afraid",), 2: ("afraid",), 3: ("frozen with fear", "very afraid")},
                   {1: ("unease", "nervousness", "mild fear", "anxiety"), 2: ("fear", "fright"),
                    3: ("terror", "panic", "intense fear")},
                   {1: ("nervously", "uneasily", "anxiously"), 2: ("fearfully", "with fear", "in fear"),
                    3: ("in terror", "in a panic", "with terror")},
                   "fear fearful fearfully afraid scared frightened fright terrified terror panic panicked nervous "
                   "nervously nervousness uneasy uneasily unease anxious anxiously anxiety petrified"),
    "happy": _words({1: ("pleased", "content", "slightly happy", "mildly cheerful"),
                     2: ("happy", "cheerful", "glad", "joyful"),
                     3: ("overjoyed", "delighted", "elated", "very happy")},
                    {1: ("quietly pleased",), 2: ("in a good mood",), 3: ("beaming with joy", "full of joy")},
                    {1: ("mild pleasure", "contentment", "quiet joy"), 2: ("happiness", "joy", "cheerfulness"),
                     3: ("great joy", "delight", "elation")},
                    {1: ("contentedly", "pleasantly"), 2: ("happily", "cheerfully", "joyfully"),
                     3: ("with great joy", "with delight", "joyously")},
                    "happy happily happiness pleased pleasure content contentedly contentment cheerful cheerfully "
                    "cheerfulness glad joy joyful joyfully joyously delight delighted overjoyed elated elation "
                    "pleasantly good"),
    "sad": _words({1: ("slightly sad", "glum", "downcast", "mildly sad"),
                   2: ("sad", "unhappy", "sorrowful", "gloomy"),
                   3: ("heartbroken", "miserable", "deeply sad", "grief-stricken", "devastated")},
                  {1: ("a little sad",), 2: ("clearly sad",), 3: ("overcome with sorrow",)},
                  {1: ("mild sadness", "slight melancholy", "gloom"), 2: ("sadness", "sorrow", "unhappiness"),
                   3: ("deep sorrow", "grief", "despair")},
                  {1: ("glumly", "a little sadly"), 2: ("sadly", "sorrowfully", "unhappily"),
                   3: ("mournfully", "with deep sorrow", "in grief")},
                  "sad sadly sadness glum glumly downcast melancholy unhappy unhappily unhappiness sorrow sorrowful "
                  "sorrowfully gloomy gloom heartbroken miserable grief grief-stricken devastated mournfully despair"),
    "surprised": _words({1: ("slightly surprised", "mildly surprised", "slightly startled"),
                         2: ("surprised", "startled"),
                         3: ("astonished", "amazed", "stunned", "very surprised")},
                        {1: ("a little startled",), 2: ("taken aback",), 3: ("completely taken aback",)},
                        {1: ("mild surprise", "slight surprise"), 2: ("surprise",),
                         3: ("astonishment", "amazement", "shock")},
                        {1: ("with mild surprise",), 2: ("in surprise", "with surprise"),
                         3: ("in astonishment", "in amazement", "with utter astonishment")},
                        "surprise surprised startled amazed amazement astonished astonishment stunned shock aback"),
}  # fmt: skip


@dataclass(frozen=True)
class Cue:
    """One visible facial movement. ``verbs`` are ``(verb, rest)`` pairs ("lower", "{pos} brows")
    the verb inflected for "he lowers" / "lowering"; ``states`` are ``(article, participle, noun)``
    ("a", "wrinkled", "nose") for "a wrinkled nose" and "with {pos} nose wrinkled". ``aus``
    must all be active; ``one_sided`` asks the lip corners to move on one side (True), both
    (False) or either (None)."""

    key: str
    region: int  # 0 brows ... 5 jaw: the order cues are listed in, top of the face first
    aus: tuple[int, ...]
    verbs: tuple[tuple[str, str], ...]
    states: tuple[tuple[str, str, str], ...]
    one_sided: bool | None = None
    graded: bool = True  # whether level adverbs fit ("slightly lowers", not "slightly stares with ...")
    adverbs: dict[int, tuple[str, ...]] | None = None  # this cue's own level adverbs, if LEVEL_ADVERBS read badly


CUES = (
    Cue("brows_fear", 0, (1, 2, 4), (("knit", "{pos} raised brows"), ("pull", "{pos} brows up and inward")),
        (("", "raised and knitted", "brows"), ("", "lifted, tense", "brows"))),
    Cue("brows_sad", 0, (1, 4), (("draw", "the inner ends of {pos} brows up and together"),
                                 ("tilt", "{pos} brows up in the middle")),
        (("", "upturned", "inner brows"), ("", "knitted, upturned", "brows"))),
    Cue("brows_up", 0, (1, 2), (("raise", "{pos} eyebrows"), ("lift", "{pos} brows"), ("arch", "{pos} brows")),
        (("", "raised", "eyebrows"), ("", "lifted", "brows"), ("", "arched", "brows"))),
    Cue("brows_inner", 0, (1,), (("raise", "the inner corners of {pos} brows"), ("lift", "{pos} inner brows")),
        (("", "raised", "inner brows"), ("", "lifted", "inner eyebrows"))),
    Cue("brows_outer", 0, (2,), (("raise", "the outer ends of {pos} brows"), ("lift", "{pos} outer brows")),
        (("", "raised", "outer brows"),)),
    Cue("brows_down", 0, (4,), (("lower", "{pos} brows"), ("furrow", "{pos} brow"), ("knit", "{pos} brows"),
                                ("draw", "{pos} brows down and together")),
        (("", "lowered", "brows"), ("a", "furrowed", "brow"), ("", "knitted", "brows"))),
    Cue("eyes_tense_wide", 1, (5, 7),
        (("stare", "with tense, wide-open eyes"), ("open", "{pos} eyes wide with tense lids")),
        (("", "wide but tense", "eyes"),), graded=False),
    Cue("eyes_wide", 1, (5,), (("widen", "{pos} eyes"), ("open", "{pos} eyes wide"), ("raise", "{pos} upper eyelids")),
        (("", "widened", "eyes"), ("", "raised", "upper lids"))),
    Cue("eyes_narrow", 1, (7,), (("narrow", "{pos} eyes"), ("tighten", "{pos} eyelids"), ("squint", "")),
        (("", "narrowed", "eyes"), ("", "tightened", "eyelids"), ("", "squinting", "eyes"))),
    Cue("cheeks_up", 2, (6,), (("raise", "{pos} cheeks"), ("lift", "{pos} cheeks"), ("crinkle", "{pos} eyes")),
        (("", "raised", "cheeks"), ("", "lifted", "cheeks"), ("", "crinkled", "eyes"))),
    Cue("nose", 3, (9,), (("wrinkle", "{pos} nose"), ("scrunch", "up {pos} nose")),
        (("a", "wrinkled", "nose"), ("a", "scrunched-up", "nose"))),
    Cue("upper_lip", 4, (10,), (("raise", "{pos} upper lip"), ("curl", "{pos} upper lip")),
        (("a", "raised", "upper lip"), ("a", "curled", "upper lip"))),
    Cue("smirk", 4, (12,), (("smirk", ""), ("pull", "up one corner of {pos} mouth"),
                            ("raise", "one side of {pos} mouth")),
        (("a", "lifted", "mouth corner"), ("a", "raised", "lip corner")), True),
    Cue("smirk_tight", 4, (14,), (("tighten", "one corner of {pos} mouth"), ("dimple", "one cheek")),
        (("a", "tightened", "mouth corner"), ("a", "pressed-in", "mouth corner")), True),
    Cue("smile", 4, (12,), (("smile", ""), ("pull", "up the corners of {pos} mouth"), ("curve", "{pos} lips upward")),
        (("a", "smiling", "mouth"), ("", "upturned", "lip corners"), ("", "raised", "mouth corners")), False),
    Cue("dimple", 4, (14,), (("tighten", "the corners of {pos} mouth"), ("press", "in the corners of {pos} lips")),
        (("", "tightened", "mouth corners"), ("", "dimpled", "lip corners")), False),
    Cue("mouth_down", 4, (15,), (("turn", "down the corners of {pos} mouth"), ("pull", "{pos} lip corners down")),
        (("a", "downturned", "mouth"), ("", "drooping", "mouth corners"), ("", "downturned", "lips"))),
    Cue("chin", 4, (17,), (("push", "up {pos} chin"), ("tense", "{pos} chin")),
        (("a", "tensed", "chin"), ("a", "pushed-up", "lower lip"))),
    Cue("lips_stretched", 4, (20,), (("stretch", "{pos} lips sideways"), ("pull", "the corners of {pos} mouth back")),
        (("", "stretched", "lips"), ("", "pulled-back", "mouth corners"))),
    Cue("lips_tight", 4, (23,), (("tighten", "{pos} lips"), ("press", "{pos} lips thin")),
        (("", "tightened", "lips"), ("", "pressed", "lips"))),
    Cue("jaw_drop", 5, (26,), (("drop", "{pos} jaw"), ("open", "{pos} mouth"), ("let", "{pos} jaw fall open")),
        (("a", "dropped", "jaw"), ("an", "open", "mouth"), ("a", "lowered", "jaw")),
        adverbs={1: ("slightly",), 2: ("", "visibly"), 3: ("fully",)}),
)
"""Combinations first: a cue is taken when its AUs are active and not yet described."""

NEUTRAL_CUES = (
    Cue("neutral_brows", 0, (), (("keep", "{pos} brows relaxed"),), (("", "relaxed", "brows"),), graded=False),
    Cue("neutral_forehead", 0, (), (("hold", "{pos} forehead smooth"),), (("a", "smooth", "forehead"),), graded=False),
    Cue("neutral_gaze", 1, (), (("look", "ahead steadily"),), (("a", "steady", "gaze"),), graded=False),
    Cue("neutral_mouth", 4, (), (("move", "{pos} lips only to speak"),), (("a", "soft", "mouth"),), graded=False),
    Cue("neutral_features", 5, (), (("show", "no smile or frown"),), (("", "still", "features"),), graded=False),
)

CONFLICTS = {
    "angry": {1, 2, 6, 12, 15}, "contempt": {1, 4, 15}, "disgusted": {1, 2, 5, 12}, "fear": {6, 9, 12},
    "happy": {4, 9, 15, 17, 20}, "sad": {2, 5, 12, 26}, "surprised": {4, 7, 9, 15},
}  # fmt: skip
"""Action units a sentence about the emotion leaves out even when measured: they would read
as a contradiction ("smiling sadly") and are, in these clips, side effects of other movements
(the lid tightening of anger and fear also reads as some AU6, "raised cheeks")."""


def select_cues(emotion: str, levels: dict[int, int], one_sided_corners: bool) -> list[tuple[Cue, int]]:
    """The cues that describe the active AUs (``au -> level 1-3``), each with its level (the
    strongest of its AUs), top of the face first. Neutral clips get the relaxed-face cues."""
    if emotion == "neutral":
        return [(cue, 2) for cue in NEUTRAL_CUES]
    remaining = {au: level for au, level in levels.items() if au not in CONFLICTS.get(emotion, ())}
    chosen = []
    for cue in CUES:
        if cue.one_sided is not None and cue.one_sided != one_sided_corners:
            continue
        if cue.aus and all(au in remaining for au in cue.aus):
            chosen.append((cue, max(remaining.pop(au) for au in cue.aus)))
    return sorted(chosen, key=lambda item: item[0].region)


# -- words ---------------------------------------------------------------------------------

SUBJECTS = (("He", "his", "His"), ("She", "her", "Her"), ("The speaker", "their", "The speaker's"),
            ("A person", "their", "A person's"), ("The man", "his", "The man's"), ("The woman", "her", "The woman's"),
            ("This person", "their", "This person's"))  # fmt: skip
"""(subject, possessive pronoun, possessive of the subject)."""

_DOUBLED = {"drop", "knit", "let", "sag"}


def third_person(verb: str) -> str:
    return verb + ("es" if verb.endswith(("s", "sh", "ch", "x", "z")) else "s")


def present_participle(verb: str) -> str:
    if verb in _DOUBLED:
        return verb + verb[-1] + "ing"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


def with_article(phrase: str) -> str:
    """``"a"`` or ``"an"`` before the phrase, by its first letter's sound (vowel letters)."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def join_list(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _adverb(adverb: str) -> str:
    return adverb + " " if adverb else ""


def verb_phrase(verb: tuple[str, str], adverb: str, pos: str, participle: bool = False) -> str:
    """"slightly lowers his brows" (or "slightly lowering his brows")."""
    word, rest = verb
    inflected = present_participle(word) if participle else third_person(word)
    return " ".join(filter(None, (_adverb(adverb) + inflected, rest.format(pos=pos))))


def state_noun(state: tuple[str, str, str], adverb: str) -> str:
    """"a slightly wrinkled nose", "lowered brows"."""
    article, participle, noun = state
    phrase = f"{_adverb(adverb)}{participle} {noun}"
    return with_article(phrase) if article else phrase


def state_clause(state: tuple[str, str, str], adverb: str, pos: str) -> str:
    """"his nose slightly wrinkled" (after "with"); "knitted, upturned" reads "knitted and
    upturned" there, "scrunched-up" reads "scrunched up"."""
    _, participle, noun = state
    participle = re.sub(r"-(up|back|in)\b", r" \1", participle.replace(", ", " and "))
    return f"{pos} {noun} {_adverb(adverb)}{participle}"


# -- sentences -----------------------------------------------------------------------------

WHOLE_FACE = (
    "{S} looks {A}.", "{S} seems {A} while talking.", "{S} is {P}.", "{S} speaks {M}.", "{S} talks {M}.",
    "{aA} face.", "{aA} talking face.", "{S} speaks with {aA} expression.", "{Poss} face shows {N}.",
    "{S} talks with a look of {N} on {pos} face.", "{S} is speaking and looks {A}.", "{aA} expression while speaking.",
    "{S} delivers the line {M}.", "{S} appears {A} as {s} speaks.",
)  # fmt: skip
DETAIL = (
    "{S} looks {A}, {I}.", "{S} is {P} and {V}.", "{aA} face with {G}.", "{S} speaks with {G}, looking {A}.",
    "With {W}, {s} looks {A}.", "{S} {V}, looking {A}.", "{Poss} {A} expression shows {G}.", "{S} talks {M}, {I}.",
    "{S} talks {M}, with {W}.", "{S} {V} while speaking {M}.", "{N_} shows on {poss} face: {G}.", "{S} looks {A}: {G}.",
    "{S} speaks {M} and {V}.", "{aA} speaker with {G}.",
)  # fmt: skip
"""Slots: S subject, s subject mid-sentence, pos/Poss/poss possessives, A adjective, aA with
article, P predicate, N noun (N_ capitalised), M manner; V verb phrases, I -ing phrases, W
"with" clauses, G noun phrases (the cues)."""

MAX_WORDS = 30  # CLIP's text tower reads 77 tokens
_FUNCTION_WORDS = frozenset("a an and the his her their he she with of to is as on in while up one".split())


def _stem(word: str) -> str:
    """Crude suffix stripping, enough to see "looks" and "looking" as one word."""
    for suffix in ("less", "ing", "ed", "es", "ly", "er", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def reads_well(sentence: str) -> bool:
    """No content word twice ("lowers his brows and knits his brows", "looks calm, looking
    ahead"), no "and ... and" without a comma between, and not too long."""
    words = re.findall(r"[a-z'-]+", sentence.lower())
    content = [_stem(w) for w in words if w not in _FUNCTION_WORDS]
    return (len(words) <= MAX_WORDS and len(content) == len(set(content))
            and not re.search(r"\band\b[^,]*\band\b", sentence))


def mentions_emotion(sentence: str, emotion: str) -> bool:
    """Whether the sentence names the emotion with one of its keywords."""
    return bool(set(re.findall(r"[a-z'-]+", sentence.lower())) & EMOTION_WORDS[emotion].keywords)


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:]


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _cue_slots(cues: list[tuple[Cue, int]], pos: str, rng: np.random.Generator) -> dict[str, str]:
    """The four list slots for one random choice of 1-3 cues, their words and adverbs."""
    count = int(rng.integers(1, min(3, len(cues)) + 1))
    picked = sorted(rng.choice(len(cues), count, replace=False).tolist())
    if rng.random() < 0.3:
        rng.shuffle(picked)
    verbs, ings, withs, nouns = [], [], [], []
    for index in picked:
        cue, level = cues[index]
        adverb = _pick(rng, (cue.adverbs or LEVEL_ADVERBS)[level]) if cue.graded else ""
        verb, state = _pick(rng, cue.verbs), _pick(rng, cue.states)
        verbs.append(verb_phrase(verb, adverb, pos))
        ings.append(verb_phrase(verb, adverb, pos, participle=True))
        withs.append(state_clause(state, adverb, pos))
        nouns.append(state_noun(state, adverb))
    return {"V": join_list(verbs), "I": join_list(ings), "W": join_list(withs), "G": join_list(nouns)}


def _sentence(emotion: str, level: int, cues: list[tuple[Cue, int]], rng: np.random.Generator) -> str:
    words = EMOTION_WORDS[emotion]
    subject, pos, poss = _pick(rng, SUBJECTS)
    adjective = _pick(rng, words.adjectives[level])
    noun = _pick(rng, words.nouns[level])
    predicate = _pick(rng, words.adjectives[level] + words.predicates[level])
    slots = {"S": subject, "s": _lower_first(subject), "pos": pos, "Poss": poss, "poss": _lower_first(poss),
             "A": adjective, "aA": with_article(adjective), "P": predicate, "N": noun, "N_": noun[0].upper() + noun[1:],
             "M": _pick(rng, words.manners[level])}  # fmt: skip
    detailed = cues and rng.random() < 0.75
    if detailed:
        slots |= _cue_slots(cues, pos, rng)
    text = _pick(rng, DETAIL if detailed else WHOLE_FACE).format(**slots)
    return text[0].upper() + text[1:]


def candidate_sentences(emotion: str, level: int, cues: list[tuple[Cue, int]], rng: np.random.Generator,
                        count: int = 48) -> list[str]:  # fmt: skip
    """Up to ``count`` distinct sentences describing the emotion at ``level`` (1-3) with the
    given cues (from :func:`select_cues`), drawn with ``rng``; each names the emotion."""
    if emotion not in EMOTION_WORDS:
        raise KeyError(f"unknown emotion {emotion!r}; known: {sorted(EMOTION_WORDS)}")
    if level not in (1, 2, 3):
        raise ValueError(f"level must be 1, 2 or 3, got {level!r}")
    sentences: dict[str, None] = {}
    for _ in range(count * 20):
        sentence = _sentence(emotion, level, cues, rng)
        if reads_well(sentence) and mentions_emotion(sentence, emotion):
            sentences[sentence] = None
            if len(sentences) == count:
                break
    return list(sentences)
