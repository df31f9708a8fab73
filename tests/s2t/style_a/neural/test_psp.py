import argparse
import math
import zlib
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from s2t.style_a.neural.checkpoints import CheckpointError
from s2t.style_a.neural.psp import PSPConfig, PSPEncoder
from s2t.style_a.neural.psp_checkpoint import infer_psp_config, load_psp_encoder

TINY = PSPConfig(size=32, width=16, input_size=64)  # 8 latents of 128 values, same module names


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny() -> PSPEncoder:
    torch.manual_seed(0)
    model = PSPEncoder(TINY).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so a wrong load would show
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
    return model


def public_checkpoint(model: PSPEncoder, latent_avg: torch.Tensor | None, **opts) -> dict:
    """A checkpoint laid out like pSp's training code writes it, decoder entries included."""
    state = {f"encoder.{k}": v for k, v in model.encoder.state_dict().items()}
    state["decoder.style.1.weight"] = torch.randn(8, 8)
    state["decoder.input.input"] = torch.randn(1, 8, 4, 4)
    checkpoint = {"state_dict": state, "opts": {"output_size": model.config.size, "encoder_type":
                                                "GradualStyleEncoder", "input_nc": 3, **opts}}
    if latent_avg is not None:
        checkpoint["latent_avg"] = latent_avg
    return checkpoint


def save(checkpoint, tmp_path: Path) -> Path:
    path = tmp_path / "encoder.pt"
    torch.save(checkpoint, path)
    return path


def test_paper_size_layout_matches_the_public_encoder():
    with torch.device("meta"):
        model = PSPEncoder(PSPConfig())
    state = model.state_dict()
    assert model.config.n_styles == 18 and len(model.encoder.styles) == 18
    assert len(state) == 621
    assert all(key.startswith("encoder.") for key in state)
    assert sum(p.numel() for p in model.parameters()) == 267_136_704
    shapes = {
        "encoder.input_layer.0.weight": (64, 3, 3, 3),
        "encoder.input_layer.1.running_var": (64,),
        "encoder.input_layer.2.weight": (64,),
        "encoder.body.0.res_layer.5.fc1.weight": (4, 64, 1, 1),
        "encoder.body.3.shortcut_layer.0.weight": (128, 64, 1, 1),
        "encoder.body.3.shortcut_layer.1.num_batches_tracked": (),
        "encoder.body.23.res_layer.3.weight": (512, 512, 3, 3),
        "encoder.body.23.res_layer.5.fc2.weight": (512, 32, 1, 1),
        "encoder.styles.0.convs.0.weight": (512, 512, 3, 3),
        "encoder.styles.0.convs.6.bias": (512,),
        "encoder.styles.6.convs.8.weight": (512, 512, 3, 3),
        "encoder.styles.17.convs.10.weight": (512, 512, 3, 3),
        "encoder.styles.17.linear.weight": (512, 512),
        "encoder.latlayer1.weight": (512, 256, 1, 1),
        "encoder.latlayer2.weight": (512, 128, 1, 1),
    }
    assert {key: tuple(state[key].shape) for key in shapes} == shapes
    assert "encoder.body.0.shortcut_layer.0.weight" not in state  # same width: max-pool shortcut
    assert "encoder.styles.0.convs.8.weight" not in state  # coarse blocks: four convs from 16x16
    assert "encoder.styles.7.convs.10.weight" in state  # fine blocks: six convs from 64x64


@pytest.mark.parametrize("size, n_styles", [(256, 14), (512, 16), (1024, 18)])
def test_latent_count_follows_the_generator_size(size, n_styles):
    assert PSPConfig(size=size).n_styles == n_styles


@pytest.mark.parametrize("bad", [dict(size=1000), dict(num_layers=34), dict(mode="resnet"), dict(width=8)])
def test_config_rejects_unsupported_values(bad):
    with pytest.raises(ValueError):
        PSPConfig(**bad)


def test_encode_gives_one_code_per_latent(tiny):
    torch.manual_seed(1)
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        codes = tiny.encode(images)
    assert codes.shape == (2, TINY.n_styles, TINY.style_dim) == (2, 8, 128)
    assert torch.isfinite(codes).all()
    assert not torch.allclose(codes[0], codes[1])
    assert not torch.allclose(codes[0, 0], codes[0, 7])


def seeded_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights that depend only on each key's name (seeded by its CRC32), in well-scaled ranges."""
    weights = {}
    for name, value in state.items():
        if not value.is_floating_point():
            weights[name] = torch.zeros_like(value)
            continue
        noise = torch.randn(value.shape, generator=torch.Generator().manual_seed(zlib.crc32(name.encode())))
        if name.endswith("running_var"):
            weights[name] = 1 + 0.2 * noise.abs()
        elif value.ndim == 1 and name.endswith(".weight"):  # batch-norm scales and PReLU slopes
            weights[name] = 1 + 0.2 * noise
        elif value.ndim == 1:
            weights[name] = 0.1 * noise
        else:
            weights[name] = noise / math.sqrt(value[0].numel())
    return weights


@pytest.mark.slow
def test_codes_match_the_pixel2style2pixel_code():
    """Reference values: pSp's own GradualStyleEncoder (its code, with the channel counts
    64/128/256/512 scaled to 16/32/64/128), IR-SE50, 8 styles, these weights and images."""
    model = PSPEncoder(TINY).eval()
    model.encoder.load_state_dict(seeded_weights(model.encoder.state_dict()))
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(7)).clamp(-1, 1)
    expected = torch.tensor([
        [[-0.05982, 0.013238, 0.064293, -0.233996], [0.065469, -0.183391, 0.063647, 0.017409],
         [-0.060848, 0.140883, 0.10821, -0.002634]],
        [[-0.066068, 0.014506, 0.066889, -0.241078], [0.064231, -0.186808, 0.066755, 0.017776],
         [-0.061331, 0.138283, 0.106346, -0.003764]],
    ])
    with torch.no_grad():
        codes = model.encode(images)
    assert torch.allclose(codes[:, [0, 3, 7], :4], expected, atol=2e-5)  # coarse, middle and fine latents


