import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from s2t.data import annotate, corpus
from s2t.data.annotate import (ReferenceRanker, annotate_clip, annotate_corpus, au_level, clip_frames, encode_images,
                               export_annotations, make_ranker, read_action_units, select_diverse)  # fmt: skip
from s2t.face.coeffs import CoeffSequence
from s2t.face.facs import AU_NAMES, aus_from_blendshapes, blendshapes_from_aus, emotion_blendshapes
from s2t.face.model import FaceModel
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.text.emotion_grammar import (CUES, EMOTION_WORDS, NEUTRAL_CUES, candidate_sentences, mentions_emotion,
                                     reads_well, select_cues)  # fmt: skip
from s2t.training.style_e_windows import read_annotations

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py

FPS = 25
INDEX = {name: k for k, name in enumerate(ARKIT_52)}


def speech_motion(num_frames: int, seed: int = 0) -> np.ndarray:
    """Talking with no emotion: syllables ~4 a second swing jaw and lips open and shut; two
    blinks and two brief emphatic brow raises."""
    rng = np.random.default_rng(seed)
    out = np.zeros((num_frames, len(ARKIT_52)), np.float32)

    def swing(period: float) -> np.ndarray:
        phase = np.cumsum(rng.uniform(0.7, 1.3, num_frames)) * 2 * np.pi / period + rng.uniform(0, 2 * np.pi)
        return 0.5 + 0.5 * np.sin(phase)

    out[:, INDEX["jawOpen"]] = 0.02 + 0.43 * swing(6)
    for side in ("Left", "Right"):
        out[:, INDEX[f"mouthStretch{side}"]] = 0.35 * swing(9)
        out[:, INDEX[f"mouthLowerDown{side}"]] = 0.22 * swing(6)
        out[:, INDEX[f"mouthUpperUp{side}"]] = 0.12 * swing(7)
        out[:, INDEX[f"mouthPress{side}"]] = 0.05 * swing(11)
    for name in ("mouthPucker", "mouthFunnel", "mouthRollLower", "mouthShrugLower", "mouthClose"):
        out[:, INDEX[name]] = 0.4 * np.clip(2 * swing(13) - 1, 0, 1)
    for start in (num_frames // 3, 2 * num_frames // 3):
        out[start : start + 4, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]] = 1.0
        out[start + 8 : start + 11, INDEX["browInnerUp"]] = 0.5
    return out


def talking(emotion: str, strength: float, num_frames: int = 100, seed: int = 0) -> np.ndarray:
    emotion_weights = emotion_blendshapes(emotion, strength, ARKIT_52)
    return np.clip(speech_motion(num_frames, seed) + emotion_weights[None], 0.0, 1.0)


# -- measuring action units ------------------------------------------------------------------


@pytest.mark.parametrize("intensity, level", [(0.6, 0), (1.4, 1), (2.3, 1), (3.0, 2), (3.8, 2), (4.3, 3), (5.0, 3)])
def test_a_held_au_reads_at_its_level(intensity, level):
    """Thresholds on OpenFace's scale: active from 1, clear from 2.5, intense from 4."""
    held = np.tile(blendshapes_from_aus({4: intensity, 12: intensity}, ARKIT_52), (50, 1))
    reading = read_action_units(held, ARKIT_52)
    assert reading.intensities[4] == pytest.approx(intensity, abs=0.01)
    assert reading.levels.get(4, 0) == level and reading.levels.get(12, 0) == level


def test_jaw_drop_needs_more_than_the_speech_floor():
    assert au_level(26, 1.8) == 0 and au_level(26, 2.2) == 1 and au_level(4, 1.8) == 1


