"""A plain regressor baseline for Style-E: the same network mapping the condition straight to
the coefficients with an L2 loss (no noise, no sampling), to measure what diffusion adds.

The network is a :class:`StyleEModel` of the same config (so the same size) whose noisy
motion input is always zero and whose timestep is always 0: a deterministic function of
the condition ``c = T ⊕ I ⊕ A``. Its condition encoder (audio encoder and null text) is
copied from a trained Style-E model and frozen, so both models see identical condition
features and only the generator differs. That also makes training cheap on a CPU: the
audio encoder is most of a Style-E training step's cost, and here it runs once per corpus
frame (:func:`encode_clip_audio`) instead of at every step.

Training otherwise mirrors :func:`s2t.training.style_e.train_style_e`: the same validation
split and normalisation, random windows drawn in proportion to clip length, the text of
neutral clips swapped for the null text with the same probability, AdamW with the same
settings and gradient clipping, the loss over real (unpadded) frames only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from s2t.audio.features import SAMPLE_RATE, frame_mel_windows, melspectrogram, num_video_frames
from s2t.face.coeffs import CoeffSequence
from s2t.style_e.denoiser import StyleEModel
from s2t.style_e.sampler import blend_weights, window_starts
from s2t.text import TextEncoder
from s2t.training.style_e import TrainConfig
from s2t.training.style_e_windows import TrainingClip, WindowSampler, normalization_stats, split_clips


@torch.no_grad()
def encode_audio_features(model: StyleEModel, mel: np.ndarray, num_frames: int, chunk: int = 2048) -> torch.Tensor:
    """``(num_frames, audio_dim)`` audio features of a mel spectrogram, frame windows as in training."""
    windows = torch.from_numpy(frame_mel_windows(mel, num_frames, fps=model.config.fps).astype(np.float32))
    return torch.cat([model.condition.encode_audio(windows[i : i + chunk]) for i in range(0, num_frames, chunk)])


def encode_clip_audio(model: StyleEModel, clips: list[TrainingClip]) -> list[torch.Tensor]:
    """Each clip's audio features, at least a window long (frames past the end repeat the last mel row)."""
    model.eval()
    return [encode_audio_features(model, clip.mel, max(clip.num_frames, model.config.window)) for clip in clips]


def regress(model: StyleEModel, condition: torch.Tensor) -> torch.Tensor:
    """Standardised coefficients ``(B, W, x_dim)`` from the condition ``(B, W, c_dim)``."""
    batch, window = condition.shape[:2]
    zeros = torch.zeros(batch, window, model.config.x_dim, dtype=condition.dtype, device=condition.device)
    return model(zeros, torch.zeros(batch, dtype=torch.long, device=condition.device), condition)


class FeatureWindows(WindowSampler):
    """:class:`WindowSampler`'s windows with precomputed audio features (``audio (B, W, audio_dim)``)."""

    audio_key = "audio"

    def __init__(self, clips: list[TrainingClip], features: list[torch.Tensor], window: int,
                 text_index: dict[str, int], neutral_null_prob: float) -> None:  # fmt: skip
        super().__init__(clips, window, text_index, neutral_null_prob)
        self.features = features

    def audio_window(self, index: int, start: int) -> torch.Tensor:
        return self.features[index][start : start + self.window]


