"""The wire protocol between ``s2t-backend`` and its clients (the Blender add-on, the CLI).

This is the one module the backend and the add-on share, so it imports only the standard
library and numpy (the add-on imports it inside Blender, where there is no torch).

A message is a list of ZeroMQ frames: one UTF-8 JSON **header**, then one raw frame per
binary **buffer** (an audio file, a PNG, an array). Arrays travel as their raw bytes; the
header describes each buffer by name, and arrays by little-endian dtype and shape. There is
no pickle anywhere. The header::

    {"version": [1, 0], "type": "submit_request", "msg_id": "...", "request_id": "...",
     "job_id": null, "date": "2025-...Z", "content": {...},
     "buffers": [{"name": "photo", "nbytes": 51234},
                 {"name": "pose", "nbytes": 2400, "dtype": "<f4", "shape": [100, 6]}]}

A peer with another *major* version is refused with a ``version_mismatch`` error; a newer
minor version is accepted, and unknown header and content fields are ignored. The message
catalogue is ``docs/protocol.md``.

:func:`deserialize` checks the frame count and every frame's size *before* decoding
anything, and raises :class:`ProtocolError` (with an error ``code``) on any malformed,
truncated, oversized or wrong-version message; the server turns that into an ``error`` reply.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

PROTOCOL_VERSION = (1, 3)
"""(major, minor) of the wire format, versioned apart from the package; see docs/protocol.md."""

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5599"

# -- message types ----------------------------------------------------------------------------
# client -> backend
HELLO_REQUEST = "hello_request"
SUBMIT_REQUEST = "submit_request"
CANCEL_REQUEST = "cancel_request"
STATUS_REQUEST = "status_request"
FETCH_REQUEST = "fetch_request"
# backend -> client: replies
HELLO_REPLY = "hello_reply"
SUBMIT_REPLY = "submit_reply"
CANCEL_REPLY = "cancel_reply"
STATUS_REPLY = "status_reply"
FETCH_REPLY = "fetch_reply"
# backend -> client: a job's stream (every one carries the job id)
PROGRESS = "progress"
COEFFICIENTS = "coefficients"
RIG = "rig"  # 1.1: a face rig's arrays (the ``rig`` job)
FRAME = "frame"
DONE = "done"
CANCELLED = "cancelled"
ERROR = "error"
# both ways
HEARTBEAT = "heartbeat"

REQUEST_TYPES = (HELLO_REQUEST, SUBMIT_REQUEST, CANCEL_REQUEST, STATUS_REQUEST, FETCH_REQUEST, HEARTBEAT)
JOB_STREAM_TYPES = (PROGRESS, COEFFICIENTS, RIG, FRAME, DONE, CANCELLED, ERROR)
FINAL_TYPES = (DONE, CANCELLED, ERROR)
"""A job's stream ends with exactly one of these."""

# -- error codes ------------------------------------------------------------------------------
BAD_MESSAGE = "bad_message"            # not a message of this protocol: bad JSON, missing fields
TOO_LARGE = "too_large"                # a frame over the size limit, or too many frames
VERSION_MISMATCH = "version_mismatch"  # the peer speaks another major version
UNKNOWN_TYPE = "unknown_type"          # a message type the receiver does not handle
BAD_INPUT = "bad_input"                # a well-formed request with unusable content
NOT_AVAILABLE = "not_available"        # a job kind or renderer this backend does not have (yet)
UNKNOWN_JOB = "unknown_job"            # no job with that id
BUSY = "busy"                          # the job queue is full
INTERRUPTED = "interrupted"            # the backend stopped before the job finished
NO_SPACE = "no_space"                  # 1.2: the backend's disk is too full to store the job
INTERNAL = "internal"                  # a bug in the backend; the message says what failed
ENGINE_UNAVAILABLE = "engine_unavailable"  # the backend's Ray cluster cannot be reached (s2t-backend --engine ray)
ERROR_CODES = (BAD_MESSAGE, TOO_LARGE, VERSION_MISMATCH, UNKNOWN_TYPE, BAD_INPUT, NOT_AVAILABLE,
               UNKNOWN_JOB, BUSY, INTERRUPTED, NO_SPACE, INTERNAL, ENGINE_UNAVAILABLE)  # fmt: skip

