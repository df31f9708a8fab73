"""Coefficient sequences: what every talking-head stage produces and the exporters consume.

A :class:`CoeffSequence` is one take: per-frame expression values for the K channels of a
face model plus a per-frame head pose ``(pitch, yaw, roll, tx, ty, tz)`` (see
:mod:`s2t.face.pose`). It saves as ``.npz`` with a JSON header, reads and writes SadTalker's
``.mat`` files, and exports the animated mesh as OBJ frames or a single glTF binary (``.glb``).
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.io
import trimesh
from tqdm import tqdm

from s2t.face.bfm import BFM_EXPRESSION_NAMES, BFM_MODEL_ID
from s2t.face.model import FaceModel
from s2t.face.pose import apply_pose

FORMAT_NAME = "s2t-coeff-sequence"
FORMAT_VERSION = 1

"""SadTalker / Deep3DFaceRecon: 64 Basel expression coefficients, then 3 angles, 3 translations."""

_METRES_PER_UNIT = {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001}


@dataclass(frozen=True, eq=False)
class CoeffSequence:
    """Expression ``(T, K)`` and pose ``(T, 6)`` of a face model, sampled at ``fps``.

    Frame ``t`` is shown at time ``t / fps``. ``metadata`` is stored as JSON; it is
    normalised through JSON on construction (tuples become lists, the dict is copied), so a
    sequence equals what :meth:`load` gives back after :meth:`save`.
    """

    model_id: str
    fps: float
    channel_names: tuple[str, ...]
    expression: np.ndarray
    pose: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model_id, str) or not self.model_id:
            raise ValueError(f"model_id must be a non-empty string, got {self.model_id!r}")
        fps = float(self.fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {self.fps!r}")
        names = tuple(self.channel_names)
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ValueError(f"channel_names must be unique strings, got {names}")
        expression = np.asarray(self.expression, dtype=np.float32)
        pose = np.asarray(self.pose, dtype=np.float32)
        if expression.ndim != 2 or expression.shape[1] != len(names):
            raise ValueError(f"expression must be (T, K={len(names)}), got {expression.shape}")
        if len(expression) < 1:
            raise ValueError("a coefficient sequence needs at least one frame")
        if pose.shape != (len(expression), 6):
            raise ValueError(f"pose must be (T={len(expression)}, 6), got {pose.shape}")
        if not (np.isfinite(expression).all() and np.isfinite(pose).all()):
            raise ValueError("expression and pose must be finite (found NaN or inf)")
        try:
            metadata = json.loads(json.dumps(self.metadata, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"metadata must be JSON-serialisable: {exc}") from exc
        if not isinstance(metadata, dict):
            raise ValueError(f"metadata must be a dict, got {type(self.metadata).__name__}")
        for name, value in [("fps", fps), ("channel_names", names), ("expression", expression),
                            ("pose", pose), ("metadata", metadata)]:
            object.__setattr__(self, name, value)

    @property
    def num_frames(self) -> int:
        return len(self.expression)

    @property
    def duration(self) -> float:
        """Length in seconds: each frame lasts ``1 / fps``."""
        return self.num_frames / self.fps

    def channel(self, name: str) -> np.ndarray:
        """The ``(T,)`` values of one expression channel."""
        try:
            return self.expression[:, self.channel_names.index(name)]
        except ValueError:
            raise KeyError(f"no channel {name!r}; the channels are {list(self.channel_names)}") from None

    def _replace(self, fps: float, expression: np.ndarray, pose: np.ndarray) -> "CoeffSequence":
        return CoeffSequence(self.model_id, fps, self.channel_names, expression, pose, self.metadata)

    # -- editing -----------------------------------------------------------------------

    def resample(self, fps: float) -> "CoeffSequence":
        """The same take at another frame rate, keeping the duration (to the nearest frame).

        Every column, angles included, is interpolated linearly between neighbouring
        frames; the last frame is held past the end. Linear interpolation of Euler angles is
        not a geodesic, but head angles are small (well under 45 degrees), where the two
        differ by far less than tracking noise. Angles are unwrapped first so a jump across
        ±pi is not interpolated the long way round.
        """
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        count = max(1, round(self.num_frames * fps / self.fps))
        position = np.minimum(np.arange(count) * (self.fps / fps), self.num_frames - 1)
        lower = np.floor(position).astype(np.int64)
        upper = np.minimum(lower + 1, self.num_frames - 1)
        weight = (position - lower)[:, None]

        def interpolate(values: np.ndarray) -> np.ndarray:
            values = values.astype(np.float64)
            return values[lower] * (1.0 - weight) + values[upper] * weight

        pose = self.pose.astype(np.float64)
        pose[:, :3] = np.unwrap(pose[:, :3], axis=0)
        return self._replace(fps, interpolate(self.expression), interpolate(pose))

    def slice(self, start: int, stop: int | None = None) -> "CoeffSequence":
        """Frames ``start`` to ``stop`` (exclusive), with Python's slicing rules."""
        frames = np.arange(self.num_frames)[start:stop]
        if len(frames) == 0:
            raise ValueError(f"slice [{start}:{stop}] of a {self.num_frames}-frame sequence is empty")
        return self._replace(self.fps, self.expression[frames], self.pose[frames])

    @classmethod
    def concat(cls, sequences: Sequence["CoeffSequence"]) -> "CoeffSequence":
        """Sequences one after another; they must share model, fps and channels.

        The result keeps the metadata of the first sequence.
        """
        if not sequences:
            raise ValueError("concat needs at least one sequence")
        first = sequences[0]
        for seq in sequences[1:]:
            if (seq.model_id, seq.fps, seq.channel_names) != (first.model_id, first.fps, first.channel_names):
                raise ValueError(
                    f"cannot concatenate {seq.model_id!r} at {seq.fps} fps onto {first.model_id!r} at "
                    f"{first.fps} fps: model, fps and channel names must all match"
                )
        return first._replace(
            first.fps,
            np.concatenate([s.expression for s in sequences]),
            np.concatenate([s.pose for s in sequences]),
        )

    # -- our file format -----------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write to exactly ``path`` as ``.npz`` + JSON header, atomically."""
        from s2t.checkpoint import atomic_write

        header = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "fps": self.fps,
            "channel_names": list(self.channel_names),
            "metadata": self.metadata,
        }
        atomic_write(
            path,
            lambda f: np.savez_compressed(
                f,
                header=np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8),
                expression=self.expression,
                pose=self.pose,
            ),
        )

    @classmethod
    def load(cls, path: str | Path) -> "CoeffSequence":
        """Inverse of :meth:`save`; a file that is not one of ours raises ``ValueError``."""
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an .npz archive")
            with data:
                if "header" not in data.files:
                    raise ValueError(f"it has no header (arrays: {data.files})")
                header = json.loads(bytes(data["header"]).decode("utf-8"))
                arrays = {k: data[k] for k in ("expression", "pose") if k in data.files}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not a readable coefficient sequence file: {exc}") from exc

        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise ValueError(f"{path} is not a coefficient sequence file (format is not {FORMAT_NAME!r})")
        version = header.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"{path} has format version {version!r}; this version of s2t reads up to "
                f"{FORMAT_VERSION}. Update s2t to read it."
            )
        try:
            return cls(
                model_id=header["model_id"],
                fps=header["fps"],
                channel_names=tuple(header["channel_names"]),
                expression=arrays["expression"],
                pose=arrays["pose"],
                metadata=header["metadata"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} is a damaged coefficient sequence file: {exc!r}") from exc

    # -- SadTalker -----------------------------------------------------------------------

    @classmethod
    def from_sadtalker_mat(cls, path: str | Path, fps: float = 25.0) -> "CoeffSequence":
        """Read SadTalker's ``coeff_3dmm``: ``(T, 70)``, or ``(T, 73)`` whose 3 crop columns are ignored."""
        try:
            contents = scipy.io.loadmat(path)
        except FileNotFoundError:
            raise
        except (OSError, ValueError, TypeError, NotImplementedError, scipy.io.matlab.MatReadError) as exc:
            raise ValueError(f"{path} is not a readable MATLAB file: {exc}") from exc
        if "coeff_3dmm" not in contents:
            keys = sorted(k for k in contents if not k.startswith("__"))
            raise ValueError(f"{path} has no 'coeff_3dmm' array; it holds {keys}")
        coeffs = np.asarray(contents["coeff_3dmm"])
        if coeffs.ndim != 2 or coeffs.shape[1] not in (70, 73) or not np.issubdtype(coeffs.dtype, np.number):
            raise ValueError(
                f"{path}: 'coeff_3dmm' must be numeric (T, 70) (64 expression + 3 angles + 3 translations) "
                f"or (T, 73) (plus 3 crop parameters), got {coeffs.dtype} {coeffs.shape}"
            )
        return cls(
            model_id=BFM_MODEL_ID,
            fps=fps,
            channel_names=BFM_EXPRESSION_NAMES,
            expression=coeffs[:, :64],
            pose=coeffs[:, 64:70],
            metadata={"source": str(path), "source_format": "sadtalker-mat"},
        )

    def to_sadtalker_mat(self, path: str | Path) -> None:
        """Write ``{'coeff_3dmm': (T, 70)}`` as SadTalker's renderer reads it (atomically)."""
        if self.model_id != BFM_MODEL_ID or self.channel_names != BFM_EXPRESSION_NAMES:
            raise ValueError(
                f"only {BFM_MODEL_ID!r} sequences with channels exp00..exp63 can be written for "
                f"SadTalker; this one is {self.model_id!r} with {len(self.channel_names)} channels "
                "(project it onto the Basel model first)"
            )
        coeffs = np.concatenate([self.expression, self.pose], axis=1)
        _atomic_write(path, lambda f: scipy.io.savemat(f, {"coeff_3dmm": coeffs}))


def _atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write`` on a temporary file beside ``path``, then move it into place.

    An interrupted write leaves ``path`` as it was and removes the temporary file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; give it an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# -- mesh export ---------------------------------------------------------------------------


def _check_model(seq: CoeffSequence, model: FaceModel) -> None:
    if seq.model_id != model.model_id:
        raise ValueError(f"the sequence is for model {seq.model_id!r} but the model is {model.model_id!r}")
    if seq.channel_names != model.expression_names:
        missing = [n for n in seq.channel_names if n not in model.expression_names]
        raise ValueError(
            f"the sequence's channels do not match {model.model_id!r}'s expression names "
            f"(order matters; not in the model: {missing})"
        )


def export_obj_sequence(seq: CoeffSequence, model: FaceModel, folder: str | Path, progress: bool = True) -> list[Path]:
    """One posed OBJ per frame, ``folder/frame_00000.obj`` ..., in the model's units."""
    _check_model(seq, model)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in tqdm(range(seq.num_frames), desc="OBJ frames", unit="frame", disable=not progress):
        vertices = apply_pose(model.geometry(seq.expression[t]), seq.pose[t])
        path = folder / f"frame_{t:05d}.obj"
        trimesh.Trimesh(vertices, model.triangles, process=False).export(path)
        paths.append(path)
    return paths


def export_gltf(seq: CoeffSequence, model: FaceModel, path: str | Path) -> Path:
    """A ``.glb`` with the neutral mesh, one morph target per channel, and the animation.

    glTF is in metres with y up and the front facing +z, as the face model is, so only the
    units are converted. Morph weights are the expression values; the node's rotation and
    translation carry the pose (``R @ p + t``, the same as :func:`s2t.face.pose.apply_pose`).
    Keyframes are at ``t / fps`` with linear interpolation.
    """
    _check_model(seq, model)
    if model.units not in _METRES_PER_UNIT:
        raise ValueError(f"unknown model units {model.units!r}; expected one of {sorted(_METRES_PER_UNIT)}")
    scale = _METRES_PER_UNIT[model.units]
    glb = _GlbBuffer()

    primitive = {
        "attributes": {"POSITION": glb.add(model.vertices * scale, "VEC3", target=34962, bounds=True)},
        "indices": glb.add(np.asarray(model.triangles, np.uint32).ravel(), "SCALAR", target=34963),
        "mode": 4,
    }
    mesh = {"name": model.model_id, "primitives": [primitive]}
    times = glb.add(np.arange(seq.num_frames) / seq.fps, "SCALAR", bounds=True)
    samplers = [
        {"input": times, "output": glb.add(_quaternions(seq.pose[:, :3]), "VEC4"), "interpolation": "LINEAR"},
        {"input": times, "output": glb.add(seq.pose[:, 3:] * scale, "VEC3"), "interpolation": "LINEAR"},
    ]
    channels = [{"sampler": 0, "target": {"node": 0, "path": "rotation"}},
                {"sampler": 1, "target": {"node": 0, "path": "translation"}}]
    if model.num_expressions:  # glTF forbids an empty list of morph targets
        primitive["targets"] = [{"POSITION": glb.add(delta * scale, "VEC3", target=34962, bounds=True)}
                                for delta in model.expression_basis]
        mesh["weights"] = [0.0] * model.num_expressions
        mesh["extras"] = {"targetNames": list(seq.channel_names)}
        samplers.append({"input": times, "output": glb.add(seq.expression.ravel(), "SCALAR"), "interpolation": "LINEAR"})
        channels.append({"sampler": 2, "target": {"node": 0, "path": "weights"}})

    document = {
        "asset": {"version": "2.0", "generator": "s2t (Style2Talker for Blender)"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": model.model_id, "mesh": 0}],
        "meshes": [mesh],
        "animations": [{"name": "talk", "samplers": samplers, "channels": channels}],
        "extras": {"fps": seq.fps, "metadata": seq.metadata},
    }
    path = Path(path)
    _atomic_write(path, lambda f: f.write(glb.to_glb(document)))
    return path


def _quaternions(angles: np.ndarray) -> np.ndarray:
    """glTF quaternions ``(T, 4)`` as (x, y, z, w) for ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)``.

    Signs are chosen so neighbouring keyframes lie in the same hemisphere, so the viewer's
    slerp takes the short way.
    """
    half = np.asarray(angles, np.float64) / 2.0
    cx, cy, cz = np.cos(half).T
    sx, sy, sz = np.sin(half).T
    q = np.stack([
        sx * cy * cz - cx * sy * sz,
        cx * sy * cz + sx * cy * sz,
        cx * cy * sz - sx * sy * cz,
        cx * cy * cz + sx * sy * sz,
    ], axis=-1)
    flips = np.cumprod(np.where(np.sum(q[1:] * q[:-1], axis=-1) < 0, -1.0, 1.0))
    q[1:] *= flips[:, None]
    return q


class _GlbBuffer:
    """Collects arrays into one binary buffer with their bufferViews and accessors."""

    _COMPONENT_TYPES = {np.dtype("<f4"): 5126, np.dtype("<u4"): 5125}
    _WIDTHS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, kind: str, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (float -> float32, uint32 kept); return its accessor index."""
        dtype = np.dtype("<u4") if np.asarray(array).dtype == np.uint32 else np.dtype("<f4")
        values = np.ascontiguousarray(array, dtype=dtype).reshape(-1, self._WIDTHS[kind])
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": values.nbytes}
        if target is not None:
            view["target"] = target
        self.blob += values.tobytes()  # 4-byte components keep every view 4-byte aligned
        accessor = {"bufferView": len(self.views), "componentType": self._COMPONENT_TYPES[dtype],
                    "count": len(values), "type": kind}
        if bounds:
            accessor["min"] = values.min(axis=0).tolist()
            accessor["max"] = values.max(axis=0).tolist()
        self.views.append(view)
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def to_glb(self, document: dict) -> bytes:
        """The GLB container: 12-byte header, a JSON chunk (space-padded), a BIN chunk (zero-padded)."""
        document = {**document, "buffers": [{"byteLength": len(self.blob)}],
                    "bufferViews": self.views, "accessors": self.accessors}
        text = json.dumps(document, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 4)
        binary = bytes(self.blob) + b"\0" * (-len(self.blob) % 4)
        total = 12 + 8 + len(text) + 8 + len(binary)
        return b"".join([
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(text), b"JSON"), text,
            struct.pack("<I4s", len(binary), b"BIN\0"), binary,
        ])
