"""The add-on's Blender-free core: rig and coefficient files, axes, keyframe arrays, emotion tracks.

Only numpy: this module reads the files the ``s2t`` library writes (``FaceModel.save`` and
``CoeffSequence.save``) without importing ``s2t`` or torch, so it runs inside any Blender.

Axes. The face model is y up with the face looking along +z; Blender is z up with a
character looking along -y. A point ``p`` of the model is ``C @ p`` in Blender with
``C = Rx(+90°)``, i.e. ``(x, y, z) -> (x, -z, y)``. A model pose moves points as
``R @ p + t`` with ``R = Rz(roll) Ry(yaw) Rx(pitch)``; in Blender that is
``C R C^T = Ry(-roll) Rz(yaw) Rx(pitch)``, which is exactly the Euler order ``'XZY'``
with ``rotation_euler = (pitch, -roll, yaw)``, and location ``C @ t``. So every pose
channel is one F-curve scaled by ±1 — no non-linear conversion, and an animator's edit to
one curve maps back to one coefficient.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

COEFF_FORMAT = "s2t-coeff-sequence"
COEFF_FORMAT_VERSION = 1
METRES_PER_UNIT = {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001}
ROTATION_MODE = "XZY"
"""The object's Euler order that makes the model's head pose one F-curve per angle."""


@dataclass(frozen=True)
class PoseChannel:
    """Where one pose coefficient lives on the Blender object."""

    name: str
    data_path: str
    index: int
    sign: float
    is_translation: bool


POSE_CHANNELS = (
    PoseChannel("pitch", "rotation_euler", 0, 1.0, False),
    PoseChannel("yaw", "rotation_euler", 2, 1.0, False),
    PoseChannel("roll", "rotation_euler", 1, -1.0, False),
    PoseChannel("tx", "location", 0, 1.0, True),
    PoseChannel("ty", "location", 2, 1.0, True),
    PoseChannel("tz", "location", 1, -1.0, True),
)
"""The six pose coefficients (pitch, yaw, roll, tx, ty, tz), in the file's column order."""


