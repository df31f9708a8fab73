"""StyleGAN2 generator and discriminator, state-dict compatible with rosinality's stylegan2-pytorch.

The layout (and so every checkpoint key) is the one of ``model/stylegan/model.py`` in
DualStyleGAN, itself rosinality's ``model.py``; at 1024 with ``channel_multiplier=2`` it is
StyleGAN2 config-f (``stylegan2-ffhq-config-f.pt``). Generator keys::

    style.{1..n_mlp}.weight/bias         mapping network (style.0 is PixelNorm, no weights)
    input.input                          (1, 512, 4, 4) constant
    conv1.*, to_rgb1.*                   the 4x4 layer
    convs.{2j, 2j+1}.*                   the two styled convs at resolution 8 * 2**j
    to_rgbs.{j}.*                        their ToRGB (with upsample.kernel for the skip image)
    noises.noise_{i}                     fixed per-layer noise, (1, 1, r, r)

Latent index per layer: conv1 -> 0, to_rgb1 -> 1, then at level j (resolution 8 * 2**j)
convs -> 2j+1 and 2j+2, ToRGB -> 2j+3; so ``n_latent = 2 * log2(size) - 2``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from s2t.style_a.neural.layers import (
    BLUR_KERNEL,
    ConvLayer,
    EqualLinear,
    FusedLeakyReLU,
    ModulatedConv2d,
    PixelNorm,
    Upsample,
)


def CHANNELS(size: int, channel_multiplier: int = 2, channel_max: int = 512,
             channel_base: int = 16384) -> dict[int, int]:
    """Feature channels per resolution 4..size: StyleGAN2's table ``min(channel_max, channel_base * cm / r)``.

    With the defaults this is exactly the published table: 4..32 -> 512, 64 -> 256 * cm,
    128 -> 128 * cm, 256 -> 64 * cm, 512 -> 32 * cm, 1024 -> 16 * cm. ``channel_max`` and
    ``channel_base`` only exist to build tiny models for tests.
    """
    log_size = _log2(size)
    return {2 ** i: min(channel_max, channel_base * channel_multiplier // 2 ** i) for i in range(2, log_size + 1)}


def _log2(size: int) -> int:
    log_size = int(math.log2(size)) if size > 0 else 0
    if size < 4 or 2 ** log_size != size:
        raise ValueError(f"size must be a power of two >= 4, got {size}")
    return log_size


@dataclass(frozen=True)
class StyleGAN2Config:
    """Generator hyper-parameters; the defaults are config-f at 1024 (FFHQ)."""

    size: int = 1024
    style_dim: int = 512
    n_mlp: int = 8
    channel_multiplier: int = 2
    channel_max: int = 512
    channel_base: int = 16384
    lr_mlp: float = 0.01
    blur_kernel: tuple[int, ...] = BLUR_KERNEL

    @property
    def channels(self) -> dict[int, int]:
        return CHANNELS(self.size, self.channel_multiplier, self.channel_max, self.channel_base)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Discriminator hyper-parameters; the defaults match the 1024 config-f discriminator."""

    size: int = 1024
    channel_multiplier: int = 2
    channel_max: int = 512
    channel_base: int = 16384
    blur_kernel: tuple[int, ...] = BLUR_KERNEL

    @property
    def channels(self) -> dict[int, int]:
        return CHANNELS(self.size, self.channel_multiplier, self.channel_max, self.channel_base)


