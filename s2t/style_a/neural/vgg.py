"""VGG19 features and the perceptual loss Lprec of Style-A training (paper, Eq. 3).

``VGG19Features`` is torchvision's ``vgg19().features`` up to relu5_4, defined here with the
same parameter names (``features.0.weight`` ... ``features.34.bias``), so torchvision's
ImageNet weights file ``vgg19-dcbb9e9d.pth`` loads into it from a local path; torchvision is
not needed at run time and nothing is downloaded.

``PerceptualLoss`` is the feature reconstruction loss of Johnson, Alahi and Fei-Fei (2016),
which the paper cites: the distance between the VGG activations of the two images,
normalised by the activation size (C x H x W, and the batch), summed over layers. The paper
writes it with the L1 norm, so ``"l1"`` is the default; ``"l2"`` is Johnson's squared
Euclidean form. The default layers are the last ReLU of each of VGG19's five blocks
(relu1_2, relu2_2, relu3_4, relu4_4, relu5_4) with equal weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from s2t.checkpoint import CheckpointError, read_torch
from s2t.style_a.neural.checkpoints import check_state_dict

VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_SOURCE = ("torchvision's ImageNet VGG19 weights (VGG19_Weights.IMAGENET1K_V1), "
                f"https://download.pytorch.org/models/{VGG19_FILE}; torchvision keeps a copy in "
                f"~/.cache/torch/hub/checkpoints/{VGG19_FILE} once it has fetched it")

# torchvision's VGG configuration "E" (VGG19) up to its last conv: channels of each 3x3 conv,
# "M" a 2x2 max-pool. Each conv is followed by a ReLU.
_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _relu_indices() -> dict[str, int]:
    """``relu<block>_<conv>`` -> index of that ReLU in ``features`` (relu1_2 -> 3, relu5_4 -> 35)."""
    names, index, block, conv = {}, 0, 1, 0
    for item in _LAYOUT:
        if item == "M":
            block, conv, index = block + 1, 0, index + 1
        else:
            conv += 1
            names[f"relu{block}_{conv}"] = index + 1
            index += 2
    return names


RELU_INDEX = _relu_indices()


class VGG19Features(nn.Module):
    """VGG19's conv stack up to relu5_4, taking ImageNet-normalised RGB ``(B, 3, H, W)``."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in _LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU()]
                channels = item
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, layers: Sequence[str] = ("relu5_4",)) -> list[torch.Tensor]:
        """The activations at the named ReLUs, in the order asked; runs only as deep as needed."""
        unknown = [name for name in layers if name not in RELU_INDEX]
        if unknown:
            raise ValueError(f"unknown VGG19 layers {unknown}; known: {list(RELU_INDEX)}")
        wanted = {RELU_INDEX[name]: name for name in layers}
        found = {}
        for index, module in enumerate(self.features[:max(wanted) + 1]):
            x = module(x)
            if index in wanted:
                found[wanted[index]] = x
        return [found[name] for name in layers]


def load_vgg19_features(path: str | Path, device: str | torch.device = "cpu") -> VGG19Features:
    """VGG19 features with the weights of a torchvision-format file, frozen and in eval mode.

    The file's ``features.*`` entries must match exactly (the classifier's are ignored).
    Raises ``FileNotFoundError`` naming the file and its source when ``path`` is missing,
    ``CheckpointError`` (a ``ValueError``) when the file is not a VGG19 state dict.
    """
    path = Path(path)
    # A torchvision weights file is a bare state dict of tensors: the weights-only unpickler suffices.
    state = read_torch(path, "VGG19 weights", expected=f"{VGG19_FILE}, {VGG19_SOURCE}")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a VGG19 state dict")
    features = {k: v for k, v in state.items() if isinstance(k, str) and k.startswith("features.")}
    with torch.device("meta"):
        model = VGG19Features()
    check_state_dict(model, features, f"{path} ('features.*' entries; {VGG19_FILE} expected)")
    model.load_state_dict(features, strict=True, assign=True)
    return model.float().requires_grad_(False).to(device).eval()


@dataclass(frozen=True)
class PerceptualLossConfig:
    """Layers compared, their weights, and the distance (``"l1"`` or ``"l2"``)."""

    layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4")
    weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    criterion: str = "l1"

    def __post_init__(self) -> None:
        if not self.layers or len(self.weights) != len(self.layers):
            raise ValueError(f"need one weight per layer, got layers {self.layers} and weights {self.weights}")
        unknown = [name for name in self.layers if name not in RELU_INDEX]
        if unknown:
            raise ValueError(f"unknown VGG19 layers {unknown}; known: {list(RELU_INDEX)}")
        if self.criterion not in ("l1", "l2"):
            raise ValueError(f"criterion must be 'l1' or 'l2', got {self.criterion!r}")


class PerceptualLoss(nn.Module):
    """``sum_l w_l * mean |phi_l(prediction) - phi_l(target)|`` (squared for ``"l2"``).

    Images are RGB ``(B, 3, H, W)`` in [-1, 1]; they are mapped to ImageNet normalisation
    before VGG. The VGG weights are frozen; gradients flow to ``prediction`` only, the target
    being ground truth (its features are computed without a graph).
    """

    def __init__(self, features: VGG19Features, config: PerceptualLossConfig = PerceptualLossConfig()) -> None:
        super().__init__()
        self.config = config
        self.vgg = features.requires_grad_(False).eval()
        # [-1, 1] -> [0, 1] -> ImageNet statistics, folded into one affine map.
        mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
        self.register_buffer("shift", 2 * mean - 1, persistent=False)
        self.register_buffer("scale", 2 * std, persistent=False)

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if prediction.shape != target.shape or prediction.ndim != 4 or prediction.shape[1] != 3:
            raise ValueError(f"need two RGB batches (B, 3, H, W) of one shape, got {tuple(prediction.shape)} "
                             f"and {tuple(target.shape)}")
        distance = F.l1_loss if self.config.criterion == "l1" else F.mse_loss
        predicted = self.vgg(self._normalise(prediction), self.config.layers)
        with torch.no_grad():
            wanted = self.vgg(self._normalise(target), self.config.layers)
        terms = [w * distance(p, t) for w, p, t in zip(self.config.weights, predicted, wanted)]
        return torch.stack(terms).sum()

    def _normalise(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.shift) / self.scale
