"""Style-A's adversarial losses against a linear discriminator, where each has a closed form."""

import torch
import torch.nn.functional as F
from torch import nn

from s2t.style_a.neural.losses import discriminator_logistic_loss, generator_adversarial_loss, r1_penalty


class Linear(nn.Module):
    """D(x) = <w, x>: its input gradient is w for every image."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([[[[0.5]], [[-1.0]], [[2.0]]]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(1, keepdim=True)


def test_losses_match_their_formulas():
    d = Linear()
    fake, real = torch.full((2, 3, 1, 1), 0.2), torch.full((2, 3, 1, 1), -0.1)
    logit_fake, logit_real = 0.2 * 1.5, -0.1 * 1.5
    torch.testing.assert_close(generator_adversarial_loss(d, fake), F.softplus(torch.tensor(-logit_fake)))
    expected = F.softplus(torch.tensor(logit_fake)) + F.softplus(torch.tensor(-logit_real))
    torch.testing.assert_close(discriminator_logistic_loss(d, fake, real), expected)
    penalty = r1_penalty(d, real)
    torch.testing.assert_close(penalty, torch.tensor(0.25 + 1.0 + 4.0))
    penalty.backward()  # differentiable for D's update: d/dw ||w||^2 = 2w
    torch.testing.assert_close(d.w.grad, 2 * d.w.detach())
    assert not real.requires_grad  # the caller's images are left alone
