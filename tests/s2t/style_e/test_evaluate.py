import numpy as np
import pytest
import torch

from s2t.data.emotion import EMOTIONS
from s2t.data.synth import clip_recipe
from s2t.data.tts import ESPEAK_VARIANTS, available_engines
from s2t.face.model import FaceModel
from s2t.style_e.denoiser import StyleEModel
from s2t.style_e.evaluate import (EmotionClassifier, Exposure, accuracy, clip_scores, confusion, held_out_recipes,
                                  landmark_distance, lip_gap, pearson, with_voice_variant)  # fmt: skip
from s2t.training.style_e import TrainConfig
from s2t.training.style_e_regressor import StyleERegressor, train_regressor


def landmark_face(shift_mm: float = 1.0) -> FaceModel:
    """68 vertices, all landmarks. Channel "jawOpen" lowers the lower inner lip (iBUG 65-67) by
    5 mm; channel "shift" moves every landmark by ``shift_mm`` along x."""
    rng = np.random.default_rng(0)
    vertices = rng.normal(0, 0.03, (68, 3)).astype(np.float32)
    vertices[[65, 66, 67]] = vertices[[63, 62, 61]] - [0, 0.001, 0]  # lips 1 mm apart at rest
    basis = np.zeros((2, 68, 3), np.float32)
    basis[0, [65, 66, 67], 1] = -0.005
    basis[1, :, 0] = shift_mm / 1000
    return FaceModel("test", vertices, np.zeros((1, 3), np.int32), ("jawOpen", "shift"), basis, np.arange(68))


def test_pearson_and_identical_sequences():
    a = np.sin(np.linspace(0, 6, 50))
    assert pearson(a, a) == pytest.approx(1.0)
    assert pearson(a, -2 * a + 3) == pytest.approx(-1.0)
    assert np.isnan(pearson(a, np.ones(50)))
    face = landmark_face()
    expression = np.stack([0.5 + 0.5 * a, np.zeros(50)], 1)
    scores = clip_scores(face, None, expression, expression)
    assert (scores.jaw_r, scores.lip_r) == (pytest.approx(1.0), pytest.approx(1.0))
    assert (scores.m_lmd, scores.f_lmd) == (pytest.approx(0.0), pytest.approx(0.0))


def test_known_offset_gives_known_lmd_in_millimetres():
    face = landmark_face(shift_mm=1.5)
    truth = np.zeros((10, 2))
    generated = truth.copy()
    generated[:, 1] = 1.0  # every landmark 1.5 mm along x
    scores = clip_scores(face, None, generated, truth)
    assert scores.m_lmd == pytest.approx(1.5) and scores.f_lmd == pytest.approx(1.5)
    generated[:, 1] = 0.0
    generated[:, 0] = 0.4  # lower inner lip down 2 mm: 3 of the 20 mouth points, 3 of 68 overall
    scores = clip_scores(face, None, generated, truth)
    assert scores.m_lmd == pytest.approx(2.0 * 3 / 20) and scores.f_lmd == pytest.approx(2.0 * 3 / 68)


def test_closure_recall_counts_sealed_lips_against_an_open_jaw():
    face = landmark_face()
    truth = np.zeros((6, 2))
    truth[:, 0] = [0.0, 0.1, 0.1, 0.1, 0.6, 0.0]  # gap 1, 1.5, 1.5, 1.5, 4, 1 mm: frames 1-3 are closures
    generated = truth.copy()
    generated[1, 0] = 0.5  # 3.5 mm: missed
    generated[2, 0] = 0.3  # 2.5 mm: still closed enough
    scores = clip_scores(face, None, generated, truth)
    assert (scores.closure_frames, scores.closures_hit) == (3, 2)


def test_lip_gap_follows_the_jaw():
    face = landmark_face()
    points = face.landmarks(np.array([[0.0, 0], [1.0, 0]]))
    assert lip_gap(points) * 1000 == pytest.approx([1.0, 6.0], abs=1e-4)
    a = np.zeros((4, 68, 3))
    b = a.copy()
    b[:, :10] += [0.0, 3.0, 4.0]
    assert landmark_distance(a, b) == pytest.approx(5.0 * 10 / 68)
    assert landmark_distance(a, b, tuple(range(10))) == pytest.approx(5.0)


