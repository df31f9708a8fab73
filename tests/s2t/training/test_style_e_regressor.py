import pytest
import torch

from s2t.style_e.denoiser import StyleEModel
from s2t.training.style_e_regressor import StyleERegressor, train_regressor
from s2t.training.style_e import TrainConfig


@pytest.mark.slow
def test_regressor_trains_and_predicts(tiny, one_thread):
    clips = [tiny.clip(i, "happy" if i % 2 else "neutral") for i in range(8)]
    torch.manual_seed(0)
    source = StyleEModel(tiny.config())
    train = TrainConfig(steps=150, batch_size=8, learning_rate=3e-3, eval_every=25, val_fraction=0.0)
    model, history = train_regressor(clips, source, tiny.text, train, log=lambda _: None)
    assert [s for s, _ in history] == [25, 50, 75, 100, 125, 150]
    assert history[-1][1] < 0.7 * history[0][1]
    assert torch.equal(model.condition.null_text, source.condition.null_text)  # frozen, shared features
    regressor = StyleERegressor(model, tiny.text)
    audio, _ = tiny.speech(1.2, 3)
    happy, neutral = regressor.generate(audio, "a happy face"), regressor.generate(audio, "a neutral face")
    assert happy.num_frames == 30 and happy.expression.min() >= 0 and happy.expression.max() <= 1
    smile = happy.channel_names.index("mouthSmileLeft")
    assert happy.expression[:, smile].mean() > neutral.expression[:, smile].mean() + 0.3
