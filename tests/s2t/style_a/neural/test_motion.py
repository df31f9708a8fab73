"""The motion generator and the warp, at tiny sizes: 64-128 px images, 8-16 channels."""

import pytest
import torch
import torch.nn.functional as F

from s2t.style_a.neural.motion import (
    MotionConfig,
    MotionGenerator,
    adain,
    centred_windows,
    identity_flow,
    pixels_to_flow,
    warp,
)

TINY = MotionConfig(
    coeff_dim=5, window=13, encoder_size=64, base_channels=8, max_channels=16, num_down=2, descriptor_dim=16,
    coeff_layers=1,
)  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_generator(seed: int = 0, config: MotionConfig = TINY) -> MotionGenerator:
    torch.manual_seed(seed)
    return MotionGenerator(config)


def perturb_flow_head(generator: MotionGenerator, seed: int = 0) -> None:
    """Give the zero-initialised flow layer small random weights, as training would."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        generator.flow_out.weight.copy_(0.05 * torch.randn(generator.flow_out.weight.shape, generator=gen))


def inputs(batch: int = 2, size: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1
    return image, torch.randn(batch, TINY.window, TINY.coeff_dim, generator=gen)


@pytest.mark.parametrize("size", [64, 128])
def test_shapes(size):
    generator = tiny_generator()
    image, coefficients = inputs(size=size)
    features = generator.encode_image(image)
    assert [tuple(x.shape) for x in features] == [(2, 8, 64, 64), (2, 16, 32, 32), (2, 16, 16, 16)]
    assert generator(image, coefficients).shape == (2, 2, 64, 64)


def test_encoder_widths_follow_the_config():
    generator = tiny_generator(config=MotionConfig(encoder_size=128, base_channels=4, max_channels=32, num_down=3,
                                                   coeff_dim=2, window=7, coeff_layers=0, descriptor_dim=8))  # fmt: skip
    features = generator.encode_image(torch.zeros(1, 3, 64, 64))
    assert [(x.shape[1], x.shape[-1]) for x in features] == [(8, 64), (16, 32), (32, 16), (32, 8)]


def test_untrained_generator_outputs_zero_flow_and_warp_is_identity():
    generator = tiny_generator()
    image, coefficients = inputs()
    flow = generator(image, coefficients)
    assert torch.equal(flow, torch.zeros_like(flow))
    feature_map = torch.randn(2, 8, 64, 64)
    assert torch.allclose(warp(feature_map, flow), feature_map, atol=1e-5)
    assert torch.allclose(warp(feature_map, identity_flow(2)), feature_map, atol=1e-5)


@pytest.mark.parametrize("dx, dy", [(2, 0), (0, -3), (1, 2)])
def test_integer_flow_shifts_by_that_many_pixels(dx, dy):
    feature_map = torch.randn(1, 4, 64, 64)
    offsets = torch.zeros(1, 2, 64, 64)
    offsets[:, 0], offsets[:, 1] = dx, dy
    warped = warp(feature_map, pixels_to_flow(offsets))
    # output (i, j) samples the input at (i + dy, j + dx); compare away from the border
    expected = feature_map[..., 8 + dy : 56 + dy, 8 + dx : 56 + dx]
    assert torch.allclose(warped[..., 8:56, 8:56], expected, atol=1e-5)


def test_warp_broadcasts_one_map_against_many_flows():
    feature_map = torch.randn(1, 3, 64, 64)
    flows = torch.randn(4, 2, 64, 64) * 0.05
    batched = warp(feature_map, flows)
    assert batched.shape == (4, 3, 64, 64)
    assert torch.allclose(batched[2:3], warp(feature_map, flows[2:3]))
    with pytest.raises(ValueError, match="flow must be"):
        warp(feature_map, torch.zeros(1, 2, 32, 32))


def test_adain_sets_each_channels_mean_and_std():
    x = torch.randn(2, 3, 16, 16) * 5 + 2
    scale, bias = torch.tensor([[1.0, 2.0, 0.5]] * 2), torch.tensor([[0.0, -1.0, 3.0]] * 2)
    out = adain(x, scale, bias)
    assert torch.allclose(out.mean(dim=(2, 3)), bias, atol=1e-4)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), scale, atol=1e-3)


def test_coefficients_change_the_adain_features():
    generator = tiny_generator()
    image, coefficients = inputs(batch=1)
    features = generator.encode_image(image)
    first = generator.modulate(features, coefficients)
    second = generator.modulate(features, coefficients + 0.5)
    for a, b, x in zip(first, second, features):
        assert a.shape == x.shape
        assert (a - b).abs().mean() > 1e-3


def test_different_windows_give_different_flows_once_weights_are_nonzero():
    generator = tiny_generator()
    perturb_flow_head(generator)
    image, coefficients = inputs(batch=1)
    flow_a = generator(image, coefficients)
    flow_b = generator(image, coefficients.flip(1))
    assert flow_a.abs().mean() > 1e-4
    assert (flow_a - flow_b).abs().mean() > 1e-4


def test_features_of_one_image_broadcast_against_many_windows():
    generator = tiny_generator()
    perturb_flow_head(generator)
    image, _ = inputs(batch=1)
    _, windows = inputs(batch=3, seed=1)
    features = generator.encode_image(image)
    batched = generator.decode_flow(features, windows)
    assert batched.shape == (3, 2, 64, 64)
    assert torch.allclose(batched[1:2], generator(image, windows[1:2]), atol=1e-6)


def test_gradients_reach_every_parameter():
    generator = tiny_generator()
    perturb_flow_head(generator)
    image, coefficients = inputs()
    feature_map = torch.randn(2, 4, 64, 64)
    warp(feature_map, generator(image, coefficients)).square().mean().backward()
    for name, parameter in generator.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_centred_windows_repeat_the_ends():
    sequence = torch.arange(6.0)[:, None].repeat(1, 2)
    windows = centred_windows(sequence, 5)
    assert windows.shape == (6, 5, 2)
    assert torch.equal(windows[:, 2, 0], sequence[:, 0])  # each window is centred on its frame
    assert windows[0, :, 0].tolist() == [0, 0, 0, 1, 2]
    assert windows[5, :, 0].tolist() == [3, 4, 5, 5, 5]
    with pytest.raises(ValueError, match="odd"):
        centred_windows(sequence, 4)


def test_config_validation_and_round_trip():
    assert MotionConfig.from_dict(TINY.to_dict()) == TINY
    with pytest.raises(ValueError, match="window must be >= 13"):
        MotionConfig(window=11, coeff_layers=1)
    with pytest.raises(ValueError, match="encoder_size"):
        MotionConfig(encoder_size=96)
    with pytest.raises(ValueError, match="unknown"):
        MotionConfig.from_dict({"windw": 27})
    with pytest.raises(ValueError, match="coefficients must be"):
        tiny_generator()(inputs()[0], torch.zeros(2, 7, 5))  # shorter than the 13-frame field


def test_same_seed_same_weights_and_outputs():
    a, b = tiny_generator(seed=3), tiny_generator(seed=3)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(pa, pb)
    perturb_flow_head(a)
    perturb_flow_head(b)
    image, coefficients = inputs()
    assert torch.equal(a(image, coefficients), b(image, coefficients))
    assert torch.equal(a(image, coefficients), a(image, coefficients))


def smooth_maps(batch: int, gen: torch.Generator) -> torch.Tensor:
    """Random maps smooth enough (8 px features) for a 3 px shift to be learnable by warping."""
    coarse = torch.randn(batch, 4, 8, 8, generator=gen)
    return F.interpolate(coarse, size=(64, 64), mode="bicubic", align_corners=False)


def shift_task(batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A map, a window whose single coefficient is the x shift / 3, and the shifted map."""
    maps = smooth_maps(batch, gen)
    shift = torch.randint(-3, 4, (batch,), generator=gen).float()
    offsets = torch.zeros(batch, 2, 64, 64)
    offsets[:, 0] = shift[:, None, None]
    return maps, (shift / 3)[:, None, None].expand(-1, 7, 1), warp(maps, pixels_to_flow(offsets))


