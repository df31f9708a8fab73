"""A coefficient sequence as an animated mesh: one OBJ per frame, or one glTF binary (``.glb``)
with a morph target per expression channel and the head pose on the node."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import trimesh
from tqdm import tqdm

from s2t.face.coeffs import CoeffSequence, _atomic_write
from s2t.face.model import FaceModel
from s2t.face.pose import apply_pose

_METRES_PER_UNIT = {"m": 1.0, "dm": 0.1, "cm": 0.01, "mm": 0.001}


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


__all__ = ["export_gltf", "export_obj_sequence"]
