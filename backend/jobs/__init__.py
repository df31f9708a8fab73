"""The job kinds the backend runs: a small registry of worker functions (:func:`default_kinds`).

One module per kind (:mod:`.fit`, :mod:`.rig`, :mod:`.coefficients`, :mod:`.render`), beside
what they share: :mod:`.base` (``JobKind``, ``JobError``, ``JobContext``, ``JobLimits``),
:mod:`.params` (request checks), :mod:`.messages` (``progress``/``frame`` messages and PNG
encoding) and :mod:`.caches` (the rig, fitted photos and models kept across jobs).

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

import importlib.util
from functools import partial
from pathlib import Path

from backend.jobs.base import JobContext, JobError, JobKind, JobLimits
from backend.jobs.caches import face_model
from backend.jobs.coefficients import prepare_coefficients, run_coefficients
from backend.jobs.fit import prepare_fit, run_fit
from backend.jobs.messages import encode_frame, frame_message, progress
from backend.jobs.params import disk_size
from backend.jobs.render import RENDERERS, RenderInput, prepare_render, render_chunks, renderer_reasons, run_render
from backend.jobs.rig import prepare_rig, run_rig
from s2t.style_a.art_presets import list_art_presets


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


__all__ = ["JobContext", "JobError", "JobKind", "JobLimits", "RenderInput", "default_kinds", "disk_size", "encode_frame",
           "face_model", "frame_message", "prepare_coefficients", "prepare_render", "progress", "render_chunks",
           "run_coefficients", "run_render"]