@pytest.mark.slow
def test_training_learns_the_flow_of_a_known_shift():
    """60 Adam steps cut the interior warping loss on held-out maps by at least 20x."""
    torch.manual_seed(0)
    config = MotionConfig(coeff_dim=1, window=7, encoder_size=64, base_channels=8, max_channels=16, num_down=2,
                          descriptor_dim=16, coeff_layers=0)  # fmt: skip
    generator = MotionGenerator(config)
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    gen = torch.Generator().manual_seed(1)
    held_out = shift_task(16, gen)

    def loss_on(maps, windows, target):
        return F.mse_loss(warp(maps, generator(image, windows))[..., 8:-8, 8:-8], target[..., 8:-8, 8:-8])

    with torch.no_grad():
        before = loss_on(*held_out).item()
    optimizer = torch.optim.Adam(generator.parameters(), lr=3e-3)
    for _ in range(60):
        loss = loss_on(*shift_task(8, gen))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        after = loss_on(*held_out).item()
        maps, windows, _ = held_out
        flow_x_pixels = generator(image, windows)[:, 0, 8:-8, 8:-8] * 32
    assert after < before / 20
    error = (flow_x_pixels - (windows[:, 0, 0] * 3)[:, None, None]).abs().mean()
    assert error < 0.25  # pixels
