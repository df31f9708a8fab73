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

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from s2t.audio.features import SAMPLE_RATE, iter_frame_mel_windows, load_audio, num_video_frames
from s2t.face.coeffs import CoeffSequence
from s2t.style_e.anchors import DEFAULT_MIX, TextAnchors
from s2t.style_e.blinks import ensure_blinks
from s2t.style_e.ddim import DDIMScheduler
from s2t.style_e.denoiser import StyleEModel
from s2t.style_e.conditioning import EmotionSchedule, emotion_schedule
from s2t.style_e.emotion_track import EmotionTrack
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
def encode_audio_stream(model: StyleEModel, audio: np.ndarray, num_frames: int, chunk: int = 512) -> torch.Tensor:
    """``(num_frames, audio_dim)`` audio features of 16 kHz samples, ``chunk`` frames at a time:
    the mel windows (1.3 MB a second of speech) never exist for the whole audio at once."""
    device = model.x_mean.device
    features = torch.empty(num_frames, model.condition.audio_dim, device=device)
    start = 0
    for windows in iter_frame_mel_windows(audio, num_frames, chunk, model.config.fps):
        features[start : start + len(windows)] = model.condition.encode_audio(torch.from_numpy(windows).to(device))
        start += len(windows)
    return features


@torch.no_grad()
def sample_sequence(
    model: StyleEModel,
    scheduler: DDIMScheduler,
    audio_features: torch.Tensor,
    text: torch.Tensor | EmotionSchedule,
    identity: torch.Tensor,
    *,
    strength: float = 1.0,
    num_inference_steps: int = 5,
    overlap: int | None = None,
    generator: torch.Generator | None = None,
    windows_per_batch: int = 32,
) -> torch.Tensor:
    """Denoise a whole sequence; returns expression ⊕ pose values ``(F, x_dim)`` (not standardised).

    Args:
        audio_features: ``(F, audio_dim)`` from ``model.condition.encode_audio``, ``F >= window``
            (pad shorter audio first, as :meth:`StyleE.generate` does).
        text: ``(text_dim,)`` sentence embedding of the emotion text, or an
            :class:`~s2t.style_e.emotion_track.EmotionSchedule` (per-frame text and strength;
            ``strength`` is then ignored).
        identity: ``(identity_dim,)``.
        strength: guidance on the text: 0 neutral, 1 as trained, above 1 exaggerated.
        overlap: frames shared by neighbouring windows; a quarter window by default.
        windows_per_batch: windows run through the network at once. Every step still sees
            all windows (their predictions are summed into the full-length x_0 batch by
            batch, in the same order), so this bounds memory without changing the result.
    """
    config, device = model.config, audio_features.device
    window, total = config.window, len(audio_features)
    if total < window:
        raise ValueError(f"need at least window={window} frames of audio features, got {total}; pad first")
    schedule = text if isinstance(text, EmotionSchedule) else EmotionSchedule.constant(text, strength)
    overlap = window // 4 if overlap is None else overlap
    starts = window_starts(total, window, overlap)
    weights = blend_weights(starts, window).to(device, audio_features.dtype)
    frames = (torch.tensor(starts)[:, None] + torch.arange(window)).to(device)  # (N, W): each window slot's frame
    coverage = torch.zeros(total, dtype=weights.dtype, device=device).index_add_(0, frames.reshape(-1),
                                                                                   weights.reshape(-1))  # fmt: skip
    fixed = schedule.constant_strength
    frame_strength = None if fixed is not None else schedule.strength(torch.arange(total)).to(audio_features.dtype)
    all_strengths = [fixed] if fixed is not None else frame_strength.unique().tolist()
    # Both branches of the guidance run in one batch, text first, null text second; a branch
    # whose weight is 0 on every frame is skipped.
    branches = [b for b, needed in ((True, any(s != 0.0 for s in all_strengths)),
                                    (False, any(s != 1.0 for s in all_strengths))) if needed]  # fmt: skip

    low, high = _clip_bounds(model)
    scheduler.set_timesteps(num_inference_steps)
    sample = torch.randn(total, config.x_dim, generator=generator, dtype=audio_features.dtype).to(device)
    for t in scheduler.timesteps:
        x0 = torch.zeros_like(sample)
        for first in range(0, len(starts), windows_per_batch):
            batch_frames = frames[first : first + windows_per_batch]
            count = len(batch_frames)
            use_text = torch.tensor([b for b in branches for _ in range(count)], device=device)
            condition = model.condition.combine(
                audio_features[batch_frames].repeat(len(branches), 1, 1),
                _repeat(schedule.text(batch_frames), len(branches), count),
                identity.expand(len(use_text), -1),
                use_text,
            )
            timesteps = torch.full((len(use_text),), t, dtype=torch.long, device=device)
            predicted = model(sample[batch_frames].repeat(len(branches), 1, 1), timesteps, condition)
            if len(branches) == 2:
                with_text, without = predicted[:count], predicted[count:]
                scale = fixed if fixed is not None else frame_strength[batch_frames][..., None]
                predicted = without + scale * (with_text - without)
            weighted = (predicted * weights[first : first + count, :, None]).reshape(-1, config.x_dim)
            x0.index_add_(0, batch_frames.reshape(-1), weighted)
        x0 = x0 / coverage[:, None]
        x0 = torch.maximum(torch.minimum(x0, high), low)
        sample = scheduler.step(x0, t, sample).prev_sample
    result = model.denormalize(sample)
    if config.expression_range is not None:  # the last step is already in range up to rounding; make it exact
        k = len(config.channel_names)
        result[..., :k] = result[..., :k].clamp(*config.expression_range)
    return result


