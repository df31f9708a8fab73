"""Style-E inference: speech + emotion text (+ identity) -> a CoeffSequence, any length.

Long audio is covered by windows of the network's length that overlap by at least
``overlap`` frames. The whole sequence is denoised *together*: one full-length noise draw is
the starting x_T, every DDIM step predicts x_0 for all windows in one batch, the predictions
are blended into one full-length x_0 (weights ramp linearly across each overlap, so every
frame's weights sum to 1), and the scheduler steps the full sequence. Overlapping windows
thus see the same x_t and are pulled to one shared x_0 at every step, and the last step
returns the blended x_0 itself: there is nothing left to stitch, so no seam.

Emotion strength is classifier-free guidance on the text (see
:mod:`s2t.style_e.conditioning`): ``x0 = x0(null) + strength · (x0(text) - x0(null))``, where
the null text means neutral talking. Guided x_0 is clipped to the expression range at every
step. Everything random comes from one ``torch.Generator`` seeded with ``seed``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from s2t.audio.features import SAMPLE_RATE, frame_mel_windows, load_audio, melspectrogram, num_video_frames
from s2t.face.coeffs import CoeffSequence
from s2t.style_e.blinks import ensure_blinks
from s2t.style_e.ddim import DDIMScheduler
from s2t.style_e.denoiser import StyleEModel
from s2t.style_e.schedule import NoiseSchedule
from s2t.text import TextEncoder, load_text_encoder


def window_starts(num_frames: int, window: int, overlap: int) -> list[int]:
    """First frames of the fewest windows of ``window`` frames that cover ``num_frames`` with
    neighbours overlapping by at least ``overlap``, spread evenly (the last ends at the end)."""
    if not 0 <= overlap < window:
        raise ValueError(f"overlap must be in [0, window={window}), got {overlap}")
    if num_frames <= window:
        return [0]
    count = 1 + int(np.ceil((num_frames - window) / (window - overlap)))
    return [int(round(s)) for s in np.linspace(0, num_frames - window, count)]


def blend_weights(starts: list[int], window: int) -> torch.Tensor:
    """``(len(starts), window)`` weights: 1, ramping linearly across the overlap with each
    neighbour ((k + 0.5) / L over an overlap of L frames), so overlapping weights add to 1."""
    weights = torch.ones(len(starts), window, dtype=torch.float64)
    ramp_positions = torch.arange(window, dtype=torch.float64) + 0.5
    for i in range(len(starts) - 1):
        overlap = starts[i] + window - starts[i + 1]
        if overlap > 0:
            weights[i + 1] = torch.minimum(weights[i + 1], ramp_positions / overlap)
            weights[i] = torch.minimum(weights[i], ramp_positions.flip(0) / overlap)
    return weights


@torch.no_grad()
def sample_sequence(
    model: StyleEModel,
    scheduler: DDIMScheduler,
    audio_features: torch.Tensor,
    text: torch.Tensor,
    identity: torch.Tensor,
    *,
    strength: float = 1.0,
    num_inference_steps: int = 5,
    overlap: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Denoise a whole sequence; returns expression ⊕ pose values ``(F, x_dim)`` (not standardised).

    Args:
        audio_features: ``(F, audio_dim)`` from ``model.condition.encode_audio``, ``F >= window``
            (pad shorter audio first, as :meth:`StyleE.generate` does).
        text: ``(text_dim,)`` sentence embedding of the emotion text.
        identity: ``(identity_dim,)``.
        strength: guidance on the text: 0 neutral, 1 as trained, above 1 exaggerated.
        overlap: frames shared by neighbouring windows; a quarter window by default.
    """
    config, device = model.config, audio_features.device
    window, total = config.window, len(audio_features)
    if total < window:
        raise ValueError(f"need at least window={window} frames of audio features, got {total}; pad first")
    overlap = window // 4 if overlap is None else overlap
    starts = window_starts(total, window, overlap)
    frames = (torch.tensor(starts)[:, None] + torch.arange(window)).to(device)  # (N, W): each window slot's frame
    weights = blend_weights(starts, window).to(device, audio_features.dtype)
    flat_frames = frames.reshape(-1)
    coverage = torch.zeros(total, dtype=weights.dtype, device=device).index_add_(0, flat_frames, weights.reshape(-1))

    # Both branches of the guidance are one batch: text first, null text second.
    branches = [b for b, needed in ((True, strength != 0.0), (False, strength != 1.0)) if needed]
    count = len(starts)
    use_text = torch.tensor([b for b in branches for _ in range(count)], device=device)
    condition = model.condition.combine(
        audio_features[frames].repeat(len(branches), 1, 1),
        text.expand(len(use_text), -1),
        identity.expand(len(use_text), -1),
        use_text,
    )

    low, high = _clip_bounds(model)
    scheduler.set_timesteps(num_inference_steps)
    sample = torch.randn(total, config.x_dim, generator=generator, dtype=audio_features.dtype).to(device)
    for t in scheduler.timesteps:
        timesteps = torch.full((len(use_text),), t, dtype=torch.long, device=device)
        predicted = model(sample[frames].repeat(len(branches), 1, 1), timesteps, condition)
        if len(branches) == 2:
            with_text, without = predicted[:count], predicted[count:]
            predicted = without + strength * (with_text - without)
        weighted = (predicted * weights[..., None]).reshape(-1, config.x_dim)
        x0 = torch.zeros_like(sample).index_add_(0, flat_frames, weighted) / coverage[:, None]
        x0 = torch.maximum(torch.minimum(x0, high), low)
        sample = scheduler.step(x0, t, sample).prev_sample
    result = model.denormalize(sample)
    if config.expression_range is not None:  # the last step is already in range up to rounding; make it exact
        k = len(config.channel_names)
        result[..., :k] = result[..., :k].clamp(*config.expression_range)
    return result


