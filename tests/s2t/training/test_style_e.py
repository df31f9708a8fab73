import csv
import json
import wave

import numpy as np
import pytest
import torch

from s2t.data.corpus import CorpusIndex
from s2t.face.coeffs import CoeffSequence
from s2t.style_e.checkpoint import read_checkpoint
from s2t.style_e.label_texts import emotion_texts
from s2t.training.common import latest_checkpoint
from s2t.training.style_e import TrainConfig, train_style_e
from s2t.training.style_e_windows import (WindowSampler, grammar_texts, indirect_texts, load_corpus_clips,
                                         read_annotations)

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py


def read_metrics(folder):
    with open(folder / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_tiny_model_overfits_a_tiny_corpus(trained):
    """Validation loss (here on the training clips) falls at least 5-fold in 120 steps."""
    rows = read_metrics(trained.out)
    assert [int(r["step"]) for r in rows] == [0, 20, 40, 60, 80, 100, 120]
    first, last = float(rows[0]["val_loss"]), float(rows[-1]["val_loss"])
    assert last < first / 5, (first, last)
    assert (trained.out / "curves.png").stat().st_size > 1000
    assert trained.path.name == "style_e_0000120.pt"


@pytest.mark.slow
def test_resume_continues_exactly(tiny, tmp_path, one_thread):
    clips = [tiny.clip(i, "happy" if i % 2 else "neutral", seconds=1.0) for i in range(4)]
    settings = dict(batch_size=4, eval_every=5, save_every=5, keep_checkpoints=2, val_fraction=0.0)
    quiet = dict(text_encoder=tiny.text, log=lambda _: None)
    straight = train_style_e(clips, tmp_path / "a", tiny.config(), TrainConfig(steps=15, **settings), **quiet)
    train_style_e(clips, tmp_path / "b", tiny.config(), TrainConfig(steps=10, **settings), **quiet)
    (tmp_path / "b" / "metrics.csv").open("a").write("12,1.0,1.0,0.0003,1.0\n")  # a row past the last checkpoint
    resumed = train_style_e(clips, tmp_path / "b", tiny.config(latent_dim=64), TrainConfig(steps=15, **settings),
                            resume=True, **quiet)  # fmt: skip  (the checkpoint's config wins over latent_dim=64)
    a, b = read_checkpoint(straight), read_checkpoint(resumed)
    assert b["step"] == 15 and b["config"]["latent_dim"] == 32
    for key in a["state_dict"]:
        torch.testing.assert_close(a["state_dict"][key], b["state_dict"][key])
    assert [r["step"] for r in read_metrics(tmp_path / "b")] == ["0", "5", "10", "15"]
    kept = [p.name for p in sorted((tmp_path / "b").glob("style_e_*.pt"))]
    assert kept == ["style_e_0000010.pt", "style_e_0000015.pt"]
    assert latest_checkpoint(tmp_path / "b", "style_e_").name == "style_e_0000015.pt"


def test_fixed_seed_losses_are_pinned(tiny, tmp_path, one_thread):
    """Pins the loop's losses for a fixed seed, so a refactor that changes training shows here.
    Recorded after the pose terms were rescaled to the x_0 loss's units (train loss 82 -> 0.87 at
    step 1); splitting the loop into windows + loop had changed nothing before that."""
    clips = [tiny.clip(i, "happy" if i % 2 else "neutral", seconds=1.0) for i in range(4)]
    train = TrainConfig(steps=6, batch_size=4, eval_every=1, save_every=6, val_fraction=0.0,
                        pose_velocity_weight=1.0, pose_acceleration_weight=0.5)  # the pose terms pinned too
    train_style_e(clips, tmp_path, tiny.config(), train, text_encoder=tiny.text, log=lambda _: None)
    rows = [(r["step"], r["train_loss"], r["val_loss"]) for r in read_metrics(tmp_path)]
    expected = [("0", "nan", "0.614617"), ("1", "0.874012", "0.593835"), ("2", "0.651278", "0.574513"),
                ("3", "0.763282", "0.556294"), ("4", "0.658436", "0.539271"), ("5", "0.684970", "0.523083"),
                ("6", "0.598504", "0.508232")]  # fmt: skip
    assert [step for step, *_ in rows] == [step for step, *_ in expected]
    for (_, train_loss, val_loss), (_, want_train, want_val) in zip(rows[1:], expected[1:]):
        assert float(train_loss) == pytest.approx(float(want_train), rel=1e-5)
        assert float(val_loss) == pytest.approx(float(want_val), rel=1e-5)


def test_window_sampler_pads_short_clips(tiny):
    clip = tiny.clip(0, "neutral", seconds=0.4)  # 10 frames, window 16
    sampler = WindowSampler([clip], 16, {"a neutral face": 0}, neutral_null_prob=1.0)
    batch = sampler.sample(3, torch.Generator().manual_seed(0))
    assert batch["target"].shape == (3, 16, 10) and batch["mel"].shape == (3, 16, 80, 16)
    assert batch["mask"].sum(1).tolist() == [10, 10, 10]
    torch.testing.assert_close(batch["target"][0, 10:], batch["target"][0, 9:10].expand(6, 10))
    assert not batch["use_text"].any()  # neutral_null_prob=1: every neutral text becomes the null text
    assert batch["text"].tolist() == [0, 0, 0] and batch["identity"].shape == (3, 4)


def test_emotion_texts():
    assert emotion_texts("happy", 3)[1] == "He is very happy."
    assert emotion_texts("fear", 1)[0] == "a slightly fearful face"
    assert all("neutral" in t for t in emotion_texts("neutral", 1))


def write_corpus(root, tiny, emotions=("happy", "neutral")):
    """A two-clip corpus in the s2t.data format (manifest, shard index, wav + npz)."""
    shard = root / "shard_0000"
    shard.mkdir(parents=True)
    (root / "corpus.json").write_text(json.dumps({"format": "s2t-corpus", "format_version": 1, "fps": 25}))
    config = tiny.config()
    rows = []
    for i, emotion in enumerate(emotions):
        audio, envelope = tiny.speech(1.0, i)
        clip_id = f"c{i:07d}"
        with wave.open(str(shard / f"{clip_id}.wav"), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(16000)
            f.writeframes((audio * 32767).astype("<i2").tobytes())
        expression = np.zeros((len(envelope), 4), np.float32)
        expression[:, 0] = envelope
        CoeffSequence(config.model_id, 25, config.channel_names, expression, np.zeros((len(envelope), 6)),
                      {"identity": [0.5, 0, 0, 0]}).save(shard / f"{clip_id}.npz")  # fmt: skip
        rows.append({"clip_id": clip_id, "index": i, "shard": "shard_0000", "duration": 1.0,
                     "num_frames": len(envelope), "speaker": "s0", "engine": "test", "voice": "v", "emotion": emotion,
                     "level": 2, "sentence_id": "x", "text": "spoken words", "source": "synthetic"})  # fmt: skip
    (shard / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.mark.slow
def test_corpus_clips_take_annotations_and_label_texts(tiny, tmp_path):
    root = write_corpus(tmp_path / "corpus", tiny)
    annotation = {"clip_id": "c0000000", "texts": ["beaming"]}
    (root / "shard_0000" / "annotations.jsonl").write_text(json.dumps(annotation) + "\n")
    assert read_annotations(root) == {"c0000000": ["beaming"]}
    clips = load_corpus_clips(root, tiny.config(), progress=False)
    first, second = CorpusIndex(root)[0], CorpusIndex(root)[1].clip_id
    assert [c.texts for c in clips] == [
        ("beaming", *emotion_texts(first.emotion, first.level), *grammar_texts("c0000000", first.emotion, first.level),
         *indirect_texts("c0000000", first.emotion, first.level)),
        (*emotion_texts("neutral", 2), *grammar_texts(second, "neutral", 2), *indirect_texts(second, "neutral", 2))]
    assert [c.neutral for c in clips] == [False, True]
    assert clips[0].target.shape == (25, 10) and clips[0].mel.shape == (81, 80)
    np.testing.assert_array_equal(clips[0].identity, [0.5, 0, 0, 0])

    out = train_style_e(root, tmp_path / "run", tiny.config(), TrainConfig(steps=2, batch_size=2, eval_every=1),
                        text_encoder=tiny.text, log=lambda _: None)  # fmt: skip
    assert read_checkpoint(out)["step"] == 2


def test_corpus_errors(tiny, tmp_path):
    root = write_corpus(tmp_path / "corpus", tiny)
    with pytest.raises(ValueError, match="configured for"):
        load_corpus_clips(root, tiny.config(model_id="other-face"), progress=False)
    (root / "shard_0000" / "annotations.jsonl").write_text("{\"clip\": 1}\n")
    with pytest.raises(ValueError, match="annotations.jsonl:1"):
        read_annotations(root)


def test_channel_weights_emphasise_the_named_channels():
    from s2t.style_e.denoiser import StyleEConfig
    from s2t.training.style_e import loss_weights

    config = StyleEConfig()
    weights = loss_weights(config, {"mouthClose": 4.0, "eyeBlinkLeft": 3.0})
    assert weights.shape == (config.x_dim,) and abs(float(weights.mean()) - 1.0) < 1e-6
    close, blink = config.channel_names.index("mouthClose"), config.channel_names.index("eyeBlinkLeft")
    assert weights[close] / weights[-1] == pytest.approx(4.0) and weights[blink] / weights[-1] == pytest.approx(3.0)
    assert torch.equal(loss_weights(config, {"notAChannel": 2.0}), torch.ones(config.x_dim))


def test_pose_weight_and_motion_terms():
    from s2t.style_e.denoiser import StyleEConfig
    from s2t.training.style_e import PoseMotion, loss_weights, pose_acceleration_loss, pose_velocity_loss

    config = StyleEConfig()
    weights = loss_weights(config, {"pose": 3.0})
    assert weights[-6:].tolist() == pytest.approx([weights[-1].item()] * 6)
    assert weights[-1] / weights[0] == pytest.approx(3.0)

    motion = PoseMotion(1.0, 0.5)
    target = torch.zeros(2, 8, 10)
    target[:, :, -6] = torch.linspace(0, 1, 8)  # a steady turn
    mask = torch.ones(2, 8, dtype=torch.bool)
    assert motion.loss(target, target, mask).item() == 0.0
    shifted = target + 0.3  # right velocity and acceleration, wrong position: no motion error
    assert motion.loss(shifted, target, mask).item() == pytest.approx(0.0, abs=1e-10)
    still = torch.zeros_like(target)  # no motion: velocity error 1/7 per frame on 1 of the 6 pose values, halved
    assert pose_velocity_loss(still, target, mask).item() == pytest.approx((1 / 7) ** 2 / 2 / 6, rel=1e-4)
    assert pose_acceleration_loss(still, target, mask).item() == pytest.approx(0.0, abs=1e-10)  # a steady turn
    mask[:, 4:] = False  # padded frames do not count
    jumpy = target.clone()
    jumpy[:, 6, -6] = 5.0
    assert motion.loss(jumpy, target, mask).item() == pytest.approx(0.0, abs=1e-10)


def test_motion_terms_stay_of_the_order_of_the_x0_loss():
    """Frame-to-frame jitter (an untrained network's x_0) weighs in each term about as much as in the
    position error, and neither term can exceed a small multiple of it, however smooth the target."""
    from s2t.training.style_e import pose_acceleration_loss, pose_velocity_loss

    generator = torch.Generator().manual_seed(0)
    time = torch.linspace(0, 2, 64)
    target = torch.zeros(4, 64, 10)
    target[..., -6:] = 0.01 * torch.sin(time)[None, :, None]  # a slow sway, as the corpus's pose channels
    mask = torch.ones(4, 64, dtype=torch.bool)
    mask[0, 40:] = False
    jitter = target + torch.randn(target.shape, generator=generator)
    position = ((jitter - target)[..., -6:] ** 2).mean().item()
    for term, bound in ((pose_velocity_loss, 2.0), (pose_acceleration_loss, 3.0)):
        assert term(jitter, target, mask).item() == pytest.approx(position, rel=0.15)
        for _ in range(5):  # smooth, spiky or jittery errors: never more than `bound` times the position error
            error = torch.randn(target.shape, generator=generator).cumsum(1) * torch.rand(1, generator=generator)
            error[:, ::7] *= 10
            value = term(target + error, target, torch.ones(4, 64, dtype=torch.bool)).item()
            assert 0 <= value <= bound * (error[..., -6:] ** 2).mean().item()


def test_grammar_texts_vary_per_clip_and_follow_the_level():
    from s2t.eval.expressiveness import MILD_SENTENCES
    from s2t.eval.quality import PARAPHRASES
    first = grammar_texts("c0001", "angry", 1)
    assert len(first) == 3 == len(set(first)) and first == grammar_texts("c0001", "angry", 1)
    assert grammar_texts("c0002", "angry", 1) != first
    mild = " ".join(grammar_texts(f"c{i}", "angry", 1)[0] for i in range(20)).lower()
    strong = " ".join(grammar_texts(f"c{i}", "angry", 3)[0] for i in range(20)).lower()
    assert any(w in mild for w in ("annoy", "irritat", "slight", "mild")) and "furious" not in mild
    assert any(w in strong for w in ("furious", "rage", "livid", "seething", "enraged", "very angry"))
    held_out = {t for texts in (*MILD_SENTENCES.values(), *PARAPHRASES.values()) for t in texts}
    made = {t for i in range(200) for e in MILD_SENTENCES for t in grammar_texts(f"c{i}", e, 1 + i % 3)}
    assert not made & held_out  # the held-out sentences stay held out


def test_window_sampler_can_give_each_voice_engine_the_same_share(tiny):
    from dataclasses import replace
    clips = [replace(tiny.clip(i, "neutral", seconds=1.0), source="espeak-ng" if i < 3 else "flite",
                     identity=np.full(4, float(i), np.float32)) for i in range(4)]  # fmt: skip
    text_index = {t: 0 for c in clips for t in c.texts}
    generator = torch.Generator().manual_seed(0)

    def flite_share(balance: bool) -> float:
        sampler = WindowSampler(clips, 16, text_index, neutral_null_prob=0.0, balance_sources=balance)
        identities = sampler.sample(4000, generator)["identity"]
        return float((identities[:, 0] == 3).float().mean())

    assert abs(flite_share(False) - 0.25) < 0.03 and abs(flite_share(True) - 0.5) < 0.03
