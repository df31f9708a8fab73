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
seconds centred on the start time (:class:`s2t.style_e.conditioning.EmotionSchedule`), so the
condition ``T`` moves continuously while the audio part of the condition, and with it the
lips, is untouched.

Standard library only, so the backend can check a track when a job is submitted without
loading PyTorch.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

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
    """An emotion track file: JSON (``.json``, or text starting with ``[`` or ``{``) or TSV."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"emotion track {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read emotion track {str(path)!r}: {exc}") from None
    try:
        if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
            return parse_emotion_track(value, blend)
        return _parse_tsv(text, blend)
    except ValueError as exc:
        raise ValueError(f"emotion track {str(path)!r}: {exc}") from None


__all__ = ["DEFAULT_BLEND", "EmotionCue", "EmotionTrack", "parse_emotion_track", "read_emotion_track"]
