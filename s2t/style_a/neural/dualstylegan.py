"""DualStyleGAN: StyleGAN2 plus an extrinsic (art) style path, checkpoint-compatible with the public release.

The module tree and state-dict keys are those of ``model/dualstylegan.py`` in
williamyang1991/DualStyleGAN, so a release ``generator.pt`` (its ``g_ema`` entry) loads with
``strict=True`` (see ``checkpoints.load_dualstylegan``)::

    generator.*        the intrinsic StyleGAN2 (``stylegan2.Generator``), 18 W+ codes at 1024
    style.{1..n_mlp-6} structure transform T_s on the extrinsic code (style.0 is PixelNorm)
    res.{k}            one entry per latent index k = 0..n_latent-1:
                       k <= res_index (6): ModRes ``AdaResBlock`` after the styled conv k
                         (conv.0.weight, conv.1.bias, conv2.*, norm.style.*, norm2.style.*)
                       k >  res_index:     colour transform T_c, an ``EqualLinear`` mixed into
                         the W code of conv / ToRGB k

Latent index k of each synthesis layer: conv1 (4x4) -> 0, to_rgb1 -> 1; at resolution
r = 8 * 2**j the two styled convs -> 2j+1, 2j+2 and its ToRGB -> 2j+3. Layer k uses the
extrinsic path when ``use_res`` and ``fuse_index >= max(k, 1)``, with weight
``interp_weights[k]`` (0 = intrinsic StyleGAN2 only, 1 = full art style).

Interface for the rest of Style-A (motion generator, content encoder, refinement):

- ``CHANNELS(size, channel_multiplier) -> dict[int, int]`` (from ``stylegan2``): feature
  channels per resolution (4..32 -> 512, 64 -> 256*cm, 128 -> 128*cm, ...).
- ``features_at(instyles, exstyles, resolution=64, **options) -> (feature_map, rgb_skip)``:
  synthesis up to and including the styled convs (and their ModRes) and the ToRGB at
  ``resolution``; ``feature_map`` is (B, CHANNELS[r], r, r) and ``rgb_skip`` (B, 3, r, r) is
  the running RGB image at that resolution (warp it along with the features).
- ``synthesize_from(feature_map, rgb_skip, instyles, exstyles, resolution=64, skips=None,
  **options) -> image (B, 3, size, size)``: the remaining levels. ``skips[r]``
  (B, CHANNELS[r], r, r) for r > resolution is added to the features after the styled convs
  at r, before that level's ToRGB (the content encoder's multi-scale skips, as in VToonify).
  ``features_at`` then ``synthesize_from`` without edits equals ``forward`` exactly.
- ``options`` are ``forward``'s style keywords (``use_res``, ``z_plus_latent``,
  ``input_is_latent``, ``interp_weights``, ``fuse_index``, ``truncation``,
  ``truncation_latent``, ``inject_index``, ``noise``, ``randomize_noise``); in these two
  methods ``randomize_noise`` defaults to False (the fixed ``noises`` buffers), so rendering
  is deterministic. Pass the same options to both halves.

Style codes as in DualStyleGAN's ``style_transfer.py``: ``instyles`` is ``[code]`` with the
pSp encoder's z+ code (``z_plus_latent=True``) or W+ code (``input_is_latent=True``);
``exstyles`` is the art style in W+, i.e. ``extrinsic_codes(z_plus)`` of a row of
``exstyle_code.npy``; the release uses ``truncation=0.75, truncation_latent=0`` and
``interp_weights=[0.75] * 7 + [1] * 11``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from s2t.checkpoint import ConfigMixin
from s2t.style_a.neural.layers import BLUR_KERNEL, ConvLayer, EqualLinear, PixelNorm
from s2t.style_a.neural.stylegan2 import CHANNELS, DiscriminatorConfig, Generator, StyleGAN2Config

__all__ = ["CHANNELS", "AdaResBlock", "AdaptiveInstanceNorm", "DualStyleGAN", "DualStyleGANConfig"]


@dataclass(frozen=True)
class DualStyleGANConfig(ConfigMixin):
    """Hyper-parameters; the defaults are the public 1024 release (``DualStyleGAN(1024, 512, 8, 2, res_index=6)``).

    The one place the generator's shape is written down: Style-A's config nests it, and the
    StyleGAN2 generator's and discriminator's configs are derived from it.
    """

    config_name = "DualStyleGAN config"

    size: int = 1024
    style_dim: int = 512
    n_mlp: int = 8
    channel_multiplier: int = 2
    res_index: int = 6
    channel_max: int = 512
    channel_base: int = 16384
    blur_kernel: tuple[int, ...] = BLUR_KERNEL

    def generator_config(self) -> StyleGAN2Config:
        return StyleGAN2Config(size=self.size, style_dim=self.style_dim, n_mlp=self.n_mlp,
                               channel_multiplier=self.channel_multiplier, channel_max=self.channel_max,
                               channel_base=self.channel_base, blur_kernel=self.blur_kernel)

    def discriminator_config(self) -> DiscriminatorConfig:
        """The StyleGAN2 discriminator for this generator's images (Style-A's adversarial loss)."""
        return DiscriminatorConfig(size=self.size, channel_multiplier=self.channel_multiplier,
                                   channel_max=self.channel_max, channel_base=self.channel_base,
                                   blur_kernel=self.blur_kernel)


class AdaptiveInstanceNorm(nn.Module):
    """Instance norm whose scale and shift come from a style vector through a plain ``nn.Linear`` (``style``)."""

    def __init__(self, channels: int, style_dim: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.style = nn.Linear(style_dim, channels * 2)
        with torch.no_grad():
            self.style.bias[:channels] = 1
            self.style.bias[channels:] = 0

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        gamma, beta = self.style(style)[:, :, None, None].chunk(2, 1)
        return gamma * self.norm(x) + beta


class AdaResBlock(nn.Module):
    """ModRes: ``x + w * conv2(AdaIN2(conv(AdaIN(x, s)), s))``; returns ``x`` untouched when ``w == 0``."""

    def __init__(self, channels: int, style_dim: int):
        super().__init__()
        self.conv = ConvLayer(channels, channels, 3)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.norm = AdaptiveInstanceNorm(channels, style_dim)
        self.norm2 = AdaptiveInstanceNorm(channels, style_dim)
        with torch.no_grad():  # near-zero filters: a fresh block barely changes the features
            self.conv[0].weight.mul_(0.01)
            self.conv2[0].weight.mul_(0.01)

    def forward(self, x: Tensor, style: Tensor, w: float = 1.0) -> Tensor:
        if w == 0:
            return x
        out = self.conv2(self.norm2(self.conv(self.norm(x, style)), style))
        return out * w + x


def _identity_linear(dim: int) -> EqualLinear:
    """A colour-transform ``EqualLinear`` initialised near the identity (its run-time scale is 1/sqrt(dim))."""
    layer = EqualLinear(dim, dim)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(dim) * dim ** 0.5 + torch.randn(dim, dim) * 0.01)
    return layer


@dataclass
class _Codes:
    """Everything one synthesis pass needs besides the features: codes, path weights, noise."""

    latent: Tensor                 # (B, n_latent, D) intrinsic W+
    res_styles: Tensor | None      # (B, n_latent, D) extrinsic codes after T_s (ModRes AdaIN input)
    ada_styles: Tensor | None      # (B, n_latent, D) extrinsic W+ codes (colour transform input)
    weights: list[float]
    fuse_index: int
    noise: list[Tensor | None]


class DualStyleGAN(nn.Module):
    """Intrinsic StyleGAN2 + extrinsic style path; ``forward`` follows DualStyleGAN's calling convention."""

    def __init__(self, config: DualStyleGANConfig = DualStyleGANConfig()):
        super().__init__()
        self.config = config
        dim = config.style_dim
        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(dim, dim, lr_mul=0.01, activation="fused_lrelu") for _ in range(config.n_mlp - 6)])
        self.generator = Generator(config.generator_config())
        self.res_index = config.res_index // 2 * 2
        self.size = self.generator.size
        self.style_dim = dim
        self.log_size = self.generator.log_size
        self.num_layers = self.generator.num_layers
        self.n_latent = self.generator.n_latent
        self.channels = self.generator.channels
        self.res = nn.ModuleList([AdaResBlock(self.channels[4], dim)])
        for k in range(1, self.n_latent - 1):
            r = 2 ** ((k + 1) // 2 + 2)  # resolution of styled conv k
            self.res.append(AdaResBlock(self.channels[r], dim) if k <= self.res_index else _identity_linear(dim))
        self.res.append(_identity_linear(dim))  # the last ToRGB

    def extrinsic_codes(self, z_plus: Tensor) -> Tensor:
        """Map extrinsic z+ codes (B, n_latent, D), e.g. from ``exstyle_code.npy``, to W+ with the intrinsic mapping."""
        return self.generator.style(z_plus.reshape(-1, z_plus.shape[-1])).reshape(z_plus.shape)

    def mean_latent(self, n: int) -> Tensor:
        return self.generator.mean_latent(n)

    def make_noise(self) -> list[Tensor]:
        return self.generator.make_noise()

    def _codes(self, instyles: Sequence[Tensor], exstyles: Tensor | None, inject_index: int | None = None,
               truncation: float = 1.0, truncation_latent: Tensor | float | None = None,
               input_is_latent: bool = False, noise: Sequence[Tensor | None] | None = None,
               randomize_noise: bool = True, z_plus_latent: bool = False, use_res: bool = True,
               fuse_index: int | None = None, interp_weights: Sequence[float] | None = None) -> _Codes:
        latent = self.generator.latent_codes(instyles, inject_index, truncation, truncation_latent,
                                             input_is_latent, z_plus_latent)
        weights = [1.0] * self.n_latent if interp_weights is None else list(interp_weights)
        if len(weights) < self.n_latent:
            raise ValueError(f"interp_weights needs {self.n_latent} entries, got {len(weights)}")
        res_styles = ada_styles = None
        if use_res:
            if exstyles is None:
                raise ValueError("use_res=True needs exstyles (extrinsic W+ codes)")
            if exstyles.ndim == 3:
                ada_styles = exstyles
                res_styles = self.style(exstyles.reshape(-1, exstyles.shape[-1])).reshape(exstyles.shape)
            else:
                ada_styles = exstyles.unsqueeze(1).repeat(1, self.n_latent, 1)
                res_styles = self.style(exstyles).unsqueeze(1).repeat(1, self.n_latent, 1)
        return _Codes(latent, res_styles, ada_styles, weights,
                      self.n_latent if fuse_index is None else fuse_index,
                      self.generator.noise_inputs(noise, randomize_noise))

    def _extrinsic(self, k: int, codes: _Codes) -> bool:
        return codes.res_styles is not None and codes.fuse_index >= max(k, 1)

    def _style(self, k: int, codes: _Codes) -> Tensor:
        """W code of layer k: the colour-transformed extrinsic code blended in above ``res_index``."""
        if k > self.res_index and self._extrinsic(k, codes):
            w = codes.weights[k]
            return w * self.res[k](codes.ada_styles[:, k]) + (1 - w) * codes.latent[:, k]
        return codes.latent[:, k]

    def _modres(self, k: int, x: Tensor, codes: _Codes) -> Tensor:
        if k <= self.res_index and self._extrinsic(k, codes):
            return self.res[k](x, codes.res_styles[:, k], codes.weights[k])
        return x

    def _level(self, j: int, out: Tensor | None, skip: Tensor | None, codes: _Codes,
               extra: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Synthesis level j (resolution 4 * 2**j): styled convs (+ModRes), optional ``extra`` features, ToRGB."""
        g = self.generator
        if j == 0:
            out = g.conv1(g.input(codes.latent), self._style(0, codes), noise=codes.noise[0])
            out = self._modres(0, out, codes)
            return out, g.to_rgb1(out, codes.latent[:, 1])
        k = 2 * j - 1
        for n, conv in enumerate((g.convs[k - 1], g.convs[k])):
            out = conv(out, self._style(k + n, codes), noise=codes.noise[k + n])
            out = self._modres(k + n, out, codes)
        if extra is not None:
            out = out + extra
        return out, g.to_rgbs[j - 1](out, self._style(k + 2, codes), skip)

    def _level_of(self, resolution: int) -> int:
        if resolution not in self.channels:
            raise ValueError(f"resolution must be one of {sorted(self.channels)}, got {resolution}")
        return resolution.bit_length() - 3

    def forward(self, styles: Sequence[Tensor], exstyles: Tensor | None, return_latents: bool = False,
                inject_index: int | None = None, truncation: float = 1.0,
                truncation_latent: Tensor | float | None = None, input_is_latent: bool = False,
                noise: Sequence[Tensor | None] | None = None, randomize_noise: bool = True,
                z_plus_latent: bool = False, use_res: bool = True, fuse_index: int | None = None,
                interp_weights: Sequence[float] | None = None) -> tuple[Tensor, Tensor | None]:
        """Image (B, 3, size, size) and, with ``return_latents``, the intrinsic W+ codes.

        ``styles``: list of one or two intrinsic codes (z, z+ with ``z_plus_latent``, or W/W+
        with ``input_is_latent``); ``exstyles``: extrinsic W or W+ codes (may be None when
        ``use_res=False``). ``fuse_index`` (default n_latent) limits the extrinsic path to
        layers ``k <= fuse_index``; ``interp_weights[k]`` blends the two paths per layer.
        """
        codes = self._codes(styles, exstyles, inject_index, truncation, truncation_latent, input_is_latent, noise,
                            randomize_noise, z_plus_latent, use_res, fuse_index, interp_weights)
        out = skip = None
        for j in range(self.log_size - 1):
            out, skip = self._level(j, out, skip, codes)
        return skip, (codes.latent if return_latents else None)

    def features_at(self, instyles: Sequence[Tensor], exstyles: Tensor | None, resolution: int = 64,
                    randomize_noise: bool = False, **options) -> tuple[Tensor, Tensor]:
        """Feature map (B, CHANNELS[r], r, r) and RGB skip (B, 3, r, r) after the whole level r = ``resolution``."""
        codes = self._codes(instyles, exstyles, randomize_noise=randomize_noise, **options)
        out = skip = None
        for j in range(self._level_of(resolution) + 1):
            out, skip = self._level(j, out, skip, codes)
        return out, skip

    def synthesize_from(self, feature_map: Tensor, rgb_skip: Tensor, instyles: Sequence[Tensor],
                        exstyles: Tensor | None, resolution: int = 64, skips: dict[int, Tensor] | None = None,
                        randomize_noise: bool = False, **options) -> Tensor:
        """Continue synthesis above ``resolution`` from (possibly edited) features; returns (B, 3, size, size).

        ``skips[r]`` (B, CHANNELS[r], r, r), for resolutions r > ``resolution``, is added to the
        features after the styled convs of level r.
        """
        start = self._level_of(resolution)
        expected = (feature_map.shape[0], self.channels[resolution], resolution, resolution)
        if tuple(feature_map.shape) != expected:
            raise ValueError(f"feature_map must be {expected}, got {tuple(feature_map.shape)}")
        skips = skips or {}
        for r, s in skips.items():
            if r <= resolution or r not in self.channels:
                raise ValueError(f"skips are for resolutions above {resolution} up to {self.size}, got {r}")
            if tuple(s.shape[1:]) != (self.channels[r], r, r):
                raise ValueError(f"skips[{r}] must be (B, {self.channels[r]}, {r}, {r}), got {tuple(s.shape)}")
        codes = self._codes(instyles, exstyles, randomize_noise=randomize_noise, **options)
        out, skip = feature_map, rgb_skip
        for j in range(start + 1, self.log_size - 1):
            out, skip = self._level(j, out, skip, codes, skips.get(4 * 2 ** j))
        return skip
