import numpy as np
import pytest
import torch

from s2t.face.coeffs import CoeffSequence
from s2t.style_e.checkpoint import load_style_e
from s2t.style_e.ddim import DDIMScheduler
from s2t.style_e.denoiser import StyleEModel
from s2t.style_e.sampler import StyleE, blend_weights, sample_sequence, window_starts
from s2t.style_e.schedule import NoiseSchedule

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py


class WindowMeanModel(StyleEModel):
    """Predicts, for every frame of a window, the mean of the window's last condition feature:
    a constant per window, the worst case for seams."""

    def forward(self, x_t, timesteps, condition):
        return condition[..., -1:].mean(1, keepdim=True).expand(-1, self.config.window, self.config.x_dim)


class FrameModel(StyleEModel):
    """Predicts each frame's own last condition feature: the same answer from every window."""

    def forward(self, x_t, timesteps, condition):
        return condition[..., -1:].expand(-1, -1, self.config.x_dim)


def test_window_starts_cover_with_overlap():
    assert window_starts(10, 16, 4) == [0]
    assert window_starts(16, 16, 4) == [0]
    for total in (17, 40, 100, 251):
        starts = window_starts(total, 16, 4)
        assert starts[0] == 0 and starts[-1] == total - 16
        assert all(b - a <= 12 for a, b in zip(starts, starts[1:]))  # overlap of at least 4
    with pytest.raises(ValueError):
        window_starts(40, 16, 16)


def test_blend_weights_add_up_to_one():
    starts = window_starts(100, 16, 4)
    weights = blend_weights(starts, 16)
    total = torch.zeros(100, dtype=torch.float64)
    for start, w in zip(starts, weights):
        total[start : start + 16] += w
    torch.testing.assert_close(total, torch.ones(100, dtype=torch.float64))
    assert weights[0, 0] == 1 and weights[-1, -1] == 1 and 0 < weights[1, 0] < 0.5


def sample_with(model_class, tiny, frames: int, overlap: int = 4) -> torch.Tensor:
    model = model_class(tiny.config(expression_range=None)).eval()
    ramp = torch.arange(frames, dtype=torch.float32)[:, None].expand(frames, model.condition.audio_dim)
    return sample_sequence(model, DDIMScheduler(NoiseSchedule(1000)), ramp.contiguous(), torch.zeros(8),
                           torch.zeros(4), overlap=overlap, generator=torch.Generator().manual_seed(0))  # fmt: skip


def test_blending_leaves_no_seam(tiny):
    """Each window predicts its own constant, a step of ``stride`` frames from its neighbour's;
    blended, the curve climbs across each overlap in steps of stride / overlap, never jumps."""
    frames, overlap = 100, 4
    out = sample_with(WindowMeanModel, tiny, frames, overlap)[:, 0]
    starts = window_starts(frames, 16, overlap)
    steps = out[1:] - out[:-1]
    assert (steps >= -1e-4).all()  # monotonic, like the window means
    worst = max((b - a) / (a + 16 - b) for a, b in zip(starts, starts[1:]))
    assert steps.max() <= worst + 1e-4
    assert steps.max() < 0.5 * min(b - a for a, b in zip(starts, starts[1:]))  # a seam would jump a whole stride


def test_blending_is_exact_when_windows_agree(tiny):
    out = sample_with(FrameModel, tiny, 70)
    torch.testing.assert_close(out[:, 0], torch.arange(70.0), atol=1e-4, rtol=0)


def test_generate_shapes_and_metadata(tiny):
    style_e = StyleE(StyleEModel(tiny.config()), tiny.text)
    audio, _ = tiny.speech(2.3, 0)
    sequence = style_e.generate(audio, "a happy face", seed=3)
    assert isinstance(sequence, CoeffSequence)
    assert sequence.num_frames == 58 and sequence.fps == 25  # ceil(2.3 s x 25)
    assert sequence.expression.shape == (58, 4) and sequence.pose.shape == (58, 6)
    assert sequence.channel_names == tiny.config().channel_names and sequence.model_id == "test-face"
    assert sequence.expression.min() >= 0 and sequence.expression.max() <= 1
    assert sequence.metadata["seed"] == 3 and sequence.metadata["emotion"] == "a happy face"
    short = style_e.generate(audio[:4000], "a happy face")  # shorter than one window
    assert short.num_frames == 7