def regression_loss(model: StyleEModel, batch: dict[str, torch.Tensor], text_table: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the standardised coefficients over the real frames of the batch."""
    target = model.normalize(batch["target"])
    condition = model.condition.combine(batch["audio"], text_table[batch["text"]], batch["identity"], batch["use_text"])
    mask = batch["mask"].to(target.dtype)
    return (((regress(model, condition) - target) ** 2).mean(-1) * mask).sum() / mask.sum()


def train_regressor(clips: list[TrainingClip], source: StyleEModel, text_encoder: TextEncoder,
                    train: TrainConfig = TrainConfig(),
                    log: Callable[[str], None] = print) -> tuple[StyleEModel, list[tuple[int, float]]]:  # fmt: skip
    """Train the baseline for ``train.steps`` steps; returns it (eval mode) and ``(step, mean
    training loss since the previous entry)`` every ``train.eval_every`` steps.

    ``source`` gives the architecture and the frozen condition encoder.
    """
    train_clips, _ = split_clips(clips, train.val_fraction)
    with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG untouched
        torch.manual_seed(train.seed)
        model = StyleEModel(source.config)
    model.condition = copy.deepcopy(source.condition).eval().requires_grad_(False)
    model.set_normalization(*normalization_stats(train_clips))
    texts = sorted({t for c in train_clips for t in c.texts})
    text_table = torch.cat([text_encoder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)])
    windows = FeatureWindows(train_clips, encode_clip_audio(model, train_clips), source.config.window,
                             {t: i for i, t in enumerate(texts)}, train.neutral_null_prob)  # fmt: skip
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=train.learning_rate, weight_decay=train.weight_decay)
    generator = torch.Generator().manual_seed(train.seed)
    model.train()
    model.condition.eval()  # frozen BatchNorm statistics
    history, running = [], []
    for step in range(1, train.steps + 1):
        loss = regression_loss(model, windows.sample(train.batch_size, generator), text_table)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, train.grad_clip)
        optimizer.step()
        running.append(loss.item())
        if step % train.eval_every == 0 or step == train.steps:
            history.append((step, float(np.mean(running))))
            log(f"regressor step {step}: training loss {history[-1][1]:.4f}")
            running = []
    return model.eval(), history


@torch.no_grad()
def predict_sequence(model: StyleEModel, audio_features: torch.Tensor, text: torch.Tensor, identity: torch.Tensor,
                     overlap: int | None = None) -> torch.Tensor:  # fmt: skip
    """Expression ⊕ pose ``(F, x_dim)`` for a whole sequence: overlapping windows blended as
    :func:`s2t.style_e.sampler.sample_sequence` blends them. ``F >= window``."""
    config = model.config
    window, total = config.window, len(audio_features)
    if total < window:
        raise ValueError(f"need at least window={window} frames of audio features, got {total}; pad first")
    starts = window_starts(total, window, window // 4 if overlap is None else overlap)
    frames = torch.tensor(starts)[:, None] + torch.arange(window)
    weights = blend_weights(starts, window).to(audio_features.dtype)
    count = len(starts)
    condition = model.condition.combine(audio_features[frames], text.expand(count, -1), identity.expand(count, -1),
                                        torch.ones(count, dtype=torch.bool))  # fmt: skip
    weighted = (regress(model, condition) * weights[..., None]).reshape(-1, config.x_dim)
    flat = frames.reshape(-1)
    coverage = torch.zeros(total, dtype=weights.dtype).index_add_(0, flat, weights.reshape(-1))
    result = model.denormalize(torch.zeros(total, config.x_dim).index_add_(0, flat, weighted) / coverage[:, None])
    if config.expression_range is not None:
        k = len(config.channel_names)
        result[:, :k] = result[:, :k].clamp(*config.expression_range)
    return result


class StyleERegressor:
    """The baseline called like :class:`s2t.style_e.StyleE`: audio + emotion text -> a CoeffSequence."""

    def __init__(self, model: StyleEModel, text_encoder: TextEncoder) -> None:
        self.model, self.config, self.text_encoder = model.eval(), model.config, text_encoder

    def generate(self, audio: np.ndarray, emotion: str, identity: np.ndarray | None = None) -> CoeffSequence:
        """16 kHz mono samples ``(N,)`` + emotion text -> expression and head pose at the model's fps."""
        config = self.config
        num_frames = num_video_frames(len(audio), SAMPLE_RATE, config.fps)
        features = encode_audio_features(self.model, melspectrogram(audio), max(num_frames, config.window))
        identity_vector = torch.zeros(config.identity_dim) if identity is None else \
            torch.as_tensor(np.asarray(identity, np.float32))  # fmt: skip
        if identity_vector.shape != (config.identity_dim,):
            raise ValueError(f"identity must have {config.identity_dim} values, got {tuple(identity_vector.shape)}")
        text = self.text_encoder.encode([emotion])[0]
        values = predict_sequence(self.model, features, text, identity_vector)[:num_frames].numpy()
        k = len(config.channel_names)
        metadata = {"source": "style-e-regressor", "emotion": emotion}
        return CoeffSequence(config.model_id, config.fps, config.channel_names, values[:, :k], values[:, k:], metadata)


__all__ = ["FeatureWindows", "StyleERegressor", "encode_clip_audio", "predict_sequence", "regression_loss",
           "train_regressor"]  # fmt: skip
