"""The motion generator Gm: identity image + a window of coefficients -> a flow field that
warps StyleGAN's 64x64 feature map ``m`` into ``m̂`` (paper, "Style-A: Art Style Transfer").

Following the observation of StyleHEAT (Yin et al. 2022) that the 64x64 layer carries pose
and expression, Gm has three parts:

* an **image encoder**: convs over the identity image, first down to 64x64, then an hourglass
  of feature maps ``x_i`` at 64, 32, 16, ... (the scales that align with the 64x64 map);
* a **coefficient encoder**: PIRenderer's / SadTalker's mapping net over a window of frames
  centred on the current one (a kernel-7 Conv1d, then dilated kernel-3 Conv1d layers with
  cropped residuals, average-pooled over time) giving one descriptor per frame, from which a
  linear layer per scale makes the AdaIN parameters ``(y_s, y_b)``;
* a **flow decoder**: upsamples the coarsest AdaIN'd map, merging each finer one, and ends
  with a zero-initialised conv to a 2-channel flow at 64x64, so an untrained Gm does not move
  anything.

The flow is in ``grid_sample``'s convention: per pixel, an offset in normalised coordinates
(channel 0 along x / width, channel 1 along y / height) added to the identity sampling grid;
:func:`warp` applies it. The image encoder's features do not depend on the frame, so a video
calls :meth:`MotionGenerator.encode_image` once and :meth:`MotionGenerator.decode_flow` per
frame (a batch of one image's features broadcasts against a batch of windows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from s2t.checkpoint import ConfigMixin

FEATURE_SIZE = 64  # the resolution of StyleGAN's feature map m that the flow warps


@dataclass(frozen=True)
class MotionConfig(ConfigMixin):
    """Everything needed to rebuild a :class:`MotionGenerator`.

    ``encoder_size``: the identity image is resized to this (a power of two >= 64) before the
    convs, so any input resolution works and the cost does not grow with the output size.
    ``base_channels`` is the width at ``encoder_size``; it doubles at each halving up to
    ``max_channels``. ``num_down``: hourglass levels below 64x64 (3: maps at 64, 32, 16, 8).
    ``coeff_dim``: values per frame (expression channels + 6 pose). ``window``: frames per
    coefficient window; it must outlast the mapping net's receptive field (7 + 6 per layer).
    """

    config_name = "motion config"

    coeff_dim: int = 58
    window: int = 27
    encoder_size: int = 256
    base_channels: int = 32
    max_channels: int = 256
    num_down: int = 3
    descriptor_dim: int = 256
    coeff_layers: int = 3

    def __post_init__(self) -> None:
        for name in ("coeff_dim", "window", "base_channels", "max_channels", "descriptor_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.encoder_size < FEATURE_SIZE or self.encoder_size & (self.encoder_size - 1):
            raise ValueError(f"encoder_size must be a power of two >= {FEATURE_SIZE}, got {self.encoder_size}")
        if not 1 <= self.num_down <= 4:
            raise ValueError(f"num_down must be in 1..4 (coarsest map 32..4 px), got {self.num_down}")
        if self.coeff_layers < 0:
            raise ValueError(f"coeff_layers must be >= 0, got {self.coeff_layers}")
        if self.window < self.min_window:
            raise ValueError(
                f"window must be >= {self.min_window} for {self.coeff_layers} coefficient layers, got {self.window}"
            )

    @property
    def min_window(self) -> int:
        """Shortest window the mapping net accepts: kernel 7, then 6 frames less per layer."""
        return 7 + 6 * self.coeff_layers

    def channels_at(self, size: int) -> int:
        """Image-encoder width at spatial ``size``."""
        halvings = int(math.log2(self.encoder_size // size))
        return min(self.base_channels * 2**halvings, self.max_channels)



def identity_grid(height: int, width: int, batch: int = 1, device=None, dtype=torch.float32) -> torch.Tensor:
    """The sampling grid ``(B, H, W, 2)`` that :func:`F.grid_sample` maps to the identity:
    the pixel centres ``(2j + 1) / W - 1`` in normalised (x, y) coordinates for
    ``align_corners=False``. Written out rather than taken from ``F.affine_grid`` because these
    values are exact in floating point for power-of-two sizes, so a zero flow is an exact copy.
    """
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1 - width) / width
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1 - height) / height
    grid = torch.stack([xs.expand(height, width), ys[:, None].expand(height, width)], dim=-1)
    return grid.expand(batch, height, width, 2)


def identity_flow(batch: int = 1, size: int = FEATURE_SIZE, device=None, dtype=torch.float32) -> torch.Tensor:
    """The flow ``(B, 2, size, size)`` that leaves a map unchanged under :func:`warp`: all zeros."""
    return torch.zeros(batch, 2, size, size, device=device, dtype=dtype)


def pixels_to_flow(offsets: torch.Tensor) -> torch.Tensor:
    """Convert offsets in pixels ``(B, 2, H, W)`` (x then y) to :func:`warp`'s normalised flow.

    With ``align_corners=False`` the normalised range [-1, 1] spans the W (or H) pixels, so
    one pixel is ``2 / W`` along x and ``2 / H`` along y. Output pixel (i, j) then samples
    the input at (i + dy, j + dx).
    """
    height, width = offsets.shape[-2:]
    return offsets * offsets.new_tensor([2.0 / width, 2.0 / height])[:, None, None]


def warp(feature_map: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Resample ``feature_map`` (B, C, H, W) at ``identity grid + flow`` (flow (B, 2, H, W)).

    ``align_corners=False`` is chosen because it makes the normalised flow independent of the
    resolution (a flow resized from 64 to 128 px means the same motion relative to the face)
    and matches ``F.interpolate``'s default; with the exact pixel-centre identity grid a zero
    flow returns the input unchanged. Bilinear sampling with ``border`` padding, so content
    pulled from outside the map repeats its edge instead of fading to zero.
    A batch of one map broadcasts against a batch of flows.
    """
    if flow.shape[1] != 2 or flow.shape[-2:] != feature_map.shape[-2:]:
        height, width = feature_map.shape[-2:]
        raise ValueError(f"flow must be (B, 2, {height}, {width}), got {tuple(flow.shape)}")
    batch = max(feature_map.shape[0], flow.shape[0])
    feature_map = feature_map.expand(batch, *feature_map.shape[1:])
    grid = identity_grid(*flow.shape[-2:], batch=batch, device=flow.device, dtype=flow.dtype)
    grid = grid + flow.expand(batch, *flow.shape[1:]).permute(0, 2, 3, 1)
    return F.grid_sample(feature_map, grid, mode="bilinear", padding_mode="border", align_corners=False)


