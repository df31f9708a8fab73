"""The synthetic talking corpus: TTS speech + phone-driven rig animation, emotions, blinks, head motion.

A clip is fully determined by ``(seed, index)`` and the installed TTS engines. Clips come in
sessions of eight: one virtual speaker (a voice, a face identity, a speaking style) says
eight sentences, once in each MEAD emotion, at a random level (neutral has only level 1, as
in MEAD). Speakers repeat every :data:`NUM_SPEAKERS` sessions, so larger corpora hold the
same speakers in more sentences. With several languages, sessions take turns between them:
a session in another language is spoken by an espeak-ng voice of that language (flite speaks
English only), its phones mapped to the visemes by place of articulation like English ones. The corpus is the shortest prefix of clips 0, 1, 2, ...
that reaches the requested duration; asking for more hours later extends it.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from s2t.audio import FPS
from s2t.data import corpus
from s2t.data.augment import apply_augmentation, sample_augmentation
from s2t.data.emotion import (ARTICULATION_GAIN, EMOTIONS, HEAD_STYLE, action_unit_weights, blend_with_speech,
                              emotion_track, level_intensity, sample_action_units)  # fmt: skip
from s2t.data.phonemes import PAUSE, normalize_phones, refine_closures
from s2t.data.sentences import Sentence, check_languages, sentence_sources, training_sentences
from s2t.data.tts import (ESPEAK_VARIANTS, SAMPLE_RATE, EngineUnavailable, Phone, VoiceSpec, available_engines,
                          get_engine, synthesize)  # fmt: skip
from s2t.data.visemes import PARAMS, articulation_curves, articulation_to_blendshapes, vowel_loudness
from s2t.face.coeffs import CoeffSequence
from s2t.face.motion import blink_curve, blink_times, frame_loudness, head_pose
from s2t.face.rig import RIG_ID
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.face.rig.identity import IDENTITY_NAMES

NUM_SPEAKERS = 256
SESSION_CLIPS = len(EMOTIONS)
GENERATOR_VERSION = 2  # 2: head motion with nods and phrase-band motion (s2t.face.motion). Bump when the same (seed, index) would give different clips
SPEECH_LEVEL_DBFS = -23.0  # level of the clean speech before augmentation (and of un-augmented clips)


@dataclass(frozen=True)
class Speaker:
    """A virtual speaker: voice, face identity (rig identity modes) and speaking style."""

    speaker_id: str
    voice: VoiceSpec
    language: str  # espeak-ng language code, "en" for English
    identity: tuple[float, ...]
    articulation: float  # mouth movement gain, 1 = typical
    asymmetry: float  # left/right imbalance of mouth movement
    blink_rate: float  # blinks a minute
    head_scale: float  # head movement gain


@dataclass(frozen=True)
class ClipRecipe:
    index: int
    seed: int
    speaker: Speaker
    sentence: Sentence
    emotion: str
    level: int

    @property
    def clip_id(self) -> str:
        return corpus.clip_name(self.index)


def make_speaker(seed: int, number: int, engines: tuple[str, ...], language: str = "en") -> Speaker:
    """Speaker ``number``: engines take turns, and each engine's voices are dealt out in a seeded
    order, so even a small corpus hears as many different voices as it has speakers. In another
    language than English the voice is espeak-ng's ``<language>+<variant>``."""
    rng = np.random.default_rng([seed, 1, number] if language == "en" else [seed, 1, number, *language.encode()])
    if language == "en":
        engine = engines[number % len(engines)]
        voices = get_engine(engine).voices()
        order = np.random.default_rng([seed, 6, engines.index(engine)]).permutation(len(voices))
        name = voices[int(order[(number // len(engines)) % len(voices)])]
    else:
        engine = "espeak-ng"
        order = np.random.default_rng([seed, 6, *language.encode()]).permutation(len(ESPEAK_VARIANTS))
        name = f"{language}+{ESPEAK_VARIANTS[int(order[number % len(ESPEAK_VARIANTS)])]}"
    if engine == "espeak-ng":
        voice = VoiceSpec(engine, name, round(rng.uniform(0.8, 1.2), 3), round(rng.uniform(0.7, 1.3), 3), int(rng.integers(25, 81)))
    else:
        pitch = 1.0 if name == "rms" else round(rng.uniform(0.85, 1.15), 3)
        voice = VoiceSpec(engine, name, round(rng.uniform(0.8, 1.2), 3), pitch)
    return Speaker(
        speaker_id=f"s{number:03d}" if language == "en" else f"s{number:03d}-{language}",
        voice=voice,
        language=language,
        identity=tuple(np.round(np.clip(rng.normal(0.0, 0.8, len(IDENTITY_NAMES)), -2.5, 2.5), 4).tolist()),
        articulation=round(rng.uniform(0.8, 1.2), 3),
        asymmetry=round(rng.normal(0.0, 0.03), 4),
        blink_rate=round(rng.uniform(10.0, 20.0), 2),
        head_scale=round(rng.uniform(0.6, 1.4), 3),
    )


@lru_cache(maxsize=32)
def _sentence_order(seed: int, language: str = "en") -> np.ndarray:
    """A language's sentences in a seeded random order, so its first len(sentences) clips never
    repeat one."""
    key = [seed, 3] if language == "en" else [seed, 3, *language.encode()]  # English keeps its first order
    return np.random.default_rng(key).permutation(len(training_sentences(language)))


def clip_recipe(seed: int, index: int, engines: tuple[str, ...], languages: tuple[str, ...] = ("en",)) -> ClipRecipe:
    """Clip ``index``: session ``index // 8`` speaks ``languages[session % len(languages)]`` (a
    language named twice gets two sessions a cycle); speakers and sentences are counted per
    language, so a language's clips say the same as in a corpus of that language alone."""
    session = index // SESSION_CLIPS
    emotion = str(np.random.default_rng([seed, 2, session]).permutation(EMOTIONS)[index % SESSION_CLIPS])
    level = 1 if emotion == "neutral" else int(np.random.default_rng([seed, 4, index]).integers(1, 4))
    turn = session % len(languages)
    language = languages[turn]
    own_session = (session // len(languages)) * languages.count(language) + languages[:turn].count(language)
    position = own_session * SESSION_CLIPS + index % SESSION_CLIPS  # among this language's clips
    sentences = training_sentences(language)
    sentence = sentences[int(_sentence_order(seed, language)[position % len(sentences)])]
    speaker = make_speaker(seed, own_session % NUM_SPEAKERS, engines, language)
    return ClipRecipe(index, seed, speaker, sentence, emotion, level)


def pad_with_silence(audio: np.ndarray, phones: tuple[Phone, ...], lead: float, trail: float) -> tuple[np.ndarray, tuple[Phone, ...]]:
    """Silence around the speech, with the phones shifted and the edge pauses merged."""
    n_lead, n_trail = int(lead * SAMPLE_RATE), int(trail * SAMPLE_RATE)
    audio = np.concatenate([np.zeros(n_lead, np.float32), audio, np.zeros(n_trail, np.float32)])
    shift = n_lead / SAMPLE_RATE
    shifted = [Phone(PAUSE, 0.0, shift)] + [Phone(p.symbol, p.start + shift, p.end + shift) for p in phones]
    shifted.append(Phone(PAUSE, shifted[-1].end, len(audio) / SAMPLE_RATE))
    merged: list[Phone] = []
    for p in shifted:
        if merged and p.symbol == PAUSE and merged[-1].symbol == PAUSE:
            merged[-1] = Phone(PAUSE, merged[-1].start, p.end)
        elif p.duration > 0:
            merged.append(p)
    return audio, tuple(Phone(p.symbol, round(p.start, 5), round(p.end, 5)) for p in merged)


@dataclass(frozen=True)
class Animation:
    """A face performance for one utterance: expression ``(T, 52)``, pose ``(T, 6)`` and what was drawn."""

    expression: np.ndarray
    pose: np.ndarray
    intensity: float
    action_units: dict[int, float]
    blinks: list[float]
    articulation: float


def animate_speech(audio: np.ndarray, phones: tuple[Phone, ...], emotion: str, level: int, rng: np.random.Generator,
                   *, articulation: float = 1.0, asymmetry: float = 0.0, blink_rate: float = 15.0,
                   head_scale: float = 1.0) -> Animation:
    """Animate the rig for clean speech ``audio`` (16 kHz) with known phone timings, in an emotion.

    This is the corpus's procedural performer: coarticulated visemes from the phones, the
    emotion's action units blended around the speech, blinks and head motion from the
    speech energy. It needs the phones, so it serves TTS speech (and samples shipped with
    their timings); Style-E is what animates arbitrary audio.
    """
    names = ARKIT_52
    num_frames = int(np.ceil(len(audio) * FPS / SAMPLE_RATE))
    intensity = level_intensity(emotion, level)
    aus = sample_action_units(emotion, level, rng)
    side = str(rng.choice(["Left", "Right"])) if emotion == "contempt" else None
    emotion_curves = emotion_track(action_unit_weights(aus, names, rng.normal(0.0, 0.05), side), num_frames, FPS, rng)

    params = articulation_curves(phones, num_frames, FPS, vowel_loudness(audio, SAMPLE_RATE, phones))
    gain = articulation * (1.0 + (ARTICULATION_GAIN[emotion] - 1.0) * intensity)
    jaw_index = names.index("jawOpen")
    speech = articulation_to_blendshapes(params, names, gain, asymmetry, emotion_curves[:, jaw_index])
    p = {name: params[:, i] for i, name in enumerate(PARAMS)}
    expression = blend_with_speech(speech, emotion_curves, p["close"], np.maximum(p["round"], p["protrude"]),
                                   speech[:, jaw_index], names)

    blinks = blink_times(len(audio) / SAMPLE_RATE, blink_rate, rng)
    lids = blink_curve(blinks, num_frames, FPS, rng)
    for side_name in ("Left", "Right"):
        k = names.index(f"eyeBlink{side_name}")
        expression[:, k] = np.maximum(expression[:, k], lids)
        expression[:, names.index(f"eyeWide{side_name}")] *= 1.0 - lids

    motion_scale, pitch_offset, roll_offset = HEAD_STYLE[emotion]
    roll_sign = -1.0 if side == "Left" else 1.0
    pose = head_pose(frame_loudness(audio, SAMPLE_RATE, num_frames, FPS), FPS, rng,
                     scale=head_scale * (1.0 + (motion_scale - 1.0) * intensity),
                     pitch_offset=pitch_offset * intensity, roll_offset=roll_sign * roll_offset * intensity)  # fmt: skip
    return Animation(expression, pose, intensity, aus, blinks, gain)


def render_clip(recipe: ClipRecipe, augment: bool = True) -> tuple[np.ndarray, CoeffSequence]:
    """The clip's audio (16 kHz) and its coefficient sequence on the rig (25 fps)."""
    rng = np.random.default_rng([recipe.seed, 5, recipe.index])
    speaker = recipe.speaker
    utterance = synthesize(recipe.sentence.text, speaker.voice)
    phones = refine_closures(utterance.audio, SAMPLE_RATE, normalize_phones(utterance.phones))
    clean, phones = pad_with_silence(utterance.audio, phones, rng.uniform(0.1, 0.4), rng.uniform(0.15, 0.45))
    clean *= 10 ** (SPEECH_LEVEL_DBFS / 20) / max(float(np.sqrt(np.mean(clean[np.abs(clean) > 1e-4] ** 2))), 1e-9)
    anim = animate_speech(clean, phones, recipe.emotion, recipe.level, rng, articulation=speaker.articulation,
                          asymmetry=speaker.asymmetry, blink_rate=speaker.blink_rate, head_scale=speaker.head_scale)

    augmentation = sample_augmentation(rng) if augment else None
    audio = apply_augmentation(clean, SAMPLE_RATE, augmentation) if augment else clean
    metadata = {
        "source": "synthetic", "clip_id": recipe.clip_id, "index": recipe.index, "seed": recipe.seed,
        "generator_version": GENERATOR_VERSION, "speaker": speaker.speaker_id,
        "engine": speaker.voice.engine, "voice": speaker.voice.voice, "language": speaker.language, "rate": speaker.voice.rate,
        "pitch": speaker.voice.pitch, "intonation_range": speaker.voice.range,
        "sentence": recipe.sentence.text, "sentence_id": recipe.sentence.sentence_id,
        "emotion": recipe.emotion, "level": recipe.level, "intensity": anim.intensity,
        "action_units": {str(au): round(v, 3) for au, v in anim.action_units.items()},
        "identity": list(speaker.identity), "identity_names": list(IDENTITY_NAMES),
        "style": {"articulation": round(anim.articulation, 4), "asymmetry": speaker.asymmetry,
                  "blink_rate": speaker.blink_rate, "head_scale": speaker.head_scale},
        "blinks": anim.blinks, "augmentation": augmentation,
        "audio": {"sample_rate": SAMPLE_RATE, "num_samples": len(audio)},
        "phones": [[p.symbol, p.start, p.end] for p in phones],
    }  # fmt: skip
    return audio, CoeffSequence(RIG_ID, FPS, ARKIT_52, anim.expression, anim.pose, metadata)


def _make_clip(root: str, seed: int, index: int, engines: tuple[str, ...], augment: bool,
               languages: tuple[str, ...] = ("en",)) -> dict:  # fmt: skip
    """Worker: render clip ``index`` and write its files; return its index record (not yet indexed)."""
    recipe = clip_recipe(seed, index, engines, languages)
    audio, coeffs = render_clip(recipe, augment)
    shard = corpus.shard_name(index)
    folder = Path(root) / shard
    folder.mkdir(parents=True, exist_ok=True)
    corpus.write_wav(folder / f"{recipe.clip_id}.wav", audio, SAMPLE_RATE)
    coeffs.save(folder / f"{recipe.clip_id}.npz")
    voice = recipe.speaker.voice
    return {"clip_id": recipe.clip_id, "index": index, "shard": shard, "duration": round(len(audio) / SAMPLE_RATE, 4),
            "num_frames": coeffs.num_frames, "speaker": recipe.speaker.speaker_id, "engine": voice.engine,
            "voice": voice.voice, "emotion": recipe.emotion, "level": recipe.level,
            "sentence_id": recipe.sentence.sentence_id, "text": recipe.sentence.text, "source": "synthetic",
            "language": recipe.speaker.language}  # fmt: skip


def _remove_unindexed(root: Path, indexed: set[str]) -> None:
    """Delete clip files no index line points to (clips cut off by a stop or beyond the target)
    and temporary files left by an interrupted write."""
    for path in root.glob("shard_*/*"):
        if path.name != corpus.INDEX_NAME and (path.name.endswith(".tmp") or path.name.split(".")[0] not in indexed):
            path.unlink()


def build_synthetic_corpus(out_dir: str | Path, hours: float, seed: int = 0, workers: int | None = None,
                           progress: bool = True, augment: bool = True, languages: tuple[str, ...] = ("en",),
                           held_out: tuple[str, ...] | None = None) -> dict:  # fmt: skip
    """Build (or extend, or finish) the synthetic corpus in ``out_dir`` up to ``hours`` of audio.

    ``languages``: what the clips speak (sessions take turns; :func:`s2t.data.sentences.
    training_languages` lists them); ``held_out``: languages kept for evaluation only (default:
    every evaluation language not trained on), written to the manifest as
    ``held_out_languages``. Deterministic: the same seed, languages and installed engines give
    the same clips and arrays, for any ``workers`` (default: all CPU cores; 0 or 1 runs in this
    process). Resumable: finished clips are kept and skipped. Returns a summary (clips,
    seconds, wall time, seconds of corpus per wall second for this run).
    """
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    languages, held_out = check_languages(languages, held_out)
    engines = available_engines()
    if not engines:
        raise EngineUnavailable("no TTS engine found: install espeak-ng and/or flite (apt-get install espeak-ng flite)")
    if "espeak-ng" not in engines and any(lang != "en" for lang in languages):
        raise EngineUnavailable("languages other than English need espeak-ng (apt-get install espeak-ng)")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    engine_names = tuple(sorted(engines))
    settings = {"seed": seed, "engines": engine_names, "augment": augment, "generator_version": GENERATOR_VERSION,
                "languages": list(languages)}  # fmt: skip
    manifest = corpus.read_manifest(root)
    if manifest is not None and manifest["settings"] != {**settings, "engines": list(engine_names)}:
        raise ValueError(f"{root} holds a corpus built with {manifest['settings']}; this build would use {settings}. "
                         "Use another folder, or the same settings to resume it.")  # fmt: skip
    records = corpus.read_index(root)
    if [r["index"] for r in records] != list(range(len(records))):
        raise ValueError(f"{root}: the index is not a contiguous run of clips 0..n-1; rebuild in a new folder")
    corpus.write_manifest(root, {
        "format": corpus.FORMAT_NAME, "format_version": corpus.FORMAT_VERSION, "kind": "synthetic",
        "settings": {**settings, "engines": list(engine_names)}, "engine_versions": engines, "target_hours": hours,
        "model_id": RIG_ID, "fps": FPS, "sample_rate": SAMPLE_RATE, "channel_names": list(ARKIT_52),
        "identity_names": list(IDENTITY_NAMES), "clips_per_shard": corpus.CLIPS_PER_SHARD, "sentence_sources": sentence_sources(languages),
        "held_out_languages": list(held_out),
    })  # fmt: skip

    target, total = hours * 3600.0, sum(r["duration"] for r in records)
    before, started = (len(records), total), time.perf_counter()
    workers = (os.cpu_count() or 1) if workers is None else workers
    bar = tqdm(total=round(target), initial=min(round(total), round(target)), unit="s", desc="synthetic corpus",
               disable=not progress)  # fmt: skip
    executor = ProcessPoolExecutor(workers) if workers > 1 else None
    pending: deque = deque()
    next_index = len(records)
    try:
        while total < target:
            while len(pending) < max(1, 2 * workers):
                args = (str(root), seed, next_index, engine_names, augment, languages)
                pending.append(executor.submit(_make_clip, *args) if executor else args)
                next_index += 1
            job = pending.popleft()
            record = job.result() if executor else _make_clip(*job)
            corpus.append_index(root, record)
            records.append(record)
            total += record["duration"]
            bar.update(min(record["duration"], max(0.0, target - bar.n)))
    finally:
        if executor:
            for job in pending:
                job.cancel()
            executor.shutdown(wait=True)
        bar.close()
        _remove_unindexed(root, {r["clip_id"] for r in records})
    wall = time.perf_counter() - started
    new_seconds = total - before[1]
    return {"path": str(root), "clips": len(records), "seconds": round(total, 2), "new_clips": len(records) - before[0],
            "new_seconds": round(new_seconds, 2), "wall_seconds": round(wall, 2),
            "throughput": round(new_seconds / wall, 2) if wall > 0 else None, "workers": workers, "engines": engines,
            "languages": list(languages), "held_out_languages": list(held_out)}  # fmt: skip


