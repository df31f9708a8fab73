"""Checkpoint layouts (checked against the public key/shape layout written out here) and the loaders."""

from __future__ import annotations

import argparse
import os
import pickle

import numpy as np
import pytest
import torch

from s2t.style_a.neural.checkpoints import (
    CheckpointError,
    load_discriminator,
    load_dualstylegan,
    read_exstyle_file,
    load_stylegan2,
)
from s2t.style_a.neural.dualstylegan import DualStyleGAN, DualStyleGANConfig
from s2t.style_a.neural.stylegan2 import Discriminator, Generator

pytestmark = pytest.mark.usefixtures("one_thread")

# The published StyleGAN2 channel table (rosinality's model.py), written out, not computed.
RELEASE_CHANNELS = {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}
TINY = dict(size=32, style_dim=16, channel_multiplier=1, channel_max=16, channel_base=256)
TINY_CHANNELS = {4: 16, 8: 16, 16: 16, 32: 8}


def stylegan2_layout(size: int, dim: int, n_mlp: int, ch: dict[int, int], prefix: str = "") -> dict:
    """Key -> shape of rosinality's ``Generator.state_dict()``, from the public model definition."""
    keys: dict[str, tuple] = {}
    for i in range(1, n_mlp + 1):
        keys[f"style.{i}.weight"], keys[f"style.{i}.bias"] = (dim, dim), (dim,)
    keys["input.input"] = (1, ch[4], 4, 4)

    def styled(name: str, cin: int, cout: int, upsample: bool) -> None:
        keys[f"{name}.conv.weight"] = (1, cout, cin, 3, 3)
        if upsample:
            keys[f"{name}.conv.blur.kernel"] = (4, 4)
        keys[f"{name}.conv.modulation.weight"], keys[f"{name}.conv.modulation.bias"] = (cin, dim), (cin,)
        keys[f"{name}.noise.weight"], keys[f"{name}.activate.bias"] = (1,), (cout,)

    def to_rgb(name: str, cin: int, upsample: bool) -> None:
        if upsample:
            keys[f"{name}.upsample.kernel"] = (4, 4)
        keys[f"{name}.conv.weight"] = (1, 3, cin, 1, 1)
        keys[f"{name}.conv.modulation.weight"], keys[f"{name}.conv.modulation.bias"] = (cin, dim), (cin,)
        keys[f"{name}.bias"] = (1, 3, 1, 1)

    styled("conv1", ch[4], ch[4], False)
    to_rgb("to_rgb1", ch[4], False)
    resolutions = [r for r in sorted(ch) if 8 <= r <= size]
    prev = ch[4]
    for j, r in enumerate(resolutions):
        styled(f"convs.{2 * j}", prev, ch[r], True)
        styled(f"convs.{2 * j + 1}", ch[r], ch[r], False)
        to_rgb(f"to_rgbs.{j}", ch[r], True)
        prev = ch[r]
    for i in range(2 * len(resolutions) + 1):
        r = 4 if i == 0 else resolutions[(i - 1) // 2]
        keys[f"noises.noise_{i}"] = (1, 1, r, r)
    return {prefix + k: v for k, v in keys.items()}


def dualstylegan_layout(size: int, dim: int, ch: dict[int, int], n_mlp: int = 8, res_index: int = 6) -> dict:
    """Key -> shape of DualStyleGAN's ``g_ema`` (model/dualstylegan.py in the public release)."""
    keys = stylegan2_layout(size, dim, n_mlp, ch, prefix="generator.")
    for i in range(1, n_mlp - 6 + 1):
        keys[f"style.{i}.weight"], keys[f"style.{i}.bias"] = (dim, dim), (dim,)
    n_latent = 2 * (size.bit_length() - 1) - 2
    layer_res = [4] + [r for r in sorted(ch) if 8 <= r <= size for _ in range(2)]
    for k in range(n_latent):
        if k <= res_index and k < len(layer_res):
            c = ch[layer_res[k]]
            for conv in ("conv", "conv2"):
                keys[f"res.{k}.{conv}.0.weight"], keys[f"res.{k}.{conv}.1.bias"] = (c, c, 3, 3), (c,)
            for norm in ("norm", "norm2"):
                keys[f"res.{k}.{norm}.style.weight"], keys[f"res.{k}.{norm}.style.bias"] = (2 * c, dim), (2 * c,)
        else:
            keys[f"res.{k}.weight"], keys[f"res.{k}.bias"] = (dim, dim), (dim,)
    return keys


def discriminator_layout(size: int, ch: dict[int, int]) -> dict:
    keys = {"convs.0.0.weight": (ch[size], 3, 1, 1), "convs.0.1.bias": (ch[size],)}
    r, i = size, 1
    while r > 4:
        cin, cout = ch[r], ch[r // 2]
        keys |= {f"convs.{i}.conv1.0.weight": (cin, cin, 3, 3), f"convs.{i}.conv1.1.bias": (cin,),
                 f"convs.{i}.conv2.0.kernel": (4, 4), f"convs.{i}.conv2.1.weight": (cout, cin, 3, 3),
                 f"convs.{i}.conv2.2.bias": (cout,), f"convs.{i}.skip.0.kernel": (4, 4),
                 f"convs.{i}.skip.1.weight": (cout, cin, 1, 1)}
        r, i = r // 2, i + 1
    keys |= {"final_conv.0.weight": (ch[4], ch[4] + 1, 3, 3), "final_conv.1.bias": (ch[4],),
             "final_linear.0.weight": (ch[4], ch[4] * 16), "final_linear.0.bias": (ch[4],),
             "final_linear.1.weight": (1, ch[4]), "final_linear.1.bias": (1,)}
    return keys


def shapes(module: torch.nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def random_state(layout: dict) -> dict:
    g = torch.Generator().manual_seed(0)
    return {k: torch.randn(shape, generator=g) for k, shape in layout.items()}


def test_release_1024_layout_on_the_meta_device():
    with torch.device("meta"):
        model = DualStyleGAN()
        disc = Discriminator()
    got = shapes(model)
    assert got == dualstylegan_layout(1024, 512, RELEASE_CHANNELS)
    assert len(got) == 253 and sum(k.startswith("res.") for k in got) == 78
    assert got["generator.style.1.weight"] == (512, 512) and "generator.style.8.bias" in got
    assert got["generator.conv1.conv.weight"] == (1, 512, 512, 3, 3)
    assert got["generator.to_rgbs.7.conv.weight"] == (1, 3, 32, 1, 1)
    assert got["generator.convs.15.conv.weight"] == (1, 32, 32, 3, 3)
    assert got["generator.noises.noise_16"] == (1, 1, 1024, 1024)
    assert got["style.2.weight"] == (512, 512) and "style.3.weight" not in got
    assert got["res.6.conv2.0.weight"] == (512, 512, 3, 3) and got["res.6.norm.style.weight"] == (1024, 512)
    assert got["res.7.weight"] == (512, 512) and got["res.17.bias"] == (512,) and "res.18.weight" not in got
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 74_176_268
    assert sum(p.numel() for p in model.generator.parameters()) == 30_370_060  # StyleGAN2 config-f
    assert shapes(disc) == discriminator_layout(1024, RELEASE_CHANNELS) and len(shapes(disc)) == 64
    assert sum(p.numel() for p in disc.parameters()) == 29_012_513


def test_tiny_layout_matches_the_public_one():
    model = DualStyleGAN(DualStyleGANConfig(**TINY))
    assert shapes(model) == dualstylegan_layout(32, 16, TINY_CHANNELS)


def test_random_public_layout_checkpoint_loads_strictly_and_reproduces_the_model(tmp_path):
    state = random_state(dualstylegan_layout(32, 16, TINY_CHANNELS))
    path = tmp_path / "generator.pt"
    torch.save({"g_ema": state}, path)
    model = load_dualstylegan(path, **TINY)
    assert not model.training
    assert all(not t.is_meta for t in [*model.parameters(), *model.buffers()])
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    reference = DualStyleGAN(DualStyleGANConfig(**TINY)).eval()
    reference.load_state_dict(state, strict=True)
    z, ex = torch.randn(1, 8, 16), torch.randn(1, 8, 16)
    with torch.no_grad():
        a = model([z], ex, z_plus_latent=True, randomize_noise=False)[0]
        b = reference([z], ex, z_plus_latent=True, randomize_noise=False)[0]
    assert torch.equal(a, b)


def test_mismatched_checkpoint_names_the_keys_and_the_size(tmp_path):
    state = random_state(dualstylegan_layout(32, 16, TINY_CHANNELS))
    del state["res.3.conv.0.weight"]
    state["res.99.weight"] = torch.zeros(1)
    path = tmp_path / "generator.pt"
    torch.save({"g_ema": state}, path)
    with pytest.raises(CheckpointError, match=r"1 missing keys: res\.3\.conv\.0\.weight") as err:
        load_dualstylegan(path, **TINY)
    assert "res.99.weight" in str(err.value)
    small = {k: v for k, v in state.items() if k != "res.99.weight"}
    torch.save({"g_ema": small}, path)
    with pytest.raises(CheckpointError, match=r"size=32"):
        load_dualstylegan(path, **{**TINY, "size": 64})


def test_missing_file_and_missing_entry_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="generator.pt from the DualStyleGAN release"):
        load_dualstylegan(tmp_path / "cartoon" / "generator.pt")
    with pytest.raises(FileNotFoundError, match="stylegan2-ffhq-config-f.pt"):
        load_discriminator(tmp_path / "nothing.pt")
    torch.save({"g": {}}, tmp_path / "g.pt")
    with pytest.raises(CheckpointError, match="no 'g_ema' entry"):
        load_dualstylegan(tmp_path / "g.pt", **TINY)


def test_truncated_generator_is_a_checkpoint_error_naming_the_file(tmp_path):
    """It used to surface as torch's own error, not naming what the file should be."""
    torch.save({"g_ema": random_state(stylegan2_layout(32, 16, 2, TINY_CHANNELS))}, tmp_path / "full.pt")
    (tmp_path / "generator.pt").write_bytes((tmp_path / "full.pt").read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"generator\.pt is not a readable StyleGAN2/DualStyleGAN checkpoint"):
        load_dualstylegan(tmp_path / "generator.pt", **TINY)


def test_whole_config_instead_of_fields(tmp_path):
    model = DualStyleGAN(DualStyleGANConfig(**TINY))
    torch.save({"g_ema": model.state_dict()}, tmp_path / "generator.pt")
    loaded = load_dualstylegan(tmp_path / "generator.pt", config=DualStyleGANConfig(**TINY))
    assert loaded.config == model.config


def test_training_checkpoint_with_args_loads_generator_latent_avg_and_discriminator(tmp_path):
    layout = dict(size=32, channel_multiplier=1, channel_max=16, channel_base=256)
    g_state = random_state(stylegan2_layout(32, 16, 2, TINY_CHANNELS))
    d_state = random_state(discriminator_layout(32, TINY_CHANNELS))
    path = tmp_path / "stylegan2-ffhq-config-f.pt"
    torch.save({"g_ema": g_state, "d": d_state, "latent_avg": torch.ones(16),
                "args": argparse.Namespace(size=32, lr=0.002)}, path)
    generator, latent_avg = load_stylegan2(path, style_dim=16, n_mlp=2, **layout)
    assert isinstance(generator, Generator) and torch.equal(latent_avg, torch.ones(16))
    assert torch.equal(generator.to_rgbs[2].conv.weight, g_state["to_rgbs.2.conv.weight"])
    disc = load_discriminator(path, **layout)
    assert disc(torch.randn(2, 3, 32, 32)).shape == (2, 1)
    assert torch.equal(disc.final_linear[1].weight, d_state["final_linear.1.weight"])


class _Payload:
    def __reduce__(self):  # os.getpid, not print: a running Ray (the Ray engine's tests) replaces builtins.print
        return (os.getpid, ())


def test_exstyle_codes_load_without_running_pickled_code(tmp_path):
    codes = {"Cartoons_00038_07.jpg": np.random.randn(1, 18, 512).astype(np.float32),
             "Cartoons_00167_01.jpg": np.random.randn(1, 18, 512).astype(np.float32)}
    np.save(tmp_path / "exstyle_code.npy", codes, allow_pickle=True)
    loaded = read_exstyle_file(tmp_path / "exstyle_code.npy")
    assert list(loaded) == list(codes)
    for k in codes:
        np.testing.assert_array_equal(loaded[k], codes[k])
    np.save(tmp_path / "evil.npy", {"x": _Payload()}, allow_pickle=True)
    with pytest.raises(pickle.UnpicklingError, match="getpid"):
        read_exstyle_file(tmp_path / "evil.npy")
    with pytest.raises(FileNotFoundError, match="exstyle_code.npy"):
        read_exstyle_file(tmp_path / "missing.npy")