def centred_windows(sequence: torch.Tensor, window: int) -> torch.Tensor:
    """Windows ``(T, window, D)`` centred on each frame of ``sequence`` (T, D); frames beyond
    the ends repeat the first / last one (as SadTalker's renderer pads its coefficients)."""
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number of frames, got {window}")
    half = window // 2
    padded = torch.cat([sequence[:1].expand(half, -1), sequence, sequence[-1:].expand(half, -1)])
    return padded.unfold(0, window, 1).transpose(1, 2)


def adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``AdaIN(x, y) = y_s * (x - mean(x)) / std(x) + y_b`` per sample and channel, with
    ``scale`` / ``bias`` (B, C). A batch of one ``x`` broadcasts against a batch of ``y``."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return scale[:, :, None, None] * (x - mean) / std + bias[:, :, None, None]


def _conv_block(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1), nn.LeakyReLU(0.2))


class CoefficientEncoder(nn.Module):
    """PIRenderer's mapping net: a window ``(B, W, D)`` -> a descriptor ``(B, descriptor_dim)``."""

    def __init__(self, coeff_dim: int, descriptor_dim: int, num_layers: int) -> None:
        super().__init__()
        self.first = nn.Conv1d(coeff_dim, descriptor_dim, kernel_size=7)
        self.layers = nn.ModuleList(
            nn.Sequential(nn.LeakyReLU(0.1), nn.Conv1d(descriptor_dim, descriptor_dim, kernel_size=3, dilation=3))
            for _ in range(num_layers)
        )
        self.min_window = 7 + 6 * num_layers

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        if window.dim() != 3 or window.shape[1] < self.min_window:
            raise ValueError(f"coefficients must be (B, W >= {self.min_window}, D), got {tuple(window.shape)}")
        out = self.first(window.transpose(1, 2))  # (B, D, W) -> (B, desc, W - 6)
        for layer in self.layers:
            out = layer(out) + out[:, :, 3:-3]  # each dilated conv is 6 frames shorter
        return out.mean(dim=2)


