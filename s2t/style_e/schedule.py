"""The forward (noising) process of Style-E: the cosine schedule and ``add_noise``. No weights.

Paper Eq. (1): ``q(β_t | β_{t-1}) = N(sqrt(α_t) β_{t-1}, (1 - α_t) I)``; the paper's α_t is
DDPM's ``1 - beta_t``. Its closed form, which training samples from, is
``q(β_t | β_0) = N(sqrt(ᾱ_t) β_0, (1 - ᾱ_t) I)`` with ``ᾱ_t = prod_{s<=t} α_s``.

The cosine schedule is Nichol & Dhariwal's (2021), as AGRoL uses it (``noise_schedule
cosine``, 1000 steps): ``ᾱ(t) = cos²((t/T + s) / (1 + s) · π/2)`` with ``s = 0.008``, each
``beta_t = 1 - ᾱ(t+1)/ᾱ(t)`` capped at 0.999. Timesteps are 0-based: ``t = 0`` is the first
noising step and ``t = T - 1`` is (almost) pure noise.
"""

from __future__ import annotations

import math

import torch


def cosine_betas(num_train_timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """``(T,)`` float64 betas discretising the cosine ``ᾱ(t)``."""
    if num_train_timesteps < 1:
        raise ValueError(f"num_train_timesteps must be at least 1, got {num_train_timesteps}")

    def alpha_bar(fraction: float) -> float:
        return math.cos((fraction + s) / (1 + s) * math.pi / 2) ** 2

    steps = num_train_timesteps
    betas = [min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), max_beta) for i in range(steps)]
    return torch.tensor(betas, dtype=torch.float64)


class NoiseSchedule:
    """``ᾱ_t`` for every training timestep, and sampling of ``q(x_t | x_0)``.

    Args:
        num_train_timesteps (`int`, defaults to 1000): T, the number of noising steps.
    """

    def __init__(self, num_train_timesteps: int = 1000) -> None:
        self.num_train_timesteps = num_train_timesteps
        self.betas = cosine_betas(num_train_timesteps)
        self.alphas_cumprod = torch.cumprod(1.0 - self.betas, dim=0)  # ᾱ_t, float64

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """``x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε`` for a batch: ``x0`` and ``noise`` ``(B, ...)``,
        ``timesteps`` ``(B,)`` integers in ``[0, T)``."""
        if noise.shape != x0.shape:
            raise ValueError(f"noise {tuple(noise.shape)} must have the shape of x0 {tuple(x0.shape)}")
        if timesteps.min() < 0 or timesteps.max() >= self.num_train_timesteps:
            raise ValueError(f"timesteps must lie in [0, {self.num_train_timesteps}), got {timesteps.tolist()}")
        alpha_bar = self.alphas_cumprod.to(x0.device)[timesteps].to(x0.dtype)
        alpha_bar = alpha_bar.view(-1, *([1] * (x0.dim() - 1)))
        return alpha_bar.sqrt() * x0 + (1.0 - alpha_bar).sqrt() * noise


__all__ = ["NoiseSchedule", "cosine_betas"]
