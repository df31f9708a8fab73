import pytest
import torch

import s2t.style_e.checkpoint as checkpoint_module
from s2t.style_e.checkpoint import load_style_e, model_from_checkpoint, read_checkpoint, save_checkpoint
from s2t.style_e.denoiser import StyleEModel


def test_round_trip_keeps_config_and_weights(tiny, tmp_path):
    model = StyleEModel(tiny.config())
    model.set_normalization(torch.arange(10.0), torch.full((10,), 3.0))
    path = save_checkpoint(tmp_path / "m.pt", model, step=5)
    loaded = read_checkpoint(path)
    assert loaded["step"] == 5 and loaded["format"] == "s2t-style-e"
    rebuilt = model_from_checkpoint(loaded)
    assert rebuilt.config == model.config and not rebuilt.training
    for key, value in model.state_dict().items():
        torch.testing.assert_close(rebuilt.state_dict()[key], value)
    style_e = load_style_e(path, text_encoder=tiny.text, num_inference_steps=3)
    assert style_e.num_inference_steps == 3 and style_e.config == model.config
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left nothing behind


def test_missing_files_are_named(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        load_style_e(tmp_path / "nowhere.pt")
    monkeypatch.setitem(checkpoint_module.KNOWN_CHECKPOINTS, "default", tmp_path / "style_e_default.pt")
    with pytest.raises(FileNotFoundError, match="style_e_default.pt.*s2t train style-e"):
        load_style_e("default")


def test_foreign_and_damaged_files(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00 not a torch file")
    with pytest.raises(ValueError, match="not a readable Style-E checkpoint"):
        read_checkpoint(junk)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(ValueError, match="not a Style-E checkpoint"):
        read_checkpoint(other)


def test_newer_format_and_bad_contents(tiny, tmp_path):
    model = StyleEModel(tiny.config())
    path = save_checkpoint(tmp_path / "m.pt", model)
    data = torch.load(path, weights_only=True)

    torch.save({**data, "format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(ValueError, match="version 99.*Update s2t"):
        read_checkpoint(tmp_path / "future.pt")

    torch.save({**data, "config": {**data["config"], "depth": 3}}, tmp_path / "config.pt")
    with pytest.raises(ValueError, match="bad Style-E config.*depth"):
        load_style_e(tmp_path / "config.pt", text_encoder=tiny.text)

    torch.save({**data, "config": {**data["config"], "latent_dim": 48}}, tmp_path / "weights.pt")
    with pytest.raises(ValueError, match="weights do not fit"):
        load_style_e(tmp_path / "weights.pt", text_encoder=tiny.text)

    del data["state_dict"]
    torch.save(data, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match="no 'state_dict'"):
        read_checkpoint(tmp_path / "partial.pt")
