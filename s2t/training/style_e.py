"""Training Style-E (``s2t train style-e``): the paper's x_0 loss on random windows of a corpus.

The objective is the paper's Eq. (2), ``|| β_0 - μθ(β_t, c, t) ||²`` with t uniform over the
1000 steps, on standardised values and averaged over the real (unpadded) frames of each
window. Neither the paper nor AGRoL's code (``diffusion/diffusion_model.py``, whose
``training_losses`` is an L2 on x_0 alone) adds velocity or smoothness terms; here the head
pose gets a loss weight of its own, and optional velocity and acceleration terms
(:class:`PoseMotion`, ``TrainConfig.pose_velocity_weight`` / ``pose_acceleration_weight``, as
MDM's velocity loss does for body motion; off by default, see there), because generated heads
were nearly still (issue #19; the corpus's own head motion mattered more, bench/RESULTS.md). Optimiser as AGRoL's training command: AdamW, lr
3e-4, weight decay 1e-4.

The windows (clips, padding, emotion texts, the null text for neutral clips) are
:mod:`s2t.training.style_e_windows`; checkpoint discovery and the metrics log are
:mod:`s2t.training.common`, shared with Style-A's loop.

Outputs in ``out_dir``: ``style_e_0001000.pt``... (config, weights, optimiser, step,
generator; the newest ``keep_checkpoints`` are kept), ``metrics.csv`` (step, mean training
loss since the previous row, validation loss, learning rate, seconds since this run started;
row 0 is the untrained model) and ``curves.png``. ``resume=True`` continues from the newest
checkpoint with its own model config and the given ``TrainConfig`` (so ``steps`` can grow).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from s2t.style_e.checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint
from s2t.style_e.denoiser import POSE_DIM, StyleEConfig, StyleEModel
from s2t.style_e.schedule import NoiseSchedule
from s2t.text import TextEncoder, load_text_encoder
from s2t.training.common import METRICS_FILE, MetricsLog, checkpoint_name, latest_checkpoint, remove_old_checkpoints
from s2t.training.style_e_windows import (TrainingClip, WindowSampler, load_corpus_clips, normalization_stats,
                                          split_clips)

CHECKPOINT_PREFIX = "style_e_"
METRICS = ("step", "train_loss", "val_loss", "learning_rate", "seconds")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 20000
    batch_size: int = 32
    learning_rate: float = 3e-4
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    neutral_null_prob: float = 0.5
    val_fraction: float = 0.05
    val_batches: int = 4
    eval_every: int = 250
    save_every: int = 1000
    keep_checkpoints: int = 3
    seed: int = 0
    # Loss weight per channel (others 1). The plain loss let lips stay apart on /p b m/ and
    # averaged blinks away (bench/RESULTS.md, "Style-E: quality on held-out clips"): both are
    # brief, so they are a small share of the squared error but what viewers notice first.
    # "pose" weighs the 6 head-pose values (issue #19: generated heads moved 0.6-1.2 degrees).
    channel_weights: dict = field(default_factory=lambda: {
        "mouthClose": 4.0, "mouthPressLeft": 2.0, "mouthPressRight": 2.0, "eyeBlinkLeft": 3.0, "eyeBlinkRight": 3.0,
        "pose": 2.0})
    # Velocity and acceleration of the head pose as extra terms (pose_velocity_loss,
    # pose_acceleration_loss; at weight 1 an error that is independent from frame to frame weighs
    # as in the x_0 loss). Off by default: two matched 1500-step runs on the multilingual corpus
    # (bench/RESULTS.md, "Style-E: the third checkpoint") moved the head as much with them
    # (1.0-1.4 degrees std) as without, their angular speed followed loudness a little more
    # (r 0.24 against 0.18), but lips sealed on far fewer /p b m/ frames (0.34 against 0.43).
    pose_velocity_weight: float = 0.0
    pose_acceleration_weight: float = 0.0
    # Each voice engine gets the same share of training windows (WindowSampler). The
    # multilingual corpus is 79 % espeak-ng, and flite's lips sealed on fewer /p b m/ frames
    # after training on it than after the half-flite English corpus (bench/RESULTS.md).
    balance_sources: bool = False


def loss_weights(config: StyleEConfig, weights: dict[str, float]) -> torch.Tensor:
    """``(D,)`` weights over the expression channels then the pose (the name ``"pose"`` sets
    all 6 pose values), normalised to mean 1; names the model does not have are ignored (the
    defaults name ARKit channels)."""
    values = torch.ones(config.x_dim)
    for name, weight in weights.items():
        if name in config.channel_names:
            values[config.channel_names.index(name)] = float(weight)
        elif name == "pose":
            values[len(config.channel_names) :] = float(weight)
    return values / values.mean()


def pose_velocity_loss(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Squared error of the head pose's frame-to-frame velocity (the last 6 standardised values of
    ``(B, W, D)``), mean over pairs of real frames (mask ``(B, W)``), halved: halving makes an error
    that is independent from frame to frame weigh as much as in the x_0 loss, and bounds the term
    by twice the pose's position error whatever the prediction."""
    return _pose_difference_loss(predicted, target, mask, order=1)


