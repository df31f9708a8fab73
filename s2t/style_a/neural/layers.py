"""StyleGAN2 building blocks in plain PyTorch (CPU and GPU, no compiled extensions).

Parameter and buffer names follow rosinality's stylegan2-pytorch (and DualStyleGAN's copy of
it), so public checkpoints load unchanged:

- ``EqualLinear``: ``weight`` (out, in), ``bias`` (out,)
- ``EqualConv2d``: ``weight`` (out, in, k, k), optional ``bias`` (out,)
- ``FusedLeakyReLU``: ``bias`` (channels,)
- ``ModulatedConv2d``: ``weight`` (1, out, in, k, k), ``modulation`` (an ``EqualLinear``),
  ``blur.kernel`` (4, 4) when it up- or downsamples
- ``Upsample`` / ``Downsample`` / ``Blur``: a ``kernel`` buffer (stored in checkpoints)

Equalized learning rate: weights are stored at unit variance and multiplied at run time by
``1 / sqrt(fan_in)`` (times ``lr_mul`` for the mapping network), as in the StyleGAN2 paper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

BLUR_KERNEL = (1, 3, 3, 1)
"""StyleGAN2's binomial FIR filter, used for every resampling step."""


def fused_leaky_relu(x: Tensor, bias: Tensor | None = None, negative_slope: float = 0.2,
                     scale: float = math.sqrt(2)) -> Tensor:
    """Add a per-channel ``bias`` (channel dim 1), leaky-ReLU, and rescale by ``scale``.

    The same maths as the CUDA ``fused_bias_act`` op, written as ordinary autograd ops.
    """
    if bias is not None:
        x = x + bias.view(1, -1, *([1] * (x.ndim - 2)))
    return F.leaky_relu(x, negative_slope) * scale


class FusedLeakyReLU(nn.Module):
    """Bias + leaky ReLU + gain of sqrt(2); holds the bias as ``bias`` like the fused op."""

    def __init__(self, channels: int, bias: bool = True, negative_slope: float = 0.2,
                 scale: float = math.sqrt(2)):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None
        self.negative_slope = negative_slope
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


def make_kernel(taps: Sequence[float]) -> Tensor:
    """A 2-D FIR kernel from 1-D taps (outer product), normalised to sum to one."""
    k = torch.tensor(taps, dtype=torch.float32)
    if k.ndim == 1:
        k = k[None, :] * k[:, None]
    return k / k.sum()


def upfirdn2d(x: Tensor, kernel: Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> Tensor:
    """Upsample by zero insertion, pad, filter with ``kernel``, then keep every ``down``-th pixel.

    ``x`` is (B, C, H, W); ``kernel`` (kh, kw) is applied to each channel as a true
    convolution (flipped), exactly like the reference ``upfirdn2d`` op. ``pad`` is
    (before, after) for both axes; negative values crop.
    Output size per axis: ``(H * up + pad0 + pad1 - kh) // down + 1``.
    """
    b, c, h, w = x.shape
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(b, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, (max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)))
    if p0 < 0 or p1 < 0:
        x = x[:, :, max(-p0, 0): x.shape[2] - max(-p1, 0), max(-p0, 0): x.shape[3] - max(-p1, 0)]
    weight = torch.flip(kernel, [0, 1]).to(x.dtype)[None, None]
    hp, wp = x.shape[2:]
    x = F.conv2d(x.reshape(b * c, 1, hp, wp), weight)
    x = x.reshape(b, c, x.shape[2], x.shape[3])
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


class Upsample(nn.Module):
    """2x upsampling with the blur kernel (used on the ToRGB skip images)."""

    def __init__(self, kernel: Sequence[int] = BLUR_KERNEL, factor: int = 2):
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_kernel(kernel) * factor ** 2)
        p = self.kernel.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


