"""The refinement network R: corrects the warped 64x64 feature map ``m̂`` (paper, "Style-A").

The content encoder's skips come from the unwarped identity image, so they do not line up
with ``m̂`` and would leave ghosts; R learns to adjust ``m̂`` so the generator's later layers
agree with them. It is a small residual conv net at 64x64 over ``m̂``, optionally
concatenated with the unwarped map ``m`` and the flow (which tell it where things moved
from), and returns ``m̂ + correction``. The last conv is zero-initialised, so an untrained R
is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from s2t.checkpoint import ConfigMixin

FEATURE_SIZE = 64


@dataclass(frozen=True)
class RefineConfig(ConfigMixin):
    """Everything needed to rebuild a :class:`RefinementNetwork`.

    ``channels``: the generator's channels per resolution; R works on ``channels[64]``.
    ``use_unwarped`` / ``use_flow``: also feed the unwarped map / the 2-channel flow.
    ``hidden``: width of the residual blocks; ``num_blocks``: how many.
    """

    channels: dict[int, int]
    use_unwarped: bool = True
    use_flow: bool = True
    hidden: int = 128
    num_blocks: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", {int(r): int(c) for r, c in self.channels.items()})
        if FEATURE_SIZE not in self.channels:
            raise ValueError(f"channels needs the generator's width at {FEATURE_SIZE}, given {sorted(self.channels)}")
        if self.hidden < 1 or self.num_blocks < 0:
            raise ValueError(f"hidden must be >= 1 and num_blocks >= 0, got {self.hidden}, {self.num_blocks}")

    @property
    def feature_channels(self) -> int:
        return self.channels[FEATURE_SIZE]

    @property
    def in_channels(self) -> int:
        return self.feature_channels * (2 if self.use_unwarped else 1) + (2 if self.use_flow else 0)


class _ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class RefinementNetwork(nn.Module):
    """R: ``forward(warped (B, C, 64, 64), unwarped=None, flow=None)`` -> refined ``(B, C, 64, 64)``.

    ``unwarped`` (B or 1, C, 64, 64) and ``flow`` (B, 2, 64, 64) are required exactly when the
    config says they are used.
    """

    def __init__(self, config: RefineConfig) -> None:
        super().__init__()
        self.config = config
        self.input = nn.Conv2d(config.in_channels, config.hidden, 3, 1, 1)
        self.blocks = nn.Sequential(*(_ResBlock(config.hidden) for _ in range(config.num_blocks)))
        self.output = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(config.hidden, config.feature_channels, 3, 1, 1))
        nn.init.zeros_(self.output[1].weight)
        nn.init.zeros_(self.output[1].bias)

    def correction(
        self, warped: torch.Tensor, unwarped: torch.Tensor | None = None, flow: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The residual R adds to ``warped``."""
        inputs = [warped]
        optional = (("unwarped", unwarped, self.config.use_unwarped), ("flow", flow, self.config.use_flow))
        for name, tensor, used in optional:
            if used != (tensor is not None):
                raise ValueError(f"{name} must be {'given' if used else 'omitted'}: the config has use_{name}={used}")
            if tensor is not None:
                inputs.append(tensor.expand(warped.shape[0], *tensor.shape[1:]))
        expected = (self.config.feature_channels, FEATURE_SIZE, FEATURE_SIZE)
        if warped.dim() != 4 or tuple(warped.shape[1:]) != expected:
            raise ValueError(f"warped must be (B, {', '.join(map(str, expected))}), got {tuple(warped.shape)}")
        return self.output(self.blocks(self.input(torch.cat(inputs, dim=1))))

    def forward(
        self, warped: torch.Tensor, unwarped: torch.Tensor | None = None, flow: torch.Tensor | None = None
    ) -> torch.Tensor:
        return warped + self.correction(warped, unwarped, flow)
