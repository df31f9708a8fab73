"""Phones -> mouth and jaw blendshape curves, with coarticulation.

Each phone sets targets for ten articulatory parameters (jaw opening, lip rounding, lip
closure, ...) and says how strongly it holds each one (its *dominance*). The curves follow
Cohen & Massaro's dominance model (1993): at every frame a parameter is the
dominance-weighted mean of the targets of all phones, where a phone's dominance decays
exponentially with the time from its core, faster after it (carry-over) than before it
(anticipation). So /p/ closes the lips even when short (closure dominance is high) while the
lip rounding of a following /u/ already shows during /s p/ ("spoon"), and nothing steps.
The parameters then map onto the rig's ARKit channels (:func:`articulation_to_blendshapes`).
Every output lies in [0, 1]: means of targets in [0, 1], scaled by gains and clipped.
"""

from __future__ import annotations

import numpy as np

from s2t.data.phonemes import PAUSE, is_vowel
from s2t.data.tts import Phone

PARAMS = ("jaw", "round", "protrude", "spread", "close", "press", "tuck", "upper", "lower", "tongue")
_P = {name: i for i, name in enumerate(PARAMS)}

# Seconds: how fast a phone's dominance decays before (anticipation) and after (carry-over)
# its core. Lip rounding is anticipated longest (Benguerel & Cowan 1974); closure is local.
_ANTICIPATION = np.array([0.060, 0.120, 0.120, 0.070, 0.025, 0.030, 0.035, 0.050, 0.050, 0.040])
_CARRYOVER = np.array([0.050, 0.080, 0.080, 0.050, 0.020, 0.025, 0.030, 0.040, 0.040, 0.035])


def _phone(dominance: dict[str, float], default: float, **targets: float) -> tuple[np.ndarray, np.ndarray]:
    target = np.zeros(len(PARAMS))
    weight = np.full(len(PARAMS), default)
    for name, value in targets.items():
        target[_P[name]] = value
    for name, value in dominance.items():
        weight[_P[name]] = value
    return target, weight


def _vowel(jaw: float, rounded: bool = False, **targets: float) -> tuple[np.ndarray, np.ndarray]:
    """Vowels own the jaw and the lip shape; lips are open (closure and press held at 0)."""
    lips = 2.0 if rounded else 1.2
    return _phone({"jaw": 2.0, "round": lips, "protrude": lips, "spread": 1.2, "close": 1.0, "press": 1.0}, 0.6, jaw=jaw, **targets)


def _consonant(dominance: dict[str, float], **targets: float) -> tuple[np.ndarray, np.ndarray]:
    """Consonants hold only what they articulate; the rest comes from the neighbouring vowels."""
    return _phone(dominance, 0.08, **targets)