class Downsample(nn.Module):
    """2x downsampling with the blur kernel."""

    def __init__(self, kernel: Sequence[int] = BLUR_KERNEL, factor: int = 2):
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_kernel(kernel))
        p = self.kernel.shape[0] - factor
        self.pad = ((p + 1) // 2, p // 2)

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, down=self.factor, pad=self.pad)


class Blur(nn.Module):
    """Blur with explicit padding, the anti-aliasing step around strided convolutions."""

    def __init__(self, kernel: Sequence[int], pad: tuple[int, int], upsample_factor: int = 1):
        super().__init__()
        self.register_buffer("kernel", make_kernel(kernel) * upsample_factor ** 2)
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class PixelNorm(nn.Module):
    """Normalise each vector to unit root-mean-square over dim 1 (the mapping network's input)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate; ``activation="fused_lrelu"`` adds the leaky ReLU."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: str | None = None):
        super().__init__()
        if activation not in (None, "fused_lrelu"):
            raise ValueError(f"activation must be None or 'fused_lrelu', got {activation!r}")
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.activation = activation
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x: Tensor) -> Tensor:
        bias = None if self.bias is None else self.bias * self.lr_mul
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.weight.shape[1]}, {self.weight.shape[0]})"


class EqualConv2d(nn.Module):
    """Conv2d with equalized learning rate."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.stride = stride
        self.padding = padding
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)

    def __repr__(self) -> str:
        out_c, in_c, k, _ = self.weight.shape
        return f"{type(self).__name__}({in_c}, {out_c}, {k}, stride={self.stride}, padding={self.padding})"


class ConvLayer(nn.Sequential):
    """[Blur] + EqualConv2d + [FusedLeakyReLU], as an ``nn.Sequential`` so keys read ``0.weight``, ``1.bias``.

    With ``downsample`` the blur comes first and the convolution has stride 2 (keys then
    shift: ``0.kernel``, ``1.weight``, ``2.bias``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, downsample: bool = False,
                 blur_kernel: Sequence[int] = BLUR_KERNEL, bias: bool = True, activate: bool = True):
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(EqualConv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                  bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_channels, bias=bias))
        super().__init__(*layers)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's style-modulated convolution (weight demodulation, optional 2x up/down sampling).

    ``forward(x (B, in, H, W), style (B, style_dim)) -> (B, out, H', W')``. The per-sample
    weights are built from the shared ``weight`` scaled by the style, then applied as one
    grouped convolution over the batch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False, downsample: bool = False,
                 blur_kernel: Sequence[int] = BLUR_KERNEL):
        super().__init__()
        if upsample and downsample:
            raise ValueError("a ModulatedConv2d either upsamples or downsamples, not both")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.upsample = upsample
        self.downsample = downsample
        self.demodulate = demodulate
        factor = 2
        if upsample:
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        if downsample:
            p = (len(blur_kernel) - factor) + (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2, p // 2))
        self.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channels, in_channels, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channels, bias_init=1)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        b, in_c, h, w = x.shape
        k = self.kernel_size
        s = self.modulation(style).view(b, 1, in_c, 1, 1)
        weight = self.scale * self.weight * s  # (B, out, in, k, k)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(b, -1, 1, 1, 1)
        x = x.reshape(1, b * in_c, h, w)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(b * in_c, self.out_channels, k, k)
            out = F.conv_transpose2d(x, weight, padding=0, stride=2, groups=b)
            out = self.blur(out.view(b, self.out_channels, out.shape[2], out.shape[3]))
            return out
        weight = weight.reshape(b * self.out_channels, in_c, k, k)
        if self.downsample:
            x = self.blur(x.view(b, in_c, h, w))
            x = x.reshape(1, b * in_c, x.shape[2], x.shape[3])
            out = F.conv2d(x, weight, padding=0, stride=2, groups=b)
        else:
            out = F.conv2d(x, weight, padding=self.padding, groups=b)
        return out.view(b, self.out_channels, out.shape[2], out.shape[3])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"upsample={self.upsample}, downsample={self.downsample})")
