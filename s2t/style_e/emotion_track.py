"""An emotion that changes within a take: cues of (start time, emotion text, strength), read
from a TSV or JSON file or a list, and their per-frame blend in conditioning space.

File formats (times in seconds from the start of the audio)::

    # TSV: start <tab> text [<tab> strength]; '#' lines and a "start<tab>text..." header are skipped
    0.0	He talks calmly.
    4.2	He is furious, shouting.	1.5

    [{"start": 0.0, "text": "He talks calmly."},
     {"start": 4.2, "text": "He is furious, shouting.", "strength": 1.5}]

A cue holds from its start until the next cue; the first one also covers any time before it.
At each later start the text embedding and the guidance strength cross-fade over ``blend``
seconds centred on the start time (a smoothstep), so the condition ``T`` moves continuously
while the audio part of the condition, and with it the lips, is untouched. The blended text
vector is the weighted sum of the cues' embeddings, rescaled to their weighted norm, so the
encoder's unit-length sentence vectors stay unit length through a transition.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DEFAULT_BLEND = 0.5
MAX_TEXT = 2000


@dataclass(frozen=True)
class EmotionCue:
    """From ``start`` seconds on, the emotion ``text`` at ``strength`` (None: the take's strength)."""

    start: float
    text: str
    strength: float | None = None


@dataclass(frozen=True)
class EmotionTrack:
    cues: tuple[EmotionCue, ...]
    blend: float = DEFAULT_BLEND

    def __post_init__(self) -> None:
        object.__setattr__(self, "cues", tuple(self.cues))
        if not self.cues:
            raise ValueError("the emotion track has no cues")
        if not (isinstance(self.blend, (int, float)) and math.isfinite(self.blend) and 0 <= self.blend <= 10):
            raise ValueError(f"the emotion blend must be 0 to 10 seconds, got {self.blend!r}")
        for number, cue in enumerate(self.cues, 1):
            if not (isinstance(cue.start, (int, float)) and math.isfinite(cue.start) and cue.start >= 0):
                raise ValueError(f"cue {number}: the start must be a time in seconds, 0 or more, got {cue.start!r}")
            if not isinstance(cue.text, str) or not cue.text.strip():
                raise ValueError(f"cue {number} (at {cue.start:g} s) has no emotion text")
            if len(cue.text) > MAX_TEXT:
                raise ValueError(f"cue {number}: the emotion text is {len(cue.text)} characters; at most {MAX_TEXT}")
            if cue.strength is not None and not (isinstance(cue.strength, (int, float)) and
                                                 math.isfinite(cue.strength) and 0 <= cue.strength <= 4):  # fmt: skip
                raise ValueError(f"cue {number}: the strength must be a number from 0 to 4, got {cue.strength!r}")
            if number > 1 and cue.start <= self.cues[number - 2].start:
                raise ValueError(f"cue {number} starts at {cue.start:g} s, not after cue {number - 1} "
                                 f"({self.cues[number - 2].start:g} s): cues must be in time order")  # fmt: skip

    def check_duration(self, seconds: float) -> None:
        """A cue that starts at or after the end of the audio is an error (a typo, most likely)."""
        for number, cue in enumerate(self.cues, 1):
            if cue.start >= seconds:
                raise ValueError(f"cue {number} starts at {cue.start:g} s, after the audio ends ({seconds:.2f} s)")

    def to_list(self) -> list[dict]:
        """The cues as JSON-ready dicts (the coefficients' metadata, the backend parameter)."""
        return [{"start": c.start, "text": c.text, **({} if c.strength is None else {"strength": c.strength})}
                for c in self.cues]  # fmt: skip


def parse_emotion_track(cues: object, blend: float = DEFAULT_BLEND) -> EmotionTrack:
    """A track from a JSON value: a list of ``{"start", "text", "strength"?}`` objects."""
    if not isinstance(cues, list):
        raise ValueError("the emotion track must be a list of cues like {\"start\": 0.0, \"text\": \"...\"}")
    parsed = []
    for number, cue in enumerate(cues, 1):
        if not isinstance(cue, dict) or not {"start", "text"} <= set(cue) or set(cue) - {"start", "text", "strength"}:
            raise ValueError(f"cue {number}: expected {{\"start\": seconds, \"text\": \"...\", \"strength\": optional}}, "
                             f"got {json.dumps(cue)[:200]}")  # fmt: skip
        start, strength = cue["start"], cue.get("strength")
        for name, value in (("start", start), ("strength", strength)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"cue {number}: {name} must be a number, got {json.dumps(value)[:100]}")
        parsed.append(EmotionCue(float(start), cue["text"], None if strength is None else float(strength)))
    return EmotionTrack(tuple(parsed), blend)


def _parse_tsv(text: str, blend: float) -> EmotionTrack:
    cues = []
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter="\t"), 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if not cues and row[0].strip().lower() == "start":
            continue  # a header
        if not 2 <= len(row) <= 3:
            raise ValueError(f"line {number}: expected start<TAB>text[<TAB>strength], got {len(row)} fields")
        try:
            start = float(row[0])
            strength = float(row[2]) if len(row) == 3 and row[2].strip() else None
        except ValueError:
            raise ValueError(f"line {number}: the start and strength must be numbers: {row[0]!r}"
                             + (f", {row[2]!r}" if len(row) == 3 else "")) from None  # fmt: skip
        cues.append({"start": start, "text": row[1], **({} if strength is None else {"strength": strength})})
    return parse_emotion_track(cues, blend)