PHONE_TARGETS: dict[str, tuple[np.ndarray, np.ndarray]] = {
    # vowels: jaw opening from open (ɑ) to close (i, u); spread for front, round/protrude for back
    "i": _vowel(0.11, spread=0.50, lower=0.10, upper=0.08),
    "ɪ": _vowel(0.18, spread=0.38, lower=0.12),
    "e": _vowel(0.28, spread=0.38, lower=0.18),
    "ɛ": _vowel(0.37, spread=0.30, lower=0.22),
    "æ": _vowel(0.51, spread=0.36, lower=0.32, upper=0.10),
    "a": _vowel(0.57, spread=0.15, lower=0.30),
    "ɑ": _vowel(0.63, lower=0.28),
    "ɒ": _vowel(0.55, True, round=0.25, lower=0.20),
    "ʌ": _vowel(0.46, lower=0.20),
    "ɐ": _vowel(0.39, lower=0.16),
    "ə": _vowel(0.28, lower=0.10),
    "ɚ": _vowel(0.25, True, round=0.28, protrude=0.12),
    "ɜ": _vowel(0.30, True, round=0.22, protrude=0.08),
    "ɔ": _vowel(0.48, True, round=0.50, protrude=0.22),
    "o": _vowel(0.34, True, round=0.58, protrude=0.32),
    "ʊ": _vowel(0.21, True, round=0.42, protrude=0.45),
    "u": _vowel(0.14, True, round=0.35, protrude=0.72),
    # bilabials: lips sealed (close cancels the jaw's parting, see articulation_to_blendshapes)
    "p": _consonant({"close": 12.0, "press": 4.0, "jaw": 1.2}, close=1.0, press=0.35, jaw=0.04),
    "b": _consonant({"close": 12.0, "press": 4.0, "jaw": 1.2}, close=1.0, press=0.25, jaw=0.05),
    "m": _consonant({"close": 12.0, "press": 4.0, "jaw": 1.2}, close=1.0, press=0.15, jaw=0.04),
    # labiodentals: lower lip tucked under the upper teeth
    "f": _consonant({"tuck": 12.0, "upper": 3.0, "jaw": 1.0, "close": 3.0}, tuck=0.60, upper=0.22, jaw=0.07),
    "v": _consonant({"tuck": 12.0, "upper": 3.0, "jaw": 1.0, "close": 3.0}, tuck=0.55, upper=0.20, jaw=0.08),
    # dentals: tongue tip between the teeth
    "θ": _consonant({"tongue": 8.0, "jaw": 1.5}, tongue=0.35, jaw=0.12),
    "ð": _consonant({"tongue": 5.0, "jaw": 1.0}, tongue=0.25, jaw=0.12),
    # alveolars and velars: jaw fairly closed, lips free
    "t": _consonant({"jaw": 1.2}, jaw=0.10, lower=0.06),
    "d": _consonant({"jaw": 1.0}, jaw=0.12, lower=0.06),
    "n": _consonant({"jaw": 1.0}, jaw=0.12, lower=0.05),
    "ɾ": _consonant({"jaw": 0.6}, jaw=0.16),
    "l": _consonant({"jaw": 0.8, "tongue": 1.0}, jaw=0.18, tongue=0.05),
    "s": _consonant({"jaw": 2.5, "spread": 0.8, "upper": 1.0, "lower": 1.0}, jaw=0.05, spread=0.25, upper=0.12, lower=0.12),
    "z": _consonant({"jaw": 2.5, "spread": 0.8, "upper": 1.0, "lower": 1.0}, jaw=0.05, spread=0.22, upper=0.10, lower=0.10),
    "k": _consonant({"jaw": 0.6}, jaw=0.16),
    "ɡ": _consonant({"jaw": 0.6}, jaw=0.17),
    "ŋ": _consonant({"jaw": 0.6}, jaw=0.15),
    "x": _consonant({"jaw": 0.5}, jaw=0.16),
    "ʔ": _consonant({"jaw": 0.3}, jaw=0.15),
    "h": _consonant({"jaw": 0.2}, jaw=0.20),
    # postalveolars: lips funnelled and pushed forward
    "ʃ": _consonant({"jaw": 2.0, "round": 3.0, "protrude": 3.0, "upper": 1.0}, jaw=0.08, round=0.45, protrude=0.35, upper=0.15),
    "ʒ": _consonant({"jaw": 2.0, "round": 3.0, "protrude": 3.0, "upper": 1.0}, jaw=0.08, round=0.42, protrude=0.32, upper=0.14),
    "tʃ": _consonant({"jaw": 2.0, "round": 3.0, "protrude": 3.0, "upper": 1.0}, jaw=0.08, round=0.45, protrude=0.35, upper=0.15),
    "dʒ": _consonant({"jaw": 2.0, "round": 3.0, "protrude": 3.0, "upper": 1.0}, jaw=0.09, round=0.42, protrude=0.32, upper=0.14),
    # approximants
    "ɹ": _consonant({"round": 2.0, "protrude": 2.0, "jaw": 0.8}, round=0.35, protrude=0.25, jaw=0.12),
    "w": _consonant({"protrude": 6.0, "round": 4.0, "jaw": 2.0}, protrude=0.78, round=0.30, jaw=0.06),
    "j": _consonant({"spread": 1.5, "jaw": 1.0}, spread=0.30, jaw=0.10),
}
_REST = np.zeros(len(PARAMS))


def _pause_dominance(duration: float) -> np.ndarray:
    """A pause pulls every parameter to rest, the more the longer it is: a 60 ms gap inside a
    phrase barely moves the mouth, a half-second pause lets it close."""
    return np.full(len(PARAMS), 3.0 * min(1.0, duration / 0.3) ** 2 + 0.02)


