"""Painting a still picture in an art picture's manner: Gram-matrix style transfer (Gatys et
al. 2016) with EfficientNet-Lite0's features, optimised with L-BFGS, coarse to fine.

It runs once per (photo, art, size): the CPU renderer warps the painted photo for every frame,
so frames cost what unstyled ones do and cannot flicker (every frame samples one painting). A
small feed-forward network fitted for minutes on a CPU flickered or lost the strokes (checked),
which is why this paints a picture rather than training a model.

Coarse to fine: most iterations run at a quarter and half of the size, where they are 4-16x
cheaper, and the full size only refines the strokes' edges; 1024 px stays affordable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from s2t.style_a.painterly.efficientnet import EfficientNetLite0

Progress = Callable[[int, int], None]
"""Called with (iterations done, iterations in all); raising from it stops the painting."""


@dataclass(frozen=True)
class PaintConfig:
    """How to paint. ``levels``: (side relative to the output, L-BFGS iterations) coarse to fine;
    a level smaller than ``min_side`` px is skipped. ``style_layers``/``content_layers``: feature
    layers (-1 the stem, k block k). ``art_scale``: the art picture's shorter side relative to the
    output's at each level (strokes keep their size relative to the frame)."""

    levels: tuple[tuple[float, int], ...] = ((0.25, 120), (0.5, 80), (1.0, 40))
    style_layers: tuple[int, ...] = (-1, 0, 2, 4, 7)
    style_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    content_layers: tuple[int, ...] = (4,)
    content_weight: float = 1.0
    smoothness: float = 5.0
    style_weight: float = 1.0
    art_scale: float = 1.0
    min_side: int = 96
    noise: float = 0.02
    seed: int = 0



def paint(network: EfficientNetLite0, content: np.ndarray, art: np.ndarray, config: PaintConfig = PaintConfig(),
          *, start: np.ndarray | None = None, progress: Progress | None = None) -> np.ndarray:
    """``content`` (square RGB uint8) painted after ``art`` (RGB uint8), same size as ``content``.

    ``start`` (default ``content``) is where the optimisation starts, e.g. the photo already
    recoloured toward the art. Deterministic for ``config.seed`` on one machine and thread count.
    """
    size = content.shape[0]
    generator = torch.Generator().manual_seed(config.seed)
    image: torch.Tensor | None = None
    levels = _levels(size, config)
    done, total = 0, sum(iterations for _, iterations in levels)
    for side, iterations in levels:
        target = _tensor(_resize(content, side))
        if image is None:
            image = _tensor(_resize(content if start is None else start, side))
            image = image + config.noise * torch.randn(image.shape, generator=generator)
        else:
            image = F.interpolate(image, size=(side, side), mode="bicubic", align_corners=False)
        image = image.clamp(0, 1)
        art_side = max(config.min_side, round(side * config.art_scale))
        style = _style_targets(network, _tensor(_resize_short_side(art, art_side)), config)
        with torch.no_grad():
            content_targets = network.features(target, config.content_layers)
        image = _optimise(network, image, style, content_targets, config, iterations,
                          lambda k: progress(done + k, total) if progress else None)
        done += iterations
    assert image is not None
    return np.round(image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)


def _levels(size: int, config: PaintConfig) -> list[tuple[int, int]]:
    """(side, iterations) per level; the iterations of levels below ``min_side`` px go to the
    first level kept (small outputs paint at fewer scales, not with fewer iterations)."""
    levels, carried = [], 0
    for scale, iterations in config.levels:
        side = min(size, round(size * scale))
        if side < min(config.min_side, size) and scale < 1.0:
            carried += iterations
            continue
        levels.append((side, iterations + carried))
        carried = 0
    return levels


def gram(features: torch.Tensor) -> torch.Tensor:
    """Channel co-occurrence ``(N, C, C)``, normalised by the number of positions and channels."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def _optimise(network, image, style, content_targets, config: PaintConfig, iterations: int,
              report: Callable[[int], None]) -> torch.Tensor:
    image = image.contiguous().clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS([image], lr=1.0, max_iter=iterations, history_size=20,
                                  tolerance_grad=0.0, tolerance_change=0.0)
    count = 0
    layers = tuple(sorted(set(config.style_layers) | set(config.content_layers)))

    def closure() -> torch.Tensor:
        nonlocal count
        optimiser.zero_grad()
        features = dict(zip(layers, network.features(image.clamp(0, 1), layers)))
        # both losses relative to their targets' size, so that layers weigh alike
        style_loss = sum(weight * ((gram(features[layer]) - target) ** 2).sum() / (target**2).sum()
                         for layer, weight, target in zip(config.style_layers, config.style_weights, style))
        content_loss = sum(F.mse_loss(features[layer], target) / target.var()
                           for layer, target in zip(config.content_layers, content_targets))
        # total variation: keeps the flat areas free of the pixel-level speckle Gram losses leave
        smooth = image[..., 1:, :] - image[..., :-1, :], image[..., :, 1:] - image[..., :, :-1]
        variation = sum((d**2).mean() for d in smooth)
        loss = config.style_weight * style_loss + config.content_weight * content_loss + config.smoothness * variation
        loss.backward()
        count += 1
        report(min(count, iterations))
        return loss

    optimiser.step(closure)
    return image.detach().clamp(0, 1)


def _style_targets(network, art: torch.Tensor, config: PaintConfig) -> list[torch.Tensor]:
    with torch.no_grad():
        return [gram(features) for features in network.features(art, config.style_layers)]


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float().contiguous() / 255.0


def _resize(rgb: np.ndarray, side: int) -> np.ndarray:
    if rgb.shape[0] == side and rgb.shape[1] == side:
        return rgb
    shrink = side < rgb.shape[0]
    return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _resize_short_side(rgb: np.ndarray, side: int) -> np.ndarray:
    scale = side / min(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
