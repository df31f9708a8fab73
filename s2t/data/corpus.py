"""The on-disk corpus format and its reader (what Style-E training iterates over).

::

    corpus/
      corpus.json              manifest: format, kind, seed, fps, sample rate, model id, channels, sources
      shard_0000/
        index.jsonl            one JSON line a finished clip, appended after its files are in place
        c0000000.wav           16 kHz mono 16-bit PCM
        c0000000.npz           the clip's CoeffSequence (expression (T, K), pose (T, 6), metadata)
        ...
      shard_0001/ ...

Every file is written to a temporary name and renamed, so a clip is either complete and
indexed or absent; an interrupted build resumes from the index. A clip's metadata (voice,
sentence, emotion, level, identity, augmentation, phone timings, seed...) lives in the
``.npz`` header; the index repeats what selecting clips needs. Real-data adapters (MEAD,
HDTF) write the same layout with their own ``kind`` and ``source``; annotations (emotion
texts) go in ``annotations.jsonl`` beside ``index.jsonl``, keyed by ``clip_id``.
"""

from __future__ import annotations

import io
import json
import os
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from s2t.checkpoint import atomic_write
from s2t.face.coeffs import CoeffSequence

FORMAT_NAME = "s2t-corpus"
FORMAT_VERSION = 1
MANIFEST_NAME = "corpus.json"
INDEX_NAME = "index.jsonl"
CLIPS_PER_SHARD = 500
_RECORD_FIELDS = ("clip_id", "index", "shard", "duration", "num_frames", "speaker", "engine", "voice", "emotion",
                  "level", "sentence_id", "text", "source")  # fmt: skip


def shard_name(index: int, clips_per_shard: int = CLIPS_PER_SHARD) -> str:
    return f"shard_{index // clips_per_shard:04d}"


def clip_name(index: int) -> str:
    return f"c{index:07d}"


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM mono WAV, written atomically."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    atomic_write(path, buffer.getvalue())


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """``(audio float32 in [-1, 1], sample rate)`` of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as f:
        if f.getsampwidth() != 2 or f.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono PCM, got {8 * f.getsampwidth()}-bit x {f.getnchannels()} channels")
        return np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float32) / 32768.0, f.getframerate()


def read_manifest(root: str | Path) -> dict | None:
    path = Path(root) / MANIFEST_NAME
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not an {FORMAT_NAME} manifest")
    return manifest


def write_manifest(root: str | Path, manifest: dict) -> None:
    atomic_write(Path(root) / MANIFEST_NAME, json.dumps(manifest, indent=1).encode())


def read_index(root: str | Path) -> list[dict]:
    """All index lines of all shards, ordered by clip index. A line cut short by a crash
    (the last of its shard) is dropped and the shard's index rewritten without it."""
    records = []
    for index_path in sorted(Path(root).glob(f"shard_*/{INDEX_NAME}")):
        lines = index_path.read_text().splitlines()
        good = []
        for line in lines:
            try:
                good.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        if len(good) != len(lines):
            atomic_write(index_path, "".join(json.dumps(r) + "\n" for r in good).encode())
        records += good
    return sorted(records, key=lambda r: r["index"])


def append_index(root: str | Path, record: dict) -> None:
    path = Path(root) / record["shard"] / INDEX_NAME
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


@dataclass(frozen=True)
class ClipRecord:
    """One clip as the index lists it; ``extra`` holds any further index fields."""

    root: Path
    clip_id: str
    index: int
    shard: str
    duration: float
    num_frames: int
    speaker: str
    engine: str
    voice: str
    emotion: str
    level: int
    sentence_id: str
    text: str
    source: str
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, root: Path, row: dict) -> "ClipRecord":
        known = {k: row[k] for k in _RECORD_FIELDS}
        return cls(root=root, **known, extra={k: v for k, v in row.items() if k not in _RECORD_FIELDS})

    @property
    def language(self) -> str:
        """What the clip speaks (espeak-ng language code); corpora from before languages: "en"."""
        return self.extra.get("language", "en")

    @property
    def audio_path(self) -> Path:
        return self.root / self.shard / f"{self.clip_id}.wav"

    @property
    def coeffs_path(self) -> Path:
        return self.root / self.shard / f"{self.clip_id}.npz"


@dataclass(frozen=True, eq=False)
class Clip:
    record: ClipRecord
    audio: np.ndarray  # (N,) float32
    sample_rate: int
    coeffs: CoeffSequence

    @property
    def phones(self) -> list[tuple[str, float, float]]:
        """``(IPA symbol, start s, end s)`` of the speech ("" = pause), on the audio's time line."""
        return [tuple(p) for p in self.coeffs.metadata.get("phones", [])]


def load_clip(record: ClipRecord) -> Clip:
    audio, rate = read_wav(record.audio_path)
    return Clip(record, audio, rate, CoeffSequence.load(record.coeffs_path))


class CorpusIndex:
    """The clips of a corpus folder: ``len``, indexing, iteration, ``filter`` and ``load``.

    >>> corpus = CorpusIndex("corpus")
    >>> happy = corpus.filter(emotion="happy", level=3)
    >>> clip = corpus.load(0)   # audio, sample rate, CoeffSequence
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        if manifest is None:
            raise FileNotFoundError(f"{self.root} is not a corpus: it has no {MANIFEST_NAME}")
        self.manifest = manifest
        self.records = [ClipRecord.from_json(self.root, row) for row in read_index(self.root)]

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> ClipRecord:
        return self.records[i]

    def __iter__(self):
        return iter(self.records)

    @property
    def held_out_languages(self) -> list[str]:
        """Languages the corpus keeps out of training for evaluation (empty if it names none)."""
        return list(self.manifest.get("held_out_languages", []))

    @property
    def total_seconds(self) -> float:
        return float(sum(r.duration for r in self.records))

    def filter(self, **equals) -> list[ClipRecord]:
        """Records whose fields equal the given values, e.g. ``filter(emotion="sad", engine="flite")``."""
        return [r for r in self.records if all(getattr(r, k) == v for k, v in equals.items())]

    def load(self, i: int) -> Clip:
        return load_clip(self.records[i])
