import math

import pytest
import torch

from s2t.style_e.ddim import DDIMScheduler
from s2t.style_e.schedule import NoiseSchedule, cosine_betas


def test_cosine_betas():
    betas = cosine_betas(1000)
    assert betas.shape == (1000,) and betas.dtype == torch.float64
    assert (betas > 0).all() and betas.max() == 0.999  # capped at the end
    assert (betas[1:] >= betas[:-1]).all()
    alpha_bar = torch.cumprod(1 - betas, 0)
    expected = math.cos((0.5 + 0.008) / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    assert alpha_bar[499].item() == pytest.approx(expected, rel=1e-9)  # ᾱ after 500 steps = ᾱ(0.5) / ᾱ(0)
    assert alpha_bar[-1] < 1e-6
    with pytest.raises(ValueError):
        cosine_betas(0)


def test_add_noise_is_the_closed_form():
    schedule = NoiseSchedule(1000)
    x0, noise = torch.randn(3, 5, 2), torch.randn(3, 5, 2)
    t = torch.tensor([0, 500, 999])
    x_t = schedule.add_noise(x0, noise, t)
    for i in range(3):
        a = schedule.alphas_cumprod[t[i]].float()
        torch.testing.assert_close(x_t[i], a.sqrt() * x0[i] + (1 - a).sqrt() * noise[i])
    with pytest.raises(ValueError, match="timesteps"):
        schedule.add_noise(x0, noise, torch.tensor([0, 1, 1000]))
    with pytest.raises(ValueError, match="shape"):
        schedule.add_noise(x0, noise[:2], t)


def test_trailing_timesteps():
    scheduler = DDIMScheduler(NoiseSchedule(1000))
    scheduler.set_timesteps(5)
    assert scheduler.timesteps == [999, 799, 599, 399, 199]
    scheduler.set_timesteps(1000)
    assert scheduler.timesteps == list(range(999, -1, -1))
    scheduler.set_timesteps(3)
    assert scheduler.timesteps == [999, 666, 332]
    with pytest.raises(ValueError):
        scheduler.set_timesteps(0)


def test_step_needs_timesteps():
    scheduler = DDIMScheduler(NoiseSchedule(1000))
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="set_timesteps"):
        scheduler.step(x, 999, x)
    scheduler.set_timesteps(5)
    with pytest.raises(ValueError, match="not one of"):
        scheduler.step(x, 998, x)


def test_deterministic_ddim_moves_along_the_same_noise():
    """With the true x_0 and eta = 0, a DDIM step from q(x_t | x_0, ε) lands exactly on
    q(x_{t'} | x_0, ε) with the same ε, and the last step returns x_0."""
    schedule = NoiseSchedule(1000)
    scheduler = DDIMScheduler(schedule)
    scheduler.set_timesteps(5)
    x0, noise = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    sample = schedule.add_noise(x0, noise, torch.full((4,), 999))
    for t, following in zip(scheduler.timesteps, scheduler.timesteps[1:] + [None]):
        out = scheduler.step(x0, t, sample)
        assert out.pred_original_sample is x0
        sample = out.prev_sample
        if following is not None:
            torch.testing.assert_close(sample, schedule.add_noise(x0, noise, torch.full((4,), following)))
    torch.testing.assert_close(sample, x0)


def test_eta_adds_seeded_noise():
    scheduler = DDIMScheduler(NoiseSchedule(1000))
    scheduler.set_timesteps(5)
    x0, sample = torch.zeros(3, 4), torch.randn(3, 4)

    def step(seed):
        return scheduler.step(x0, 799, sample, eta=1.0, generator=torch.Generator().manual_seed(seed)).prev_sample

    torch.testing.assert_close(step(1), step(1))
    assert not torch.allclose(step(1), step(2))
    assert not torch.allclose(step(1), scheduler.step(x0, 799, sample).prev_sample)