ARRAY_DTYPES = ("|u1", "|i1", "<u2", "<i2", "<i4", "<i8", "<f2", "<f4", "<f8", "|b1")
"""The dtypes an array buffer may have: plain little-endian numbers, never objects."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_DIMS = 8
MAX_COEFFICIENT = 1000.0
"""Coefficient values (weights, radians, model units) beyond this are refused: no face means them."""


@dataclass(frozen=True)
class Limits:
    """Size limits checked before anything is decoded (both sides use them)."""

    max_header_bytes: int = 1 << 20
    max_buffer_bytes: int = 64 << 20
    max_buffers: int = 16


class ProtocolError(ValueError):
    """A message that cannot be accepted; ``code`` is one of :data:`ERROR_CODES`.

    ``request_id`` is the offending message's request id when its header could be read, so
    the error reply can be matched to the request.
    """

    def __init__(self, code: str, message: str, request_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class Message:
    """One protocol message. ``buffers`` maps names to ``bytes`` or numpy arrays.

    Arrays from :func:`deserialize` are read-only views of the received frames.
    """

    type: str
    content: dict = field(default_factory=dict)
    buffers: dict = field(default_factory=dict)
    job_id: str | None = None
    request_id: str | None = None
    msg_id: str = ""
    date: str = ""
    version: tuple[int, int] = PROTOCOL_VERSION


def new_id() -> str:
    """A fresh random id (32 hex digits) for messages, requests and jobs."""
    return uuid.uuid4().hex


def make_message(
    msg_type: str,
    content: dict | None = None,
    buffers: dict | None = None,
    *,
    job_id: str | None = None,
    request_id: str | None = None,
) -> Message:
    """A message stamped with a new ``msg_id``, the current UTC date and this protocol version."""
    date = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Message(msg_type, dict(content or {}), dict(buffers or {}), job_id, request_id, new_id(), date)


def error_message(code: str, text: str, *, job_id: str | None = None, request_id: str | None = None) -> Message:
    """An ``error`` message: ``{"status": "error", "code": one of ERROR_CODES, "message": a sentence}``."""
    content = {"status": "error", "code": code, "message": text}
    return make_message(ERROR, content, job_id=job_id, request_id=request_id)


# -- encoding ---------------------------------------------------------------------------------


def serialize(message: Message) -> list[bytes | memoryview]:
    """Frames for ``message``: the JSON header, then each buffer's raw bytes.

    Arrays are sent C-contiguous and little-endian; a dtype outside :data:`ARRAY_DTYPES`
    raises ``ValueError``, as does content that is not strict JSON (NaN, objects).
    """
    descriptors, frames = [], []
    for name, value in message.buffers.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"buffer name {name!r} must be an identifier of at most 32 characters")
        if isinstance(value, np.ndarray):
            array = np.asarray(value, dtype=value.dtype.newbyteorder("<"), order="C")
            if array.dtype.str not in ARRAY_DTYPES:
                raise ValueError(f"buffer {name!r} has dtype {value.dtype}; allowed: {', '.join(ARRAY_DTYPES)}")
            descriptors.append({"name": name, "nbytes": array.nbytes, "dtype": array.dtype.str,
                                "shape": list(array.shape)})
            frames.append(memoryview(array.reshape(-1).view(np.uint8)))
        else:
            data = memoryview(value).cast("B")
            descriptors.append({"name": name, "nbytes": data.nbytes})
            frames.append(data)
    header = {
        "version": list(message.version),
        "type": message.type,
        "msg_id": message.msg_id,
        "request_id": message.request_id,
        "job_id": message.job_id,
        "date": message.date,
        "content": message.content,
        "buffers": descriptors,
    }
    return [json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8"), *frames]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _optional_id(header: dict, key: str) -> str | None:
    value = header.get(key)
    if value is not None and not (isinstance(value, str) and _ID.fullmatch(value)):
        raise ProtocolError(BAD_MESSAGE, f"header field {key!r} must be null or 1-64 characters [A-Za-z0-9_.:-]")
    return value


def deserialize(frames: list, limits: Limits = Limits()) -> Message:
    """Inverse of :func:`serialize`; raises :class:`ProtocolError` for anything unacceptable.

    ``frames`` are ``bytes`` or any buffer (``zmq.Frame``). Sizes and counts are checked
    before any buffer is looked at (an oversized message has only its size-limited header
    read, for the request id); the version before the rest of the header.
    """
    if not frames:
        raise ProtocolError(BAD_MESSAGE, "empty message: expected a JSON header frame")
    views = [memoryview(f).cast("B") for f in frames]
    if views[0].nbytes > limits.max_header_bytes:
        raise ProtocolError(TOO_LARGE, f"header of {views[0].nbytes} bytes; the limit is {limits.max_header_bytes}")
    too_large = None
    oversized = [k for k, view in enumerate(views[1:]) if view.nbytes > limits.max_buffer_bytes]
    if len(views) - 1 > limits.max_buffers:
        too_large = f"{len(views) - 1} buffer frames; the limit is {limits.max_buffers}"
    elif oversized:
        k = oversized[0]
        too_large = f"buffer frame {k} has {views[k + 1].nbytes} bytes; the limit is {limits.max_buffer_bytes}"
    try:
        header = json.loads(bytes(views[0]).decode("utf-8"), parse_constant=_reject_constant)
        problem = None if isinstance(header, dict) else "the header must be a JSON object"
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        header, problem = None, f"the first frame is not a JSON header: {exc}"
    request_id = header.get("request_id") if isinstance(header, dict) else None
    if not (isinstance(request_id, str) and _ID.fullmatch(request_id)):
        request_id = None
    if too_large:  # only the (size-limited) header was read, for the request id
        raise ProtocolError(TOO_LARGE, too_large, request_id)
    if problem:
        raise ProtocolError(BAD_MESSAGE, problem)
    try:
        return _decode(header, views[1:])
    except ProtocolError as exc:
        exc.request_id = exc.request_id or request_id
        raise


def _decode(header: dict, buffers: list[memoryview]) -> Message:
    version = header.get("version")
    if not (isinstance(version, list) and len(version) == 2 and all(type(v) is int for v in version)):
        raise ProtocolError(BAD_MESSAGE, 'header field "version" must be [major, minor]')
    if version[0] != PROTOCOL_VERSION[0]:
        raise ProtocolError(
            VERSION_MISMATCH,
            f"protocol version {version[0]}.{version[1]} is not compatible with this side's "
            f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}: update the client or the backend so "
            "their major versions match",
        )
    msg_type, content, descriptors = header.get("type"), header.get("content", {}), header.get("buffers", [])
    if not (isinstance(msg_type, str) and _NAME.fullmatch(msg_type)):
        raise ProtocolError(BAD_MESSAGE, 'header field "type" must be a message type name')
    if not isinstance(content, dict):
        raise ProtocolError(BAD_MESSAGE, 'header field "content" must be an object')
    if not isinstance(descriptors, list) or len(descriptors) != len(buffers):
        count = len(descriptors) if isinstance(descriptors, list) else "no"
        raise ProtocolError(BAD_MESSAGE, f"the header describes {count} buffers but {len(buffers)} frames followed")
    decoded = {}
    for descriptor, view in zip(descriptors, buffers):
        name, value = _decode_buffer(descriptor, view)
        if name in decoded:
            raise ProtocolError(BAD_MESSAGE, f"buffer {name!r} appears twice")
        decoded[name] = value
    date = header.get("date")
    return Message(
        type=msg_type,
        content=content,
        buffers=decoded,
        job_id=_optional_id(header, "job_id"),
        request_id=_optional_id(header, "request_id"),
        msg_id=_optional_id(header, "msg_id") or "",
        date=date if isinstance(date, str) else "",
        version=(version[0], version[1]),
    )


def _decode_buffer(descriptor, view: memoryview) -> tuple[str, bytes | np.ndarray]:
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("name"), str):
        raise ProtocolError(BAD_MESSAGE, "each buffer descriptor must be an object with a name")
    name = descriptor["name"]
    if not _NAME.fullmatch(name):
        raise ProtocolError(BAD_MESSAGE, f"buffer name {name[:40]!r} must be an identifier of at most 32 characters")
    if descriptor.get("nbytes") != view.nbytes:
        raise ProtocolError(BAD_MESSAGE, f"buffer {name!r}: header says {descriptor.get('nbytes')!r} bytes, "
                                         f"the frame has {view.nbytes} (truncated?)")
    if "dtype" not in descriptor:
        return name, bytes(view)
    dtype, shape = descriptor["dtype"], descriptor.get("shape")
    if dtype not in ARRAY_DTYPES:
        raise ProtocolError(BAD_MESSAGE, f"buffer {name!r}: dtype {str(dtype)[:20]!r} is not one of "
                                         f"{', '.join(ARRAY_DTYPES)}")
    if not (isinstance(shape, list) and len(shape) <= MAX_DIMS and all(type(n) is int and n >= 0 for n in shape)):
        raise ProtocolError(BAD_MESSAGE, f"buffer {name!r}: shape must be a list of at most {MAX_DIMS} sizes")
    if int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize != view.nbytes:
        raise ProtocolError(BAD_MESSAGE, f"buffer {name!r}: {view.nbytes} bytes do not hold {dtype} {shape}")
    return name, np.frombuffer(view, dtype=dtype).reshape(shape)


# -- art in a render request -------------------------------------------------------------------


def render_art(preset: str | None = None, picture: bytes | None = None, strength: float = 1.0) -> tuple[dict, dict]:
    """A ``render`` request's art as ``(params, buffers)``: ``art_preset`` names a preset the
    backend ships, the ``art`` buffer holds an art picture file's bytes, ``art_strength`` is
    how strongly it applies (0 to 1; the backend checks it). No art sends strength 0, which
    the CPU renderer draws as the plain photo and the neural one as its trained style.

    The one client-side rule (the Blender add-on and ``s2t generate --backend``); the backend
    turns these fields into Style-A's art with ``s2t.style_a.art.resolve_art``.
    """
    if preset is not None and picture is not None:
        raise ValueError("give an art preset or an art picture, not both")
    if preset is None and picture is None:
        return {"art_preset": None, "art_strength": 0.0}, {}
    return {"art_preset": preset, "art_strength": strength}, ({} if picture is None else {"art": picture})


# -- coefficient sequences on the wire ---------------------------------------------------------


def pack_coefficients(seq) -> tuple[dict, dict]:
    """``(fields, buffers)`` for a coefficient sequence (any object with the attributes of
    ``s2t.face.CoeffSequence``): fields ``model_id, fps, channel_names, metadata`` go in the
    content, ``expression`` ``(T, K)`` and ``pose`` ``(T, 6)`` (float32) in buffers."""
    fields = {"model_id": seq.model_id, "fps": float(seq.fps), "channel_names": list(seq.channel_names),
              "metadata": seq.metadata}
    buffers = {"expression": np.asarray(seq.expression, np.float32), "pose": np.asarray(seq.pose, np.float32)}
    return fields, buffers


def unpack_coefficients(fields, buffers: dict) -> dict:
    """Inverse of :func:`pack_coefficients`: keyword arguments for ``CoeffSequence(**kwargs)``.

    Checks types and shapes and raises :class:`ProtocolError` (``bad_input``) naming the problem.
    """
    if not isinstance(fields, dict):
        raise ProtocolError(BAD_INPUT, "the coefficient fields must be an object")
    model_id, fps, names, metadata = (fields.get(k) for k in ("model_id", "fps", "channel_names", "metadata"))
    if not isinstance(model_id, str) or not model_id:
        raise ProtocolError(BAD_INPUT, "coefficients: model_id must be a non-empty string")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
        raise ProtocolError(BAD_INPUT, f"coefficients: fps must be a number in (0, 1000], got {fps!r}")
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ProtocolError(BAD_INPUT, "coefficients: channel_names must be a list of strings")
    if not isinstance(metadata, dict):
        raise ProtocolError(BAD_INPUT, "coefficients: metadata must be an object")
    expression, pose = buffers.get("expression"), buffers.get("pose")
    for name, array in (("expression", expression), ("pose", pose)):
        if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
            raise ProtocolError(BAD_INPUT, f"coefficients: buffer {name!r} must be a float array")
    if expression.ndim != 2 or expression.shape[1] != len(names) or len(expression) == 0:
        raise ProtocolError(BAD_INPUT, f"coefficients: expression must be (T>0, K={len(names)}), "
                                       f"got {expression.shape}")
    if pose.shape != (len(expression), 6):
        raise ProtocolError(BAD_INPUT, f"coefficients: pose must be (T={len(expression)}, 6), got {pose.shape}")
    for name, array in (("expression", expression), ("pose", pose)):
        with np.errstate(invalid="ignore"):
            inside = np.abs(array) <= MAX_COEFFICIENT  # False for NaN and inf too
        if not inside.all():
            frame = int(np.argwhere(~inside)[0][0])
            value = array[frame][~inside[frame]][0]
            raise ProtocolError(BAD_INPUT, f"coefficients: {name} must be finite numbers within "
                                           f"+-{MAX_COEFFICIENT:g}; frame {frame} has {value!r}")
    return {"model_id": model_id, "fps": float(fps), "channel_names": tuple(names),
            "expression": expression, "pose": pose, "metadata": metadata}
