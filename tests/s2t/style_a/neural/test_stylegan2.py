"""StyleGAN2 layers, generator and discriminator on tiny configurations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d
from torch.nn import functional as F

from s2t.style_a.neural.layers import (
    Downsample,
    ModulatedConv2d,
    Upsample,
    make_kernel,
    upfirdn2d,
)
from s2t.style_a.neural.stylegan2 import (
    CHANNELS,
    Discriminator,
    DiscriminatorConfig,
    Generator,
    StyleGAN2Config,
)

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = dict(channel_max=32, channel_base=512, channel_multiplier=1)


def tiny_generator(size: int = 32, style_dim: int = 16) -> Generator:
    torch.manual_seed(0)
    g = Generator(StyleGAN2Config(size=size, style_dim=style_dim, n_mlp=2, **TINY)).eval()
    with torch.no_grad():  # zero-initialised noise gains and biases would hide bugs
        for name, p in g.named_parameters():
            if name.endswith("noise.weight") or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    return g


def test_channel_table_is_stylegan2s():
    published = {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}
    assert CHANNELS(1024, 2) == published
    assert CHANNELS(1024, 1) == {**published, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    assert CHANNELS(64, 1, channel_max=32, channel_base=512) == {4: 32, 8: 32, 16: 32, 32: 16, 64: 8}
    with pytest.raises(ValueError, match="power of two"):
        CHANNELS(48, 2)


def reference_upfirdn(x: np.ndarray, k: np.ndarray, up: int, down: int, pad: tuple[int, int]) -> np.ndarray:
    """Zero insertion, padding/cropping, true 2-D convolution (scipy), decimation."""
    h, w = x.shape
    z = np.zeros((h * up, w * up))
    z[::up, ::up] = x
    p0, p1 = pad
    z = np.pad(z, ((max(p0, 0), max(p1, 0)),) * 2)
    z = z[max(-p0, 0): z.shape[0] - max(-p1, 0), max(-p0, 0): z.shape[1] - max(-p1, 0)]
    return convolve2d(z, k, mode="valid")[::down, ::down]


@pytest.mark.parametrize("up,down,pad", [(2, 1, (2, 1)), (1, 2, (1, 1)), (1, 1, (2, 1)), (1, 1, (-1, 2))])
def test_upfirdn2d_matches_a_direct_convolution(up, down, pad):
    torch.manual_seed(1)
    x = torch.randn(2, 3, 7, 7)
    k = torch.rand(4, 4)  # asymmetric, so a missing flip shows
    out = upfirdn2d(x, k, up=up, down=down, pad=pad)
    for b in range(2):
        for c in range(3):
            want = reference_upfirdn(x[b, c].double().numpy(), k.double().numpy(), up, down, pad)
            np.testing.assert_allclose(out[b, c].numpy(), want, atol=1e-5)


def test_resampling_keeps_a_constant_image_constant_inside():
    x = torch.full((1, 2, 8, 8), 3.0)
    up, down = Upsample()(x), Downsample()(x)
    assert up.shape == (1, 2, 16, 16) and down.shape == (1, 2, 4, 4)
    torch.testing.assert_close(up[..., 2:-2, 2:-2], torch.full_like(up[..., 2:-2, 2:-2], 3.0))
    torch.testing.assert_close(down[..., 1:-1, 1:-1], torch.full_like(down[..., 1:-1, 1:-1], 3.0))
    assert torch.allclose(make_kernel([1, 3, 3, 1]).sum(), torch.tensor(1.0))


@pytest.mark.parametrize("mode", ["same", "upsample", "downsample"])
def test_modulated_conv_equals_per_sample_modulate_then_demodulate(mode):
    """The grouped batch conv must equal: scale input by style, shared conv, scale output by demod."""
    torch.manual_seed(2)
    conv = ModulatedConv2d(5, 6, 3, style_dim=4, upsample=mode == "upsample", downsample=mode == "downsample")
    x, style = torch.randn(3, 5, 8, 8), torch.randn(3, 4)
    out = conv(x, style)
    w = conv.weight[0] * conv.scale
    for b in range(3):
        s = conv.modulation(style[b: b + 1])[0]
        demod = torch.rsqrt((w * s.view(1, -1, 1, 1)).pow(2).sum([1, 2, 3]) + 1e-8)
        xb = x[b: b + 1] * s.view(1, -1, 1, 1)
        if mode == "upsample":
            ref = conv.blur(F.conv_transpose2d(xb, w.transpose(0, 1), stride=2))
        elif mode == "downsample":
            ref = F.conv2d(conv.blur(xb), w, stride=2)
        else:
            ref = F.conv2d(xb, w, padding=1)
        torch.testing.assert_close(out[b], (ref * demod.view(1, -1, 1, 1))[0], atol=1e-5, rtol=1e-5)
    assert out.shape[-1] == {"same": 8, "upsample": 16, "downsample": 4}[mode]


def test_generator_shapes_and_layer_counts():
    g = tiny_generator(size=32)
    assert (g.n_latent, g.num_layers, len(g.convs), len(g.to_rgbs)) == (8, 7, 6, 3)
    assert [tuple(n.shape) for n in g.fixed_noise()] == [(1, 1, r, r) for r in (4, 8, 8, 16, 16, 32, 32)]
    with torch.no_grad():
        img, latent = g([torch.randn(2, 16)], return_latents=True, randomize_noise=False)
    assert img.shape == (2, 3, 32, 32) and latent.shape == (2, 8, 16)
    assert torch.isfinite(img).all()


def test_fixed_noise_is_deterministic_and_random_noise_is_not():
    g = tiny_generator()
    z = torch.randn(2, 16)
    with torch.no_grad():
        a, _ = g([z], randomize_noise=False)
        b, _ = g([z], randomize_noise=False)
        c, _ = g([z], randomize_noise=True)
        d, _ = g([z], noise=g.make_noise())
    assert torch.equal(a, b)
    assert not torch.allclose(a, c) and not torch.allclose(a, d)


def test_style_mixing_truncation_and_z_plus():
    g = tiny_generator()
    z1, z2 = torch.randn(2, 16), torch.randn(2, 16)
    with torch.no_grad():
        _, mixed = g([z1, z2], inject_index=3, return_latents=True, randomize_noise=False)
        w1, w2 = g.get_latent(z1), g.get_latent(z2)
        torch.testing.assert_close(mixed[:, :3], w1[:, None].expand(-1, 3, -1))
        torch.testing.assert_close(mixed[:, 3:], w2[:, None].expand(-1, 5, -1))
        # truncation 0 collapses every code onto the centre: the image no longer depends on z
        centre = g.mean_latent(64)
        a, _ = g([z1], truncation=0.0, truncation_latent=centre, randomize_noise=False)
        b, _ = g([z2], truncation=0.0, truncation_latent=centre, randomize_noise=False)
        torch.testing.assert_close(a, b)
        # z+ with the same z in every slot is the plain z path
        zp = z1[:, None].repeat(1, g.n_latent, 1)
        c, _ = g([zp], z_plus_latent=True, randomize_noise=False)
        d, _ = g([z1], randomize_noise=False)
        torch.testing.assert_close(c, d)
    with pytest.raises(ValueError, match="truncation_latent"):
        g([z1], truncation=0.5)


def test_discriminator_shapes_and_a_training_step():
    torch.manual_seed(3)
    d = Discriminator(DiscriminatorConfig(size=32, **TINY))
    assert [type(m).__name__ for m in d.convs] == ["ConvLayer", "ResBlock", "ResBlock", "ResBlock"]
    real, fake = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32) * 0.3
    assert d(real).shape == (4, 1)

    def loss() -> torch.Tensor:
        return F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()

    before = loss()
    before.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in d.parameters())
    assert all(p.grad.abs().sum() > 0 for n, p in d.named_parameters() if n.endswith("weight"))
    with torch.no_grad():
        for p in d.parameters():
            p -= 1e-3 * p.grad
    assert loss() < before
    with pytest.raises(ValueError, match="multiple"):
        d(torch.randn(6, 3, 32, 32))