def test_classifier_separates_emotion_prototypes():
    rng = np.random.default_rng(1)
    prototypes = 0.5 * np.eye(len(EMOTIONS))  # each emotion raises its own channel

    def clips(per_class):
        features, labels = [], []
        for k, emotion in enumerate(EMOTIONS):
            for _ in range(per_class):
                features.append(prototypes[k] + rng.normal(0, 0.08, len(EMOTIONS)))
                labels.append(emotion)
        return np.array(features), labels

    classifier = EmotionClassifier().fit(*clips(20))
    features, labels = clips(10)
    assert classifier.predict(features) == labels
    matrix = confusion(labels, classifier.predict(features))
    assert np.array_equal(matrix, 10 * np.eye(len(EMOTIONS), dtype=int))


def test_classifier_is_not_thrown_by_features_almost_constant_in_training():
    rng = np.random.default_rng(2)
    labels = [e for e in EMOTIONS for _ in range(10)]
    # the last feature is all but constant: 1e-4 in angry clips, 0 elsewhere (like a blink's 10th percentile)
    features = np.stack([np.r_[0.5 * np.eye(len(EMOTIONS))[EMOTIONS.index(e)] + rng.normal(0, 0.08, 8),
                               1e-4 * (e == "angry")] for e in labels])  # fmt: skip
    classifier = EmotionClassifier().fit(features, labels)
    features[:, -1] = 0.003  # a generated sequence's small but nonzero value
    assert accuracy(labels, classifier.predict(features)) > 0.95


@pytest.mark.skipif("espeak-ng" not in available_engines(), reason="needs espeak-ng")
def test_held_out_recipes_avoid_training_voices_and_sentences():
    engines = ("espeak-ng",)
    training = [clip_recipe(5, i, engines) for i in range(80)]
    exposure = Exposure(frozenset(("espeak-ng", r.speaker.voice.voice) for r in training),
                        frozenset(r.sentence.sentence_id for r in training))  # fmt: skip
    assert all(exposure.seen(r) for r in training)
    same_seed = list(held_out_recipes(5, engines, exposure, max_index=200))
    assert same_seed and all(r.index >= 80 for r in same_seed)  # the first 80 clips were training's
    other = list(held_out_recipes(6, engines, exposure, max_index=120))
    skipped = 120 - len(other)
    assert skipped > 0 and not any(exposure.seen(r) for r in other)
    assert not {r.speaker.voice.voice for r in other} & {v for _, v in exposure.voices}
    two = list(held_out_recipes(6, engines, exposure, per_session=2, max_index=200))
    sessions = {}
    for r in two:
        sessions.setdefault(r.index // 8, []).append(r.emotion)
    assert max(len(v) for v in sessions.values()) == 2
    emotions = [r.emotion for r in two]
    assert max(emotions.count(e) for e in EMOTIONS) - min(emotions.count(e) for e in EMOTIONS) <= 4
    family = ("Andy", "Storm")
    swapped = [with_voice_variant(r, family) for r in other[:16]]
    assert all(r.speaker.voice.voice.split("+")[1] in family for r in swapped)
    assert not {r.speaker.voice.voice.split("+")[1] for r in swapped} & set(ESPEAK_VARIANTS)
    by_session = {}
    for r in swapped:
        by_session.setdefault(r.index // 8, set()).add(r.speaker.voice.voice)
    assert all(len(v) == 1 for v in by_session.values())  # a speaker keeps its voice


def test_regressor_trains_and_predicts(tiny, one_thread):
    clips = [tiny.clip(i, "happy" if i % 2 else "neutral") for i in range(8)]
    torch.manual_seed(0)
    source = StyleEModel(tiny.config())
    train = TrainConfig(steps=150, batch_size=8, learning_rate=3e-3, eval_every=25, val_fraction=0.0)
    model, history = train_regressor(clips, source, tiny.text, train, log=lambda _: None)
    assert [s for s, _ in history] == [25, 50, 75, 100, 125, 150]
    assert history[-1][1] < 0.7 * history[0][1]
    assert torch.equal(model.condition.null_text, source.condition.null_text)  # frozen, shared features
    regressor = StyleERegressor(model, tiny.text)
    audio, _ = tiny.speech(1.2, 3)
    happy, neutral = regressor.generate(audio, "a happy face"), regressor.generate(audio, "a neutral face")
    assert happy.num_frames == 30 and happy.expression.min() >= 0 and happy.expression.max() <= 1
    smile = happy.channel_names.index("mouthSmileLeft")
    assert happy.expression[:, smile].mean() > neutral.expression[:, smile].mean() + 0.3
