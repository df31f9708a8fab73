import numpy as np
import pytest

from s2t.data.phonemes import boundary_errors, normalize_phones, refine_closures, split_symbol
from s2t.data.tts import SAMPLE_RATE, Phone, VoiceSpec, synthesize

SENTENCES = ["The birch canoe slid on the smooth planks.", "Press the pants and sew a button on the vest."]


def test_split_symbol_handles_engine_notation():
    assert split_symbol("ˈaɪ") == ["a", "ɪ"]
    assert split_symbol("ɑːɹ") == ["ɑ", "ɹ"]
    assert split_symbol("tʃ") == ["tʃ"]
    assert split_symbol("t̪") == ["t"]
    assert split_symbol("ʲ") == []


def test_normalize_keeps_the_time_line():
    phones = (Phone("", 0.0, 0.1), Phone("aɪ", 0.1, 0.4), Phone("ʲ", 0.4, 0.45), Phone("ɑːɹ", 0.45, 0.75))
    out = normalize_phones(phones)
    assert [p.symbol for p in out] == ["", "a", "ɪ", "ɑ", "ɹ"]
    assert out[0].start == 0.0 and out[-1].end == 0.75
    assert all(a.end == b.start for a, b in zip(out, out[1:]))
    assert out[3].duration == pytest.approx(0.2)  # a vowel part gets twice a consonant's share


@pytest.mark.parametrize("engine, voice", [("espeak-ng", "en-us+m3"), ("espeak-ng", "en-gb-x-rp+f2"), ("flite", "slt")])
def test_phone_timings_line_up_with_energy_edges(engine, voice, engine_or_skip):
    """Vowel <-> voiceless-consonant boundaries sit on the audio's voicing-energy edges; the
    same timings shifted by 40 ms do not (so the check can tell)."""
    engine_or_skip(engine)
    errors, shifted = [], []
    for text in SENTENCES:
        utterance = synthesize(text, VoiceSpec(engine, voice))
        phones = refine_closures(utterance.audio, SAMPLE_RATE, normalize_phones(utterance.phones))
        errors.append(boundary_errors(utterance.audio, SAMPLE_RATE, phones))
        shifted.append(boundary_errors(utterance.audio, SAMPLE_RATE, phones, shift=0.04))
    errors, shifted = np.concatenate(errors), np.concatenate(shifted)
    assert len(errors) >= 8
    assert np.median(errors) < 0.015 and np.mean(errors < 0.025) > 0.75
    assert np.median(shifted) > 0.025


def test_closure_refinement_moves_espeak_stops_onto_the_silence(espeak):
    """espeak marks voiceless stops at the burst; refined, the stop starts where the audio goes quiet."""
    utterance = synthesize("Keep the cup at the top.", VoiceSpec("espeak-ng", "en-us"))
    raw = normalize_phones(utterance.phones)
    refined = refine_closures(utterance.audio, SAMPLE_RATE, raw)
    moved = [(a, b) for a, b in zip(raw, refined) if b.symbol in ("p", "t", "k") and b.start < a.start - 0.01]
    assert moved, "no stop was moved"
    for _, stop in moved:
        start = int(stop.start * SAMPLE_RATE)
        closure = utterance.audio[start + 80 : start + 400]  # 5-25 ms into the refined stop
        before = utterance.audio[start - 800 : start - 160]  # the preceding sound
        assert np.sqrt(np.mean(closure**2)) < 0.3 * np.sqrt(np.mean(before**2))
    assert refined[-1].end == raw[-1].end and len(refined) == len(raw)


def test_other_languages_phones_map_by_place_of_articulation():
    assert split_symbol("ʁ") == ["x"] and split_symbol("β") == ["b"] and split_symbol("ɕ") == ["ʃ"]
    assert split_symbol("ʎ") == ["l"] and split_symbol("tɕ") == ["tʃ"] and split_symbol("nʲ") == ["n"]


@pytest.mark.parametrize("language", ["de", "es", "fr", "it", "pl", "cmn"])
def test_multilingual_sentences_give_known_phones_only(language, espeak):
    from s2t.data.phonemes import CONSONANTS, PAUSE, VOWELS
    from s2t.data.sentences import load_multilingual

    sentences = load_multilingual()[language]
    assert len(sentences) == 6
    utterance = synthesize(sentences[0].text, VoiceSpec("espeak-ng", language))
    phones = normalize_phones(utterance.phones)
    symbols = {p.symbol for p in phones} - {PAUSE}
    assert len(symbols) >= 8 and symbols <= VOWELS | CONSONANTS  # nothing dropped for want of a mapping
    assert sum(p.symbol in VOWELS for p in phones) >= 5
