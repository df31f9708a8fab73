"""Phone symbols, phone classes, and the checks that tie phone timings to the audio.

Engines report phones in their own notation (espeak-ng: IPA with stress and length marks,
diphthongs and r-coloured vowels as one symbol; flite: ARPAbet, converted to IPA in
:mod:`s2t.data.tts`). :func:`normalize_phones` turns them into one small IPA inventory, one
articulation a phone: diphthongs become their two targets, ``ɑːɹ`` becomes ``ɑ`` + ``ɹ``.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from s2t.data.tts import Phone

VOWELS = frozenset("iɪeɛæaɑɒɔoʊuʌəɚɜɐ")
CONSONANTS = frozenset("pbtdkɡʔmnŋfvθðszʃʒhɹlwjɾx") | {"tʃ", "dʒ"}
STOPS = frozenset({"p", "b", "t", "d", "k", "ɡ", "tʃ", "dʒ"})
VOICELESS_OBSTRUENTS = frozenset({"p", "t", "k", "tʃ", "f", "θ", "s", "ʃ", "h", "x"})
PAUSE = ""

_DIPHTHONGS = {"aɪ": "aɪ", "aʊ": "aʊ", "ɔɪ": "ɔɪ", "eɪ": "eɪ", "oʊ": "oʊ", "əʊ": "əʊ", "ɪə": "ɪə", "eə": "eə", "ʊə": "ʊə"}
_AFFRICATES = ("tʃ", "dʒ")
_ALIASES = {"r": "ɹ", "g": "ɡ", "ɫ": "l", "ʍ": "w", "ɦ": "h", "ᵻ": "ɪ", "ɨ": "ɪ", "ɝ": "ɚ", "y": "i", "ɘ": "ə", "ɵ": "o",
            "ʉ": "u", "ɯ": "u", "ø": "e", "œ": "ɛ", "ɤ": "o", "ç": "h", "ɬ": "l", "ɻ": "ɹ", "ɲ": "n",
            # Other languages' phones by where they are made, which is what the face shows: the
            # uvular and velar r/fricatives of French and German (lips free) as x, Spanish β (lips
            # meeting) as b, palatals and retroflexes as their nearest English place.
            "ʁ": "x", "ʀ": "x", "χ": "x", "ɣ": "x", "β": "b", "ɸ": "f", "ʋ": "v", "ʎ": "l", "ɭ": "l", "ɳ": "n",
            "ɱ": "m", "ɕ": "ʃ", "ʂ": "ʃ", "ʑ": "ʒ", "ʐ": "ʒ", "ʝ": "j", "ɰ": "w", "c": "k", "ɟ": "d", "ħ": "h",
            "ʕ": "h"}  # fmt: skip
_MARKS = "ˈˌːˑ:\u0329\u0303\u032f\u032a\u02de\u02b2"  # stress, length, syllabic, nasal, non-syllabic, dental, rhotic hook, palatalised


def is_vowel(symbol: str) -> bool:
    return symbol in VOWELS


def split_symbol(symbol: str) -> list[str]:
    """The canonical phones inside one engine symbol (``"ˈaɪ"`` -> ``["a", "ɪ"]``)."""
    text = "".join(_ALIASES.get(c, c) for c in symbol if c not in _MARKS)
    parts, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _AFFRICATES:
            parts.append(pair)
            i += 2
        elif pair in _DIPHTHONGS:
            parts += list(pair)
            i += 2
        else:
            if text[i] in VOWELS or text[i] in CONSONANTS:
                parts.append(text[i])
            i += 1
    return parts


def normalize_phones(phones: tuple[Phone, ...] | list[Phone]) -> tuple[Phone, ...]:
    """Canonical phones: compound symbols split (vowel parts get twice a consonant's share of
    the time), unknown symbols dropped into their neighbours' time, pauses kept as ``""``."""
    out: list[Phone] = []
    for phone in phones:
        parts = [PAUSE] if phone.symbol == PAUSE else split_symbol(phone.symbol)
        if not parts:  # nothing we know (e.g. a lone glottal mark): give the time to the previous phone
            if out:
                out[-1] = Phone(out[-1].symbol, out[-1].start, phone.end)
            continue
        weights = np.array([2.0 if p in VOWELS else 1.0 for p in parts])
        edges = phone.start + phone.duration * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        out += [Phone(p, round(float(a), 5), round(float(b), 5)) for p, a, b in zip(parts, edges[:-1], edges[1:])]
    return tuple(out)