def _clip_bounds(model: StyleEModel) -> tuple[torch.Tensor, torch.Tensor]:
    """Standardised lower and upper bounds ``(x_dim,)``: the expression range, pose unbounded."""
    config = model.config
    low = torch.full((config.x_dim,), -torch.inf, device=model.x_mean.device)
    high = torch.full((config.x_dim,), torch.inf, device=model.x_mean.device)
    if config.expression_range is not None:
        k = len(config.channel_names)
        low[:k], high[:k] = config.expression_range
    return model.normalize(low), model.normalize(high)


class StyleE:
    """The Style-E stage as the pipeline calls it: ``style_e(audio_path, emotion, seed=0)``.

    Args:
        model: a trained :class:`StyleEModel` (see :func:`s2t.style_e.checkpoint.load_style_e`).
        text_encoder: the encoder the model was trained with; by default
            ``load_text_encoder(model.config.text_encoder)``.
        num_inference_steps: DDIM steps (the paper's 5 by default).
        overlap: frames shared by neighbouring windows (a quarter window by default).
    """

    def __init__(self, model: StyleEModel, text_encoder: TextEncoder | None = None, num_inference_steps: int = 5,
                 overlap: int | None = None) -> None:  # fmt: skip
        self.model = model.eval()
        self.config = model.config
        self.text_encoder = text_encoder or load_text_encoder(self.config.text_encoder)
        if self.text_encoder.dim != self.config.text_dim:
            raise ValueError(f"the text encoder gives {self.text_encoder.dim}-d embeddings but the model was trained "
                             f"on {self.config.text_dim}-d ones ({self.config.text_encoder!r})")
        self.scheduler = DDIMScheduler(NoiseSchedule(self.config.num_train_timesteps))
        self.num_inference_steps, self.overlap = num_inference_steps, overlap

    def __call__(self, audio_path: str | Path, emotion: str, seed: int = 0, strength: float = 1.0,
                 identity: np.ndarray | None = None,
                 num_inference_steps: int | None = None) -> CoeffSequence:  # fmt: skip
        """Speech file + emotion text -> expression and head pose at the model's fps (25)."""
        return self.generate(load_audio(audio_path), emotion, seed, strength, identity, num_inference_steps,
                             metadata={"audio": str(audio_path)})

    @torch.no_grad()
    def generate(self, audio: np.ndarray, emotion: str, seed: int = 0, strength: float = 1.0,
                 identity: np.ndarray | None = None, num_inference_steps: int | None = None,
                 metadata: dict | None = None) -> CoeffSequence:  # fmt: skip
        """16 kHz mono samples ``(N,)`` + emotion text -> a CoeffSequence covering the audio;
        ``metadata`` is added to the sequence's own (emotion, seed, strength, steps)."""
        if strength < 0:
            raise ValueError(f"strength must be 0 (neutral) or more, got {strength}")
        config, model = self.config, self.model
        steps = self.num_inference_steps if num_inference_steps is None else num_inference_steps
        num_frames = num_video_frames(len(audio), SAMPLE_RATE, config.fps)
        padded = max(num_frames, config.window)  # frames past the audio repeat its last mel row, as in training
        device = model.x_mean.device
        mel_windows = torch.from_numpy(frame_mel_windows(melspectrogram(audio), padded, fps=config.fps)).to(device)
        identity_vector = torch.zeros(config.identity_dim) if identity is None else \
            torch.as_tensor(np.asarray(identity, np.float32))  # fmt: skip
        if identity_vector.shape != (config.identity_dim,):
            raise ValueError(f"identity must have {config.identity_dim} values, got {tuple(identity_vector.shape)}")
        values = sample_sequence(
            model,
            self.scheduler,
            model.condition.encode_audio(mel_windows),
            self.text_encoder.encode([emotion])[0].to(device),
            identity_vector.to(device),
            strength=strength,
            num_inference_steps=steps,
            overlap=self.overlap,
            generator=torch.Generator().manual_seed(seed),
        )[:num_frames].cpu().numpy()
        k = len(config.channel_names)
        expression, added = ensure_blinks(values[:, :k], config.channel_names, config.fps, seed)
        metadata = {"source": "style-e", "emotion": emotion, "seed": seed, "strength": strength, "steps": steps,
                    "text_encoder": config.text_encoder, "blinks": "added" if added else "generated",
                    **(metadata or {})}  # fmt: skip
        return CoeffSequence(config.model_id, config.fps, config.channel_names, expression, values[:, k:], metadata)


__all__ = ["StyleE", "blend_weights", "sample_sequence", "window_starts"]