def test_encode_resizes_large_images_by_area_averaging(tiny):
    torch.manual_seed(2)
    large = torch.rand(1, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        direct = tiny.encode(large)
        pooled = tiny.encode(F.avg_pool2d(large, 4))
    assert torch.allclose(direct, pooled, atol=1e-5)


def test_encode_rejects_wrong_channel_count(tiny):
    with pytest.raises(ValueError, match="image must be"):
        tiny.encode(torch.zeros(1, 1, 64, 64))


def test_latent_avg_is_added_and_kept_out_of_the_state_dict(tiny):
    latent_avg = torch.randn(TINY.n_styles, TINY.style_dim)
    with_avg = PSPEncoder(TINY, latent_avg).eval()
    with_avg.encoder.load_state_dict(tiny.encoder.state_dict())
    images = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(with_avg.encode(images), tiny.encode(images) + latent_avg, atol=1e-5)
    assert "latent_avg" not in with_avg.state_dict()
    assert with_avg.to(torch.float64).latent_avg.dtype == torch.float64


def test_latent_avg_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match="latent_avg must have shape"):
        PSPEncoder(TINY, torch.zeros(TINY.n_styles + 1, TINY.style_dim))


@pytest.mark.slow
def test_public_layout_checkpoint_loads_strictly(tiny, tmp_path):
    latent_avg = torch.randn(TINY.n_styles, TINY.style_dim)
    path = save(public_checkpoint(tiny, latent_avg, start_from_latent_avg=True), tmp_path)
    loaded = load_psp_encoder(path)
    assert loaded.config == PSPConfig(size=32, width=16)
    assert not loaded.training
    for key, value in tiny.encoder.state_dict().items():
        assert torch.equal(loaded.encoder.state_dict()[key], value), key
    images = torch.rand(1, 3, 256, 256) * 2 - 1  # the loaded encoder works at 256, as the public one
    with torch.no_grad():
        assert torch.allclose(loaded.encode(images), tiny.encoder(images) + latent_avg, atol=1e-5)


def test_latent_avg_is_ignored_when_the_encoder_was_trained_without_it(tiny, tmp_path):
    path = save(public_checkpoint(tiny, torch.ones(TINY.style_dim), start_from_latent_avg=False), tmp_path)
    assert load_psp_encoder(path).latent_avg is None


def test_config_is_read_from_tensor_shapes():
    with torch.device("meta"):
        state = PSPEncoder(PSPConfig(size=256, mode="ir", input_nc=1, num_layers=100)).encoder.state_dict()
    assert infer_psp_config(state) == PSPConfig(size=256, mode="ir", input_nc=1, num_layers=100)


def test_missing_file_names_the_file_to_get(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"checkpoint/encoder\.pt from the DualStyleGAN release"):
        load_psp_encoder(tmp_path / "encoder.pt")


def test_wrong_layout_lists_missing_and_unexpected_keys(tiny, tmp_path):
    checkpoint = public_checkpoint(tiny, None)
    del checkpoint["state_dict"]["encoder.latlayer1.weight"]
    checkpoint["state_dict"]["encoder.output_layer.0.weight"] = torch.zeros(3)
    with pytest.raises(CheckpointError, match=r"1 missing keys: latlayer1\.weight\n  1 unexpected keys: output_lay"):
        load_psp_encoder(save(checkpoint, tmp_path))


def test_backbone_of_unknown_depth_is_named(tiny, tmp_path):
    checkpoint = public_checkpoint(tiny, None)
    checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items()
                                if not k.startswith("encoder.body.23.")}
    with pytest.raises(CheckpointError, match=r"23 residual units; .*24 \(IR-50\)"):
        load_psp_encoder(save(checkpoint, tmp_path))


def test_wrong_shapes_are_reported(tiny, tmp_path):
    checkpoint = public_checkpoint(tiny, None)
    checkpoint["state_dict"]["encoder.latlayer2.weight"] = torch.zeros(128, 16, 1, 1)
    with pytest.raises(CheckpointError, match=r"shape mismatches: latlayer2\.weight: checkpoint \(128, 16, 1, 1\)"):
        load_psp_encoder(save(checkpoint, tmp_path))


def test_file_without_encoder_weights_is_rejected(tmp_path):
    path = save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path)
    with pytest.raises(CheckpointError, match=r"no 'encoder\.\*' weights.*features\.0\.weight"):
        load_psp_encoder(path)


@pytest.mark.parametrize("truncated", [False, True])
def test_unreadable_file_is_rejected(tiny, tmp_path, truncated):
    path = tmp_path / "encoder.pt"
    if truncated:
        torch.save(public_checkpoint(tiny, None), path, _use_new_zipfile_serialization=False)
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable pSp encoder checkpoint"):
        load_psp_encoder(path)


def test_arbitrary_objects_need_explicit_trust(tiny, tmp_path):
    checkpoint = public_checkpoint(tiny, None)
    checkpoint["opts"] = argparse.Namespace(output_size=32)
    path = save(checkpoint, tmp_path)
    with pytest.raises(CheckpointError, match=r"argparse\.Namespace object.*allow_pickle=True"):
        load_psp_encoder(path)
    assert load_psp_encoder(path, allow_pickle=True).config.n_styles == 8