def band_energy_db(audio: np.ndarray, sr: int, band: tuple[float, float], hop: float = 0.0025, window: float = 0.015):
    """``(times, dB)``: short-time energy of ``audio`` in a frequency band, every ``hop`` seconds."""
    x = sosfiltfilt(butter(4, band, btype="band", fs=sr, output="sos"), audio)
    step, n = max(1, int(hop * sr)), int(window * sr)
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(x, (n // 2, n // 2)), n)[::step]
    return np.arange(len(frames)) * step / sr, 10 * np.log10((frames.astype(np.float64) ** 2).mean(1) + 1e-10)


def refine_closures(audio: np.ndarray, sr: int, phones: tuple[Phone, ...], search: float = 0.07) -> tuple[Phone, ...]:
    """Move the start of each stop that follows a voiced phone back to its closure in the audio.

    espeak-ng reports a voiceless stop at its burst, about 40 ms after the closure has
    silenced the preceding vowel; lips must close at the closure. The closure is where the
    300-4000 Hz energy falls halfway (in dB) from the preceding phone's level to the stop's
    quietest point, searched within ``search`` seconds before the reported start. Boundaries
    already at the closure (flite) stay where they are.
    """
    times, energy = band_energy_db(audio, sr, (300.0, 4000.0))
    out = list(phones)
    for i in range(1, len(out)):
        prev, stop = out[i - 1], out[i]
        if stop.symbol not in STOPS or prev.symbol in VOICELESS_OBSTRUENTS or prev.symbol == PAUSE:
            continue
        before = (times >= prev.start) & (times <= stop.start)
        window = (times >= max(stop.start - search, prev.start + 0.02)) & (times <= stop.start + 0.3 * stop.duration)
        if before.sum() < 4 or window.sum() < 4:
            continue
        level, quiet = np.percentile(energy[before], 90), energy[window].min()
        if level - quiet < 15.0:  # no clear closure in the audio
            continue
        below = np.nonzero(energy[window] < 0.5 * (level + quiet))[0]
        onset = float(times[window][below[0]])
        if onset < stop.start - 0.01:
            out[i - 1] = Phone(prev.symbol, prev.start, round(onset, 5))
            out[i] = Phone(stop.symbol, round(onset, 5), stop.end)
    return tuple(out)


def boundary_errors(audio: np.ndarray, sr: int, phones: tuple[Phone, ...], shift: float = 0.0, window: float = 0.06) -> np.ndarray:
    """How far (seconds) each vowel / voiceless-consonant-or-pause boundary lies from the audio's energy edge.

    At such a boundary the low-band (60-900 Hz, voicing) energy rises or falls by 10 dB or
    more. The edge is where it crosses halfway (in dB) between the medians of the two phones'
    interiors, nearest to the boundary within ``window``; a boundary with no crossing there
    counts as ``window``. ``shift`` moves every boundary, as a control: correct timings give
    small errors, shifted ones larger.
    """
    times, energy = band_energy_db(audio, sr, (60.0, 900.0))
    errors = []
    for a, b in zip(phones, phones[1:]):
        voiceless = {PAUSE} | VOICELESS_OBSTRUENTS
        if not ((a.symbol in voiceless and is_vowel(b.symbol)) or (is_vowel(a.symbol) and b.symbol in voiceless)):
            continue
        if min(a.duration, b.duration) < 0.04:
            continue
        level_a, level_b = (energy[(times > p.start + p.duration / 4) & (times < p.end - p.duration / 4)] for p in (a, b))
        if len(level_a) < 2 or len(level_b) < 2 or abs(np.median(level_a) - np.median(level_b)) < 10.0:
            continue
        boundary = a.end + shift
        near = (times > boundary - window) & (times < boundary + window)
        sign = np.sign(energy[near] - 0.5 * (np.median(level_a) + np.median(level_b)))
        crossings = times[near][:-1][np.diff(sign) != 0]
        errors.append(np.abs(crossings - boundary).min() if len(crossings) else window)
    return np.array(errors)
