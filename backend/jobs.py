"""The job kinds the backend runs: a small registry of worker functions.

A :class:`JobKind` has two functions. ``prepare(params, buffers)`` runs on the server's I/O
thread when the job is submitted: it checks the request quickly and returns the job's input
plus facts for the ``submit_reply`` (so a bad request is refused at once, before queueing).
``run(job_input, context)`` runs on a worker thread and is a generator: it yields protocol
messages (``progress``, ``coefficients``, ``frame``) as it produces them. The server checks
the cancel flag after every yield, so a render stops within a frame of a cancel, and encodes,
stores and streams each message on an output thread while the worker goes on. A worker
raises :class:`JobError` for problems with the user's input.

Kinds today:

- ``fit``: photo -> fitted head pose, identity and expression, as a one-frame ``coefficients``
  message (identity in its metadata);
- ``render``: a coefficient sequence (maybe edited in Blender) -> frames, by Style-A's
  ``cpu`` renderer (the identity photo warped along the face model, styled after an art
  picture or preset) or by ``rig-preview`` (a shaded, untextured drawing of the face rig that
  ignores photo and art, and says so), or by ``neural`` (Style-A's networks, available when the
  backend was started with a Style-A folder, ``s2t-backend --style-a DIR``);
- ``rig``: the face rig itself (mesh, shape keys, bounds) for clients that build it, e.g.
  Blender; with a photo, the rig takes the photo's face shape and every vertex gets the photo
  coordinate it was fitted to (texture coordinates, so the rig shows the person);
- ``coefficients``: Style-E, speech + emotion text or an emotion track (+ the photo's face
  shape) -> a coefficient sequence, with the embedded checkpoint or one the server was started with. PyTorch is
  imported, and the model loaded, on the first such job.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from backend.protocol import (BAD_INPUT, COEFFICIENTS, FRAME, NOT_AVAILABLE, PROGRESS, RIG, Message, ProtocolError,
                              make_message, pack_coefficients, unpack_coefficients)
from s2t.face import CoeffSequence, FaceModel
from s2t.face.detect import FaceImageError, load_image
from s2t.face.fit import fit_photo
from s2t.face.pose import apply_pose
from s2t.face.preview import region_face_colors, render_mesh
from s2t.face.rig import RIG_ID, build_rig
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.pipeline import FPS, TalkingHeadPipeline, emotion_text
from s2t.style_a.art import Art, check_art_strength, resolve_art
from s2t.style_a.art_presets import list_art_presets
from s2t.style_a.cpu_renderer import CpuStyleA
from s2t.style_a.stylizer import Stylizer
from s2t.style_a.photo import PreparedPhoto, prepare_photo
from s2t.video import MAX_AUDIO_SECONDS, MediaError, probe_audio


class JobError(Exception):
    """A job that cannot run or finish; ``code`` is a protocol error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class JobContext:
    """What a running job may use: its saved inputs, its device and its cancel flag."""

    job_id: str
    inputs: dict[str, Path]
    device: str
    cancel: threading.Event

    @property
    def cancelled(self) -> bool:
        """Long steps inside one yield may check this to stop early."""
        return self.cancel.is_set()


@dataclass(frozen=True)
class JobLimits:
    """What one job may ask for (``s2t-backend --max-audio-minutes``, ``--max-job-frames``, ``--max-job-gb``)."""

    max_audio_seconds: float = MAX_AUDIO_SECONDS
    max_frames: int = int(MAX_AUDIO_SECONDS * FPS)  # a render of the longest speech
    max_disk_bytes: int = 20 << 30


@dataclass(frozen=True)
class JobKind:
    """One kind of job; ``unavailable`` (a reason) marks kinds this backend cannot run yet.

    ``buffers`` names the buffers the kind takes (``None``: any); a request with others is
    refused rather than stored unused.
    """

    name: str
    description: str
    prepare: Callable[[dict, dict], tuple[Any, dict]] | None = None
    run: Callable[[Any, JobContext], Iterator[Message]] | None = None
    unavailable: str | None = None
    extra_info: dict | None = None
    buffers: tuple[str, ...] | None = None

    def info(self) -> dict:
        """How ``hello_reply`` describes this kind."""
        info = {"description": self.description, "available": self.unavailable is None, **(self.extra_info or {})}
        if self.unavailable:
            info["reason"] = self.unavailable
        return info