def articulation_curves(phones: tuple[Phone, ...], num_frames: int, fps: float, loudness: np.ndarray | None = None) -> np.ndarray:
    """``(num_frames, len(PARAMS))`` articulatory parameters at frame times ``t / fps``.

    ``loudness`` (one factor a phone, e.g. from the audio's energy) scales each vowel's jaw,
    lower-lip and spread targets, so stressed, louder syllables open wider. Outside the
    phones (before the first, after the last) the mouth rests.
    """
    times = np.arange(num_frames) / fps
    numerator = np.zeros((num_frames, len(PARAMS)))
    denominator = np.zeros((num_frames, len(PARAMS)))
    edges = [(-10.0, phones[0].start if phones else 0.0), (phones[-1].end if phones else 0.0, 1e9)]
    segments = [(PAUSE, a, b) for a, b in edges] + [(p.symbol, p.start, p.end) for p in phones]
    scales = [1.0, 1.0] + (list(loudness) if loudness is not None else [1.0] * len(phones))
    for (symbol, start, end), scale in zip(segments, scales):
        if symbol == PAUSE:
            target, weight = _REST, _pause_dominance(end - start)
        else:
            target, weight = PHONE_TARGETS.get(symbol, PHONE_TARGETS["h"])
            if is_vowel(symbol):
                target = target.copy()
                target[[_P["jaw"], _P["lower"], _P["spread"]]] *= scale
        margin = 0.2 * (end - start)
        core_start, core_end = start + margin, end - margin
        before = np.clip(core_start - times, 0.0, None)[:, None]
        after = np.clip(times - core_end, 0.0, None)[:, None]
        dominance = weight * np.exp(-before / _ANTICIPATION - after / _CARRYOVER)
        numerator += dominance * target
        denominator += dominance
    params = np.clip(numerator / np.maximum(denominator, 1e-12), 0.0, 1.0)
    # Lips are sealed or apart: closure saturates (smoothly) instead of hovering half-shut.
    close = np.clip((params[:, _P["close"]] - 0.15) / 0.6, 0.0, 1.0)
    params[:, _P["close"]] = close * close * (3 - 2 * close)
    return params


def articulation_to_blendshapes(params: np.ndarray, names: tuple[str, ...], gain: float = 1.0, asymmetry: float = 0.0,
                                jaw_bias: np.ndarray | float = 0.0) -> np.ndarray:  # fmt: skip
    """ARKit weights ``(T, K)`` from articulatory parameters ``(T, len(PARAMS))``.

    ``gain`` is how much this speaker moves the mouth (1 = typical); ``asymmetry`` (about
    +-0.05) makes the subject's left side move a little more (+) or less (-) than the right;
    ``jaw_bias`` is an opening held under the speech (an emotion's jaw drop), per frame or
    constant. ``mouthClose`` is ARKit's "lips together while the jaw is open": closure times
    jawOpen, so sealed lips stay sealed however far the jaw is open; lip-parting shapes
    give way to the seal.
    """
    p = {name: params[:, i] for i, name in enumerate(PARAMS)}
    speech_jaw = np.clip(gain * p["jaw"], 0.0, 1.0)
    jaw = speech_jaw + np.asarray(jaw_bias) * (1.0 - speech_jaw)
    apart = 1.0 - p["close"]
    sides = {"Left": 1.0 + asymmetry, "Right": 1.0 - asymmetry}
    out = np.zeros((len(params), len(names)), np.float32)
    index = {n: k for k, n in enumerate(names)}

    def put(name: str, value: np.ndarray) -> None:
        out[:, index[name]] = np.clip(value, 0.0, 1.0)

    put("jawOpen", jaw)
    put("mouthClose", p["close"] * jaw)
    put("mouthFunnel", gain * p["round"] * (1.0 - 0.5 * p["close"]))
    put("mouthPucker", gain * p["protrude"])
    put("mouthRollLower", p["tuck"] + 0.15 * p["close"])
    put("mouthRollUpper", 0.12 * p["close"] + 0.1 * p["tuck"])
    put("mouthShrugLower", 0.35 * p["tuck"])
    put("tongueOut", p["tongue"])
    for side, factor in sides.items():
        put(f"mouthStretch{side}", gain * factor * p["spread"])
        put(f"mouthPress{side}", factor * p["press"])
        put(f"mouthUpperUp{side}", gain * factor * p["upper"] * apart)
        put(f"mouthLowerDown{side}", gain * factor * p["lower"] * apart)
    return out


def vowel_loudness(audio: np.ndarray, sr: int, phones: tuple[Phone, ...]) -> np.ndarray:
    """One factor a phone from the audio: a vowel 6 dB louder than the utterance's median vowel
    opens about 15% wider (0.8-1.2); consonants and pauses get 1."""
    levels = np.full(len(phones), np.nan)
    for i, phone in enumerate(phones):
        if is_vowel(phone.symbol):
            segment = audio[int(phone.start * sr) : max(int(phone.end * sr), int(phone.start * sr) + 1)]
            levels[i] = 10 * np.log10(np.mean(segment.astype(np.float64) ** 2) + 1e-10)
    if np.all(np.isnan(levels)):
        return np.ones(len(phones))
    factors = np.clip(1.0 + 0.025 * (levels - np.nanmedian(levels)), 0.8, 1.2)
    return np.where(np.isnan(factors), 1.0, factors)