def _repeat(text: torch.Tensor, branches: int, count: int) -> torch.Tensor:
    """One emotion's ``(text_dim,)`` as ``(branches * count, text_dim)``; per-frame text
    ``(count, W, text_dim)`` repeated per branch."""
    if text.dim() == 1:
        return text.expand(branches * count, -1)
    return text.repeat(branches, 1, 1)


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
        anchor_mix: how far emotion texts are pulled toward the label sentences the model was
            trained on (:mod:`s2t.style_e.anchors`); 0 uses the encoder's embedding as is.
    """

    def __init__(self, model: StyleEModel, text_encoder: TextEncoder | None = None, num_inference_steps: int = 5,
                 overlap: int | None = None, anchor_mix: float = DEFAULT_MIX) -> None:  # fmt: skip
        self.model = model.eval()
        self.config = model.config
        self.text_encoder = text_encoder or load_text_encoder(self.config.text_encoder)
        if self.text_encoder.dim != self.config.text_dim:
            raise ValueError(f"the text encoder gives {self.text_encoder.dim}-d embeddings but the model was trained "
                             f"on {self.config.text_dim}-d ones ({self.config.text_encoder!r})")
        self.scheduler = DDIMScheduler(NoiseSchedule(self.config.num_train_timesteps))
        self.num_inference_steps, self.overlap = num_inference_steps, overlap
        self.anchors = TextAnchors(self.text_encoder, mix=anchor_mix)

    def __call__(self, audio_path: str | Path, emotion: str | EmotionTrack, seed: int = 0, strength: float = 1.0,
                 identity: np.ndarray | None = None,
                 num_inference_steps: int | None = None) -> CoeffSequence:  # fmt: skip
        """Speech file + emotion text (or track) -> expression and head pose at the model's fps (25)."""
        return self.generate(load_audio(audio_path), emotion, seed, strength, identity, num_inference_steps,
                             metadata={"audio": str(audio_path)})

    def generate(self, audio: np.ndarray, emotion: str | EmotionTrack, seed: int = 0, strength: float = 1.0,
                 identity: np.ndarray | None = None, num_inference_steps: int | None = None,
                 metadata: dict | None = None) -> CoeffSequence:  # fmt: skip
        """16 kHz mono samples ``(N,)`` + emotion text (or an :class:`EmotionTrack`) -> a
        CoeffSequence covering the audio; ``metadata`` is added to the sequence's own (emotion,
        seed, strength, steps). Memory does not grow with the audio's length beyond a few
        small per-frame arrays: audio features and windows are made and denoised in pieces."""
        return self.variants(audio, emotion, [seed], strength, identity, num_inference_steps, metadata)[0]

    def variants(self, audio: np.ndarray, emotion: str | EmotionTrack, seeds: list[int], strength: float = 1.0,
                 identity: np.ndarray | None = None, num_inference_steps: int | None = None,
                 metadata: dict | None = None) -> list[CoeffSequence]:  # fmt: skip
        """One take per seed of the same line (as :meth:`generate`), sharing the audio features
        and text embeddings; takes differ where the speech leaves room (head motion, brows)."""
        return list(self.iter_variants(audio, emotion, seeds, strength, identity, num_inference_steps, metadata))

    @torch.no_grad()  # wraps each step of the generator
    def iter_variants(self, audio: np.ndarray, emotion: str | EmotionTrack, seeds: list[int], strength: float = 1.0,
                      identity: np.ndarray | None = None, num_inference_steps: int | None = None,
                      metadata: dict | None = None) -> Iterator[CoeffSequence]:  # fmt: skip
        """:meth:`variants`, each take sampled when it is asked for (a caller can report progress
        between takes); the shared work is done before the first."""
        if strength < 0:
            raise ValueError(f"strength must be 0 (neutral) or more, got {strength}")
        config, model = self.config, self.model
        steps = self.num_inference_steps if num_inference_steps is None else num_inference_steps
        num_frames = num_video_frames(len(audio), SAMPLE_RATE, config.fps)
        device = model.x_mean.device
        identity_vector = torch.zeros(config.identity_dim) if identity is None else \
            torch.as_tensor(np.asarray(identity, np.float32))  # fmt: skip
        if identity_vector.shape != (config.identity_dim,):
            raise ValueError(f"identity must have {config.identity_dim} values, got {tuple(identity_vector.shape)}")
        if isinstance(emotion, EmotionTrack):
            emotion.check_duration(len(audio) / SAMPLE_RATE)
            embeddings = self.anchors.encode([c.text for c in emotion.cues]).to(device)
            schedule = emotion_schedule(emotion, embeddings, strength, config.fps)
            described = {"emotion": emotion.cues[0].text, "emotion_track": emotion.to_list(),
                         "emotion_blend": emotion.blend}  # fmt: skip
        else:
            schedule = EmotionSchedule.constant(self.anchors.encode([emotion])[0].to(device), strength)
            described = {"emotion": emotion}
        # frames past the audio repeat its last mel row, as in training
        features = encode_audio_stream(model, audio, max(num_frames, config.window))
        for seed in seeds:
            values = sample_sequence(model, self.scheduler, features, schedule, identity_vector.to(device),
                                     num_inference_steps=steps, overlap=self.overlap,
                                     generator=torch.Generator().manual_seed(seed))[:num_frames].cpu().numpy()  # fmt: skip
            k = len(config.channel_names)
            expression, added = ensure_blinks(values[:, :k], config.channel_names, config.fps, seed)
            info = {"source": "style-e", **described, "seed": seed, "strength": strength, "steps": steps,
                    "text_encoder": config.text_encoder, "text_anchoring": self.anchors.describe(),
                    "blinks": "added" if added else "generated",
                    **(metadata or {})}  # fmt: skip
            yield CoeffSequence(config.model_id, config.fps, config.channel_names, expression, values[:, k:], info)


__all__ = ["StyleE", "blend_weights", "encode_audio_stream", "sample_sequence", "window_starts"]
