import json

import numpy as np
import pytest

from s2t.data import CorpusIndex, build_synthetic_corpus
from s2t.data.augment import apply_augmentation, room_response, sample_augmentation
from s2t.data.corpus import read_wav
from s2t.data.sentences import load_sentences
from s2t.face.rig import RIG_ID
from s2t.face.rig.blendshapes import ARKIT_52

TINY = 5.0 / 3600  # hours: two clips


def test_sentences_are_many_and_distinct():
    sentences = load_sentences()
    assert len(sentences) == 720 + 1132
    assert len({s.text for s in sentences}) > 1800


def test_augmentation_keeps_length_timing_and_is_reproducible():
    rng = np.random.default_rng(0)
    audio = np.zeros(16000, np.float32)
    audio[4000:4400] = np.sin(np.arange(400) * 0.3)
    for _ in range(10):
        params = json.loads(json.dumps(sample_augmentation(rng)))  # survives the JSON round trip
        out = apply_augmentation(audio, 16000, params)
        assert out.shape == audio.shape and np.isfinite(out).all() and np.abs(out).max() <= 0.99
        assert np.array_equal(out, apply_augmentation(audio, 16000, params))
    rir = room_response(0.5, 5.0, 16000, seed=1)
    assert np.argmax(np.abs(rir)) == 0  # the direct path leads: no time shift


@pytest.mark.slow
def test_build_resume_extend_and_determinism(espeak, tmp_path):
    first = build_synthetic_corpus(tmp_path / "a", TINY, seed=7, workers=0, progress=False)
    assert first["clips"] >= 2 and first["seconds"] >= 5.0
    corpus = CorpusIndex(tmp_path / "a")
    assert len(corpus) == first["clips"] and corpus.manifest["model_id"] == RIG_ID
    clip = corpus.load(0)
    assert clip.sample_rate == 16000 and clip.coeffs.fps == 25 and clip.coeffs.channel_names == ARKIT_52
    assert clip.coeffs.num_frames == int(np.ceil(len(clip.audio) / 640))
    meta = clip.coeffs.metadata
    for key in ("voice", "engine", "rate", "pitch", "sentence", "emotion", "level", "identity", "augmentation", "seed", "phones"):
        assert key in meta, key
    assert len(meta["identity"]) == 16 and 1 <= meta["level"] <= 3
    assert clip.phones[-1][2] == pytest.approx(len(clip.audio) / 16000, abs=1e-3)
    assert 0 <= clip.coeffs.expression.min() and clip.coeffs.expression.max() <= 1

    again = build_synthetic_corpus(tmp_path / "a", TINY, seed=7, workers=0, progress=False)
    assert again["new_clips"] == 0  # resumed: nothing left to do

    parallel = build_synthetic_corpus(tmp_path / "b", TINY, seed=7, workers=2, progress=False)
    other = CorpusIndex(tmp_path / "b")
    assert parallel["clips"] == first["clips"]
    for a, b in zip(corpus, other):
        assert a.text == b.text and a.voice == b.voice and a.emotion == b.emotion
        ca, cb = corpus.load(a.index), other.load(b.index)
        assert np.array_equal(ca.coeffs.expression, cb.coeffs.expression) and np.array_equal(ca.coeffs.pose, cb.coeffs.pose)
        assert np.array_equal(ca.audio, cb.audio)

    extended = build_synthetic_corpus(tmp_path / "a", 2 * TINY, seed=7, workers=0, progress=False)
    assert extended["clips"] > first["clips"]
    assert np.array_equal(read_wav(CorpusIndex(tmp_path / "a")[0].audio_path)[0], clip.audio)

    with pytest.raises(ValueError, match="seed"):
        build_synthetic_corpus(tmp_path / "a", TINY, seed=8, workers=0, progress=False)