# -- shared resources ---------------------------------------------------------------------------

_MODEL_LOCK = threading.Lock()


def face_model() -> FaceModel:
    """The embedded rig, built once per process (about 2 s) and shared by every worker."""
    with _MODEL_LOCK:
        return build_rig()


_PHOTOS: OrderedDict[tuple[str, int], PreparedPhoto] = OrderedDict()
_PHOTOS_LOCK = threading.Lock()


def prepared_photo(model: FaceModel, path: Path, size: int) -> PreparedPhoto:
    """The identity photo cropped and fitted for the CPU renderer, cached by content and size:
    an animator re-rendering after editing keyframes sends the same photo again, and the fit
    takes seconds."""
    key = (hashlib.sha256(path.read_bytes()).hexdigest(), size)
    with _PHOTOS_LOCK:
        if key in _PHOTOS:
            _PHOTOS.move_to_end(key)
            return _PHOTOS[key]
    photo = prepare_photo(model, path, size)
    with _PHOTOS_LOCK:
        _PHOTOS[key] = photo
        while len(_PHOTOS) > 8:
            _PHOTOS.popitem(last=False)
    return photo


_STYLE_E: dict[tuple[str, str], object] = {}
_STYLE_E_LOCK = threading.Lock()


def style_e_model(checkpoint: str, device: str):
    """Style-E (``s2t.style_e.sampler.StyleE``), loaded once per checkpoint and device.

    PyTorch is imported here, on the first coefficients job, so a backend that only renders
    stays small.
    """
    from s2t.style_e.checkpoint import load_style_e

    with _STYLE_E_LOCK:
        if (checkpoint, device) not in _STYLE_E:
            _STYLE_E[checkpoint, device] = load_style_e(checkpoint, device)
        return _STYLE_E[checkpoint, device]


def _user_file_error(exc: FaceImageError | MediaError, path: Path, what: str) -> JobError:
    """The error for a file the user sent, naming it as they know it, not by the server's path."""
    return JobError(BAD_INPUT, str(exc).replace(repr(str(path)), what).replace(str(path), what))


def progress(stage: str, done: int = 0, total: int = 0) -> Message:
    """A ``progress`` message: frames done of total while rendering, else steps done of the job's steps."""
    return make_message(PROGRESS, {"stage": stage, "done": done, "total": total})


def frame_message(index: int, image: np.ndarray, encoding: str, renderer: str) -> Message:
    """A ``frame`` holding the RGB image ``(H, W, 3)`` uint8 as rendered.

    A ``png`` frame is compressed later by :func:`encode_frame`, on the server's encoder
    threads, so the worker is already rendering the next frame meanwhile.
    """
    content = {"index": index, "width": image.shape[1], "height": image.shape[0], "encoding": encoding,
               "renderer": renderer}
    return make_message(FRAME, content, {"image": np.ascontiguousarray(image, np.uint8)})


PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV >= 4.12
    PNG_OPTIONS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_PAETH]
"""Zlib level 1 with run-length matching and, where OpenCV can, the Paeth filter on every row
instead of trying all five per row: on CPU-renderer frames at 1024x1024 that is 1.3-1.5x
faster than level 1 with adaptive filters, and the files are 6-16 % smaller."""