def test_seeded_and_reproducible(tiny):
    style_e = StyleE(StyleEModel(tiny.config()), tiny.text)
    audio, _ = tiny.speech(3.0, 1)
    first = style_e.generate(audio, "a happy face", seed=7, strength=1.5)
    again = style_e.generate(audio, "a happy face", seed=7, strength=1.5)
    other = style_e.generate(audio, "a happy face", seed=8, strength=1.5)
    np.testing.assert_array_equal(first.expression, again.expression)
    np.testing.assert_array_equal(first.pose, again.pose)
    assert not np.allclose(first.pose, other.pose)


def test_input_errors(tiny):
    style_e = StyleE(StyleEModel(tiny.config()), tiny.text)
    audio, _ = tiny.speech(1.0, 0)
    with pytest.raises(ValueError, match="identity"):
        style_e.generate(audio, "calm", identity=np.zeros(3))
    with pytest.raises(ValueError, match="strength"):
        style_e.generate(audio, "calm", strength=-1)
    with pytest.raises(ValueError, match="384-d"):
        StyleE(StyleEModel(tiny.config(text_dim=384)), tiny.text)


@pytest.mark.slow
def test_guidance_moves_from_neutral_toward_the_text(trained, tiny):
    """The tiny model smiles 0.8 for "a happy face" and 0.05 for neutral clips: strength 0
    must give the neutral smile, 1 the happy one, and 1.5 at least as much."""
    style_e = load_style_e(trained.path, text_encoder=tiny.text)
    audio, _ = tiny.speech(3.0, 42)
    smile = {s: style_e.generate(audio, "a happy face", seed=0, strength=s).channel("mouthSmileLeft").mean()
             for s in (0.0, 1.0, 1.5)}  # fmt: skip
    assert smile[0.0] < 0.2
    assert smile[1.0] > 0.6
    assert smile[1.5] >= smile[1.0] - 1e-6


@pytest.mark.slow
def test_trained_model_follows_the_audio(trained, tiny):
    """Jaw opening tracks the loudness envelope of unseen audio."""
    style_e = load_style_e(trained.path, text_encoder=tiny.text)
    audio, envelope = tiny.speech(3.0, 99)
    jaw = style_e.generate(audio, "a neutral face", seed=0).channel("jawOpen")
    assert np.corrcoef(jaw, envelope)[0, 1] > 0.5


@pytest.mark.slow
def test_call_reads_an_audio_file(trained, tiny, tmp_path):
    import wave

    audio, _ = tiny.speech(1.2, 5)
    path = tmp_path / "speech.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        pcm = (audio * 32767).astype("<i2")
        f.writeframes(pcm.tobytes())
    style_e = load_style_e(trained.path, text_encoder=tiny.text)
    sequence = style_e(path, "a happy face", seed=1)
    assert sequence.num_frames == 30 and sequence.metadata["audio"] == str(path)
    direct = style_e.generate(pcm / np.float32(32768), "a happy face", seed=1)
    np.testing.assert_allclose(sequence.expression, direct.expression, atol=1e-5)


@pytest.mark.slow
def test_variants_differ_and_each_follows_the_audio(trained, tiny):
    style_e = load_style_e(trained.path, text_encoder=tiny.text)
    audio, envelope = tiny.speech(3.0, 99)  # the unseen audio of test_trained_model_follows_the_audio
    takes = style_e.variants(audio, "a neutral face", [4, 5, 6])
    assert [t.metadata["seed"] for t in takes] == [4, 5, 6]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert not np.allclose(takes[a].pose, takes[b].pose)
        assert not np.allclose(takes[a].expression, takes[b].expression)
    for take in takes:
        assert np.corrcoef(take.channel("jawOpen"), envelope)[0, 1] > 0.5
    single = style_e.generate(audio, "a neutral face", seed=5)
    np.testing.assert_array_equal(single.expression, takes[1].expression)  # a variant is the seed's own take


@pytest.mark.slow
def test_the_pipeline_samples_takes_one_at_a_time(trained, tiny):
    from s2t.pipeline import TalkingHeadPipeline

    style_e = load_style_e(trained.path, text_encoder=tiny.text)
    audio, _ = tiny.speech(2.0, 98)
    takes = TalkingHeadPipeline(None, style_e).takes(audio, " a neutral face ", [7, 8])
    first = next(takes)  # the first take comes before the second is sampled
    assert first.metadata["seed"] == 7 and first.metadata["emotion"] == "a neutral face"
    second = next(takes)
    np.testing.assert_array_equal(second.expression, style_e.generate(audio, "a neutral face", seed=8).expression)
    with pytest.raises(StopIteration):
        next(takes)
