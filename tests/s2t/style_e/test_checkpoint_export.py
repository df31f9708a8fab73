import torch

from s2t.style_e.checkpoint import KNOWN_CHECKPOINTS, export_for_inference, load_style_e, read_checkpoint, save_checkpoint
from s2t.style_e.denoiser import StyleEConfig, StyleEModel


def test_export_drops_training_state_and_keeps_the_weights(tmp_path):
    config = StyleEConfig(window=8, latent_dim=32, num_layers=1, audio_width=2, text_dim=8)
    model = StyleEModel(config)
    source = save_checkpoint(tmp_path / "train.pt", model, step=7, optimizer={"state": torch.zeros(1000)},
                             train_config={"steps": 7})
    target = export_for_inference(source, tmp_path / "small.pt")
    exported = read_checkpoint(target)
    assert "optimizer" not in exported and exported["step"] == 7
    assert target.stat().st_size < source.stat().st_size
    for name, value in model.state_dict().items():
        assert torch.equal(exported["state_dict"][name], value)


def test_the_embedded_default_is_small_and_loads():
    path = KNOWN_CHECKPOINTS["default"]
    assert path.stat().st_size < 10e6 and "optimizer" not in read_checkpoint(path)
    assert load_style_e("default").model.config.text_encoder == "minilm"
