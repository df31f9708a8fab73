"""DualStyleGAN on a tiny configuration: the extrinsic path, the split synthesis interface, noise."""

from __future__ import annotations

import pytest
import torch

from s2t.style_a.neural.dualstylegan import AdaResBlock, DualStyleGAN, DualStyleGANConfig
from s2t.style_a.neural.layers import EqualLinear

pytestmark = pytest.mark.usefixtures("one_thread")

DIM = 32


@pytest.fixture(scope="module")
def model() -> DualStyleGAN:
    """size 64 (n_latent 10): ModRes at latent 0..6 (4..32 px), colour transforms at 7..9."""
    torch.manual_seed(0)
    m = DualStyleGAN(DualStyleGANConfig(size=64, style_dim=DIM, channel_multiplier=1, channel_max=32,
                                        channel_base=512)).eval()
    with torch.no_grad():  # make zero-initialised gains and near-identity blocks matter
        for name, p in m.named_parameters():
            if name.endswith("noise.weight") or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
            if name.startswith("res.") and name.endswith("0.weight"):
                p.mul_(30.0)
    return m


@pytest.fixture(scope="module")
def codes(model):
    torch.manual_seed(1)
    z_plus = torch.randn(2, model.n_latent, DIM)
    return [z_plus], model.extrinsic_codes(torch.randn(2, model.n_latent, DIM))


def run(model, instyles, exstyles, **kw):
    with torch.no_grad():
        return model(instyles, exstyles, z_plus_latent=True, randomize_noise=False, **kw)[0]


def test_layout_of_the_extrinsic_path(model):
    kinds = [type(b).__name__ for b in model.res]
    assert kinds == ["AdaResBlock"] * 7 + ["EqualLinear"] * 3
    assert [b.conv[0].weight.shape[0] for b in model.res[:7]] == [32, 32, 32, 32, 32, 16, 16]
    assert len(model.style) == 3  # PixelNorm + n_mlp - 6 = 2 layers of T_s


def test_forward_shapes_and_determinism(model, codes):
    instyles, exstyles = codes
    a = run(model, instyles, exstyles)
    assert a.shape == (2, 3, 64, 64) and torch.isfinite(a).all()
    assert torch.equal(a, run(model, instyles, exstyles))
    with torch.no_grad():
        b, latent = model(instyles, exstyles, z_plus_latent=True, randomize_noise=True, return_latents=True)
    assert not torch.allclose(a, b)
    assert latent.shape == (2, model.n_latent, DIM)


def test_extrinsic_path_is_off_with_use_res_false_zero_weights_or_fuse_index_zero(model, codes):
    instyles, exstyles = codes
    with torch.no_grad():
        plain, _ = model.generator(instyles, z_plus_latent=True, randomize_noise=False)
    assert torch.equal(run(model, instyles, None, use_res=False), plain)
    assert torch.equal(run(model, instyles, exstyles, interp_weights=[0.0] * model.n_latent), plain)
    assert torch.equal(run(model, instyles, exstyles, fuse_index=0), plain)
    assert not torch.allclose(run(model, instyles, exstyles), plain, atol=1e-3)


def test_structure_and_colour_parts_each_act(model, codes):
    """Weights on the ModRes layers only, or on the colour layers only, both change the image."""
    instyles, exstyles = codes
    base = run(model, instyles, exstyles, use_res=False)
    structure = run(model, instyles, exstyles, interp_weights=[1.0] * 7 + [0.0] * 3)
    colour = run(model, instyles, exstyles, interp_weights=[0.0] * 7 + [1.0] * 3)
    assert not torch.allclose(structure, base, atol=1e-3) and not torch.allclose(colour, base, atol=1e-3)
    # fuse_index 6 keeps the ModRes blocks (0..6) and drops the colour transforms (7..9)
    torch.testing.assert_close(run(model, instyles, exstyles, fuse_index=6), structure)


def test_fresh_modres_blocks_start_near_identity():
    torch.manual_seed(2)
    block = AdaResBlock(8, DIM)
    x, s = torch.randn(1, 8, 6, 6), torch.randn(1, DIM)
    with torch.no_grad():
        assert (block(x, s) - x).abs().max() < 0.05 * x.abs().max()
        assert torch.equal(block(x, s, w=0), x)
    linear = DualStyleGAN(DualStyleGANConfig(size=8, style_dim=DIM, channel_max=8)).res[-1]
    assert isinstance(linear, EqualLinear)
    w = torch.randn(3, DIM)
    torch.testing.assert_close(linear(w), w, atol=0.1, rtol=0.0)


