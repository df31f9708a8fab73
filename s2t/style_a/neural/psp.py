"""The pSp encoder Es (Richardson et al. 2021): a face image to one latent code per generator layer.

Style-A encodes the identity photo (and the art-style picture) with the pretrained, frozen
pSp encoder that DualStyleGAN ships (``checkpoint/encoder.pt``), so module names and the
state-dict layout here follow the public pSp code (``GradualStyleEncoder`` on an IR-SE50
backbone, wrapped in ``pSp`` whose children are ``encoder`` and ``decoder``):

- ``input_layer``: 3x3 conv (no bias) -> BatchNorm -> PReLU at full input resolution;
- ``body``: ArcFace's IR(-SE) residual units in four stages of 64, 128, 256, 512 channels,
  each stage halving the resolution (256 -> 128 -> 64 -> 32 -> 16 for the 256 input);
- a feature pyramid over the last three stages: ``latlayer1``/``latlayer2`` project the
  256- and 128-channel maps to 512 and add them to the upsampled coarser map;
- ``styles``: one ``GradualStyleBlock`` per latent, stride-2 convs down to 1x1 and an
  equalised linear layer. Latents 0-2 (coarse) read the 16x16 map, 3-6 (middle) the 32x32
  map, 7+ (fine) the 64x64 map.

The generator at resolution ``size`` has ``2 * log2(size) - 2`` latents (18 at 1024). The
encoder predicts them as offsets from the checkpoint's ``latent_avg`` when it has one.
Note that DualStyleGAN's ``encoder.pt`` predicts Z+ codes (the generator's mapping network
is applied per latent), while pSp's own releases predict W+ codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from s2t.style_a.neural.layers import EqualLinear

# Residual units in each of the four stages of ArcFace's IR-50, IR-100 and IR-152 backbones.
STAGE_UNITS = {50: (3, 4, 14, 3), 100: (3, 13, 30, 3), 152: (3, 8, 36, 3)}
_MODES = ("ir", "ir_se")
_COARSE_END = 3  # latents [0, 3) read the coarsest map
_MIDDLE_END = 7  # latents [3, 7) the middle one, the rest the finest
_SE_REDUCTION = 16


@dataclass(frozen=True)
class PSPConfig:
    """Everything needed to rebuild a :class:`PSPEncoder`.

    ``size``: the generator's output resolution, which fixes the number of latents.
    ``num_layers``: IR backbone depth (50, 100 or 152). ``mode``: ``"ir_se"`` (with
    squeeze-excitation, the public checkpoints) or ``"ir"``. ``input_nc``: image channels.
    ``input_size``: the side the image is resized to before encoding (256 for the public
    checkpoints). ``width``: the backbone's first-stage channels; the stages have
    ``width * (1, 2, 4, 8)`` channels and the latents ``8 * width`` values. The public
    model has 64 (512-d latents); tests use 16 to run a small network with the same names.
    """

    size: int = 1024
    num_layers: int = 50
    mode: str = "ir_se"
    input_nc: int = 3
    input_size: int = 256
    width: int = 64

    def __post_init__(self) -> None:
        if self.size < 8 or self.size & (self.size - 1):
            raise ValueError(f"size must be a power of two >= 8, got {self.size}")
        if self.num_layers not in STAGE_UNITS:
            raise ValueError(f"num_layers must be one of {sorted(STAGE_UNITS)}, got {self.num_layers}")
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}")
        if self.width < _SE_REDUCTION:
            raise ValueError(f"width must be >= {_SE_REDUCTION} (squeeze-excitation reduction), got {self.width}")
        if self.input_size < 16:
            raise ValueError(f"input_size must be >= 16 (the backbone halves it four times), got {self.input_size}")

    @property
    def n_styles(self) -> int:
        """Latents the generator takes: two per resolution from 4 to ``size``, less two."""
        return int(math.log2(self.size)) * 2 - 2

    @property
    def style_dim(self) -> int:
        return 8 * self.width


class _SEModule(nn.Module):
    """Squeeze-excitation: channel gates from globally pooled features."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))
        return x * gate


