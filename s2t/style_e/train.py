"""Training Style-E (``s2t train style-e``): random windows of a corpus, the paper's x_0 loss.

The objective is the paper's Eq. (2), ``|| β_0 - μθ(β_t, c, t) ||²`` with t uniform over the
1000 steps, on standardised values and averaged over the real (unpadded) frames of each
window. Neither the paper nor AGRoL's code (``diffusion/diffusion_model.py``, whose
``training_losses`` is an L2 on x_0 alone) adds velocity or smoothness terms; here the head
pose gets a loss weight of its own and velocity and acceleration terms (:class:`PoseMotion`,
``TrainConfig.pose_velocity_weight`` / ``pose_acceleration_weight``, as MDM's velocity loss
does for body motion), because the plain loss left generated heads nearly still (issue #19;
the embedded checkpoint predates them). Optimiser as AGRoL's training command: AdamW, lr
3e-4, weight decay 1e-4.

A training item is a window of ``config.window`` frames from a random clip (clips drawn in
proportion to their length). Clips shorter than the window are padded: the target holds the
last frame and is masked out of the loss, and the audio windows past the end repeat the
last mel row, as at inference. Each item takes one of its clip's emotion texts at random
(the paper's five candidates per video); a *neutral* clip's text is replaced by the null
text with probability ``neutral_null_prob``, which is what the null text, and so guidance
strength 0, learns to mean (:mod:`s2t.style_e.conditioning`).

Emotion texts come from ``annotations.jsonl`` files beside each shard's index, one JSON
object a line, ``{"clip_id": "...", "texts": ["...", ...]}`` (``s2t corpus annotate``); every
clip also gets plain sentences made from its emotion label and level.

Outputs in ``out_dir``: ``style_e_0001000.pt``... (config, weights, optimiser, step,
generator; the newest ``keep_checkpoints`` are kept), ``metrics.csv`` (step, mean training
loss since the previous row, validation loss, learning rate, seconds since this run started;
row 0 is the untrained model) and ``curves.png``. ``resume=True`` continues from the newest
checkpoint with its own model config and the given ``TrainConfig`` (so ``steps`` can grow).
"""

from __future__ import annotations

import csv
import json
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from s2t.audio.features import SAMPLE_RATE, frame_mel_windows, melspectrogram
from s2t.face.coeffs import CoeffSequence
from s2t.style_e.checkpoint import model_from_checkpoint, read_checkpoint, save_checkpoint
from s2t.style_e.denoiser import POSE_DIM, StyleEConfig, StyleEModel
from s2t.style_e.schedule import NoiseSchedule
from s2t.text import TextEncoder, load_text_encoder

CHECKPOINT_PATTERN = "style_e_*.pt"
METRICS = ("step", "train_loss", "val_loss", "learning_rate", "seconds")
_LEVEL_WORDS = {1: "slightly ", 2: "", 3: "very "}
_EMOTION_WORDS = {"neutral": "neutral", "angry": "angry", "contempt": "contemptuous", "disgusted": "disgusted",
                  "fear": "fearful", "happy": "happy", "sad": "sad", "surprised": "surprised"}  # fmt: skip


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
    # as in the x_0 loss): an x_0 loss alone lets the head drift smoothly toward the mean and
    # jitter between frames instead of nodding with the speech.
    pose_velocity_weight: float = 1.0
    pose_acceleration_weight: float = 0.5


@dataclass(frozen=True, eq=False)
class TrainingClip:
    """One clip ready for training: ``mel`` ``(M, 80)`` float16, ``target`` ``(T, x_dim)``
    (expression ⊕ pose), its emotion ``texts``, ``identity`` ``(I,)``, and whether it is neutral."""

    clip_id: str
    mel: np.ndarray
    target: np.ndarray
    texts: tuple[str, ...]
    identity: np.ndarray
    neutral: bool

    @property
    def num_frames(self) -> int:
        return len(self.target)