def test_wplus_input_and_single_vector_exstyle(model, codes):
    instyles, exstyles = codes
    with torch.no_grad():
        wplus = model.extrinsic_codes(instyles[0])
        a = model([wplus], exstyles, input_is_latent=True, randomize_noise=False)[0]
        # an exstyle given as one W vector is used for every layer
        b = model([wplus], exstyles[:, 3], input_is_latent=True, randomize_noise=False)[0]
        c = model([wplus], exstyles[:, 3:4].repeat(1, model.n_latent, 1), input_is_latent=True,
                  randomize_noise=False)[0]
    torch.testing.assert_close(a, run(model, instyles, exstyles))
    torch.testing.assert_close(b, c)


@pytest.mark.parametrize("resolution", [4, 16, 32, 64])
def test_features_at_then_synthesize_from_equals_forward(model, codes, resolution):
    instyles, exstyles = codes
    opts = dict(z_plus_latent=True, interp_weights=[0.75] * 7 + [1.0] * 3, truncation=0.7, truncation_latent=0)
    with torch.no_grad():
        feat, rgb = model.features_at(instyles, exstyles, resolution=resolution, **opts)
        image = model.synthesize_from(feat, rgb, instyles, exstyles, resolution=resolution, **opts)
        want, _ = model(instyles, exstyles, randomize_noise=False, **opts)
    assert feat.shape == (2, model.channels[resolution], resolution, resolution)
    assert rgb.shape == (2, 3, resolution, resolution)
    assert torch.equal(image, want)


def test_skips_are_added_after_the_styled_convs(model, codes):
    instyles, exstyles = codes
    with torch.no_grad():
        feat, rgb = model.features_at(instyles, exstyles, resolution=16, z_plus_latent=True)
        plain = model.synthesize_from(feat, rgb, instyles, exstyles, resolution=16, z_plus_latent=True)
        zeros = {32: torch.zeros(2, 16, 32, 32), 64: torch.zeros(2, 8, 64, 64)}
        same = model.synthesize_from(feat, rgb, instyles, exstyles, resolution=16, skips=zeros, z_plus_latent=True)
        bumped = model.synthesize_from(feat, rgb, instyles, exstyles, resolution=16,
                                       skips={32: torch.randn(2, 16, 32, 32)}, z_plus_latent=True)
        # at the last level the skip goes straight into the final ToRGB: its effect is that
        # ToRGB's 1x1 modulated conv of the skip
        top = torch.randn(2, 8, 64, 64)
        last = model.synthesize_from(feat, rgb, instyles, exstyles, resolution=16, skips={64: top},
                                     z_plus_latent=True)
        style = model.res[9](exstyles[:, 9])
        linear_part = model.generator.to_rgbs[-1].conv(top, style)
    assert torch.equal(same, plain)
    assert not torch.allclose(bumped, plain, atol=1e-3)
    torch.testing.assert_close(last - plain, linear_part, atol=1e-4, rtol=1e-4)


def test_edited_features_change_the_image_and_bad_inputs_are_refused(model, codes):
    instyles, exstyles = codes
    with torch.no_grad():
        feat, rgb = model.features_at(instyles, exstyles, z_plus_latent=True, resolution=32)
        plain = model.synthesize_from(feat, rgb, instyles, exstyles, resolution=32, z_plus_latent=True)
        flipped = model.synthesize_from(feat.flip(-1), rgb, instyles, exstyles, resolution=32, z_plus_latent=True)
    assert not torch.allclose(plain, flipped, atol=1e-3)
    with pytest.raises(ValueError, match="feature_map"):
        model.synthesize_from(feat[:, :8], rgb, instyles, exstyles, resolution=32, z_plus_latent=True)
    with pytest.raises(ValueError, match="skips"):
        model.synthesize_from(feat, rgb, instyles, exstyles, resolution=32, skips={16: feat}, z_plus_latent=True)
    with pytest.raises(ValueError, match="resolution"):
        model.features_at(instyles, exstyles, resolution=48, z_plus_latent=True)
    with pytest.raises(ValueError, match="exstyles"):
        model(instyles, None, z_plus_latent=True)
