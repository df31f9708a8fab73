"""The audio encoder: a stack of 2D convolutions over one video frame's mel window.

It has the shape of Wav2Lip's audio encoder as SadTalker reuses it
(``src/audio2exp_models/networks.py``, ``SimpleWrapperV2.audio_encoder``): 13 conv + batch
norm + ReLU units, residual where the shape allows, that reduce the ``(1, 80, 16)`` window
(mel bins x 16 mel frames) to a ``(16 w, 1, 1)`` feature, with ``w = 32`` there. ``width``
scales every layer; at ``width=32`` the module names and tensor shapes are those of
SadTalker's ``audio_encoder.*`` weights, so they load with ``load_state_dict``.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvUnit(nn.Module):
    """Conv2d + BatchNorm2d (as ``conv_block``), then ReLU, optionally with a skip connection."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int | tuple[int, int], padding: int,
                 residual: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, padding), nn.BatchNorm2d(cout))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        return torch.relu(out + x if self.residual else out)


class AudioEncoder(nn.Module):
    """Mel windows ``(N, 80, 16)`` (or ``(N, 1, 80, 16)``) -> features ``(N, 16 * width)``.

    The strides take the 80 x 16 window to 27 x 16, 9 x 6, 3 x 3 and, with the last
    unpadded 3 x 3 convolution, 1 x 1.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (width * k for k in (1, 2, 4, 8, 16))
        self.width, self.out_dim = width, c5
        self.audio_encoder = nn.Sequential(
            ConvUnit(1, c1, 3, 1, 1),
            ConvUnit(c1, c1, 3, 1, 1, residual=True),
            ConvUnit(c1, c1, 3, 1, 1, residual=True),
            ConvUnit(c1, c2, 3, (3, 1), 1),
            ConvUnit(c2, c2, 3, 1, 1, residual=True),
            ConvUnit(c2, c2, 3, 1, 1, residual=True),
            ConvUnit(c2, c3, 3, 3, 1),
            ConvUnit(c3, c3, 3, 1, 1, residual=True),
            ConvUnit(c3, c3, 3, 1, 1, residual=True),
            ConvUnit(c3, c4, 3, (3, 2), 1),
            ConvUnit(c4, c4, 3, 1, 1, residual=True),
            ConvUnit(c4, c5, 3, 1, 0),
            ConvUnit(c5, c5, 1, 1, 0),
        )

    def forward(self, mel_windows: torch.Tensor) -> torch.Tensor:
        if mel_windows.dim() == 3:
            mel_windows = mel_windows.unsqueeze(1)  # (N, 80, 16) -> (N, 1, 80, 16)
        return self.audio_encoder(mel_windows).flatten(1)  # (N, 16 w, 1, 1) -> (N, 16 w)

    def extra_repr(self) -> str:
        return f"width={self.width}, out_dim={self.out_dim}"


__all__ = ["AudioEncoder"]
