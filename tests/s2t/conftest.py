"""Tiny Style-E setups built in code (for tests/s2t/style_e and tests/s2t/training): a 4-channel
face, a hashing text encoder, synthetic clips whose jaw follows the audio's loudness and whose
smile follows the emotion."""

import hashlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from s2t.face.coeffs import CoeffSequence
from s2t.style_e.denoiser import StyleEConfig
from s2t.training.style_e import TrainConfig, train_style_e
from s2t.training.style_e_windows import training_clip

CHANNELS = ("jawOpen", "mouthSmileLeft", "eyeBlinkLeft", "browInnerUp")
HAPPY, NEUTRAL = "a happy face", "a neutral face"
SMILE = {"happy": 0.8, "neutral": 0.05}


class HashTextEncoder:
    """A fixed random unit vector per text: a stand-in for MiniLM that needs no weights."""

    name, dim = "hash", 8

    def encode(self, texts):
        vectors = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            v = torch.randn(self.dim, generator=torch.Generator().manual_seed(seed))
            vectors.append(v / v.norm())
        return torch.stack(vectors)


def tiny_config(**changes) -> StyleEConfig:
    values = dict(model_id="test-face", channel_names=CHANNELS, window=16, latent_dim=32, num_layers=2, audio_width=1,
                  text_encoder="hash", text_dim=8, identity_dim=4)  # fmt: skip
    return StyleEConfig(**{**values, **changes})


def speech(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16 kHz audio of voiced syllables, and its per-frame (25 fps) loudness envelope."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    t = np.arange(n) / 16000
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(2.5, 4.5) * t + rng.uniform(0, 6)), 0, None)
    audio = (0.3 * envelope * np.sin(2 * np.pi * rng.uniform(150, 250) * t)).astype(np.float32)
    frames = int(np.ceil(n * 25 / 16000))
    return audio, envelope[np.minimum(np.arange(frames) * 640, n - 1)]


def make_clip(index: int, emotion: str, seconds: float = 1.6):
    audio, envelope = speech(seconds, index)
    frames = len(envelope)
    expression = np.zeros((frames, len(CHANNELS)), np.float32)
    expression[:, 0] = 0.7 * envelope
    expression[:, 1] = SMILE[emotion]
    expression[:, 3] = 0.1
    pose = np.zeros((frames, 6), np.float32)
    pose[:, 0] = 0.05 * np.sin(np.arange(frames) / 5 + index)
    coeffs = CoeffSequence("test-face", 25, CHANNELS, expression, pose, {"identity": [0.0] * 4})
    return training_clip(f"c{index:03d}", audio, coeffs, [HAPPY if emotion == "happy" else NEUTRAL],
                         emotion == "neutral", identity_dim=4)  # fmt: skip


@pytest.fixture(scope="session")
def tiny():
    return SimpleNamespace(config=tiny_config, text=HashTextEncoder(), clip=make_clip, speech=speech)


@pytest.fixture(scope="session")
def trained(tmp_path_factory, torch_threads):
    """A tiny model trained 120 steps on 8 clips (4 happy, 4 neutral): about 10 s on one thread."""
    out = tmp_path_factory.mktemp("trained")
    clips = [make_clip(i, "happy" if i % 2 else "neutral") for i in range(8)]
    train = TrainConfig(steps=120, batch_size=8, learning_rate=3e-3, eval_every=20, save_every=120, val_fraction=0.0,
                        pose_velocity_weight=1.0, pose_acceleration_weight=0.5)  # as when the tests using it were written
    with torch_threads(1):
        path = train_style_e(clips, out, tiny_config(), train, text_encoder=HashTextEncoder(), log=lambda _: None)
    return SimpleNamespace(path=path, out=out, clips=clips)