def encode_frame(message: Message) -> Message:
    """A message as it travels: a ``png`` frame's image as PNG bytes, anything else as it is.

    OpenCV encodes in one call without the GIL, so several frames compress in parallel beside
    the renderer (PIL's encoder takes the GIL back for every 64 KiB).
    """
    if message.type != FRAME or message.content["encoding"] != "png" or isinstance(message.buffers["image"], bytes):
        return message  # not a PNG frame, or one compressed already (by a Ray actor)
    bgr = cv2.cvtColor(message.buffers["image"], cv2.COLOR_RGB2BGR)
    ok, png = cv2.imencode(".png", bgr, PNG_OPTIONS)
    if not ok:
        raise RuntimeError("OpenCV could not encode the frame as PNG")
    return replace(message, buffers={"image": png.tobytes()})


# -- parameter checks ---------------------------------------------------------------------------


def disk_size(nbytes: float) -> str:
    """``"36 MiB"``, ``"1.5 GiB"``: a size for a person."""
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


def _int(params: dict, key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    if type(value) is not int or not low <= value <= high:
        raise JobError(BAD_INPUT, f"{key} must be an integer from {low} to {high}, got {value!r}")
    return value


def _choice(params: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(key, default)
    if value not in choices:
        raise JobError(BAD_INPUT, f"{key} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _image_bytes(buffers: dict, name: str, required: bool) -> None:
    value = buffers.get(name)
    if value is None and not required:
        return
    if not isinstance(value, bytes) or not value:
        raise JobError(BAD_INPUT, f"the {name!r} buffer must hold the bytes of an image file (PNG, JPEG, ...)")


# -- fit ----------------------------------------------------------------------------------------


def prepare_fit(params: dict, buffers: dict) -> tuple[None, dict]:
    _image_bytes(buffers, "photo", required=True)
    return None, {}


def run_fit(_: None, ctx: JobContext) -> Iterator[Message]:
    yield progress("loading the face model", 0, 2)
    model = face_model()
    yield progress("fitting the photo", 1, 2)
    photo = ctx.inputs["photo"]
    try:
        fit, landmarks = fit_photo(model, photo)
    except FaceImageError as exc:
        raise _user_file_error(exc, photo, "the photo") from None
    metadata = {
        "source": "fit", "identity": fit.identity.tolist(), "identity_names": list(model.identity_names),
        "fit_rms_px": fit.rms_px, "face_box": [float(b) for b in landmarks.box], "num_faces": landmarks.num_faces,
        "image_size": list(landmarks.image_size),
    }  # fmt: skip
    sequence = CoeffSequence(model.model_id, 25.0, model.expression_names, fit.expression[None], fit.pose[None],
                             metadata)
    fields, arrays = pack_coefficients(sequence)
    yield make_message(COEFFICIENTS, fields, arrays)


# -- rig --------------------------------------------------------------------------------------


def prepare_rig(params: dict, buffers: dict) -> tuple[None, dict]:
    _image_bytes(buffers, "photo", required=False)
    return None, {}


def run_rig(_: None, ctx: JobContext) -> Iterator[Message]:
    """The rig's arrays in the model's own frame and units (clients convert for their app)."""
    photo = ctx.inputs.get("photo")
    steps = 2 if photo is not None else 1
    yield progress("loading the face model", 0, steps)
    model = face_model()
    metadata: dict = {"source": "rig"}
    buffers: dict = {}
    if photo is not None:
        yield progress("fitting the photo", 1, steps)
        try:
            fit, landmarks = fit_photo(model, photo)
        except FaceImageError as exc:
            raise _user_file_error(exc, photo, "the photo") from None
        width, height = landmarks.image_size
        pixels = fit.camera.project(fit.camera_vertices(model))
        buffers["uv"] = np.stack([pixels[:, 0] / width, 1.0 - pixels[:, 1] / height], axis=1).astype(np.float32)
        metadata.update({"identity": fit.identity.tolist(), "fit_pose": fit.pose.tolist(),
                         "fit_expression": fit.expression.tolist(), "fit_rms_px": fit.rms_px,
                         "image_size": [width, height]})
        model = model.with_identity(fit.identity)
    content = {"model_id": model.model_id, "units": model.units, "channel_names": list(model.expression_names),
               "metadata": metadata}
    buffers.update({"vertices": model.vertices.astype(np.float32), "triangles": model.triangles.astype(np.int32),
                    "expression_basis": model.expression_basis.astype(np.float32),
                    "expression_bounds": model.expression_bounds.astype(np.float32)})
    yield make_message(RIG, content, buffers)


# -- coefficients (Style-E) ---------------------------------------------------------------------


@dataclass(frozen=True)
class CoefficientsInput:
    text: str
    seed: int
    strength: float
    track: Any = None  # an s2t.style_e.emotion_track.EmotionTrack, which replaces ``text``


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
    _image_bytes(buffers, "photo", required=False)
    return CoefficientsInput(text, _int(params, "seed", 0, 0, 2**31 - 1), float(strength), track), {}


def run_coefficients(job: CoefficientsInput, ctx: JobContext, checkpoint: str = "default",
                     max_audio_seconds: float | None = MAX_AUDIO_SECONDS) -> Iterator[Message]:
    """Style-E on the uploaded speech; the photo, if sent, conditions the motion on its face shape.

    The audio's length is read from its header first: a recording over ``max_audio_seconds``
    is refused (``bad_input``) before it is decoded or the model is loaded.
    """
    from s2t.audio import load_audio
    from s2t.style_e.conditioning import identity_from_photo

    steps = 4 if "photo" in ctx.inputs else 3
    yield progress("reading the audio", 0, steps)
    try:
        probe_audio(ctx.inputs["audio"], max_seconds=max_audio_seconds, label="the audio")
    except MediaError as exc:
        raise JobError(BAD_INPUT, str(exc)) from None
    yield progress("loading Style-E", 1, steps)
    try:
        style_e = style_e_model(checkpoint, ctx.device)
    except FileNotFoundError as exc:
        raise JobError(NOT_AVAILABLE, str(exc)) from None
    metadata, identity = {"audio": "sent to the backend"}, None
    if "photo" in ctx.inputs:
        yield progress("fitting the photo", 2, steps)
        try:
            identity = identity_from_photo(ctx.inputs["photo"])
        except FaceImageError as exc:
            raise _user_file_error(exc, ctx.inputs["photo"], "the photo") from None
        metadata["identity"] = identity.tolist()
    try:
        audio = load_audio(ctx.inputs["audio"])
    except MediaError as exc:
        raise _user_file_error(exc, ctx.inputs["audio"], "the audio") from None
    if job.track is not None:
        try:
            job.track.check_duration(len(audio) / 16000)  # load_audio gives 16 kHz
        except ValueError as exc:
            raise JobError(BAD_INPUT, f"emotion_track: {exc}") from None
    yield progress("sampling", steps - 1, steps)
    emotion = job.text if job.track is None else job.track
    sequence = style_e.generate(audio, emotion, job.seed, job.strength, identity, metadata=metadata)
    fields, arrays = pack_coefficients(sequence)
    yield make_message(COEFFICIENTS, fields, arrays)


# -- render -------------------------------------------------------------------------------------

NEURAL_UNCONFIGURED = ("the neural renderer needs a Style-A checkpoint: start s2t-backend with --style-a DIR (a folder with "
                       "generator.pt, encoder.pt and style_a.pt; see docs/style-a.md)")
RENDERERS = {
    "neural": ("Style-A's neural renderer: DualStyleGAN with the trained motion, content and refinement networks, "
               "in the art style of the art picture (or the style it was trained on)", NEURAL_UNCONFIGURED),
    "cpu": ("Style-A's CPU renderer: the identity photo warped along the face model, styled after the art "
            "picture (no learned weights)", None),
    "rig-preview": ("a shaded, untextured preview of the face rig; it ignores the photo and the art picture", None),
}
"""name -> (description, reason it is unavailable or None)."""


@dataclass(frozen=True)
class RenderInput:
    sequence: CoeffSequence
    frames: range
    size: int
    encoding: str
    renderer: str
    art_preset: str | None
    art_strength: float


def renderer_reasons(style_a: Path | None) -> dict[str, str | None]:
    """Renderer -> why it is unavailable (None: available); ``neural`` needs a Style-A folder."""
    reasons = {name: reason for name, (_, reason) in RENDERERS.items()}
    reasons["neural"] = None if style_a is not None else NEURAL_UNCONFIGURED
    return reasons


def prepare_render(params: dict, buffers: dict, style_a: Path | None = None,
                   limits: JobLimits = JobLimits()) -> tuple[RenderInput, dict]:
    """Check a render request. ``renderer: auto`` is ``cpu`` when a photo is sent, else ``rig-preview``.

    The facts returned include ``disk_bytes``, an upper estimate of what the frames will take
    in the job folder, for the server to compare with the free space.
    """
    try:
        sequence = CoeffSequence(**unpack_coefficients(params.get("coefficients"), buffers))
    except ProtocolError as exc:
        raise JobError(exc.code, exc.message) from None
    except ValueError as exc:
        raise JobError(BAD_INPUT, f"coefficients: {exc}") from None
    renderer = _choice(params, "renderer", ("auto", *RENDERERS), "auto")
    if renderer == "auto":
        renderer = "cpu" if "photo" in buffers else "rig-preview"
    elif renderer_reasons(style_a)[renderer]:
        raise JobError(NOT_AVAILABLE, renderer_reasons(style_a)[renderer])
    if sequence.model_id != RIG_ID or sequence.channel_names != ARKIT_52:
        raise JobError(BAD_INPUT, f"the {renderer} renderer draws {RIG_ID} sequences (its 52 channels in order); "
                                  f"this one is {sequence.model_id!r} with {len(sequence.channel_names)} channels")
    span = params.get("frames") or [0, sequence.num_frames]
    if not (isinstance(span, list) and len(span) == 2 and all(type(v) is int for v in span)
            and 0 <= span[0] < span[1] <= sequence.num_frames):
        raise JobError(BAD_INPUT, f"frames must be [start, stop] with 0 <= start < stop <= {sequence.num_frames}")
    if renderer in ("cpu", "neural") and "photo" not in buffers:
        raise JobError(BAD_INPUT, f"the {renderer} renderer needs the identity photo (the 'photo' buffer)")
    if renderer == "neural" and params.get("art_preset") is not None:
        raise JobError(BAD_INPUT, "the neural renderer takes an art picture (the 'art' buffer), not a CPU art preset; "
                                  "send neither for the style it was trained on")
    _image_bytes(buffers, "photo", required=False)
    _image_bytes(buffers, "art", required=False)
    art_preset = params.get("art_preset")
    if art_preset is not None and (art_preset not in list_art_presets() or "art" in buffers):
        raise JobError(BAD_INPUT, f"art_preset must be one of {', '.join(list_art_presets())}, "
                                  "and not sent together with an art picture")
    try:
        strength = check_art_strength(params.get("art_strength", 1.0), "art_strength")
    except ValueError as exc:
        raise JobError(BAD_INPUT, str(exc)) from None
    job = RenderInput(sequence, range(*span), _int(params, "size", 256, 16, 1024),
                      _choice(params, "encoding", ("png", "raw"), "png"), renderer, art_preset, strength)
    if len(job.frames) > limits.max_frames:
        raise JobError(BAD_INPUT, f"{len(job.frames)} frames asked for; this backend renders at most "
                                  f"{limits.max_frames} per job (s2t-backend --max-job-frames): render it in parts")
    # raw frames are stored as they are; PNGs of rendered faces take well under 60 % of that
    disk_bytes = int(len(job.frames) * job.size**2 * 3 * (1.0 if job.encoding == "raw" else 0.6))
    if disk_bytes > limits.max_disk_bytes:
        raise JobError(BAD_INPUT, f"{len(job.frames)} frames at {job.size} px would take about "
                                  f"{disk_size(disk_bytes)} in the job folder; this backend allows "
                                  f"{disk_size(limits.max_disk_bytes)} per job (s2t-backend --max-job-gb): render "
                                  "fewer frames, a smaller size, or PNG frames")
    info = {"renderer": renderer, "renderer_note": RENDERERS[renderer][0], "frames": len(job.frames), "size": job.size,
            "disk_bytes": disk_bytes}
    return job, info


def render_chunks(job: RenderInput, frames: int) -> list[RenderInput]:
    """The render as consecutive jobs of at most ``frames`` frames each (the Ray engine runs them on
    several actors). Their frames are the whole job's: every renderer draws a frame from the whole
    sequence, never from the frames it drew before."""
    return [replace(job, frames=job.frames[start:start + frames]) for start in range(0, len(job.frames), frames)]


def run_render(job: RenderInput, ctx: JobContext, style_a: Path | None = None) -> Iterator[Message]:
    yield progress("loading the face model", 0, len(job.frames))
    model = face_model()
    if job.renderer == "rig-preview":
        images = _rig_preview_frames(model, job)
    else:
        if job.renderer == "neural":
            yield progress("loading Style-A", 0, len(job.frames))
            try:
                implementation = neural_style_a(style_a, ctx.device)
            except (FileNotFoundError, ValueError) as exc:  # CheckpointError is a ValueError
                raise JobError(NOT_AVAILABLE, f"the Style-A checkpoint could not be loaded: {exc}") from None
        else:
            implementation = CpuStyleA()
        yield progress("fitting the photo", 0, len(job.frames))
        photo, art = _photo_and_art(model, job, ctx)
        if job.renderer == "cpu":
            stylizer = implementation.stylizer(art)
            if stylizer is not None and stylizer.style.method == "painting":
                yield from _paint_once(stylizer, photo, ctx)
        try:  # Style-A through the pipeline, as every front end
            renderer = TalkingHeadPipeline(model, style_a=implementation).renderer(photo, art)
        except ValueError as exc:
            raise JobError(BAD_INPUT, str(exc)) from None
        images = renderer.frames(job.sequence, job.frames.start, job.frames.stop)
    try:
        for index, image in zip(job.frames, images):
            yield frame_message(index, image, job.encoding, job.renderer)
    except ValueError as exc:  # coefficients the renderer cannot draw (the camera's check, a head turned away)
        raise JobError(BAD_INPUT, f"the coefficients cannot be rendered: {exc}") from None


def _photo_and_art(model: FaceModel, job: RenderInput, ctx: JobContext) -> tuple[PreparedPhoto, Art]:
    """The fitted photo and the art Style-A draws it in (the pose it draws is head motion
    relative to the photo's: zero keeps its framing)."""
    photo_path, art_path = ctx.inputs["photo"], ctx.inputs.get("art")
    try:
        photo = prepared_photo(model, photo_path, job.size)
    except FaceImageError as exc:
        raise _user_file_error(exc, photo_path, "the photo") from None
    if art_path is None:
        return photo, resolve_art(job.art_preset, job.art_strength)
    try:
        return photo, resolve_art(load_image(art_path), job.art_strength)
    except FaceImageError as exc:
        raise _user_file_error(exc, art_path, "the art picture") from None


class _PaintingCancelled(Exception):
    """Raised inside a painting whose job was cancelled: it stops, and nothing is cached."""


def _paint_once(stylizer: Stylizer, photo: PreparedPhoto, ctx: JobContext) -> Iterator[Message]:
    """Paint the photo for a painterly art style (a minute or more the first time; afterwards the
    user cache has it, and the renderer finds it there), with progress, stopping on cancel.

    The painting runs on a thread of its own so that this generator can report it: a worker
    checks its job's cancel flag after each message."""
    state = {"done": 0, "total": 0, "error": None}

    def report(done: int, total: int) -> None:
        state.update(done=done, total=total)
        if ctx.cancelled:
            raise _PaintingCancelled

    def paint() -> None:
        try:
            stylizer.source_image(photo.image, photo.landmarks, show_progress=False, progress=report)
        except BaseException as exc:  # handed to the job's own thread below
            state["error"] = exc

    painter = threading.Thread(target=paint, name=f"s2t-painting-{ctx.job_id}", daemon=True)
    painter.start()
    while True:
        painter.join(0.5)
        yield progress("painting the photo (once per photo and art style)", state["done"], state["total"])
        if not painter.is_alive():
            break
    if state["error"] is not None and not isinstance(state["error"], _PaintingCancelled):
        raise state["error"]


_NEURAL: dict[tuple[Path, str], object] = {}
_NEURAL_LOCK = threading.Lock()


def neural_style_a(folder: Path, device: str):
    """The Style-A folder's networks (``NeuralStyleA``), loaded once per folder and device on
    the first neural render (PyTorch is imported then)."""
    from s2t.style_a.neural.renderer import NeuralStyleA

    with _NEURAL_LOCK:
        if (folder, device) not in _NEURAL:
            _NEURAL[folder, device] = NeuralStyleA(folder, device)
        return _NEURAL[folder, device]


def _rig_preview_frames(model: FaceModel, job: RenderInput) -> Iterator[np.ndarray]:
    """The rig with each frame's expression, turned by its head angles (orthographic, fixed
    framing: the pose's translation is not drawn). A fitted ``identity`` in the sequence's
    metadata (as the ``fit`` job gives it) shapes the head."""
    identity = job.sequence.metadata.get("identity")
    if identity is not None:
        if not (isinstance(identity, list) and len(identity) == model.num_identity):
            raise JobError(BAD_INPUT, f"metadata identity must be a list of {model.num_identity} numbers")
        model = model.with_identity(np.asarray(identity, np.float64))
    colors = region_face_colors(model.triangles, model.regions)
    for index in job.frames:
        angles = np.concatenate([job.sequence.pose[index, :3], np.zeros(3)])
        vertices = apply_pose(model.geometry(job.sequence.expression[index]), angles)
        yield render_mesh(vertices, model.triangles, job.size, face_colors=colors,
                          centre=np.array([0.0, -0.02, 0.0]), extent=0.15)


def default_kinds(style_e: str = "default", style_a: Path | None = None,
                  limits: JobLimits = JobLimits()) -> dict[str, JobKind]:
    """The job kinds a stock backend offers; ``style_e`` is the Style-E checkpoint (a known name or a path),
    ``style_a`` the folder of the neural Style-A renderer (None: only the CPU renderer), ``limits`` what
    one job may ask for."""
    if style_a is not None:
        from s2t.style_a.neural.checkpoint import style_a_files

        style_a_files(style_a)  # FileNotFoundError naming what is missing, at start rather than at the first job
    reasons = renderer_reasons(style_a)
    renderers = {name: {"description": text, "available": reasons[name] is None,
                        **({"reason": reasons[name]} if reasons[name] else {})}
                 for name, (text, _) in RENDERERS.items()}
    kinds = [
        JobKind("fit", "fit the face rig to a photo: head pose, identity and expression", prepare_fit, run_fit,
                buffers=("photo",)),
        JobKind("rig", "the face rig's mesh and shape keys; with a photo, shaped and textured after it",
                prepare_rig, run_rig, buffers=("photo",)),
        JobKind("render", "render a coefficient sequence into frames",
                partial(prepare_render, style_a=style_a, limits=limits), partial(run_render, style_a=style_a),
                extra_info={"renderers": renderers, "art_presets": list_art_presets()},
                buffers=("expression", "pose", "photo", "art")),
        JobKind("coefficients", "Style-E: speech + emotion text (+ photo) -> coefficient sequence",
                prepare_coefficients,
                partial(run_coefficients, checkpoint=style_e, max_audio_seconds=limits.max_audio_seconds),
                unavailable=None if importlib.util.find_spec("torch") else "Style-E needs PyTorch, not installed here",
                buffers=("audio", "photo")),
    ]
    return {kind.name: kind for kind in kinds}
