"""Style-E streams long audio: memory does not grow with the length, results do not change."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from s2t.style_e.ddim import DDIMScheduler
from s2t.style_e.denoiser import StyleEModel
from s2t.style_e.sampler import StyleE, sample_sequence
from s2t.style_e.schedule import NoiseSchedule

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py


CHILD = r"""
import json, resource, sys
import numpy as np, torch
torch.set_num_threads(1)
from s2t.style_e.denoiser import StyleEConfig, StyleEModel
from s2t.style_e.sampler import StyleE

class OneVector:
    name, dim = "one", 8
    def encode(self, texts):
        return torch.ones(len(texts), 8) / 8 ** 0.5

torch.manual_seed(0)
config = StyleEConfig(model_id="test-face", channel_names=("jawOpen", "eyeBlinkLeft"), window=16, latent_dim=16,
                      num_layers=1, audio_width=1, text_encoder="one", text_dim=8, identity_dim=4)
style_e = StyleE(StyleEModel(config), OneVector(), num_inference_steps=2)
minutes = float(sys.argv[1])
t = np.arange(int(minutes * 60 * 16000)) / 16000
audio = (0.3 * np.clip(np.sin(2 * np.pi * 3 * t), 0, None) * np.sin(2 * np.pi * 170 * t)).astype(np.float32)
del t
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
style_e.generate(audio[: 60 * 16000], "calm")  # one minute first: the allocator's working set
before = peak()
long = style_e.generate(audio, "calm")
print(json.dumps({"before_mb": before, "after_mb": peak(), "frames": long.num_frames}))
"""


@pytest.mark.slow
def test_memory_does_not_grow_with_the_audio(tmp_path):
    """10 minutes of speech after 1 minute: the old code held every mel frame's STFT and every
    window at once (about 700 MB more here); streamed, the peak stays within a few MB."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", CHILD, "10"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["frames"] == 15000
    assert row["after_mb"] - row["before_mb"] < 60, row


def test_windows_per_batch_does_not_change_the_result(tiny):
    torch.manual_seed(1)
    model = StyleEModel(tiny.config()).eval()
    scheduler = DDIMScheduler(NoiseSchedule(1000))
    features = torch.randn(120, model.condition.audio_dim)
    text, identity = torch.randn(8), torch.zeros(4)

    def run(windows_per_batch, strength):
        return sample_sequence(model, scheduler, features, text, identity, strength=strength,
                               generator=torch.Generator().manual_seed(3), windows_per_batch=windows_per_batch)

    for strength in (1.0, 1.5):  # one branch, and both with guidance
        assert torch.allclose(run(3, strength), run(1000, strength), atol=1e-6)


def test_streamed_audio_features_match_the_whole_spectrogram(tiny):
    from s2t.audio.features import frame_mel_windows, melspectrogram
    from s2t.style_e.sampler import encode_audio_stream

    model = StyleEModel(tiny.config()).eval()
    audio, _ = tiny.speech(3.0, 0)
    with torch.no_grad():
        whole = model.condition.encode_audio(torch.from_numpy(frame_mel_windows(melspectrogram(audio), 80)))
    # equal up to float rounding: convolutions may pick another kernel for another batch size
    assert torch.allclose(encode_audio_stream(model, audio, 80, chunk=7), whole, atol=1e-6)
    assert StyleE(model, tiny.text).generate(audio, "x").num_frames == 75
