"""Style-A folders with random weights, written in the public file layouts.

For tests, for benchmarks (speed does not depend on the weights) and for trying the wiring
(``s2t generate --renderer neural``, ``s2t-backend --style-a``) without the DualStyleGAN
release. The frames such a folder renders are not faces: the generator is untrained.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from s2t.style_a.neural.checkpoint import ENCODER_FILE, GENERATOR_FILE, STYLE_A_FILE, StyleAFiles, save_style_a
from s2t.style_a.neural.dualstylegan import DualStyleGANConfig
from s2t.style_a.neural.model import StyleANetwork, StyleAConfig
from s2t.style_a.neural.motion import MotionConfig


def tiny_config(coeff_dim: int = 58) -> StyleAConfig:
    """The smallest useful Style-A: 128 px, a few channels per layer, one coefficient layer."""
    motion = MotionConfig(coeff_dim=coeff_dim, window=13, encoder_size=64, base_channels=8, max_channels=16,
                          num_down=2, descriptor_dim=32, coeff_layers=1)
    generator = DualStyleGANConfig(size=128, style_dim=128, channel_multiplier=1, channel_max=32, channel_base=512)
    return StyleAConfig(generator=generator, motion=motion, refine_hidden=16, refine_blocks=1)


def save_frozen_files(model: StyleANetwork, folder: str | Path) -> tuple[Path, Path]:
    """``generator.pt`` (``{"g_ema": ...}``) and ``encoder.pt`` (pSp's ``state_dict``/``opts``) of ``model``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    generator, encoder = folder / GENERATOR_FILE, folder / ENCODER_FILE
    torch.save({"g_ema": model.generator.state_dict()}, generator)
    state = {f"encoder.{k}": v for k, v in model.encoder.encoder.state_dict().items()}
    torch.save({"state_dict": state, "opts": {"start_from_latent_avg": False}}, encoder)
    return generator, encoder


def write_random_style_a(folder: str | Path, config: StyleAConfig, *, model_id: str, channel_names: Sequence[str],
                         seed: int = 0) -> StyleAFiles:
    """A complete Style-A folder (generator, encoder, ``style_a.pt`` with a random art code)."""
    torch.manual_seed(seed)
    model = StyleANetwork(config)
    generator, encoder = save_frozen_files(model, folder)
    art_code = torch.randn(1, config.n_latent, config.style_dim)
    style_a = save_style_a(Path(folder) / STYLE_A_FILE, model, model_id=model_id, channel_names=channel_names,
                           art_code=art_code)
    return StyleAFiles(style_a, generator, encoder, None)