class NoiseInjection(nn.Module):
    """Adds ``weight * noise``; fresh Gaussian noise when none is given."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, noise: Tensor | None = None) -> Tensor:
        if noise is None:
            noise = x.new_empty(x.shape[0], 1, x.shape[2], x.shape[3]).normal_()
        return x + self.weight * noise


class ConstantInput(nn.Module):
    """The learned 4x4 input, repeated over the batch of ``latent``."""

    def __init__(self, channels: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, latent: Tensor) -> Tensor:
        return self.input.repeat(latent.shape[0], 1, 1, 1)


class StyledConv(nn.Module):
    """Modulated conv + noise + biased leaky ReLU (keys ``conv.*``, ``noise.weight``, ``activate.bias``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 upsample: bool = False, blur_kernel: Sequence[int] = BLUR_KERNEL):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, kernel_size, style_dim, upsample=upsample,
                                    blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channels)

    def forward(self, x: Tensor, style: Tensor, noise: Tensor | None = None) -> Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """1x1 modulated conv to RGB (no demodulation) plus the upsampled skip image from below."""

    def __init__(self, in_channels: int, style_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[int] = BLUR_KERNEL):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channels, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class Generator(nn.Module):
    """StyleGAN2 generator: mapping network ``style`` + synthesis from a constant 4x4 input.

    ``forward(styles)`` takes a list of one or two code tensors (two = style mixing at
    ``inject_index``), each (B, style_dim) or per-layer (B, n_latent, style_dim), and returns
    ``(image (B, 3, size, size), latent (B, n_latent, style_dim) or None)``.
    """

    def __init__(self, config: StyleGAN2Config = StyleGAN2Config()):
        super().__init__()
        self.config = config
        self.size = config.size
        self.style_dim = config.style_dim
        self.log_size = _log2(config.size)
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.n_latent = self.log_size * 2 - 2
        self.channels = config.channels
        dim, ch, blur = config.style_dim, self.channels, config.blur_kernel

        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(dim, dim, lr_mul=config.lr_mlp, activation="fused_lrelu") for _ in range(config.n_mlp)])
        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], 3, dim, blur_kernel=blur)
        self.to_rgb1 = ToRGB(ch[4], dim, upsample=False)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for i in range(self.num_layers):
            r = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, r, r))
        in_ch = ch[4]
        for i in range(3, self.log_size + 1):
            out_ch = ch[2 ** i]
            self.convs.append(StyledConv(in_ch, out_ch, 3, dim, upsample=True, blur_kernel=blur))
            self.convs.append(StyledConv(out_ch, out_ch, 3, dim, blur_kernel=blur))
            self.to_rgbs.append(ToRGB(out_ch, dim, blur_kernel=blur))
            in_ch = out_ch

    def make_noise(self) -> list[Tensor]:
        """Fresh noise maps, one per layer, shaped like the ``noises`` buffers."""
        return [torch.randn_like(n) for n in self.fixed_noise()]

    def fixed_noise(self) -> list[Tensor]:
        """The stored ``noises.noise_i`` buffers in layer order."""
        return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]

    @torch.no_grad()
    def mean_latent(self, n: int) -> Tensor:
        """Mean W over ``n`` random z (1, style_dim): the usual truncation centre."""
        z = torch.randn(n, self.style_dim, device=self.input.input.device)
        return self.style(z).mean(0, keepdim=True)

    def get_latent(self, z: Tensor) -> Tensor:
        """Map z (B, style_dim) to W."""
        return self.style(z)

    def noise_inputs(self, noise: Sequence[Tensor | None] | None, randomize_noise: bool) -> list[Tensor | None]:
        """Per-layer noise: the given list, else fresh noise (``None`` entries) or the fixed buffers."""
        if noise is not None:
            if len(noise) != self.num_layers:
                raise ValueError(f"noise needs {self.num_layers} entries, got {len(noise)}")
            return list(noise)
        return [None] * self.num_layers if randomize_noise else self.fixed_noise()

    def latent_codes(self, styles: Sequence[Tensor], inject_index: int | None = None, truncation: float = 1.0,
                     truncation_latent: Tensor | float | None = None, input_is_latent: bool = False,
                     z_plus_latent: bool = False) -> Tensor:
        """Turn the ``styles`` list into per-layer W+ codes (B, n_latent, style_dim).

        Codes are mapped by ``style`` unless ``input_is_latent``; ``z_plus_latent`` maps each
        of the n_latent z vectors of a (B, n_latent, D) code. Truncation pulls codes towards
        ``truncation_latent``; two codes are mixed at ``inject_index`` (random if None).
        """
        if not input_is_latent:
            styles = [self.style(s.reshape(-1, s.shape[-1])).reshape(s.shape) if z_plus_latent else self.style(s)
                      for s in styles]
        if truncation < 1:
            if truncation_latent is None:
                raise ValueError("truncation < 1 needs truncation_latent (e.g. generator.mean_latent(4096))")
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        if len(styles) == 1:
            s = styles[0]
            return s if s.ndim == 3 else s.unsqueeze(1).repeat(1, self.n_latent, 1)
        if inject_index is None:
            inject_index = random.randint(1, self.n_latent - 1)
        a, b = styles[0], styles[1]
        if a.ndim == 3:
            return torch.cat([a[:, :inject_index], b[:, inject_index:]], 1)
        return torch.cat([a.unsqueeze(1).repeat(1, inject_index, 1),
                          b.unsqueeze(1).repeat(1, self.n_latent - inject_index, 1)], 1)

    def forward(self, styles: Sequence[Tensor], return_latents: bool = False, inject_index: int | None = None,
                truncation: float = 1.0, truncation_latent: Tensor | float | None = None,
                input_is_latent: bool = False, noise: Sequence[Tensor | None] | None = None,
                randomize_noise: bool = True, z_plus_latent: bool = False) -> tuple[Tensor, Tensor | None]:
        latent = self.latent_codes(styles, inject_index, truncation, truncation_latent, input_is_latent,
                                   z_plus_latent)
        noise = self.noise_inputs(noise, randomize_noise)
        out = self.conv1(self.input(latent), latent[:, 0], noise=noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        for j, to_rgb in enumerate(self.to_rgbs):
            k = 2 * j + 1
            out = self.convs[2 * j](out, latent[:, k], noise=noise[k])
            out = self.convs[2 * j + 1](out, latent[:, k + 1], noise=noise[k + 1])
            skip = to_rgb(out, latent[:, k + 2], skip)
        return skip, (latent if return_latents else None)


class ResBlock(nn.Module):
    """Discriminator residual block: two convs (the second downsamples) + a 1x1 downsampling skip."""

    def __init__(self, in_channels: int, out_channels: int, blur_kernel: Sequence[int] = BLUR_KERNEL):
        super().__init__()
        self.conv1 = ConvLayer(in_channels, in_channels, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_channels, out_channels, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(in_channels, out_channels, 1, downsample=True, activate=False, bias=False,
                              blur_kernel=blur_kernel)

    def forward(self, x: Tensor) -> Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


class Discriminator(nn.Module):
    """StyleGAN2 residual discriminator: image (B, 3, size, size) -> logits (B, 1).

    Keys: ``convs.0`` (fromRGB), ``convs.{1..}`` ResBlocks down to 4x4, ``final_conv`` (after
    the minibatch-stddev channel), ``final_linear.{0,1}``.
    """

    def __init__(self, config: DiscriminatorConfig = DiscriminatorConfig()):
        super().__init__()
        self.config = config
        ch, blur = config.channels, config.blur_kernel
        log_size = _log2(config.size)
        convs: list[nn.Module] = [ConvLayer(3, ch[config.size], 1)]
        in_ch = ch[config.size]
        for i in range(log_size, 2, -1):
            convs.append(ResBlock(in_ch, ch[2 ** (i - 1)], blur))
            in_ch = ch[2 ** (i - 1)]
        self.convs = nn.Sequential(*convs)
        self.stddev_group = 4
        self.stddev_feat = 1
        self.final_conv = ConvLayer(in_ch + 1, ch[4], 3)
        self.final_linear = nn.Sequential(
            EqualLinear(ch[4] * 4 * 4, ch[4], activation="fused_lrelu"),
            EqualLinear(ch[4], 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        out = self.convs(x)
        b, c, h, w = out.shape
        group = min(b, self.stddev_group)
        if b % group:
            raise ValueError(f"batch {b} must be a multiple of the stddev group {group}")
        # Minibatch standard deviation: one extra channel telling the critic about sample diversity.
        stddev = out.view(group, -1, self.stddev_feat, c // self.stddev_feat, h, w)
        stddev = torch.sqrt(stddev.var(0, unbiased=False) + 1e-8)
        stddev = stddev.mean([2, 3, 4], keepdim=True).squeeze(2).repeat(group, 1, h, w)
        out = self.final_conv(torch.cat([out, stddev], 1))
        return self.final_linear(out.view(b, -1))
