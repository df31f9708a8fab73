"""The ``fit`` job: photo -> fitted head pose, identity and expression, as a one-frame ``coefficients`` message
(identity in its metadata)."""

from __future__ import annotations

from collections.abc import Iterator

from backend.jobs.base import JobContext, user_file_error
from backend.jobs.caches import face_model
from backend.jobs.messages import progress
from backend.jobs.params import check_image_buffer
from backend.protocol import COEFFICIENTS, Message, make_message, pack_coefficients
from s2t.audio import FPS
from s2t.face import CoeffSequence
from s2t.face.detect import FaceImageError
from s2t.face.fit import fit_photo


def prepare_fit(params: dict, buffers: dict) -> tuple[None, dict]:
    check_image_buffer(buffers, "photo", required=True)
    return None, {}


def run_fit(_: None, ctx: JobContext) -> Iterator[Message]:
    yield progress("loading the face model", 0, 2)
    model = face_model()
    yield progress("fitting the photo", 1, 2)
    photo = ctx.inputs["photo"]
    try:
        fit, landmarks = fit_photo(model, photo)
    except FaceImageError as exc:
        raise user_file_error(exc, photo, "the photo") from None
    metadata = {
        "source": "fit", "identity": fit.identity.tolist(), "identity_names": list(model.identity_names),
        "fit_rms_px": fit.rms_px, "face_box": [float(b) for b in landmarks.box], "num_faces": landmarks.num_faces,
        "image_size": list(landmarks.image_size),
    }  # fmt: skip
    sequence = CoeffSequence(model.model_id, FPS, model.expression_names, fit.expression[None], fit.pose[None],
                             metadata)
    fields, arrays = pack_coefficients(sequence)
    yield make_message(COEFFICIENTS, fields, arrays)
