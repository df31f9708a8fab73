import pytest
import torch

from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_e.denoiser import PRESETS, StyleEConfig, StyleEModel, timestep_embedding

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py


def test_default_config_models_the_rig():
    config = StyleEConfig()
    assert config.channel_names == ARKIT_52 and config.x_dim == 58  # 52 blendshapes + 6 pose
    assert config.model_id == "s2t-arkit52" and config.num_train_timesteps == 1000
    assert PRESETS["paper"].window == 196 and PRESETS["paper"].latent_dim == 512 and PRESETS["paper"].num_layers == 12


def test_config_round_trip_and_validation(tiny):
    config = tiny.config()
    assert StyleEConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown Style-E config fields"):
        StyleEConfig.from_dict({**config.to_dict(), "heads": 4})
    with pytest.raises(ValueError, match="window"):
        tiny.config(window=0)


@pytest.mark.parametrize("channels", [2, 4])
def test_forward_shapes_follow_the_config(tiny, channels):
    config = tiny.config(channel_names=tuple(f"c{i}" for i in range(channels)))
    model = StyleEModel(config)
    batch, window = 3, config.window
    condition = model.condition(torch.randn(batch, window, 80, 16), torch.randn(batch, 8), torch.randn(batch, 4),
                                torch.tensor([True, False, True]))  # fmt: skip
    assert condition.shape == (batch, window, 8 + 4 + 16)
    out = model(torch.randn(batch, window, channels + 6), torch.tensor([0, 500, 999]), condition)
    assert out.shape == (batch, window, channels + 6)
    with pytest.raises(ValueError, match="x_t must be"):
        model(torch.randn(batch, window + 1, channels + 6), torch.tensor([0, 1, 2]), condition)


def test_null_text_replaces_the_text_where_asked(tiny):
    model = StyleEModel(tiny.config())
    audio = torch.randn(2, 16, model.condition.audio_dim)
    text = torch.randn(2, 8)
    combined = model.condition.combine(audio, text, torch.zeros(2, 4), torch.tensor([True, False]))
    torch.testing.assert_close(combined[0, :, :8], text[0].expand(16, 8))
    torch.testing.assert_close(combined[1, :, :8], model.condition.null_text.detach().expand(16, 8))
    torch.testing.assert_close(combined[..., 12:], audio)  # T ⊕ I ⊕ A


def test_timestep_embedding():
    embedding = timestep_embedding(torch.tensor([0, 10]), 6)
    assert embedding.shape == (2, 6)
    torch.testing.assert_close(embedding[0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    assert embedding[1, 0] == pytest.approx(torch.sin(torch.tensor(10.0)).item())


def test_normalization_round_trip(tiny):
    model = StyleEModel(tiny.config())
    model.set_normalization(torch.arange(10.0), torch.full((10,), 2.0))
    values = torch.randn(5, 10)
    torch.testing.assert_close(model.denormalize(model.normalize(values)), values)
    assert "x_mean" in model.state_dict() and "x_std" in model.state_dict()