@pytest.mark.parametrize("strength, expected", [(0.4, 1), (0.7, 2), (1.0, 3)])
def test_emotion_prototypes_read_at_the_level_they_were_made_with(strength, expected):
    """MEAD's three levels (40/70/100% of the EMFACS apex) give slight/clear/intense AUs."""
    sad = read_action_units(np.tile(emotion_blendshapes("sad", strength, ARKIT_52), (40, 1)), ARKIT_52)
    assert sad.levels[1] == expected and sad.levels[15] == expected
    surprised = read_action_units(np.tile(emotion_blendshapes("surprised", strength, ARKIT_52), (40, 1)), ARKIT_52)
    assert {1, 2, 5} <= set(surprised.levels) and surprised.levels[2] == expected


def test_speech_alone_activates_no_emotion_au():
    speech = speech_motion(150)
    raw_peaks = np.percentile(aus_from_blendshapes(speech, ARKIT_52), 75, axis=0)
    assert raw_peaks.max() > 2.5  # speech does reach emotion-like AU values at its peaks...
    assert read_action_units(speech, ARKIT_52).levels == {}  # ...but is not read as emotion


def test_emotion_shows_through_speech():
    angry = read_action_units(talking("angry", 0.7), ARKIT_52)
    assert {4, 7, 23} <= set(angry.levels) and not {20, 26} & set(angry.levels)
    surprised = read_action_units(talking("surprised", 1.0), ARKIT_52)
    assert surprised.levels[26] == 3 and surprised.levels[1] == 3


def test_one_sided_lip_corners_read_as_a_smirk():
    contempt = read_action_units(talking("contempt", 1.0), ARKIT_52)
    happy = read_action_units(talking("happy", 1.0), ARKIT_52)
    assert contempt.one_sided_corners and not happy.one_sided_corners
    assert 14 in contempt.levels
    keys = {cue.key for cue, _ in select_cues("contempt", contempt.levels, contempt.one_sided_corners)}
    assert "smirk" in keys and "smile" not in keys


def test_channels_without_arkit_names_are_refused():
    with pytest.raises(ValueError, match="ARKit"):
        read_action_units(np.zeros((5, 3)), ("a", "b", "c"))


# -- sentences -------------------------------------------------------------------------------


def _cues(emotion: str, strength: float = 1.0):
    reading = read_action_units(talking(emotion, strength), ARKIT_52)
    return select_cues(emotion, reading.levels, reading.one_sided_corners)


def test_every_emotion_phrase_names_its_emotion_and_no_other():
    for emotion, words in EMOTION_WORDS.items():
        others = set().union(*(w.keywords for e, w in EMOTION_WORDS.items() if e != emotion))
        for table in (words.adjectives, words.predicates, words.nouns, words.manners):
            for phrase in (p for level in (1, 2, 3) for p in table[level]):
                assert mentions_emotion(phrase, emotion), (emotion, phrase)
                assert not set(re.findall(r"[a-z'-]+", phrase)) & (others - words.keywords), (emotion, phrase)


@pytest.mark.parametrize("emotion", sorted(EMOTION_WORDS))
def test_generator_is_deterministic_varied_and_readable(emotion):
    cues = _cues(emotion)
    first = candidate_sentences(emotion, 3, cues, np.random.default_rng(7))
    assert first == candidate_sentences(emotion, 3, cues, np.random.default_rng(7))
    assert first != candidate_sentences(emotion, 3, cues, np.random.default_rng(8))
    assert len(set(first)) == 48
    assert all(mentions_emotion(s, emotion) and reads_well(s) and s[0].isupper() and s.endswith(".") for s in first)
    jargon = [name for name in AU_NAMES.values()] + ["action unit", "AU"]
    assert not any(re.search(rf"\b{re.escape(j)}\b", s) for s in first for j in jargon)
    assert any(len(s.split()) <= 6 for s in first) and any(len(s.split()) >= 14 for s in first)


def test_detail_sentences_describe_the_measured_movements():
    sentences = candidate_sentences("surprised", 3, _cues("surprised"), np.random.default_rng(0))
    assert any("brows" in s for s in sentences) and any("jaw" in s or "mouth" in s for s in sentences)
    assert not any("smil" in s or "frown" in s for s in sentences)