class MotionGenerator(nn.Module):
    """Gm: ``forward(image (B, 3, H, W) in [-1, 1], coefficients (B, window, coeff_dim))``
    -> flow ``(B, 2, 64, 64)`` for :func:`warp`."""

    def __init__(self, config: MotionConfig = MotionConfig()) -> None:
        super().__init__()
        self.config = config
        size = config.encoder_size
        self.stem = _conv_block(3, config.channels_at(size))
        stem_down = []
        while size > FEATURE_SIZE:  # strided convs from encoder_size to 64x64
            stem_down.append(_conv_block(config.channels_at(size), config.channels_at(size // 2), stride=2))
            size //= 2
        self.stem_down = nn.Sequential(*stem_down)
        scales = [FEATURE_SIZE // 2**i for i in range(config.num_down + 1)]  # 64, 32, ...
        widths = [config.channels_at(s) for s in scales]
        self.down = nn.ModuleList(_conv_block(widths[i], widths[i + 1], stride=2) for i in range(config.num_down))
        self.coefficients = CoefficientEncoder(config.coeff_dim, config.descriptor_dim, config.coeff_layers)
        self.adain_params = nn.ModuleList(nn.Linear(config.descriptor_dim, 2 * w) for w in widths)
        # up[i]: from the merged map at scales[i + 1] to scales[i], concatenated with x_i
        self.up = nn.ModuleList(
            nn.Sequential(_conv_block(widths[i + 1] + widths[i], widths[i]), _conv_block(widths[i], widths[i]))
            for i in range(config.num_down)
        )
        self.flow_out = nn.Conv2d(widths[0], 2, 3, 1, 1)
        nn.init.zeros_(self.flow_out.weight)
        nn.init.zeros_(self.flow_out.bias)

    def encode_image(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The image encoder: feature maps ``x_i`` at 64, 32, ... px (finest first)."""
        if image.dim() != 4 or image.shape[1] != 3 or image.shape[2] != image.shape[3]:
            raise ValueError(f"image must be (B, 3, H, H), got {tuple(image.shape)}")
        size = self.config.encoder_size
        if image.shape[-1] != size:
            image = F.interpolate(image, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        features = [self.stem_down(self.stem(image))]
        for layer in self.down:
            features.append(layer(features[-1]))
        return features

    def modulate(self, features: list[torch.Tensor], coefficients: torch.Tensor) -> list[torch.Tensor]:
        """AdaIN of each ``x_i`` with ``(y_s, y_b)`` made from the coefficient window.

        ``y_s = 1 + a`` for the linear layer's output ``a``, so a small ``a`` keeps the
        normalised features at unit scale (the usual AdaIN parameterisation, as PIRenderer's).
        """
        descriptor = self.coefficients(coefficients)
        modulated = []
        for x, params in zip(features, self.adain_params):
            scale, bias = params(descriptor).chunk(2, dim=1)
            modulated.append(adain(x, 1.0 + scale, bias))
        return modulated

    def decode_flow(self, features: list[torch.Tensor], coefficients: torch.Tensor) -> torch.Tensor:
        """The coefficient encoder and flow decoder, given :meth:`encode_image`'s features."""
        modulated = self.modulate(features, coefficients)
        h = modulated[-1]
        for i in reversed(range(self.config.num_down)):
            up = F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False)
            h = self.up[i](torch.cat([up, modulated[i]], dim=1))
        return self.flow_out(h)

    def forward(self, image: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
        return self.decode_flow(self.encode_image(image), coefficients)
