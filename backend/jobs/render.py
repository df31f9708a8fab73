"""The ``render`` job: a coefficient sequence (maybe edited in Blender) -> frames, by Style-A's ``cpu`` or
``neural`` implementation through :meth:`s2t.pipeline.TalkingHeadPipeline.renderer`, or by ``rig-preview``
(a shaded drawing of the face rig that ignores photo and art)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from backend.jobs.base import JobContext, JobError, JobLimits, user_file_error
from backend.jobs.caches import face_model, neural_style_a, prepared_photo
from backend.jobs.messages import frame_message, progress
from backend.jobs.params import check_image_buffer, choice_param, disk_size, int_param
from backend.protocol import BAD_INPUT, NOT_AVAILABLE, Message, ProtocolError, unpack_coefficients
from s2t.face import CoeffSequence, FaceModel
from s2t.face.detect import FaceImageError, load_image
from s2t.face.pose import apply_pose
from s2t.face.preview import region_face_colors, render_mesh
from s2t.face.rig import RIG_ID
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.pipeline import TalkingHeadPipeline
from s2t.style_a.art import Art, check_art_strength, resolve_art
from s2t.style_a.art_presets import list_art_presets
from s2t.style_a.cpu_renderer import CpuStyleA
from s2t.style_a.photo import PreparedPhoto
from s2t.style_a.stylizer import Stylizer

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
    renderer = choice_param(params, "renderer", ("auto", *RENDERERS), "auto")
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
    check_image_buffer(buffers, "photo", required=False)
    check_image_buffer(buffers, "art", required=False)
    art_preset = params.get("art_preset")
    if art_preset is not None and (art_preset not in list_art_presets() or "art" in buffers):
        raise JobError(BAD_INPUT, f"art_preset must be one of {', '.join(list_art_presets())}, "
                                  "and not sent together with an art picture")
    try:
        strength = check_art_strength(params.get("art_strength", 1.0), "art_strength")
    except ValueError as exc:
        raise JobError(BAD_INPUT, str(exc)) from None
    job = RenderInput(sequence, range(*span), int_param(params, "size", 256, 16, 1024),
                      choice_param(params, "encoding", ("png", "raw"), "png"), renderer, art_preset, strength)
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
                yield from paint_once(stylizer, photo, ctx)
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
        raise user_file_error(exc, photo_path, "the photo") from None
    if art_path is None:
        return photo, resolve_art(job.art_preset, job.art_strength)
    try:
        return photo, resolve_art(load_image(art_path), job.art_strength)
    except FaceImageError as exc:
        raise user_file_error(exc, art_path, "the art picture") from None


class _PaintingCancelled(Exception):
    """Raised inside a painting whose job was cancelled: it stops, and nothing is cached."""


def paint_once(stylizer: Stylizer, photo: PreparedPhoto, ctx: JobContext) -> Iterator[Message]:
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
