"""The refinement network at tiny sizes: 8-channel 64x64 maps, 16 hidden channels."""

import pytest
import torch

from s2t.style_a.neural.refine import RefineConfig, RefinementNetwork

CHANNELS = {64: 8, 128: 4}


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_refiner(seed: int = 0, **options) -> RefinementNetwork:
    torch.manual_seed(seed)
    return RefinementNetwork(RefineConfig(CHANNELS, hidden=16, num_blocks=2, **options))


def perturb_output(refiner: RefinementNetwork, seed: int = 0) -> None:
    """Give the zero-initialised last conv small random weights, as training would."""
    last = refiner.output[1]
    with torch.no_grad():
        last.weight.copy_(0.05 * torch.randn(last.weight.shape, generator=torch.Generator().manual_seed(seed)))


def maps(batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, 8, 64, 64, generator=gen), torch.randn(batch, 8, 64, 64, generator=gen),
            0.05 * torch.randn(batch, 2, 64, 64, generator=gen))  # fmt: skip


def test_untrained_refiner_is_the_identity():
    warped, unwarped, flow = maps()
    refined = tiny_refiner()(warped, unwarped, flow)
    assert refined.shape == warped.shape
    assert torch.equal(refined, warped)


@pytest.mark.parametrize("use_unwarped, use_flow, in_channels", [(True, True, 18), (True, False, 16),
                                                                 (False, True, 10), (False, False, 8)])  # fmt: skip
def test_optional_inputs(use_unwarped, use_flow, in_channels):
    refiner = tiny_refiner(use_unwarped=use_unwarped, use_flow=use_flow)
    assert refiner.input.in_channels == in_channels
    perturb_output(refiner)
    warped, unwarped, flow = maps()
    out = refiner(warped, unwarped if use_unwarped else None, flow if use_flow else None)
    assert out.shape == (2, 8, 64, 64) and not torch.equal(out, warped)


def test_missing_or_unexpected_inputs_are_refused():
    warped, unwarped, flow = maps()
    with pytest.raises(ValueError, match="flow must be given"):
        tiny_refiner()(warped, unwarped)
    with pytest.raises(ValueError, match="unwarped must be omitted"):
        tiny_refiner(use_unwarped=False)(warped, unwarped, flow)
    with pytest.raises(ValueError, match="warped must be"):
        tiny_refiner()(warped[..., :32, :32], unwarped[..., :32, :32], flow[..., :32, :32])
    with pytest.raises(ValueError, match="width at 64"):
        RefineConfig({128: 4})


def test_correction_depends_on_every_input():
    refiner = tiny_refiner()
    perturb_output(refiner)
    warped, unwarped, flow = maps()
    base = refiner.correction(warped, unwarped, flow)
    for changed in (refiner.correction(warped, unwarped + 1, flow), refiner.correction(warped, unwarped, flow + 0.5)):
        assert (changed - base).abs().mean() > 1e-4


def test_one_unwarped_map_broadcasts_against_a_batch():
    refiner = tiny_refiner()
    perturb_output(refiner)
    warped, unwarped, flow = maps(batch=3)
    batched = refiner(warped, unwarped[:1], flow)
    assert torch.allclose(batched[2:], refiner(warped[2:], unwarped[:1], flow[2:]), atol=1e-6)


def test_gradients_reach_every_parameter():
    refiner = tiny_refiner()
    perturb_output(refiner)
    refiner(*maps()).square().mean().backward()
    for name, parameter in refiner.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.slow
def test_training_learns_a_correction():
    """40 Adam steps cut the error to a corrected map (half the contrast, shifted by 0.1) by 4x."""
    refiner = tiny_refiner()
    warped, unwarped, flow = maps()
    target = 0.5 * warped + 0.1

    def loss() -> torch.Tensor:
        return (refiner(warped, unwarped, flow) - target).square().mean()

    before = loss().item()
    optimizer = torch.optim.Adam(refiner.parameters(), lr=3e-3)
    for _ in range(40):
        value = loss()
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    assert loss().item() < before / 4


def test_config_round_trip_and_determinism():
    config = RefineConfig(CHANNELS, use_flow=False, hidden=16, num_blocks=1)
    as_json = {**config.to_dict(), "channels": {str(r): c for r, c in CHANNELS.items()}}
    assert RefineConfig.from_dict(as_json) == config
    a, b = tiny_refiner(seed=4), tiny_refiner(seed=4)
    perturb_output(a)
    perturb_output(b)
    assert torch.equal(a(*maps()), b(*maps()))
