"""The content encoder at tiny sizes: 128 px images, 8-16 channels."""

import pytest
import torch

from s2t.style_a.neural.content import ContentConfig, ContentEncoder

CHANNELS = {64: 32, 128: 16, 256: 8}


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_encoder(seed: int = 0, image_size: int = 128, skips: tuple[int, ...] = ()) -> ContentEncoder:
    torch.manual_seed(seed)
    return ContentEncoder(ContentConfig(image_size, CHANNELS, skips))


def perturb_projections(encoder: ContentEncoder, seed: int = 0) -> None:
    """Give the zero-initialised output projections small random weights, as training would."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for projection in encoder.skip_out.values():
            projection.weight.copy_(0.1 * torch.randn(projection.weight.shape, generator=gen))


def image(size: int = 128, batch: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_features_have_the_declared_shape_per_resolution():
    encoder = tiny_encoder(image_size=256)
    assert encoder.config.skip_resolutions == (256, 128)  # default: every resolution above 64
    skips = encoder(image(256))
    assert {r: tuple(x.shape) for r, x in skips.items()} == {256: (2, 8, 256, 256), 128: (2, 16, 128, 128)}


def test_chosen_skip_resolutions_only():
    skips = tiny_encoder(image_size=256, skips=(128,))(image(256, batch=1))
    assert list(skips) == [128] and skips[128].shape == (1, 16, 128, 128)


def test_untrained_encoder_adds_nothing():
    skips = tiny_encoder()(image())
    assert torch.equal(skips[128], torch.zeros(2, 16, 128, 128))


def test_features_depend_on_the_image_once_trained():
    encoder = tiny_encoder()
    perturb_projections(encoder)
    a, b = encoder(image(seed=0))[128], encoder(image(seed=1))[128]
    assert a.abs().mean() > 1e-3 and (a - b).abs().mean() > 1e-3


def test_gradients_reach_every_parameter():
    encoder = tiny_encoder(image_size=256)
    perturb_projections(encoder)
    sum(x.square().mean() for x in encoder(image(256)).values()).backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.slow
def test_training_learns_to_pass_the_image_through():
    """40 Adam steps cut the error of carrying the image's texture into the 128 px skip
    (its first 3 channels) by at least 5x: the detail Ec exists to hand to the generator."""
    encoder = tiny_encoder()
    images = image(batch=2)
    target = torch.cat([images, torch.zeros(2, 13, 128, 128)], dim=1)

    def loss() -> torch.Tensor:
        return (encoder(images)[128] - target).square().mean()

    before = loss().item()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=3e-3)
    for _ in range(40):
        value = loss()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    assert loss().item() < before / 5


def test_bad_inputs_and_configs_are_refused():
    with pytest.raises(ValueError, match="image must be"):
        tiny_encoder()(image(256))
    with pytest.raises(ValueError, match="no entry for resolutions"):
        ContentConfig(512, CHANNELS)
    with pytest.raises(ValueError, match="powers of two"):
        ContentConfig(256, CHANNELS, (64,))
    with pytest.raises(ValueError, match="image_size"):
        ContentConfig(96, CHANNELS)


def test_config_round_trip_accepts_json_keys():
    config = ContentConfig(256, CHANNELS, (128,))
    as_json = {**config.to_dict(), "channels": {str(r): c for r, c in CHANNELS.items()}}
    assert ContentConfig.from_dict(as_json) == config


def test_same_seed_same_weights_and_outputs():
    a, b = tiny_encoder(seed=2), tiny_encoder(seed=2)
    perturb_projections(a)
    perturb_projections(b)
    x = image()
    assert torch.equal(a(x)[128], b(x)[128])
    assert torch.equal(a(x)[128], a(x)[128])
