"""Style-A's adversarial losses (paper Eq. 4): StyleGAN2's non-saturating logistic loss and
the R1 penalty, as functions of a discriminator and images, so a training loop composes them
and a test checks each alone.

Images are (B, 3, S, S) in [-1, 1]; the discriminator gives one logit per image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def generator_adversarial_loss(discriminator: nn.Module, fake: torch.Tensor) -> torch.Tensor:
    """``softplus(-D(ŷ))``, the generator's side: small when D takes the rendered frames for real."""
    return F.softplus(-discriminator(fake)).mean()


def discriminator_logistic_loss(discriminator: nn.Module, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``softplus(D(ŷ)) + softplus(-D(y))``, the discriminator's side of Eq. 4."""
    return F.softplus(discriminator(fake)).mean() + F.softplus(-discriminator(real)).mean()


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> torch.Tensor:
    """``E ||∇_y D(y)||²`` on real images (Mescheder et al. 2018), differentiable for D's update."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


__all__ = ["discriminator_logistic_loss", "generator_adversarial_loss", "r1_penalty"]
