"""Real talking-head video -> the corpus format: MEAD, HDTF, or a folder of your own clips.

Each source clip becomes one corpus clip, exactly as the synthetic builder writes them
(:mod:`s2t.data.corpus`): 16 kHz mono audio and a :class:`CoeffSequence` of the face model
fitted to every frame (:mod:`s2t.data.video_fit`), at 25 fps, ``T`` frames and
``T x 640`` samples. So Style-E trains on them unchanged.

Decoding (PyAV, :func:`s2t.video.read_frames`): video frames are resampled to 25 fps by their
timestamps (each output frame shows the source frame nearest to its time, so any source rate
works and frames are repeated or dropped as needed) and analysed with the longer side at most
:data:`ANALYSIS_SIDE` pixels. Audio is decoded, channels averaged and resampled to 16 kHz by
FFmpeg, shifted by the streams' start-time difference, and cut or padded to the video's
length.

Layouts (``layout=``):

- ``"mead"``: ``<root>/<speaker>/video/front/<emotion>/level_<n>/<NNN>.mp4`` (some speakers
  have an extra folder level; the emotion and ``level_<n>`` folders are found wherever they
  are in the path). Audio is the video's own track, or ``<speaker>/audio/<emotion>/level_<n>/
  <NNN>.m4a`` when the video has none. ``root`` may also be one speaker's folder.
- ``"hdtf"``: ``WRA_*.mp4``, ``RD_*.mp4``, ``WDA_*.mp4`` anywhere under ``root``; neutral,
  level 1; the speaker is the file name without its trailing ``_000``.
- ``"folder"``: any ``*.mp4 *.mov *.mkv *.avi`` under ``root``; the speaker is the first folder
  under ``root`` (or the file name for files at the top); emotion and level come from an
  optional ``labels.csv`` (``file,emotion[,level]``) or ``labels.json`` (``{"file": "happy"}``
  or ``{"file": {"emotion": "happy", "level": 2}}``), keyed by the path relative to ``root``
  or the bare file name; unlabelled clips are neutral, level 1.

Clips are processed in the sorted order of their relative paths; ``max_clips`` takes a
prefix of that order, so a later run with a larger number extends the corpus. A clip that
cannot be used (unreadable file, no audio, no face in too many frames) is skipped with its
reason in ``skipped.jsonl`` and the summary, and is not retried by a resumed build (delete
that file to retry).
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from s2t.audio.features import FPS, SAMPLE_RATE, load_audio
from s2t.data import corpus
from s2t.data.emotion import EMOTIONS, LEVELS
from s2t.data.video_fit import ClipRejected, VideoFitConfig, fit_video
from s2t.face import load_face_model
from s2t.face.coeffs import CoeffSequence
from s2t.media import MediaError
from s2t.video import probe_video, read_frames

SAMPLES_PER_FRAME = round(SAMPLE_RATE / FPS)
ANALYSIS_SIDE = 720
"""Frames are analysed with their longer side at most this: a MEAD face (about 400 px wide in
1920x1080) becomes about 150 px, plenty for 68 landmarks, at a quarter of the pixels."""
FIT_VERSION = 1  # bump when the same video would give different curves
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi")
KINDS = {"mead": "mead", "hdtf": "hdtf", "folder": "video"}
HDTF_PREFIXES = ("WRA_", "RD_", "WDA_")
SKIPPED_NAME = "skipped.jsonl"

log = logging.getLogger(__name__)
_face_model = lru_cache(maxsize=2)(load_face_model)  # once per process, not once per clip


@dataclass(frozen=True)
class SourceClip:
    """One video to convert. ``source`` is its path relative to the layout's root (the
    corpus's ``source`` field); ``audio`` a separate audio file used when the video has none."""

    video: Path
    source: str
    speaker: str
    emotion: str
    level: int
    sentence_id: str
    text: str = ""
    audio: Path | None = None


# --- decoding ---------------------------------------------------------------------------------


def read_audio(path: str | Path, num_frames: int, offset: float = 0.0) -> np.ndarray:
    """Mono float32 16 kHz audio of exactly ``num_frames`` video frames; ``offset`` is where
    the audio starts relative to the video (s): positive pads the front, negative cuts it."""
    audio = load_audio(path, SAMPLE_RATE)
    shift = int(round(offset * SAMPLE_RATE))
    audio = np.concatenate([np.zeros(shift, np.float32), audio]) if shift > 0 else audio[-shift:]
    wanted = num_frames * SAMPLES_PER_FRAME
    return np.pad(audio[:wanted], (0, max(0, wanted - len(audio)))).astype(np.float32)


