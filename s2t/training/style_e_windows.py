"""Style-E training data: clips of a corpus as arrays, and random training windows of them.

A training item is a window of ``config.window`` frames from a random clip (clips drawn in
proportion to their length). Clips shorter than the window are padded: the target holds the
last frame and is masked out of the loss, and the audio windows past the end repeat the
last mel row, as at inference. Each item takes one of its clip's emotion texts at random
(the paper's five candidates per video); a *neutral* clip's text is replaced by the null
text with probability ``neutral_null_prob``, which is what the null text, and so guidance
strength 0, learns to mean (:mod:`s2t.style_e.conditioning`).

Emotion texts come from ``annotations.jsonl`` files beside each shard's index, one JSON
object a line, ``{"clip_id": "...", "texts": ["...", ...]}`` (``s2t corpus annotate``); every
clip also gets plain sentences made from its emotion label and level
(:mod:`s2t.style_e.label_texts`) and a few sentences of the annotation grammar.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from s2t.audio.features import SAMPLE_RATE, frame_mel_windows, melspectrogram
from s2t.face.coeffs import CoeffSequence
from s2t.style_e.denoiser import StyleEConfig
from s2t.style_e.label_texts import emotion_texts
from s2t.text.emotion_grammar import candidate_sentences
from s2t.text.indirect_emotion import indirect_sentences


@dataclass(frozen=True, eq=False)
class TrainingClip:
    """One clip ready for training: ``mel`` ``(M, 80)`` float16, ``target`` ``(T, x_dim)``
    (expression ⊕ pose), its emotion ``texts``, ``identity`` ``(I,)``, whether it is neutral, and
    its ``source`` (the voice engine of a synthetic clip: ``WindowSampler`` can balance them)."""

    clip_id: str
    mel: np.ndarray
    target: np.ndarray
    texts: tuple[str, ...]
    identity: np.ndarray
    neutral: bool
    source: str = ""

    @property
    def num_frames(self) -> int:
        return len(self.target)


def training_clip(clip_id: str, audio: np.ndarray, coeffs: CoeffSequence, texts: list[str] | tuple[str, ...],
                  neutral: bool, identity: np.ndarray | None = None, identity_dim: int = 16,
                  source: str = "") -> TrainingClip:  # fmt: skip
    """A :class:`TrainingClip` from 16 kHz audio and its coefficient sequence; ``identity``
    defaults to ``coeffs.metadata["identity"]`` (zeros when absent)."""
    if not texts:
        raise ValueError(f"clip {clip_id} has no emotion text")
    if identity is None:
        identity = coeffs.metadata.get("identity", np.zeros(identity_dim))
    target = np.concatenate([coeffs.expression, coeffs.pose], axis=1).astype(np.float32)
    return TrainingClip(clip_id, melspectrogram(audio).astype(np.float16), target, tuple(texts),
                        np.asarray(identity, np.float32), bool(neutral), source)  # fmt: skip


def grammar_texts(clip_id: str, emotion: str, level: int, count: int = 3) -> list[str]:
    """``count`` whole-face sentences of the annotation grammar for the emotion at ``level``
    ("The speaker looks irritated.", "He delivers the line in a rage."), drawn with a generator
    seeded by the clip id, so a corpus always gets the same ones."""
    return candidate_sentences(emotion, level, [], _clip_rng("grammar", clip_id), count=count)


def indirect_texts(clip_id: str, emotion: str, level: int, count: int = 2) -> list[str]:
    """``count`` indirect sentences for the emotion at ``level`` ("She is over the moon."),
    drawn with a generator seeded by the clip id (:mod:`s2t.text.indirect_emotion`)."""
    return indirect_sentences(emotion, level, _clip_rng("indirect", clip_id), count=count)


def _clip_rng(purpose: str, clip_id: str) -> np.random.Generator:
    """A generator seeded by the clip id (and what it draws), so a corpus always gets the same texts."""
    return np.random.default_rng(zlib.crc32(f"{purpose}/{clip_id}".encode()))


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
        # words of the clip's level: "annoyed", "furious"), so more phrasings land, and indirect
        # ones that describe the mood without naming it (issue #19).
        texts = [*annotations.get(record.clip_id, []), *emotion_texts(record.emotion, record.level),
                 *grammar_texts(record.clip_id, record.emotion, record.level),
                 *indirect_texts(record.clip_id, record.emotion, record.level)]
        clips.append(training_clip(record.clip_id, clip.audio, clip.coeffs, texts, record.emotion == "neutral",
                                   identity_dim=config.identity_dim, source=record.engine))  # fmt: skip
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
                 neutral_null_prob: float, balance_sources: bool = False) -> None:  # fmt: skip
        """Windows are drawn in proportion to frames; with ``balance_sources`` each clip source
        (voice engine) gets the same share of windows, however many frames it has."""
        self.clips, self.window, self.text_index, self.neutral_null_prob = clips, window, text_index, neutral_null_prob
        self.frame_weights = torch.tensor([c.num_frames for c in clips], dtype=torch.float64)
        if balance_sources:
            per_source: dict[str, float] = {}
            for clip in clips:
                per_source[clip.source] = per_source.get(clip.source, 0.0) + clip.num_frames
            self.frame_weights /= torch.tensor([per_source[c.source] for c in clips], dtype=torch.float64)

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


__all__ = [
    "TrainingClip", "WindowSampler", "grammar_texts", "load_corpus_clips", "normalization_stats", "read_annotations",
    "split_clips", "training_clip",
]  # fmt: skip