def read_emotion_track(path: str | Path, blend: float = DEFAULT_BLEND) -> EmotionTrack:
    """An emotion track file: JSON (``.json``, or text starting with ``[``) or TSV."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"emotion track {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read emotion track {str(path)!r}: {exc}") from None
    try:
        if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
            return parse_emotion_track(value, blend)
        return _parse_tsv(text, blend)
    except ValueError as exc:
        raise ValueError(f"emotion track {str(path)!r}: {exc}") from None


def _smoothstep(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class EmotionSchedule:
    """Per-frame text embedding and guidance strength: one emotion, or a track's cross-fades.

    Args:
        embeddings: ``(K, text_dim)``, one per cue.
        strengths: ``K`` guidance strengths.
        starts: ``K`` start frames (the first is ignored: it holds from frame 0).
        blend_frames: frames over which each change is spread, centred on its start.
    """

    def __init__(self, embeddings: torch.Tensor, strengths: list[float], starts: list[float] | None = None,
                 blend_frames: float = 0.0) -> None:  # fmt: skip
        if len(embeddings) != len(strengths) or (starts is not None and len(starts) != len(strengths)):
            raise ValueError("one embedding, strength and start per cue")
        self.embeddings, self.strengths = embeddings, [float(s) for s in strengths]
        self.starts = [0.0] * len(strengths) if starts is None else [float(s) for s in starts]
        self.blend_frames = float(blend_frames)

    @classmethod
    def constant(cls, embedding: torch.Tensor, strength: float) -> "EmotionSchedule":
        return cls(embedding[None], [strength])

    @property
    def constant_strength(self) -> float | None:
        """The strength if every frame has the same one, else None."""
        return self.strengths[0] if len(set(self.strengths)) == 1 else None

    def weights(self, frames: torch.Tensor) -> torch.Tensor:
        """``(n, K)`` cue weights of the frames ``(n,)``, each row summing to 1."""
        frames = frames.to(torch.float64)
        presence = torch.ones(len(frames), len(self.strengths), dtype=torch.float64)
        for k in range(1, len(self.strengths)):
            if self.blend_frames > 0:
                presence[:, k] = _smoothstep((frames - self.starts[k]) / self.blend_frames + 0.5)
            else:
                presence[:, k] = (frames >= self.starts[k]).to(torch.float64)
        # cue k counts where it has arrived and no later cue has taken over
        later = torch.cumprod(torch.flip(1.0 - presence, [1]), 1).flip(1)
        return presence * torch.cat([later[:, 1:], torch.ones(len(frames), 1, dtype=torch.float64)], 1)

    def text(self, frames: torch.Tensor) -> torch.Tensor:
        """``(text_dim,)`` for a single emotion, else ``(*frames.shape, text_dim)``."""
        if len(self.strengths) == 1:
            return self.embeddings[0]
        weights = self.weights(frames.reshape(-1)).to(self.embeddings.dtype)
        mixed = weights @ self.embeddings
        norm = weights @ self.embeddings.norm(dim=-1)
        mixed = mixed * (norm / mixed.norm(dim=-1).clamp_min(1e-8))[:, None]
        return mixed.reshape(*frames.shape, -1)

    def strength(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame guidance strength, shaped like ``frames``."""
        table = torch.tensor(self.strengths, dtype=torch.float64)
        return (self.weights(frames.reshape(-1)) @ table).reshape(frames.shape)


def emotion_schedule(track: EmotionTrack, embeddings: torch.Tensor, default_strength: float,
                     fps: float) -> EmotionSchedule:  # fmt: skip
    """The schedule of a track whose cue texts encode to ``embeddings`` ``(K, text_dim)``."""
    strengths = [default_strength if c.strength is None else c.strength for c in track.cues]
    return EmotionSchedule(embeddings, strengths, [c.start * fps for c in track.cues], track.blend * fps)


__all__ = ["DEFAULT_BLEND", "EmotionCue", "EmotionSchedule", "EmotionTrack", "emotion_schedule",
           "parse_emotion_track", "read_emotion_track"]  # fmt: skip