def pose_acceleration_loss(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """As :func:`pose_velocity_loss` for the second difference (acceleration), over triples of real
    frames, divided by 6 (the variance of the second difference of unit white noise): at most three
    times the pose's position error."""
    return _pose_difference_loss(predicted, target, mask, order=2)


def _pose_difference_loss(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor,
                          order: int) -> torch.Tensor:  # fmt: skip
    # In the standardised units of the x_0 loss, not relative to the corpus's own velocity or
    # acceleration spread: the corpus's slow sways have an acceleration spread of 0.002-0.004
    # standardised units, and dividing by it made any frame-to-frame jitter weigh 10^5-10^6 times
    # its position error (train loss 1465 against validation 0.61 at step 250; even the trained
    # embedded checkpoint scored 1262 at t = 0, bench/RESULTS.md "Style-E: next level").
    error = torch.diff(predicted[..., -POSE_DIM:] - target[..., -POSE_DIM:], order, dim=1) ** 2
    error = error / (2.0 if order == 1 else 6.0)
    valid = mask[:, order:].clone()
    for shift in range(order):
        valid &= mask[:, shift : mask.shape[1] - order + shift]
    valid = valid.to(error.dtype)
    return (error.mean(-1) * valid).sum() / valid.sum().clamp_min(1)


@dataclass(frozen=True)
class PoseMotion:
    """The weights of the head pose's velocity and acceleration terms
    (:func:`pose_velocity_loss`, :func:`pose_acceleration_loss`)."""

    velocity_weight: float
    acceleration_weight: float

    def loss(self, predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The weighted sum of both terms (``(B, W, D)``, mask ``(B, W)``)."""
        total = predicted.new_zeros(())
        if self.velocity_weight:
            total = total + self.velocity_weight * pose_velocity_loss(predicted, target, mask)
        if self.acceleration_weight:
            total = total + self.acceleration_weight * pose_acceleration_loss(predicted, target, mask)
        return total


def diffusion_loss(model: StyleEModel, schedule: NoiseSchedule, batch: dict[str, torch.Tensor],
                   text_table: torch.Tensor, generator: torch.Generator,
                   weights: torch.Tensor | None = None, motion: PoseMotion | None = None) -> torch.Tensor:  # fmt: skip
    """Eq. (2): mean squared error of the predicted x_0 over the real frames of the batch,
    each channel weighted by ``weights`` (``(D,)``, mean 1; None: equal), plus the pose's
    velocity and acceleration terms when ``motion`` is given."""
    x0 = model.normalize(batch["target"])
    batch_size = len(x0)
    timesteps = torch.randint(0, schedule.num_train_timesteps, (batch_size,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    device = x0.device
    x_t = schedule.add_noise(x0, noise.to(device), timesteps.to(device))
    condition = model.condition(batch["mel"], text_table[batch["text"]], batch["identity"], batch["use_text"])
    predicted = model(x_t, timesteps.to(device), condition)
    mask = batch["mask"].to(x0.dtype)
    error = (predicted - x0) ** 2
    if weights is not None:
        error = error * weights.to(error)
    loss = (error.mean(-1) * mask).sum() / mask.sum()
    if motion is not None:
        loss = loss + motion.loss(predicted, x0, batch["mask"])
    return loss


def train_style_e(
    clips: list[TrainingClip] | str | Path,
    out_dir: str | Path,
    config: StyleEConfig = StyleEConfig(),
    train: TrainConfig = TrainConfig(),
    *,
    resume: bool = False,
    device: str | torch.device = "cpu",
    text_encoder: TextEncoder | None = None,
    log: Callable[[str], None] = print,
) -> Path:
    """Train (or, with ``resume``, continue training) to ``train.steps``; returns the last checkpoint.

    ``clips`` is a corpus folder or a list of :class:`TrainingClip` (tests build them in code).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    latest = latest_checkpoint(out_dir, CHECKPOINT_PREFIX) if resume else None
    checkpoint = read_checkpoint(latest) if latest else None
    if checkpoint is not None:
        config = StyleEConfig.from_dict(checkpoint["config"])
        log(f"resuming from {latest} at step {checkpoint['step']}")
    elif resume:
        log(f"nothing to resume in {out_dir}; starting afresh")
    if isinstance(clips, (str, Path)):
        clips = load_corpus_clips(clips, config)
    text_encoder = text_encoder or load_text_encoder(config.text_encoder, device)
    if text_encoder.dim != config.text_dim:
        raise ValueError(f"the text encoder gives {text_encoder.dim}-d embeddings; text_dim is {config.text_dim}")

    train_clips, val_clips = split_clips(clips, train.val_fraction)
    texts = sorted({t for c in clips for t in c.texts})
    text_table = torch.cat([text_encoder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]).to(device)
    text_index = {t: i for i, t in enumerate(texts)}
    if not any(c.neutral for c in train_clips):
        log("warning: no neutral clip to train on: guidance strength 0 (neutral) will not mean anything")

    if checkpoint is not None:
        model = model_from_checkpoint(checkpoint, latest)
    else:
        with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG untouched
            torch.manual_seed(train.seed)
            model = StyleEModel(config)
        model.set_normalization(*normalization_stats(train_clips))
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.learning_rate, weight_decay=train.weight_decay)
    generator = torch.Generator().manual_seed(train.seed)
    step = 0
    if checkpoint is not None:
        optimizer.load_state_dict(checkpoint["optimizer"])
        generator.set_state(checkpoint["generator"])
        step = checkpoint["step"]

    schedule = NoiseSchedule(config.num_train_timesteps)
    weights = loss_weights(config, train.channel_weights).to(device)
    motion = None
    if train.pose_velocity_weight or train.pose_acceleration_weight:
        motion = PoseMotion(train.pose_velocity_weight, train.pose_acceleration_weight)
    sampler = WindowSampler(train_clips, config.window, text_index, train.neutral_null_prob, train.balance_sources)
    val_sampler = WindowSampler(val_clips, config.window, text_index, train.neutral_null_prob)
    val_generator = torch.Generator().manual_seed(train.seed + 1)
    val_data = [(val_sampler.sample(train.batch_size, val_generator), val_generator.get_state())
                for _ in range(train.val_batches)]  # fmt: skip
    metrics = MetricsLog(out_dir / METRICS_FILE, METRICS, resume_step=step)
    size = sum(p.numel() for p in model.parameters()) / 1e6
    log(f"Style-E: {size:.2f} M parameters, {len(train_clips)} training and {len(val_clips)} validation clips, "
        f"window {config.window}, batch {train.batch_size}, on {device}")

    started, running, last_path = time.perf_counter(), [], latest
    if step == 0:  # the curve starts at the untrained model
        val_loss = validation_loss(model, schedule, val_data, text_table, device)
        metrics.append(_metrics_row(0, float("nan"), val_loss, 0.0, 0.0))
    while step < train.steps:
        batch = {k: v.to(device) for k, v in sampler.sample(train.batch_size, generator).items()}
        loss = diffusion_loss(model, schedule, batch, text_table, generator, weights, motion)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        optimizer.step()
        step += 1
        running.append(loss.item())
        if step % train.eval_every == 0 or step == train.steps:
            val_loss = validation_loss(model, schedule, val_data, text_table, device)
            metrics.append(_metrics_row(step, float(np.mean(running)), val_loss, train.learning_rate,
                                        time.perf_counter() - started))  # fmt: skip
            log(f"step {step}: train loss {np.mean(running):.4f}, validation loss {val_loss:.4f}")
            running = []
        if step % train.save_every == 0 or step == train.steps:
            last_path = save_checkpoint(out_dir / checkpoint_name(CHECKPOINT_PREFIX, step), model, step=step,
                                        optimizer=optimizer.state_dict(), generator=generator.get_state(),
                                        train_config=asdict(train))  # fmt: skip
            remove_old_checkpoints(out_dir, CHECKPOINT_PREFIX, train.keep_checkpoints)
    plot_curves(metrics.rows(), out_dir / "curves.png")
    return last_path


@torch.no_grad()
def validation_loss(model: StyleEModel, schedule: NoiseSchedule, val_data: list, text_table: torch.Tensor,
                    device: torch.device) -> float:  # fmt: skip
    """The loss on fixed validation windows with fixed timesteps and noise, so the curve is comparable."""
    model.eval()
    losses = []
    for batch, state in val_data:
        generator = torch.Generator().set_state(state)
        losses.append(diffusion_loss(model, schedule, {k: v.to(device) for k, v in batch.items()}, text_table,
                                     generator).item())  # fmt: skip
    model.train()
    return float(np.mean(losses))


def _metrics_row(step: int, train_loss: float, val_loss: float, learning_rate: float, seconds: float) -> dict:
    return {"step": step, "train_loss": f"{train_loss:.6f}", "val_loss": f"{val_loss:.6f}",
            "learning_rate": learning_rate, "seconds": f"{seconds:.1f}"}  # fmt: skip


def plot_curves(rows: list[dict], path: Path) -> Path | None:
    """Training and validation loss against step, log scale; skipped without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["train_loss"] for r in rows], label="training")
    ax.plot(steps, [r["val_loss"] for r in rows], label="validation")
    ax.set(xlabel="step", ylabel="x0 loss (standardised MSE)", yscale="log", title="Style-E")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


__all__ = [
    "CHECKPOINT_PREFIX", "PoseMotion", "TrainConfig", "diffusion_loss", "loss_weights", "plot_curves",
    "pose_acceleration_loss", "pose_velocity_loss", "train_style_e", "validation_loss",
]  # fmt: skip
