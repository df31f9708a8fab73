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
