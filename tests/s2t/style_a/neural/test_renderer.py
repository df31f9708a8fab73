"""NeuralRenderer at 128 px: shapes, determinism, batching, zero motion, and a known flow shift."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2t.face import CoeffSequence
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_a.neural.model import StyleANetwork
from s2t.style_a.neural.motion import FEATURE_SIZE
from s2t.style_a.neural.random_weights import tiny_config
from s2t.style_a.neural.renderer import NeuralRenderer, resolve_precision

pytestmark = pytest.mark.usefixtures("one_thread")
RIG = "s2t-arkit52"


@pytest.fixture(scope="module")
def model() -> StyleANetwork:
    torch.manual_seed(0)
    return StyleANetwork(tiny_config()).eval()


@pytest.fixture(scope="module")
def identity() -> np.ndarray:
    from skimage import data

    return data.astronaut()[:384, 64:448]  # square RGB uint8


def sequence(frames: int, seed: int = 0) -> CoeffSequence:
    rng = np.random.default_rng(seed)
    return CoeffSequence(RIG, 25.0, ARKIT_52, rng.uniform(0, 1, (frames, 52)), rng.normal(0, 0.1, (frames, 6)))


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to one level of rounding (batches of other sizes take other float paths)."""
    return np.abs(a.astype(int) - b).max() <= 1


def make(model, identity, **options) -> NeuralRenderer:
    art = torch.randn(1, 12, 128, generator=torch.Generator().manual_seed(3))
    return NeuralRenderer(model, identity, model_id=RIG, channel_names=ARKIT_52, art_code=art, **options)


@pytest.fixture(scope="module")
def moving(model) -> StyleANetwork:
    """The same frozen parts with perturbed trainable weights, so coefficients matter."""
    torch.manual_seed(5)
    moved = StyleANetwork(model.config, model.generator, model.encoder).eval()
    with torch.no_grad():
        for p in moved.trainable_parameters():
            p.add_(0.05 * torch.randn_like(p))
    return moved


@pytest.mark.slow
def test_frames_stream_in_order_with_any_batch_size(moving, identity):
    seq = sequence(7)
    one = list(make(moving, identity, batch_size=1).frames(seq))
    four = list(make(moving, identity, batch_size=4).frames(seq))
    assert len(one) == 7 and all(f.shape == (128, 128, 3) and f.dtype == np.uint8 for f in one)
    assert all(close(a, b) for a, b in zip(one, four))
    again = list(make(moving, identity, batch_size=4).frames(seq))
    assert all(np.array_equal(a, b) for a, b in zip(four, again))
    assert not np.array_equal(one[0], one[6])
    part = list(make(moving, identity, batch_size=4).frames(seq, 2, 5))
    assert len(part) == 3 and all(close(a, b) for a, b in zip(part, four[2:5]))


def test_untrained_model_gives_the_same_frame_for_every_coefficient_frame(model, identity):
    frames = list(make(model, identity, batch_size=3).frames(sequence(5)))
    assert all(np.array_equal(frames[0], f) for f in frames[1:])


def test_a_known_flow_shift_shifts_the_output(model, identity):
    renderer = make(model, identity, precision="fp32")
    still = renderer.render(np.zeros(52), np.zeros(6)).astype(np.float32)
    shift = 2  # feature pixels at 64x64 -> 4 output pixels at 128
    with torch.no_grad():
        model.motion.flow_out.bias[0] = shift * 2.0 / FEATURE_SIZE  # sample from the right: content moves left
    try:
        moved = renderer.render(np.zeros(52), np.zeros(6)).astype(np.float32)
    finally:
        with torch.no_grad():
            model.motion.flow_out.bias.zero_()
    step = shift * 128 // FEATURE_SIZE
    inner = slice(16, 112)
    shifted = np.abs(moved[inner, inner] - still[inner, 16 + step:112 + step]).mean()
    unshifted = np.abs(moved[inner, inner] - still[inner, inner]).mean()
    assert shifted < 0.3 * unshifted


def test_output_size_and_single_frames(moving, identity):
    renderer = make(moving, identity, output_size=256)
    seq = sequence(3, seed=2)
    frames = list(renderer.frames(seq))
    assert renderer.size == 256 and frames[0].shape == (256, 256, 3)
    still = make(moving, identity)
    constant = CoeffSequence(RIG, 25.0, ARKIT_52, np.repeat(seq.expression[:1], 20, 0), np.repeat(seq.pose[:1], 20, 0))
    assert close(still.render(seq.expression[0], seq.pose[0]), list(still.frames(constant))[10])


def test_coefficients_of_another_model_are_refused(model, identity):
    renderer = make(model, identity)
    other = CoeffSequence("bfm-deep3d", 25.0, tuple(f"exp{k:02d}" for k in range(52)), np.zeros((2, 52)),
                          np.zeros((2, 6)))
    with pytest.raises(ValueError, match="convert them"):
        next(renderer.frames(other))
    with pytest.raises(ValueError, match="expression channels"):
        NeuralRenderer(model, identity, model_id="bfm", channel_names=("a",) * 64, art_code=torch.zeros(1, 12, 128))


def test_half_precision_needs_cuda():
    assert resolve_precision("auto", torch.device("cpu")) is None
    with pytest.raises(ValueError, match="CUDA"):
        resolve_precision("fp16", torch.device("cpu"))
    with pytest.raises(ValueError, match="precision must be"):
        resolve_precision("int8", torch.device("cpu"))


def test_neural_style_a_prepares_a_renderer_for_each_kind_of_art(tmp_path):
    """The StyleA protocol: none keeps the trained style, a picture is encoded, an unknown name
    needs exstyle_code.npy, and coefficients of another face model are refused."""
    from types import SimpleNamespace

    from s2t.face.rig.blendshapes import ARKIT_52
    from s2t.style_a.art import resolve_art
    from s2t.style_a.neural.random_weights import tiny_config, write_random_style_a
    from s2t.style_a.neural.renderer import NeuralStyleA

    write_random_style_a(tmp_path, tiny_config(), model_id="s2t-arkit52", channel_names=ARKIT_52)
    style_a = NeuralStyleA(tmp_path)
    photo = SimpleNamespace(image=np.full((64, 64, 3), 128, np.uint8), size=64)
    face = SimpleNamespace(model_id="s2t-arkit52")
    rng = np.random.default_rng(0)
    for art in (resolve_art(None), resolve_art(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))):
        renderer = style_a.prepare(face, photo, art, 96)
        assert renderer.render(np.zeros(52), np.zeros(6)).shape == (96, 96, 3)
    with pytest.raises(ValueError, match="no exstyle_code.npy"):
        style_a.check(resolve_art("van-gogh"))
    with pytest.raises(ValueError, match="trained on 's2t-arkit52'"):
        style_a.prepare(SimpleNamespace(model_id="flame"), photo, resolve_art(None), 96)