# --- layouts ----------------------------------------------------------------------------------


def _videos(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())


def mead_clips(root: str | Path, view: str = "front") -> list[SourceClip]:
    """MEAD's videos of one camera ``view`` (see the module docstring)."""
    root = Path(root)
    speaker_root = root.parent if (root / "video").is_dir() else root
    clips = []
    for path in _videos(root):
        parts = path.relative_to(speaker_root).parts
        levels = [p for p in parts[:-1] if re.fullmatch(r"level_\d+", p)]
        emotions = [p for p in parts[:-1] if p in EMOTIONS]
        if view not in parts[:-1] or len(levels) != 1 or len(emotions) != 1:
            continue
        speaker, emotion, level = parts[0], emotions[0], levels[0]
        audio = speaker_root / speaker / "audio" / emotion / level / f"{path.stem}.m4a"
        clips.append(SourceClip(path, path.relative_to(speaker_root).as_posix(), speaker, emotion,
                                int(level.split("_")[1]), f"{emotion}_{path.stem}",
                                audio=audio if audio.is_file() else None))  # fmt: skip
    return clips


def hdtf_clips(root: str | Path) -> list[SourceClip]:
    """HDTF's clips: neutral, level 1, the speaker named by the file."""
    root = Path(root)
    return [SourceClip(p, p.relative_to(root).as_posix(), re.sub(r"_\d+$", "", p.stem), "neutral", 1, p.stem)
            for p in _videos(root) if p.name.startswith(HDTF_PREFIXES)]  # fmt: skip


def read_labels(root: str | Path) -> dict[str, tuple[str, int]]:
    """``file -> (emotion, level)`` from ``labels.csv`` or ``labels.json`` in ``root`` (empty without)."""
    root = Path(root)
    rows: list[tuple[str, object, object]] = []
    if (root / "labels.json").is_file():
        data = json.loads((root / "labels.json").read_text())
        for name, value in data.items():
            value = value if isinstance(value, dict) else {"emotion": value}
            rows.append((name, value.get("emotion"), value.get("level", 1)))
    elif (root / "labels.csv").is_file():
        with open(root / "labels.csv", newline="") as f:
            for row in csv.reader(f):
                if row and not row[0].startswith("#") and row[0].strip().lower() not in ("file", "filename"):
                    rows.append((row[0].strip(), row[1] if len(row) > 1 else None, row[2] if len(row) > 2 else 1))
    labels = {}
    for name, emotion, level in rows:
        if not isinstance(emotion, str) or not emotion.strip():
            raise ValueError(f"labels for {name!r} in {root}: no emotion given")
        try:
            level = int(level)
        except (TypeError, ValueError):
            level = None
        if level not in LEVELS:
            raise ValueError(f"labels for {name!r} in {root}: level must be one of {LEVELS}")
        labels[name] = (emotion.strip().lower(), level)
    return labels


def folder_clips(root: str | Path) -> list[SourceClip]:
    """Every video under ``root``, labelled by ``labels.csv``/``labels.json`` when present."""
    root = Path(root)
    labels = read_labels(root)
    clips = []
    for path in _videos(root):
        relative = path.relative_to(root)
        emotion, level = labels.get(relative.as_posix(), labels.get(path.name, ("neutral", 1)))
        speaker = relative.parts[0] if len(relative.parts) > 1 else path.stem
        sentence_id = relative.with_suffix("").as_posix()
        clips.append(SourceClip(path, relative.as_posix(), speaker, emotion, level, sentence_id))
    return clips


def list_clips(source: str | Path, layout: str) -> list[SourceClip]:
    readers = {"mead": mead_clips, "hdtf": hdtf_clips, "folder": folder_clips}
    if layout not in readers:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(readers)}")
    if not Path(source).is_dir():
        raise FileNotFoundError(f"source folder {str(source)!r} does not exist")
    return readers[layout](source)


# --- one clip ---------------------------------------------------------------------------------