def to_blender_axes(points: np.ndarray) -> np.ndarray:
    """Model (y up, z forward) -> Blender (z up, -y forward): ``(x, y, z) -> (x, -z, y)``."""
    points = np.asarray(points)
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def from_blender_axes(points: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_blender_axes`: ``(x, y, z) -> (x, z, -y)``."""
    points = np.asarray(points)
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1)


def shape_key_data_path(name: str) -> str:
    """The F-curve data path of a shape key's value, relative to the mesh's Key datablock."""
    return f'key_blocks["{name}"].value'


# -- files ---------------------------------------------------------------------------------


def _read_npz(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON header and the arrays of an ``.npz`` written by s2t (no pickle)."""
    with np.load(path, allow_pickle=False) as data:
        if "header" not in data.files:
            raise ValueError(f"{path} has no JSON header; is it a file written by s2t?")
        header = json.loads(bytes(data["header"]).decode("utf-8"))
        arrays = {name: data[name] for name in data.files if name != "header"}
    return header, arrays


@dataclass(frozen=True, eq=False)
class Rig:
    """A face model ready for Blender: metres, z up, -y forward.

    ``shape_keys`` is ``(K, V, 3)``: the absolute vertex positions of each channel at 1.0,
    as Blender stores a shape key (the model stores offsets from the neutral mesh).
    ``uv`` ``(V, 2)``, when the rig was fitted to a photo, is where each vertex lies in it.
    """

    model_id: str
    units: str
    channel_names: tuple[str, ...]
    vertices: np.ndarray
    triangles: np.ndarray
    shape_keys: np.ndarray
    bounds: np.ndarray
    uv: np.ndarray | None = None

    @property
    def metres_per_unit(self) -> float:
        return METRES_PER_UNIT[self.units]


def rig_from_arrays(model_id: str, units: str, channel_names, vertices: np.ndarray, expression_basis: np.ndarray,
                    triangles: np.ndarray, bounds: np.ndarray, uv: np.ndarray | None = None) -> Rig:
    """A :class:`Rig` from the model's arrays in its own frame and units."""
    if units not in METRES_PER_UNIT:
        raise ValueError(f"unknown units {units!r}; expected one of {sorted(METRES_PER_UNIT)}")
    scale = METRES_PER_UNIT[units]
    neutral = to_blender_axes(np.asarray(vertices, np.float64) * scale)
    deltas = to_blender_axes(np.asarray(expression_basis, np.float64) * scale)
    if deltas.shape != (len(channel_names), *neutral.shape):
        raise ValueError(f"expression basis {deltas.shape} does not match {len(channel_names)} channels x "
                         f"{neutral.shape} vertices")
    return Rig(model_id=model_id, units=units, channel_names=tuple(channel_names),
               vertices=neutral.astype(np.float32), triangles=np.asarray(triangles, np.int32),
               shape_keys=(neutral[None] + deltas).astype(np.float32), bounds=np.asarray(bounds, np.float32),
               uv=None if uv is None else np.asarray(uv, np.float32))


def load_rig(path: str | Path) -> Rig:
    """Read a ``FaceModel.save`` file; the identity basis and regions are not needed here."""
    header, arrays = _read_npz(path)
    try:
        return rig_from_arrays(header["model_id"], header["units"], header["expression_names"], arrays["vertices"],
                               arrays["expression_basis"], arrays["triangles"], arrays["expression_bounds"])
    except KeyError as exc:
        raise ValueError(f"{path} is not a face model file (missing {exc})") from exc


def rig_from_message(content: dict, buffers: dict) -> Rig:
    """The backend's ``rig`` message (see docs/protocol.md) as a :class:`Rig`."""
    try:
        return rig_from_arrays(content["model_id"], content["units"], content["channel_names"], buffers["vertices"],
                               buffers["expression_basis"], buffers["triangles"], buffers["expression_bounds"],
                               buffers.get("uv"))
    except KeyError as exc:
        raise ValueError(f"the backend's rig message lacks {exc}") from exc


@dataclass(frozen=True, eq=False)
class Take:
    """One coefficient sequence, as ``CoeffSequence`` holds it: ``(T, K)`` + ``(T, 6)`` at ``fps``."""

    model_id: str
    fps: float
    channel_names: tuple[str, ...]
    expression: np.ndarray
    pose: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.expression.shape != (len(self.expression), len(self.channel_names)) or len(self.expression) < 1:
            raise ValueError(f"expression must be (T>=1, K={len(self.channel_names)}), got {self.expression.shape}")
        if self.pose.shape != (len(self.expression), 6):
            raise ValueError(f"pose must be (T={len(self.expression)}, 6), got {self.pose.shape}")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return len(self.expression)


def load_take(path: str | Path) -> Take:
    """Read a ``CoeffSequence.save`` file."""
    header, arrays = _read_npz(path)
    if header.get("format") != COEFF_FORMAT:
        raise ValueError(f"{path} is not a coefficient sequence file (format is not {COEFF_FORMAT!r})")
    if not isinstance(header.get("format_version"), int) or header["format_version"] > COEFF_FORMAT_VERSION:
        raise ValueError(f"{path} has format version {header.get('format_version')!r}; "
                         f"this add-on reads up to {COEFF_FORMAT_VERSION}. Update the add-on.")
    try:
        return Take(
            model_id=header["model_id"],
            fps=float(header["fps"]),
            channel_names=tuple(header["channel_names"]),
            expression=arrays["expression"].astype(np.float32),
            pose=arrays["pose"].astype(np.float32),
            metadata=dict(header.get("metadata", {})),
        )
    except KeyError as exc:
        raise ValueError(f"{path} is a damaged coefficient sequence file (missing {exc})") from exc


def take_from_message(content: dict, buffers: dict) -> Take:
    """The backend's ``coefficients`` message as a :class:`Take`."""
    try:
        return Take(model_id=content["model_id"], fps=float(content["fps"]),
                    channel_names=tuple(content["channel_names"]),
                    expression=np.asarray(buffers["expression"], np.float32),
                    pose=np.asarray(buffers["pose"], np.float32), metadata=dict(content.get("metadata", {})))
    except KeyError as exc:
        raise ValueError(f"the backend's coefficients message lacks {exc}") from exc


def save_take(path: str | Path, take: Take) -> None:
    """Write ``take`` in ``CoeffSequence.save``'s format, atomically (a crash leaves ``path`` as it was)."""
    header = {
        "format": COEFF_FORMAT,
        "format_version": COEFF_FORMAT_VERSION,
        "model_id": take.model_id,
        "fps": float(take.fps),
        "channel_names": list(take.channel_names),
        "metadata": take.metadata,
    }
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(
                f,
                header=np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8),
                expression=np.asarray(take.expression, np.float32),
                pose=np.asarray(take.pose, np.float32),
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# -- keyframes -----------------------------------------------------------------------------


def resample(values: np.ndarray, fps: float, new_fps: float, angle_columns: slice = slice(0, 0)) -> np.ndarray:
    """``(T, C)`` sampled at ``fps`` -> ``(T', C)`` at ``new_fps``, keeping the duration.

    Linear interpolation, the last frame held past the end: the same rule as
    ``CoeffSequence.resample``, so the add-on and the library agree frame for frame.
    ``angle_columns`` are unwrapped first so a jump across ±pi goes the short way.
    """
    values = np.asarray(values, np.float64)
    if fps == new_fps:
        return values
    count = max(1, round(len(values) * new_fps / fps))
    position = np.minimum(np.arange(count) * (fps / new_fps), len(values) - 1)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, len(values) - 1)
    weight = (position - lower)[:, None]
    values = values.copy()
    values[:, angle_columns] = np.unwrap(values[:, angle_columns], axis=0)
    return values[lower] * (1.0 - weight) + values[upper] * weight


@dataclass(frozen=True, eq=False)
class ChannelKeys:
    """The keyframes of one F-curve: ``co`` is ``(N, 2)`` of (frame, value), ready for ``foreach_set``."""

    data_path: str
    index: int
    group: str
    co: np.ndarray


@dataclass(frozen=True, eq=False)
class TakeKeys:
    """A take as keyframes: shape-key curves (on the mesh's Key) and pose curves (on the object)."""

    shape: list[ChannelKeys]
    pose: list[ChannelKeys]
    frame_start: int
    frame_end: int


def keyframe_arrays(take: Take, scene_fps: float, frame_start: int, metres_per_unit: float = 1.0) -> TakeKeys:
    """One key per scene frame from ``frame_start``; resampled when the take's fps differs."""
    expression = resample(take.expression, take.fps, scene_fps)
    pose = resample(take.pose, take.fps, scene_fps, angle_columns=slice(0, 3))
    frames = frame_start + np.arange(len(expression), dtype=np.float64)

    def keys(values: np.ndarray) -> np.ndarray:
        return np.stack([frames, values], axis=-1).astype(np.float32)

    shape = [ChannelKeys(shape_key_data_path(name), 0, "Expression", keys(expression[:, k]))
             for k, name in enumerate(take.channel_names)]
    pose_keys = []
    for column, channel in enumerate(POSE_CHANNELS):
        scale = channel.sign * (metres_per_unit if channel.is_translation else 1.0)
        group = "Location" if channel.is_translation else "Rotation"
        pose_keys.append(ChannelKeys(channel.data_path, channel.index, group, keys(pose[:, column] * scale)))
    return TakeKeys(shape, pose_keys, frame_start, int(frames[-1]))


def take_from_samples(
    shape: dict[str, np.ndarray],
    pose: dict[tuple[str, int], np.ndarray],
    model_id: str,
    fps: float,
    channel_names: tuple[str, ...],
    metres_per_unit: float = 1.0,
    metadata: dict | None = None,
) -> Take:
    """Inverse of :func:`keyframe_arrays`: curves sampled at consecutive scene frames -> a take.

    ``shape`` maps channel names to ``(T,)`` values; ``pose`` maps ``(data_path, index)`` of
    the object's rotation/location to ``(T,)`` values. The take is at the scene's ``fps``.
    """
    expression = np.stack([np.asarray(shape[name], np.float64) for name in channel_names], axis=-1)
    columns = []
    for channel in POSE_CHANNELS:
        scale = channel.sign * (metres_per_unit if channel.is_translation else 1.0)
        columns.append(np.asarray(pose[channel.data_path, channel.index], np.float64) / scale)
    return Take(model_id, float(fps), tuple(channel_names), expression.astype(np.float32),
                np.stack(columns, axis=-1).astype(np.float32), dict(metadata or {}))


UNNAMED_MARKER = re.compile(r"F_\d+")
"""Blender names a new timeline marker ``F_<frame>``: such a marker carries no emotion."""


def emotion_track_from_markers(markers: list[tuple[int, str]], frame_start: int, fps: float,
                               first_text: str) -> list[dict]:
    """The cues of an emotion track (the backend's ``emotion_track``) from timeline markers.

    ``markers`` are ``(frame, name)``; each marker named with an emotion sentence changes the
    emotion from its frame on, counted from ``frame_start`` (where the take's speech starts)
    at the scene's ``fps``. ``first_text`` holds until the first marker. Markers before the
    take, and unnamed ones (``F_12``), are left out; ``[]`` means no marker changes anything.
    """
    cues = [{"start": round((frame - frame_start) / fps, 4), "text": name.strip()}
            for frame, name in sorted(markers)
            if frame >= frame_start and name.strip() and not UNNAMED_MARKER.fullmatch(name.strip())]
    if not cues:
        return []
    if cues[0]["start"] > 0:
        cues.insert(0, {"start": 0.0, "text": first_text.strip()})
    return cues
