"""Style-A assembled at 128 px with random frozen parts: the untrained model is DualStyleGAN's still."""

from __future__ import annotations

import pytest
import torch

from s2t.style_a.neural.dualstylegan import DualStyleGANConfig
from s2t.style_a.neural.model import StyleANetwork, StyleAConfig
from s2t.style_a.neural.random_weights import tiny_config

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model() -> StyleANetwork:
    torch.manual_seed(0)
    return StyleANetwork(tiny_config())


@pytest.fixture(scope="module")
def inputs(model):
    torch.manual_seed(1)
    identity = torch.rand(1, 3, 128, 128) * 2 - 1
    art_code = torch.randn(1, model.config.n_latent, model.config.style_dim)
    windows = torch.randn(3, model.config.window, model.config.coeff_dim)
    return identity, art_code, windows


def test_untrained_model_renders_dualstylegans_still_for_every_frame(model, inputs):
    identity, art_code, windows = inputs
    with torch.no_grad():
        state = model.prepare(identity, art_code=art_code)
        frames = model.render(state, windows)
        z_plus = model.encoder.encode(identity)
        expected = model.generator([z_plus], model.generator.extrinsic_codes(art_code), z_plus_latent=True,
                                   truncation=0.75, truncation_latent=0.0, randomize_noise=False,
                                   interp_weights=[0.75] * 7 + [1.0] * 5)[0]
    assert frames.shape == (3, 3, 128, 128)
    torch.testing.assert_close(frames, expected.expand_as(frames), atol=1e-5, rtol=0)
    torch.testing.assert_close(model.still(state), expected, atol=1e-5, rtol=0)


def test_trained_parts_move_the_frames_and_batching_does_not_change_them(model, inputs):
    identity, art_code, windows = inputs
    moved = StyleANetwork(model.config, model.generator, model.encoder)
    with torch.no_grad():
        for p in moved.trainable_parameters():
            p.add_(0.05 * torch.randn_like(p))
        state = moved.prepare(identity, art_code=art_code)
        batch = moved.render(state, windows)
        single = torch.cat([moved.render(state, windows[k:k + 1]) for k in range(3)])
    torch.testing.assert_close(batch, single, atol=1e-5, rtol=1e-4)
    assert (batch[0] - batch[1]).abs().max() > 1e-3  # different coefficients, different frames


def test_only_motion_content_and_refinement_learn(model, inputs):
    identity, art_code, windows = inputs
    names = {id(p) for p in model.trainable_parameters()}
    assert names == {id(p) for m in (model.motion, model.content, model.refine) for p in m.parameters()}
    assert not any(p.requires_grad for p in [*model.generator.parameters(), *model.encoder.parameters()])
    model.train()
    assert model.motion.training and not model.generator.training and not model.encoder.training
    state = model.prepare(identity, art_code=art_code)
    model.render(state, windows).square().mean().backward()
    # the zero-initialised output layers get gradients first
    for layer in (model.motion.flow_out.weight, model.content.skip_out["128"].weight, model.refine.output[1].weight):
        assert layer.grad is not None and layer.grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)
    model.eval()


def test_config_round_trips_through_a_dict():
    config = tiny_config(coeff_dim=20)
    assert StyleAConfig.from_dict(config.to_dict()) == config
    assert config.window == 13 and config.coeff_dim == 20 and config.n_latent == 12
    assert config.to_dict()["generator"]["size"] == 128 and "size" not in config.to_dict()
    with pytest.raises(ValueError, match="unknown Style-A config fields"):
        StyleAConfig.from_dict({"truncation": 0.5, "colour": 1})
    with pytest.raises(ValueError, match="unknown DualStyleGAN config fields"):
        StyleAConfig.from_dict({"generator": {"size": 128, "colour": 1}})
    with pytest.raises(ValueError, match="at least 128"):
        StyleAConfig(generator=DualStyleGANConfig(size=64))


def test_format_1_configs_with_flat_generator_fields_still_read():
    config = tiny_config()
    flat = {**config.to_dict(), **{name: getattr(config.generator, name) for name in StyleAConfig.GENERATOR_FIELDS}}
    del flat["generator"]
    flat["content_skips"] = list(flat["content_skips"])  # format 1 stored lists
    assert StyleAConfig.from_flat_dict(flat) == config


def test_mismatched_frozen_parts_are_refused(model):
    from dataclasses import replace

    with pytest.raises(ValueError, match="generator"):
        StyleANetwork(replace(model.config, generator=replace(model.config.generator, channel_base=1024)), model.generator,
               model.encoder)


def test_art_is_a_code_or_a_picture_not_both(model, inputs):
    identity, art_code, _ = inputs
    with pytest.raises(ValueError, match="either"):
        model.prepare(identity)
    with pytest.raises(ValueError, match=r"\(1, 3, 128, 128\)"):
        model.prepare(identity[:, :, :64], art_code=art_code)
    with torch.no_grad():
        state = model.prepare(identity, art_image=identity)
    assert state.exstyle.shape == (1, 12, 128)
