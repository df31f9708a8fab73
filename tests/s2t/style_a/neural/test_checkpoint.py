"""Our Style-A checkpoint: round trip with the frozen release files, and errors that name missing files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_a.neural.checkpoint import (load_exstyle_code, load_style_a, read_style_a, save_style_a,
                                           style_a_files)
from s2t.style_a.neural.checkpoints import CheckpointError
from s2t.style_a.neural.random_weights import tiny_config, write_random_style_a

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("style_a")
    write_random_style_a(path, tiny_config(), model_id="s2t-arkit52", channel_names=ARKIT_52)
    return path


@pytest.mark.slow
def test_round_trip_keeps_trained_weights_config_and_facts(folder, tmp_path):
    model, facts = load_style_a(folder / "style_a.pt")
    assert model.config == tiny_config() and facts["model_id"] == "s2t-arkit52"
    assert tuple(facts["channel_names"]) == ARKIT_52 and facts["art_code"].shape == (1, 12, 128)
    with torch.no_grad():
        for p in model.trainable_parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = save_style_a(tmp_path / "style_a.pt", model, model_id="s2t-arkit52", channel_names=ARKIT_52, step=7)
    saved = read_style_a(path)
    assert not any(k.startswith("generator") or k.startswith("encoder.") for k in saved["motion"])
    assert saved["generator_file"] == "generator.pt" and saved["step"] == 7
    loaded, facts = load_style_a(path, folder / "generator.pt", folder / "encoder.pt")
    assert facts["art_code"] is None and facts["step"] == 7
    identity, windows = torch.rand(1, 3, 128, 128) * 2 - 1, torch.randn(2, 13, 58)
    code = torch.randn(1, 12, 128)
    with torch.no_grad():
        a = model.render(model.prepare(identity, art_code=code), windows)
        b = loaded.render(loaded.prepare(identity, art_code=code), windows)
    torch.testing.assert_close(a, b)


def test_missing_frozen_files_are_named_with_their_source(folder, tmp_path):
    (tmp_path / "style_a.pt").write_bytes((folder / "style_a.pt").read_bytes())
    with pytest.raises(FileNotFoundError) as info:
        load_style_a(tmp_path / "style_a.pt")
    message = str(info.value)
    assert "generator.pt" in message and "encoder.pt" in message and "DualStyleGAN release" in message


def test_folder_check_lists_every_missing_file(folder, tmp_path):
    (tmp_path / "generator.pt").write_bytes(b"")
    with pytest.raises(FileNotFoundError) as info:
        style_a_files(tmp_path)
    assert "style_a.pt" in str(info.value) and "encoder.pt" in str(info.value)
    assert "generator.pt" not in str(info.value).split("missing:")[1]
    with pytest.raises(FileNotFoundError, match="not found"):
        style_a_files(tmp_path / "nowhere")
    files = style_a_files(folder)
    assert files.style_a.name == "style_a.pt" and files.exstyle is None


def test_foreign_files_are_not_taken_for_a_style_a_checkpoint(folder):
    with pytest.raises(CheckpointError, match="not a Style-A checkpoint"):
        read_style_a(folder / "generator.pt")


def test_exstyle_codes_by_name_or_index(tmp_path):
    codes = {"cartoon_001.jpg": np.ones((1, 12, 128), np.float32), "cartoon_002.jpg": np.zeros((1, 12, 128))}
    np.save(tmp_path / "exstyle_code.npy", codes, allow_pickle=True)
    assert load_exstyle_code(tmp_path / "exstyle_code.npy", "cartoon_001.jpg").sum() == 12 * 128
    assert load_exstyle_code(tmp_path / "exstyle_code.npy", "1").abs().sum() == 0
    with pytest.raises(KeyError, match="cartoon_001.jpg"):
        load_exstyle_code(tmp_path / "exstyle_code.npy", "7")


def test_folders_written_before_the_shared_header_still_load(folder, tmp_path):
    """Format 1: the version under ``version`` and the generator's fields flat in the config."""
    checkpoint = read_style_a(folder / "style_a.pt")
    config = dict(checkpoint.pop("config"))
    generator = config.pop("generator")
    checkpoint.pop("format_version")
    old = {**checkpoint, "version": 1,
           "config": {**{k: generator[k] for k in ("size", "style_dim", "n_mlp", "channel_multiplier", "channel_max",
                                                   "channel_base")},
                      **config, "content_skips": list(config["content_skips"])}}
    for name in ("generator.pt", "encoder.pt"):
        (tmp_path / name).symlink_to(folder / name)
    torch.save(old, tmp_path / "style_a.pt")
    old_model, _ = load_style_a(tmp_path / "style_a.pt")
    new_model, facts = load_style_a(folder / "style_a.pt")
    assert old_model.config == new_model.config == tiny_config()
    for a, b in zip(old_model.trainable_parameters(), new_model.trainable_parameters()):
        assert torch.equal(a, b)


def test_truncated_and_too_new_checkpoints_name_the_file(folder, tmp_path):
    data = (folder / "style_a.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.pt is not a readable Style-A checkpoint"):
        read_style_a(tmp_path / "cut.pt")
    torch.save({**read_style_a(folder / "style_a.pt"), "format_version": 3}, tmp_path / "new.pt")
    with pytest.raises(CheckpointError, match=r"new\.pt has Style-A format version 3; this s2t reads up to 2"):
        read_style_a(tmp_path / "new.pt")