class _BottleneckIR(nn.Module):
    """ArcFace's improved residual unit (BN-conv-PReLU-conv-BN[-SE]); the stride is on the second conv."""

    def __init__(self, in_channels: int, depth: int, stride: int, se: bool) -> None:
        super().__init__()
        if in_channels == depth:
            # A 1x1 max-pool is plain subsampling; kept as a module because the public code has one.
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth))
        layers = [
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
        ]
        if se:
            layers.append(_SEModule(depth, _SE_REDUCTION))
        self.res_layer = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class _GradualStyleBlock(nn.Module):
    """Stride-2 convs from a ``spatial``-sized map down to 1x1, then an equalised linear layer."""

    def __init__(self, in_channels: int, out_channels: int, spatial: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(int(math.log2(spatial))):
            layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, 2, 1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*layers)
        self.linear = EqualLinear(out_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(x)  # (B, C, 1, 1) for a map of the designed size or smaller
        return self.linear(x.reshape(x.shape[0], -1))


class GradualStyleEncoder(nn.Module):
    """pSp's encoder network: image ``(B, input_nc, S, S)`` -> codes ``(B, n_styles, style_dim)``.

    The pyramid taps the last unit of stages 2, 3 and 4 (units 6, 20 and 23 of IR-50, where
    the public code hard-codes those indices). The style blocks are built for the 256 input
    (16, 32, 64 pixel maps); a smaller input gives smaller maps, which the same convs still
    reduce to 1x1, so tests run the real network on small images.
    """

    def __init__(self, config: PSPConfig) -> None:
        super().__init__()
        self.config = config
        width = config.width
        self.input_layer = nn.Sequential(
            nn.Conv2d(config.input_nc, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.PReLU(width))
        units: list[nn.Module] = []
        self._taps: list[int] = []
        in_channels = width
        for stage, count in enumerate(STAGE_UNITS[config.num_layers]):
            depth = width * 2**stage
            for i in range(count):
                units.append(_BottleneckIR(in_channels if i == 0 else depth, depth, 2 if i == 0 else 1,
                                           se=config.mode == "ir_se"))
            in_channels = depth
            if stage > 0:
                self._taps.append(len(units) - 1)
        self.body = nn.Sequential(*units)

        dim = config.style_dim
        spatial = [16 if i < _COARSE_END else 32 if i < _MIDDLE_END else 64 for i in range(config.n_styles)]
        self.styles = nn.ModuleList(_GradualStyleBlock(dim, dim, s) for s in spatial)
        self.latlayer1 = nn.Conv2d(4 * width, dim, 1)
        self.latlayer2 = nn.Conv2d(2 * width, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_layer(x)
        taps = []
        for i, unit in enumerate(self.body):
            x = unit(x)
            if i in self._taps:
                taps.append(x)
        c1, c2, c3 = taps  # 1/4, 1/8 and 1/16 of the input side, 2, 4 and 8 times width channels

        p2 = _upsample_add(c3, self.latlayer1(c2))
        p1 = _upsample_add(p2, self.latlayer2(c1))
        maps = [c3] * _COARSE_END + [p2] * (_MIDDLE_END - _COARSE_END) + [p1] * (len(self.styles) - _MIDDLE_END)
        latents = [style(m) for style, m in zip(self.styles, maps)]
        return torch.stack(latents, dim=1)


def _upsample_add(coarse: torch.Tensor, lateral: torch.Tensor) -> torch.Tensor:
    """Bilinear upsampling (align_corners, as pSp) to the lateral map's size, then a sum."""
    return F.interpolate(coarse, size=lateral.shape[-2:], mode="bilinear", align_corners=True) + lateral


class PSPEncoder(nn.Module):
    """The pSp wrapper: ``encoder`` (so state-dict keys read ``encoder.*``) and the average latent.

    ``latent_avg`` (``(n_styles, style_dim)`` or ``(style_dim,)``) is a non-persistent buffer:
    it follows ``.to(device)`` but stays out of ``state_dict()``, as in the public checkpoints,
    which keep it as a separate top-level entry.
    """

    latent_avg: torch.Tensor | None

    def __init__(self, config: PSPConfig, latent_avg: torch.Tensor | None = None) -> None:
        super().__init__()
        self.config = config
        self.encoder = GradualStyleEncoder(config)
        if latent_avg is not None:
            expected = (config.n_styles, config.style_dim)
            if latent_avg.shape not in (expected, expected[1:]):
                raise ValueError(f"latent_avg must have shape {expected} or {expected[1:]}, "
                                 f"got {tuple(latent_avg.shape)}")
            latent_avg = latent_avg.detach().clone()
        self.register_buffer("latent_avg", latent_avg, persistent=False)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """Latent codes ``(B, n_styles, style_dim)`` for images ``(B, input_nc, H, W)`` in [-1, 1].

        Images of another size are resized to ``input_size``: area averaging when larger (as
        DualStyleGAN feeds its aligned 1024 faces to pSp), bilinear when smaller.
        """
        if image.ndim != 4 or image.shape[1] != self.config.input_nc:
            raise ValueError(f"image must be (B, {self.config.input_nc}, H, W), got {tuple(image.shape)}")
        side = self.config.input_size
        height, width = image.shape[-2:]
        if height >= side and width >= side:
            image = F.adaptive_avg_pool2d(image, side)
        else:
            image = F.interpolate(image, size=(side, side), mode="bilinear", align_corners=False)
        codes = self.encoder(image)
        if self.latent_avg is not None:
            codes = codes + self.latent_avg
        return codes

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encode(image)