def training_clip(clip_id: str, audio: np.ndarray, coeffs: CoeffSequence, texts: list[str] | tuple[str, ...],
                  neutral: bool, identity: np.ndarray | None = None,
                  identity_dim: int = 16) -> TrainingClip:  # fmt: skip
    """A :class:`TrainingClip` from 16 kHz audio and its coefficient sequence; ``identity``
    defaults to ``coeffs.metadata["identity"]`` (zeros when absent)."""
    if not texts:
        raise ValueError(f"clip {clip_id} has no emotion text")
    if identity is None:
        identity = coeffs.metadata.get("identity", np.zeros(identity_dim))
    target = np.concatenate([coeffs.expression, coeffs.pose], axis=1).astype(np.float32)
    return TrainingClip(clip_id, melspectrogram(audio).astype(np.float16), target, tuple(texts),
                        np.asarray(identity, np.float32), bool(neutral))  # fmt: skip


def emotion_texts(emotion: str, level: int) -> list[str]:
    """Plain sentences for a clip with only an emotion label and a level (1-3)."""
    word = _EMOTION_WORDS.get(emotion, emotion)
    if emotion == "neutral":
        return ["a neutral face", "He talks calmly with a neutral expression.", "She looks neutral."]
    how = _LEVEL_WORDS.get(level, "")
    return [f"a {how}{word} face", f"He is {how}{word}.", f"She looks {how}{word} while talking."]


def label_texts() -> list[str]:
    """Every plain label sentence (:func:`emotion_texts` of each emotion and level), once each:
    the texts every training run sees, whatever its annotations."""
    return list(dict.fromkeys(t for emotion in _EMOTION_WORDS for level in (1, 2, 3)
                              for t in emotion_texts(emotion, level)))  # fmt: skip


def grammar_texts(clip_id: str, emotion: str, level: int, count: int = 3) -> list[str]:
    """``count`` whole-face sentences of the annotation grammar for the emotion at ``level``
    ("The speaker looks irritated.", "He delivers the line in a rage."), drawn with a generator
    seeded by the clip id, so a corpus always gets the same ones."""
    from s2t.data.annotate_grammar import candidate_sentences

    rng = np.random.default_rng(zlib.crc32(f"grammar/{clip_id}".encode()))
    return candidate_sentences(emotion, level, [], rng, count=count)


