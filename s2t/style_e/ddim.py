"""DDIM sampling (Song, Meng & Ermon, ICLR 2021) for a network that predicts x_0. No weights.

Notation (DDIM paper -> here):

=====================  ==================================================================
``α_t`` (DDIM)         ``ᾱ_t`` = ``alphas_cumprod[t]`` (DDPM's cumulative product)
``x_t``                ``sample``
``f_θ(x_t)``           ``pred_original_sample``: the denoiser's output (Style-E predicts x_0)
``ε_θ(x_t)``           ``pred_epsilon``, recovered from x_t and x_0
``σ_t``                ``std_dev_t``, Eq. (16), scaled by ``eta`` (0 = deterministic DDIM)
=====================  ==================================================================

Usage follows diffusers: ``set_timesteps(n)``, then for ``t`` in ``timesteps``:
``sample = step(denoiser(sample, t), t, sample).prev_sample``.

Timesteps are spaced "trailing" (Lin et al., 2024, "Common diffusion noise schedules and
sample steps are flawed", Table 2): for 5 steps of 1000 they are 999, 799, 599, 399, 199, so
the first step starts at ``t = T - 1`` where x_t really is pure noise. AGRoL's ``ddim5``
("leading": 800, 600, ..., 0) would start from noise while telling the network t = 800.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from s2t.style_e.schedule import NoiseSchedule


@dataclass
class DDIMStepOutput:
    """``prev_sample``: x_{t-1}, the next loop's input; ``pred_original_sample``: the x_0 used."""

    prev_sample: torch.Tensor
    pred_original_sample: torch.Tensor


class DDIMScheduler:
    """Args:
    schedule (`NoiseSchedule`): the training schedule whose ``ᾱ_t`` the sampler walks back.
    """

    def __init__(self, schedule: NoiseSchedule) -> None:
        self.schedule = schedule
        self.alphas_cumprod = schedule.alphas_cumprod
        self.timesteps: list[int] = []
        self._previous: dict[int, int] = {}

    @property
    def num_train_timesteps(self) -> int:
        return self.schedule.num_train_timesteps

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Choose ``num_inference_steps`` timesteps (1 to T), trailing-spaced, descending."""
        total = self.num_train_timesteps
        if not 1 <= num_inference_steps <= total:
            raise ValueError(f"num_inference_steps must be between 1 and {total}, got {num_inference_steps}")
        self.timesteps = [round(total - i * total / num_inference_steps) - 1 for i in range(num_inference_steps)]
        self._previous = dict(zip(self.timesteps, self.timesteps[1:] + [-1]))

    def step(
        self,
        model_output: torch.Tensor,
        timestep: int,
        sample: torch.Tensor,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> DDIMStepOutput:
        """One reverse step, x_t -> x_{t-1}, DDIM Eq. (12).

        Args:
            model_output (`torch.Tensor`): the predicted x_0, shaped like ``sample``.
            timestep (`int`): the current t, one of ``self.timesteps``.
            sample (`torch.Tensor`): x_t.
            eta (`float`, defaults to 0): 0 for DDIM, 1 for DDPM-like ancestral noise.
            generator (`torch.Generator`, *optional*): for the noise when ``eta > 0``.

        Returns:
            `DDIMStepOutput`.
        """
        if not self.timesteps:
            raise ValueError("call set_timesteps(num_inference_steps) before step()")
        if timestep not in self._previous:
            raise ValueError(f"timestep {timestep} is not one of the scheduled timesteps {self.timesteps}")

        # 1. the previous timestep: the next one in the list; after the last, "t = -1" with ᾱ = 1
        prev_timestep = self._previous[timestep]

        # 2. ᾱ_t and ᾱ_{t-1}
        alpha_prod_t = self.alphas_cumprod[timestep].item()
        alpha_prod_t_prev = self.alphas_cumprod[prev_timestep].item() if prev_timestep >= 0 else 1.0

        # 3. the predicted x_0 is the network's output ("predicted x_0" in Eq. (12))
        pred_original_sample = model_output

        # 4. the noise it implies, from x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε  (Eq. (4) of DDIM)
        pred_epsilon = (sample - alpha_prod_t**0.5 * pred_original_sample) / (1.0 - alpha_prod_t) ** 0.5

        # 5. σ_t(η), Eq. (16)
        variance = (1.0 - alpha_prod_t_prev) / (1.0 - alpha_prod_t) * (1.0 - alpha_prod_t / alpha_prod_t_prev)
        std_dev_t = eta * max(variance, 0.0) ** 0.5

        # 6. "direction pointing to x_t", Eq. (12)
        direction = max(1.0 - alpha_prod_t_prev - std_dev_t**2, 0.0) ** 0.5 * pred_epsilon

        # 7. x_{t-1} without the random term, Eq. (12)
        prev_sample = alpha_prod_t_prev**0.5 * pred_original_sample + direction

        # 8. the random term σ_t ε_t
        if eta > 0:
            noise = torch.randn(sample.shape, generator=generator, dtype=sample.dtype, device=sample.device)
            prev_sample = prev_sample + std_dev_t * noise
        return DDIMStepOutput(prev_sample=prev_sample, pred_original_sample=pred_original_sample)


__all__ = ["DDIMScheduler", "DDIMStepOutput"]
