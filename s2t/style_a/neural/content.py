"""The content encoder Ec: multi-scale features of the identity image for the generator's
skip connections (paper, "Style-A"; the encoder side of VToonify, Yang et al. 2022b).

pSp's latent code loses texture detail; Ec hands it back to StyleGAN G as one feature map per
resolution above 64x64, which the generator adds after its styled convs at that resolution.
The encoder is a plain conv pyramid from the image size down to the smallest skip resolution,
its width at each resolution being the generator's channel count there. Each skip goes out
through a zero-initialised 1x1 projection, so an untrained Ec adds nothing and training starts
from the pretrained generator's behaviour.

The identity image is the same for every frame of a video, so Ec runs once per video.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from s2t.checkpoint import ConfigMixin


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


@dataclass(frozen=True)
class ContentConfig(ConfigMixin):
    """Everything needed to rebuild a :class:`ContentEncoder`.

    ``channels``: the generator's channels per resolution (StyleGAN2's table), which must cover
    every resolution from the smallest skip up to ``image_size``. ``skip_resolutions``: where
    features go out, each a power of two in (64, image_size]; empty means every resolution
    from 128 to ``image_size``. Keys given as strings (from JSON) are accepted.
    """

    image_size: int
    channels: dict[int, int]
    skip_resolutions: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", {int(r): int(c) for r, c in self.channels.items()})
        if not _is_power_of_two(self.image_size) or self.image_size < 128:
            raise ValueError(f"image_size must be a power of two >= 128, got {self.image_size}")
        skips = self.skip_resolutions or tuple(2**i for i in range(7, self.image_size.bit_length()))
        skips = tuple(sorted({int(r) for r in skips}, reverse=True))
        object.__setattr__(self, "skip_resolutions", skips)
        bad = [r for r in skips if not _is_power_of_two(r) or not 64 < r <= self.image_size]
        if bad:
            raise ValueError(f"skip resolutions must be powers of two in (64, {self.image_size}], got {bad}")
        missing = [r for r in self.resolutions if r not in self.channels]
        if missing:
            raise ValueError(f"channels has no entry for resolutions {missing}; given {sorted(self.channels)}")

    @property
    def resolutions(self) -> list[int]:
        """The encoder's levels, largest first: ``image_size`` down to the smallest skip."""
        smallest = min(self.skip_resolutions)
        return [self.image_size // 2**i for i in range((self.image_size // smallest).bit_length())]


class _ResBlock(nn.Module):
    """Two 3x3 convs with a residual connection, at constant width and resolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(channels, channels, 3, 1, 1)
        )
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class ContentEncoder(nn.Module):
    """Ec: ``forward(image (B, 3, S, S) in [-1, 1])`` -> ``{r: (B, channels[r], r, r)}`` for each
    skip resolution ``r`` (S = ``image_size``)."""

    def __init__(self, config: ContentConfig) -> None:
        super().__init__()
        self.config = config
        levels = config.resolutions
        width = [config.channels[r] for r in levels]
        self.stem = nn.Sequential(nn.Conv2d(3, width[0], 3, 1, 1), nn.LeakyReLU(0.2))
        self.blocks = nn.ModuleList(_ResBlock(w) for w in width)
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(width[i], width[i + 1], 3, 2, 1), nn.LeakyReLU(0.2))
            for i in range(len(levels) - 1)
        )
        self.skip_out = nn.ModuleDict(
            {str(r): nn.Conv2d(config.channels[r], config.channels[r], 1) for r in config.skip_resolutions}
        )
        for projection in self.skip_out.values():
            nn.init.zeros_(projection.weight)
            nn.init.zeros_(projection.bias)

    def forward(self, image: torch.Tensor) -> dict[int, torch.Tensor]:
        size = self.config.image_size
        if image.dim() != 4 or tuple(image.shape[1:]) != (3, size, size):
            raise ValueError(f"image must be (B, 3, {size}, {size}), got {tuple(image.shape)}")
        skips = {}
        x = self.stem(image)
        for i, resolution in enumerate(self.config.resolutions):
            if i > 0:
                x = self.down[i - 1](x)
            x = self.blocks[i](x)
            if resolution in self.config.skip_resolutions:
                skips[resolution] = self.skip_out[str(resolution)](x)
        return skips