def read_annotations(root: str | Path) -> dict[str, list[str]]:
    """``clip_id -> texts`` from every ``shard_*/annotations.jsonl`` of a corpus."""
    texts: dict[str, list[str]] = {}
    for path in sorted(Path(root).glob("shard_*/annotations.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                try:
                    row = json.loads(line)
                    texts[row["clip_id"]] = [str(t) for t in row["texts"]]
                except (ValueError, KeyError, TypeError) as exc:
                    expected = '{"clip_id": ..., "texts": [...]}'
                    raise ValueError(f"{path}:{number}: expected {expected}: {exc}") from exc
    return texts


def load_corpus_clips(root: str | Path, config: StyleEConfig, progress: bool = True) -> list[TrainingClip]:
    """Every clip of a corpus folder (``s2t.data`` format) as :class:`TrainingClip`; the
    clips must be for ``config``'s face model and channels."""
    from tqdm import tqdm

    from s2t.data.corpus import CorpusIndex, load_clip

    corpus = CorpusIndex(root)
    annotations = read_annotations(root)
    clips = []
    for record in tqdm(corpus.records, desc="loading corpus", unit="clip", disable=not progress):
        clip = load_clip(record)
        if clip.sample_rate != SAMPLE_RATE:
            raise ValueError(f"{record.audio_path}: audio must be {SAMPLE_RATE} Hz, got {clip.sample_rate}")
        if (clip.coeffs.model_id, clip.coeffs.channel_names, clip.coeffs.fps) != \
                (config.model_id, config.channel_names, config.fps):  # fmt: skip
            raise ValueError(f"{record.coeffs_path} is for {clip.coeffs.model_id!r} at {clip.coeffs.fps} fps; "
                             f"the model is configured for {config.model_id!r} at {config.fps} fps, same channels")
        # The annotation's descriptive sentences and the plain labels both: trained on
        # annotations alone, short texts like "He is angry." came out weak (bench/RESULTS.md);
        # and a few whole-face sentences of the annotation grammar in other words (intensity
        # words of the clip's level: "annoyed", "furious"), so more phrasings land (issue #19).
        texts = [*annotations.get(record.clip_id, []), *emotion_texts(record.emotion, record.level),
                 *grammar_texts(record.clip_id, record.emotion, record.level)]
        clips.append(training_clip(record.clip_id, clip.audio, clip.coeffs, texts, record.emotion == "neutral",
                                   identity_dim=config.identity_dim))  # fmt: skip
    if not clips:
        raise ValueError(f"the corpus {root} has no clips")
    return clips


class WindowSampler:
    """Random training windows; every random choice comes from the given ``torch.Generator``.

    The audio input of a window is its mel windows (``mel``); a subclass may give other
    audio inputs under another ``audio_key`` by overriding :meth:`audio_window`.
    """

    audio_key = "mel"

    def __init__(self, clips: list[TrainingClip], window: int, text_index: dict[str, int],
                 neutral_null_prob: float) -> None:  # fmt: skip
        self.clips, self.window, self.text_index, self.neutral_null_prob = clips, window, text_index, neutral_null_prob
        self.frame_weights = torch.tensor([c.num_frames for c in clips], dtype=torch.float64)

    def audio_window(self, index: int, start: int) -> np.ndarray | torch.Tensor:
        """Clip ``index``'s audio input for the window from frame ``start``: ``(W, 80, 16)`` mel."""
        return frame_mel_windows(self.clips[index].mel, self.window, start).astype(np.float32)

    def sample(self, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``target (B, W, x_dim)``, ``mask (B, W)``, the audio (``mel (B, W, 80, 16)``), ``text (B,)``
        indices into the text table, ``identity (B, I)``, ``use_text (B,)``."""
        window = self.window
        chosen = torch.multinomial(self.frame_weights, batch_size, replacement=True, generator=generator).tolist()
        uniform = torch.rand(batch_size, 3, generator=generator).tolist()
        items = {k: [] for k in ("target", "mask", self.audio_key, "text", "identity", "use_text")}
        for index, (u_start, u_text, u_null) in zip(chosen, uniform):
            clip = self.clips[index]
            start = int(u_start * (max(clip.num_frames - window, 0) + 1))
            frames = np.arange(start, start + window)
            items["target"].append(clip.target[np.minimum(frames, clip.num_frames - 1)])
            items["mask"].append(frames < clip.num_frames)
            items[self.audio_key].append(self.audio_window(index, start))
            items["text"].append(self.text_index[clip.texts[int(u_text * len(clip.texts))]])
            items["identity"].append(clip.identity)
            items["use_text"].append(not (clip.neutral and u_null < self.neutral_null_prob))
        batch = {k: _stack(items[k]) for k in ("target", "mask", self.audio_key, "identity")}
        return {**batch, "text": torch.tensor(items["text"]), "use_text": torch.tensor(items["use_text"])}


def _stack(values: list) -> torch.Tensor:
    return torch.stack(values) if isinstance(values[0], torch.Tensor) else torch.from_numpy(np.stack(values))


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


def normalization_stats(clips: list[TrainingClip], min_std: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std over every frame of ``clips`` (std floored at ``min_std``,
    so channels that barely move are not blown up)."""
    values = torch.from_numpy(np.concatenate([c.target for c in clips]).astype(np.float64))
    return values.mean(0).float(), values.std(0).clamp_min(min_std).float()


def split_clips(clips: list[TrainingClip], val_fraction: float) -> tuple[list[TrainingClip], list[TrainingClip]]:
    """A stable split by a hash of the clip id; with no clip in validation, validate on training clips."""
    is_val = [zlib.crc32(c.clip_id.encode()) % 10000 < val_fraction * 10000 for c in clips]
    train = [c for c, v in zip(clips, is_val) if not v]
    val = [c for c, v in zip(clips, is_val) if v]
    if not train:
        return clips, clips
    return train, val or train


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
    latest = latest_checkpoint(out_dir) if resume else None
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
    sampler = WindowSampler(train_clips, config.window, text_index, train.neutral_null_prob)
    val_sampler = WindowSampler(val_clips, config.window, text_index, train.neutral_null_prob)
    val_generator = torch.Generator().manual_seed(train.seed + 1)
    val_data = [(val_sampler.sample(train.batch_size, val_generator), val_generator.get_state())
                for _ in range(train.val_batches)]  # fmt: skip
    metrics = MetricsLog(out_dir / "metrics.csv", keep_until=step)
    size = sum(p.numel() for p in model.parameters()) / 1e6
    log(f"Style-E: {size:.2f} M parameters, {len(train_clips)} training and {len(val_clips)} validation clips, "
        f"window {config.window}, batch {train.batch_size}, on {device}")

    started, running, last_path = time.perf_counter(), [], latest
    if step == 0:  # the curve starts at the untrained model
        metrics.append(0, float("nan"), validation_loss(model, schedule, val_data, text_table, device), 0.0, 0.0)
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
            metrics.append(step, float(np.mean(running)), val_loss, train.learning_rate, time.perf_counter() - started)
            log(f"step {step}: train loss {np.mean(running):.4f}, validation loss {val_loss:.4f}")
            running = []
        if step % train.save_every == 0 or step == train.steps:
            last_path = save_checkpoint(out_dir / f"style_e_{step:07d}.pt", model, step=step,
                                        optimizer=optimizer.state_dict(), generator=generator.get_state(),
                                        train_config=asdict(train))  # fmt: skip
            _remove_old_checkpoints(out_dir, train.keep_checkpoints)
    metrics.plot(out_dir / "curves.png")
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


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    paths = sorted(Path(out_dir).glob(CHECKPOINT_PATTERN))
    return paths[-1] if paths else None


def _remove_old_checkpoints(out_dir: Path, keep: int) -> None:
    for path in sorted(out_dir.glob(CHECKPOINT_PATTERN))[:-keep]:
        path.unlink()


class MetricsLog:
    """``metrics.csv``: one row per evaluation. Rows past ``keep_until`` (left by a run that
    stopped after its last checkpoint) are dropped on opening, so a resumed run continues cleanly."""

    def __init__(self, path: Path, keep_until: int) -> None:
        self.path = path
        rows = self.rows() if path.exists() else []
        rows = [r for r in rows if r["step"] <= keep_until]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, METRICS)
            writer.writeheader()
            writer.writerows(rows)

    def rows(self) -> list[dict]:
        with open(self.path, newline="") as f:
            return [{k: (int(v) if k == "step" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]

    def append(self, step: int, train_loss: float, val_loss: float, learning_rate: float, seconds: float) -> None:
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([step, f"{train_loss:.6f}", f"{val_loss:.6f}", learning_rate, f"{seconds:.1f}"])

    def plot(self, path: Path) -> Path | None:
        """Training and validation loss against step, log scale; skipped without matplotlib."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return None
        rows = self.rows()
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
    "MetricsLog", "PoseMotion", "TrainConfig", "TrainingClip", "WindowSampler", "diffusion_loss", "emotion_texts",
    "grammar_texts", "label_texts", "loss_weights", "pose_acceleration_loss", "pose_velocity_loss",
    "latest_checkpoint", "load_corpus_clips", "read_annotations", "train_style_e", "training_clip",
]  # fmt: skip