def test_contradicting_movements_are_left_out():
    """A smile measured on a sad clip is not described ("smiling sadly")."""
    levels = {1: 3, 4: 2, 15: 3, 12: 2}
    assert "smile" not in {cue.key for cue, _ in select_cues("sad", levels, False)}
    assert [cue for cue, _ in select_cues("neutral", levels, False)] == list(NEUTRAL_CUES)


def test_combined_cues_take_precedence_over_their_parts():
    keys = [cue.key for cue, _ in select_cues("fear", {1: 2, 2: 2, 4: 2, 5: 2, 7: 1}, False)]
    assert keys == ["brows_fear", "eyes_tense_wide"]
    assert {c.key for c in CUES} >= set(keys)


def test_verbs_inflect():
    from s2t.text.emotion_grammar import present_participle, third_person, with_article

    assert [third_person(v) for v in ("raise", "press", "arch")] == ["raises", "presses", "arches"]
    assert [present_participle(v) for v in ("raise", "drop", "lower")] == ["raising", "dropping", "lowering"]
    assert with_article("intensely wrinkled nose") == "an intensely wrinkled nose"


# -- ranking ---------------------------------------------------------------------------------


def test_diverse_selection_skips_near_paraphrases():
    embeddings = np.array([[1.0, 0.0, 0.0], [0.999, 0.045, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]], np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    scores = np.array([0.9, 0.89, 0.7, 0.1])
    assert select_diverse(scores, embeddings, 2) == [0, 2]
    assert sorted(select_diverse(scores, embeddings, 4)) == [0, 1, 2, 3]  # all when all are needed


@pytest.fixture(scope="module")
def minilm():
    from s2t.text import load_text_encoder

    try:
        return load_text_encoder("minilm")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


MATCHING_AND_NOT = {  # emotion -> (describes the clip, describes other movements or another emotion)
    "angry": [("She looks angry, lowering her brows and tightening her lips.",
               "She looks angry, raising her cheeks and smiling."),
              ("A furious face with lowered brows.", "A furious face with a smile.")],
    "happy": [("He looks happy, raising his cheeks and smiling.",
               "He looks happy, lowering his brows and pressing his lips."),
              ("He smiles with raised cheeks, looking happy.", "He smiles with raised cheeks, looking angry.")],
    "sad": [("A sad face with upturned inner brows and drooping mouth corners.",
             "A sad face with widened eyes and a dropped jaw.")],
    "surprised": [("He raises his brows and drops his jaw in astonishment.",
                   "He narrows his eyes and tightens his lips in astonishment."),
                  ("A stunned face.", "A furious face.")],
    "disgusted": [("She wrinkles her nose in disgust.", "She wrinkles her nose in joy.")],
}  # fmt: skip


def record(emotion: str, level: int = 3, source: str = "", root: Path = Path(".")) -> corpus.ClipRecord:
    return corpus.ClipRecord(root, "c0000000", 0, "shard_0000", 3.0, 75, "s0", "none", "none", emotion, level, "x", "x",
                             source)  # fmt: skip


def test_minilm_ranking_prefers_the_matching_description(minilm):
    ranker = ReferenceRanker(minilm)
    for emotion, pairs in MATCHING_AND_NOT.items():
        reading = read_action_units(talking(emotion, 1.0), ARKIT_52)
        for matching, other in pairs:
            scores, embeddings = ranker([matching, other], record(emotion), 3, reading, None)
            assert scores[0] > scores[1], (emotion, matching, other, scores)
            assert embeddings.shape == (2, minilm.dim)


# -- the corpus ------------------------------------------------------------------------------

CLIPS = (("angry", 3), ("neutral", 1), ("contempt", 2), ("surprised", 1), ("sad", 2))


def write_corpus(root) -> None:
    """A corpus folder in the on-disk format, without TTS: talking clips of several emotions."""
    root.mkdir()
    corpus.write_manifest(root, {"format": corpus.FORMAT_NAME, "format_version": corpus.FORMAT_VERSION, "kind": "test",
                                 "model_id": "s2t-arkit52", "fps": FPS, "sample_rate": 16000,
                                 "channel_names": list(ARKIT_52)})  # fmt: skip
    for index, (emotion, level) in enumerate(CLIPS):
        shard, clip_id = corpus.shard_name(index, 3), corpus.clip_name(index)
        (root / shard).mkdir(exist_ok=True)
        strength = 0.0 if emotion == "neutral" else {1: 0.4, 2: 0.7, 3: 1.0}[level]
        expression = talking(emotion, strength, 75, seed=index)
        CoeffSequence("s2t-arkit52", FPS, ARKIT_52, expression, np.zeros((75, 6))).save(root / shard / f"{clip_id}.npz")
        corpus.write_wav(root / shard / f"{clip_id}.wav", np.zeros(48000, np.float32), 16000)
        corpus.append_index(root, {"clip_id": clip_id, "index": index, "shard": shard, "duration": 3.0,
                                   "num_frames": 75, "speaker": "s0", "engine": "none", "voice": "none",
                                   "emotion": emotion, "level": level, "sentence_id": "x", "text": "x",
                                   "source": "test"})  # fmt: skip


@pytest.mark.slow
def test_annotate_corpus_writes_five_distinct_sentences_per_clip(tmp_path, minilm, monkeypatch):
    monkeypatch.setattr(annotate, "load_text_encoder", lambda name: minilm)
    root = tmp_path / "corpus"
    write_corpus(root)
    summary = annotate_corpus(root, progress=False, flush_every=2, candidates=16)
    assert summary["annotated"] == len(CLIPS) and summary["ranker"] == "reference"
    texts = read_annotations(root)
    assert sorted(texts) == [corpus.clip_name(i) for i in range(len(CLIPS))]
    for index, (emotion, _) in enumerate(CLIPS):
        sentences = texts[corpus.clip_name(index)]
        assert len(sentences) == 5 and len(set(sentences)) == 5
        assert all(mentions_emotion(s, emotion) for s in sentences), sentences
    assert sorted(p.parent.name for p in root.glob("shard_*/annotations.jsonl")) == ["shard_0000", "shard_0001"]
    row = json.loads((root / "shard_0000/annotations.jsonl").read_text().splitlines()[0])
    assert row["levels"]["4"] == 3 and "26" not in row["levels"]  # the angry clip's brows, not its talking jaw
    export = tmp_path / "annotations.json"
    assert export_annotations(root, export) == len(CLIPS)
    assert json.loads(export.read_text()) == texts


@pytest.mark.slow
def test_annotation_resumes_and_is_reproducible(tmp_path, minilm, monkeypatch):
    monkeypatch.setattr(annotate, "load_text_encoder", lambda name: minilm)
    root = tmp_path / "corpus"
    write_corpus(root)
    annotate_corpus(root, progress=False, seed=3, candidates=16)
    first = read_annotations(root)
    path = root / "shard_0000/annotations.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["texts"] = ["kept because already done"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[:-1]))  # one clip lost, one marked
    summary = annotate_corpus(root, progress=False, seed=3, candidates=16)
    assert summary["annotated"] == 1 and summary["skipped"] == len(CLIPS) - 1
    again = read_annotations(root)
    assert again[rows[0]["clip_id"]] == ["kept because already done"]
    assert again[rows[-1]["clip_id"]] == first[rows[-1]["clip_id"]]  # same seed, same sentences
    annotate_corpus(root, progress=False, seed=3, resume=False, candidates=16)
    assert read_annotations(root) == first
    assert not list(root.glob("shard_*/*.tmp"))


# -- the CLIP path ---------------------------------------------------------------------------


def tiny_face_model() -> FaceModel:
    """A 10x10 grid facing the camera, with random ARKit-named shapes."""
    xs, ys = np.meshgrid(np.linspace(-1, 1, 10), np.linspace(-1, 1, 10))
    vertices = np.stack([xs.ravel(), ys.ravel(), np.zeros(100)], 1).astype(np.float32)
    quads = [(r * 10 + c, r * 10 + c + 1, (r + 1) * 10 + c) for r in range(9) for c in range(9)]
    quads += [(r * 10 + c + 1, (r + 1) * 10 + c + 1, (r + 1) * 10 + c) for r in range(9) for c in range(9)]
    basis = np.random.default_rng(0).normal(0, 0.05, (len(ARKIT_52), 100, 3)).astype(np.float32)
    return FaceModel("tiny", vertices, np.array(quads, np.int32), ARKIT_52, basis, np.arange(68))


def test_frames_come_from_the_source_video_when_there_is_one(tmp_path):
    from s2t.video import VideoWriter

    with VideoWriter(tmp_path / "clip.mp4", FPS, 32) as out:
        for k in range(20):
            out.write(np.full((32, 32, 3), 10 * k, np.uint8))
    coeffs = CoeffSequence("tiny", FPS, ARKIT_52, np.zeros((20, len(ARKIT_52))), np.zeros((20, 6)))
    frames = clip_frames(record("happy", source="clip.mp4"), coeffs, tiny_face_model(), tmp_path, count=4)
    assert [round(f.mean() / 10) for f in frames] == [2, 7, 12, 17]  # the middle 80%, evenly
    rendered = clip_frames(record("happy", source="gone.mp4"), coeffs, tiny_face_model(), tmp_path, count=3, size=24)
    assert len(rendered) == 3 and rendered[0].shape == (24, 24, 3)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_clip_ranking_with_a_tiny_random_clip(tmp_path, monkeypatch):
    clip = pytest.importorskip("clip", reason="the CLIP ranking needs openai-clip")
    from s2t.text import encoders

    tiny = clip.model.CLIP(embed_dim=16, image_resolution=32, vision_layers=1, vision_width=64, vision_patch_size=16,
                           context_length=77, vocab_size=49408, transformer_width=64, transformer_heads=1,
                           transformer_layers=1).half().float().eval()  # fmt: skip
    weights = tmp_path / "ViT-B-32.pt"
    torch.save(tiny.state_dict(), weights)
    import hashlib

    monkeypatch.setattr(encoders, "CLIP_SHA256", hashlib.sha256(weights.read_bytes()).hexdigest())
    tiny_face_model().save(tmp_path / "face.npz")
    ranker = make_ranker(weights, {"model_id": str(tmp_path / "face.npz")})
    assert ranker.name == "clip"

    images = [np.full((40, 60, 3), 200, np.uint8), np.zeros((32, 32, 3), np.uint8)]
    features = encode_images(ranker.encoder.model, images)
    assert features.shape == (2, 16) and torch.allclose(features.norm(dim=1), torch.ones(2))
    pixels = (torch.full((1, 3, 32, 32), 200 / 255) - torch.tensor(annotate.CLIP_MEAN)[:, None, None]) / \
        torch.tensor(annotate.CLIP_STD)[:, None, None]  # fmt: skip
    with torch.no_grad():
        expected = torch.nn.functional.normalize(ranker.encoder.model.encode_image(pixels), dim=-1)
    torch.testing.assert_close(features[:1], expected, atol=1e-4, rtol=1e-4)

    root = tmp_path / "corpus"
    write_corpus(root)
    first = corpus.ClipRecord.from_json(root, corpus.read_index(root)[0])
    row = annotate_clip(first, CoeffSequence.load(first.coeffs_path), ranker)
    assert row["ranker"] == "clip" and len(set(row["texts"])) == 5
    assert all(mentions_emotion(s, "angry") for s in row["texts"])