def convert_clip(clip: SourceClip, face_model: str = "s2t-arkit52",
                 config: VideoFitConfig = VideoFitConfig()) -> tuple[np.ndarray, CoeffSequence]:  # fmt: skip
    """The clip's 16 kHz audio and fitted coefficients; raises :class:`ClipRejected` or
    :class:`MediaError` (with the reason) for clips that cannot be used."""
    info = probe_video(clip.video)
    if info.audio_offset is not None:
        audio_path, offset = clip.video, info.audio_offset
    elif clip.audio is not None:
        audio_path, offset = clip.audio, 0.0
    else:
        raise MediaError(f"{clip.source} has no audio track")
    model = _face_model(face_model)
    expected = None if info.duration is None else max(1, round(info.duration * FPS))
    fit = fit_video(model, read_frames(clip.video, FPS, ANALYSIS_SIDE), FPS, config, expected)
    num_frames = len(fit.expression)
    audio = read_audio(audio_path, num_frames, offset)
    metadata = {
        "source": clip.source, "speaker": clip.speaker, "emotion": clip.emotion, "level": clip.level,
        "sentence_id": clip.sentence_id, "sentence": clip.text, "fit_version": FIT_VERSION,
        "identity": fit.identity.round(5).tolist(), "identity_names": list(model.identity_names),
        "translation_reference": fit.translation_reference.round(6).tolist(),
        "video": {"width": info.width, "height": info.height, "fps": round(info.fps, 4),
                  "analysis_size": list(fit.image_size)},
        "fit": {"rms_px_mean": round(float(fit.rms_px.mean()), 3), "rms_px_max": round(float(fit.rms_px.max()), 3),
                "interpolated_frames": fit.interpolated.tolist(), "full_searches": fit.full_searches},
        "audio": {"sample_rate": SAMPLE_RATE, "num_samples": len(audio), "offset": round(offset, 5),
                  "file": "video" if audio_path == clip.video else Path(audio_path).name},
    }  # fmt: skip
    coeffs = CoeffSequence(model.model_id, FPS, model.expression_names, fit.expression, fit.pose, metadata)
    return audio, coeffs


def _convert_or_reason(clip: SourceClip, face_model: str, config: VideoFitConfig) -> tuple | str:
    """Worker: ``(audio, coeffs)``, or the reason the clip is skipped."""
    try:
        return convert_clip(clip, face_model, config)
    except (ClipRejected, MediaError, av.error.FFmpegError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"


# --- the corpus -------------------------------------------------------------------------------


def _write_clip(root: Path, index: int, clip: SourceClip, audio: np.ndarray, coeffs: CoeffSequence) -> dict:
    shard, clip_id = corpus.shard_name(index), corpus.clip_name(index)
    (root / shard).mkdir(parents=True, exist_ok=True)
    corpus.write_wav(root / shard / f"{clip_id}.wav", audio, SAMPLE_RATE)
    coeffs.save(root / shard / f"{clip_id}.npz")
    fit = coeffs.metadata["fit"]
    record = {"clip_id": clip_id, "index": index, "shard": shard, "duration": round(len(audio) / SAMPLE_RATE, 4),
              "num_frames": coeffs.num_frames, "speaker": clip.speaker, "engine": "video", "voice": clip.speaker,
              "emotion": clip.emotion, "level": clip.level, "sentence_id": clip.sentence_id, "text": clip.text,
              "source": clip.source, "fit_rms_px": fit["rms_px_mean"],
              "interpolated_frames": len(fit["interpolated_frames"])}  # fmt: skip
    corpus.append_index(root, record)
    return record


def _read_skipped(root: Path) -> dict[str, str]:
    path = root / SKIPPED_NAME
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["source"]: row["reason"] for row in rows}


def _prepare_folder(root: Path, source: Path, layout: str, face_model: str, config: VideoFitConfig,
                    resume: bool) -> list[dict]:  # fmt: skip
    """Write (or check) the manifest; the records already indexed."""
    model = _face_model(face_model)
    settings = {"layout": layout, "face_model": face_model, "fit_version": FIT_VERSION,
                "analysis_side": ANALYSIS_SIDE, "fit": asdict(config)}  # fmt: skip
    manifest = corpus.read_manifest(root)
    records = corpus.read_index(root)
    if manifest is not None and records and not resume:
        raise ValueError(f"{root} already holds {len(records)} clips; resume it (resume=True) or use another folder")
    if manifest is not None and manifest.get("settings") != settings:
        raise ValueError(f"{root} holds a corpus built with {manifest.get('settings')}; this build would use "
                         f"{settings}. Use another folder, or the same settings to resume it.")  # fmt: skip
    corpus.write_manifest(root, {
        "format": corpus.FORMAT_NAME, "format_version": corpus.FORMAT_VERSION, "kind": KINDS[layout],
        "settings": settings, "source_root": str(source.resolve()), "model_id": model.model_id, "fps": FPS,
        "sample_rate": SAMPLE_RATE, "channel_names": list(model.expression_names),
        "identity_names": list(model.identity_names), "clips_per_shard": corpus.CLIPS_PER_SHARD,
    })  # fmt: skip
    return records


