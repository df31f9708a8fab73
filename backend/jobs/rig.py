"""The ``rig`` job: the face rig itself (mesh, shape keys, bounds) for clients that build it, e.g. Blender;
with a photo, shaped after it and with every vertex's photo coordinate (texture coordinates)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from backend.jobs.base import JobContext, user_file_error
from backend.jobs.caches import face_model
from backend.jobs.messages import progress
from backend.jobs.params import check_image_buffer
from backend.protocol import RIG, Message, make_message
from s2t.face.detect import FaceImageError
from s2t.face.fit import fit_photo


def prepare_rig(params: dict, buffers: dict) -> tuple[None, dict]:
    check_image_buffer(buffers, "photo", required=False)
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
            raise user_file_error(exc, photo, "the photo") from None
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
