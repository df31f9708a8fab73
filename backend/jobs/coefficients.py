"""The ``coefficients`` job: Style-E, speech + emotion text or an emotion track (+ the photo's face shape)
-> a coefficient sequence, through :meth:`s2t.pipeline.TalkingHeadPipeline.coefficients`; with
``variants`` N, N sequences of the same line (seeds ``seed`` to ``seed + N - 1``), one message each.
PyTorch is imported, and the model loaded, on the first such job."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backend.jobs.base import JobContext, JobError, user_file_error
from backend.jobs.caches import face_model, style_e_model
from backend.jobs.messages import progress
from backend.jobs.params import check_image_buffer, int_param
from backend.protocol import BAD_INPUT, COEFFICIENTS, NOT_AVAILABLE, Message, make_message, pack_coefficients
from s2t.face.detect import FaceImageError
from s2t.pipeline import TalkingHeadPipeline, emotion_text
from s2t.video import MAX_AUDIO_SECONDS, MediaError, probe_audio


MAX_VARIANTS = 16


@dataclass(frozen=True)
class CoefficientsInput:
    text: str
    seed: int
    strength: float
    track: Any = None  # an s2t.style_e.emotion_track.EmotionTrack, which replaces ``text``
    variants: int = 1


def prepare_coefficients(params: dict, buffers: dict) -> tuple[CoefficientsInput, dict]:
    from s2t.style_e.emotion_track import DEFAULT_BLEND, parse_emotion_track  # standard library only: no torch yet

    if not isinstance(buffers.get("audio"), bytes) or not buffers["audio"]:
        raise JobError(BAD_INPUT, "the 'audio' buffer must hold the bytes of a speech recording (WAV, FLAC, MP3 ...)")
    track = None
    if params.get("emotion_track") is not None:
        blend = params.get("emotion_blend", DEFAULT_BLEND)
        if type(blend) not in (int, float):
            raise JobError(BAD_INPUT, f"emotion_blend must be a number of seconds, got {blend!r}")
        try:
            track = parse_emotion_track(params["emotion_track"], float(blend))
        except ValueError as exc:
            raise JobError(BAD_INPUT, f"emotion_track: {exc}") from None
        params = {**params, "text": params.get("text") or track.cues[0].text}
    try:
        text = emotion_text(params.get("text"))
    except ValueError as exc:
        raise JobError(BAD_INPUT, f"text: {exc}") from None
    strength = params.get("strength", 1.0)
    if type(strength) not in (int, float) or not 0 <= strength <= 4:
        raise JobError(BAD_INPUT, f"strength must be a number from 0 (neutral) to 4, got {strength!r}")
    check_image_buffer(buffers, "photo", required=False)
    seed = int_param(params, "seed", 0, 0, 2**31 - 1)
    variants = int_param(params, "variants", 1, 1, MAX_VARIANTS)
    if seed + variants - 1 > 2**31 - 1:
        raise JobError(BAD_INPUT, f"seed + variants - 1 must be at most {2**31 - 1}, got {seed + variants - 1}")
    return CoefficientsInput(text, seed, float(strength), track, variants), {}


def run_coefficients(job: CoefficientsInput, ctx: JobContext, checkpoint: str = "default",
                     max_audio_seconds: float | None = MAX_AUDIO_SECONDS) -> Iterator[Message]:
    """Style-E on the uploaded speech; the photo, if sent, conditions the motion on its face shape.

    The audio's length is read from its header first: a recording over ``max_audio_seconds``
    is refused (``bad_input``) before it is decoded or the model is loaded.
    """
    from s2t.audio import load_audio
    from s2t.style_e.conditioning import identity_from_photo

    steps = (3 if "photo" in ctx.inputs else 2) + job.variants  # the last steps: one per take
    yield progress("reading the audio", 0, steps)
    try:
        probe_audio(ctx.inputs["audio"], max_seconds=max_audio_seconds, label="the audio")
    except MediaError as exc:
        raise JobError(BAD_INPUT, str(exc)) from None
    yield progress("loading Style-E", 1, steps)
    try:
        pipeline = TalkingHeadPipeline(face_model(), style_e_model(checkpoint, ctx.device))
    except FileNotFoundError as exc:
        raise JobError(NOT_AVAILABLE, str(exc)) from None
    metadata, identity = {"audio": "sent to the backend"}, None
    if "photo" in ctx.inputs:
        yield progress("fitting the photo", 2, steps)
        try:
            identity = identity_from_photo(ctx.inputs["photo"])
        except FaceImageError as exc:
            raise user_file_error(exc, ctx.inputs["photo"], "the photo") from None
        metadata["identity"] = identity.tolist()
    try:
        audio = load_audio(ctx.inputs["audio"])
    except MediaError as exc:
        raise user_file_error(exc, ctx.inputs["audio"], "the audio") from None
    if job.track is not None:
        try:
            job.track.check_duration(len(audio) / 16000)  # load_audio gives 16 kHz
        except ValueError as exc:
            raise JobError(BAD_INPUT, f"emotion_track: {exc}") from None
    emotion = job.text if job.track is None else job.track
    seeds = [job.seed + take for take in range(job.variants)]
    takes = pipeline.takes(audio, emotion, seeds, strength=job.strength, identity=identity, metadata=metadata)
    for take in range(job.variants):
        stage = "sampling" if job.variants == 1 else f"sampling take {take + 1} of {job.variants}"
        yield progress(stage, steps - job.variants + take, steps)
        fields, arrays = pack_coefficients(next(takes))  # sampled now; the audio features were made once
        yield make_message(COEFFICIENTS, fields, arrays)