def _remove_unindexed(root: Path, indexed: set[str]) -> None:
    """Delete clip files no index line points to (a write cut off by a crash) and temporary files."""
    for path in root.glob("shard_*/*"):
        if path.name != corpus.INDEX_NAME and (path.name.endswith(".tmp") or path.name.split(".")[0] not in indexed):
            path.unlink()


def build_video_corpus(source: str | Path, out: str | Path, layout: str = "mead", workers: int = 1,
                       progress: bool = True, resume: bool = True, max_clips: int | None = None,
                       face_model: str = "s2t-arkit52", config: VideoFitConfig = VideoFitConfig()) -> dict:  # fmt: skip
    """Convert the videos under ``source`` (``layout`` "mead", "hdtf" or "folder") into a corpus in ``out``.

    Resumable: clips whose source is already indexed, or was skipped before, are not
    processed again. ``workers`` > 1 fits clips in that many processes (files are written
    by this one, in order). Returns a summary: clips in the corpus and new, skipped clips
    with their reasons, hours, wall time and frames fitted per second.
    """
    source, root = Path(source), Path(out)
    clips = list_clips(source, layout)
    if max_clips is not None:
        clips = clips[:max_clips]
    root.mkdir(parents=True, exist_ok=True)
    records = _prepare_folder(root, source, layout, face_model, config, resume)
    _remove_unindexed(root, {r["clip_id"] for r in records})
    skipped = _read_skipped(root)
    done = {r["source"] for r in records}
    todo = [c for c in clips if c.source not in done and c.source not in skipped]
    next_index = max((r["index"] for r in records), default=-1) + 1
    new_records, new_skipped, started = [], {}, time.perf_counter()

    executor = ProcessPoolExecutor(workers) if workers > 1 else None
    bar = tqdm(total=len(clips), initial=len(clips) - len(todo), unit="clip", desc=f"{layout} corpus",
               disable=not progress)  # fmt: skip
    pending: deque = deque()
    queue = iter(todo)
    try:
        while True:
            for clip in queue:
                job = executor.submit(_convert_or_reason, clip, face_model, config) if executor else None
                pending.append((clip, job))
                if len(pending) >= max(1, 2 * workers):
                    break
            if not pending:
                break
            clip, job = pending.popleft()
            result = job.result() if executor else _convert_or_reason(clip, face_model, config)
            if isinstance(result, str):
                log.warning("skipped %s: %s", clip.source, result)
                new_skipped[clip.source] = result
                with open(root / SKIPPED_NAME, "a") as f:
                    f.write(json.dumps({"source": clip.source, "reason": result}) + "\n")
            else:
                new_records.append(_write_clip(root, next_index, clip, *result))
                next_index += 1
                frames = sum(r["num_frames"] for r in new_records)
                bar.set_postfix(frames_per_s=round(frames / (time.perf_counter() - started), 1))
            bar.update(1)
    finally:
        if executor:
            for _, job in pending:
                job.cancel()
            executor.shutdown(wait=True)
        bar.close()

    wall = time.perf_counter() - started
    new_frames = sum(r["num_frames"] for r in new_records)
    all_records = records + new_records
    return {
        "path": str(root), "layout": layout, "kind": KINDS[layout], "clips": len(all_records),
        "new_clips": len(new_records), "seconds": round(sum(r["duration"] for r in all_records), 2),
        "new_seconds": round(sum(r["duration"] for r in new_records), 2),
        "hours": round(sum(r["duration"] for r in all_records) / 3600, 3),
        "skipped": new_skipped, "skipped_before": len([c for c in clips if c.source in skipped]),
        "skip_reasons": dict(Counter(reason.split(":")[0] for reason in new_skipped.values())),
        "wall_seconds": round(wall, 2), "frames_per_second": round(new_frames / wall, 2) if new_frames else None,
        "workers": workers,
    }  # fmt: skip
