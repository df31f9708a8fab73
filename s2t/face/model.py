"""The linear face model every stage speaks: neutral mesh + expression and identity bases.

Coordinates: y up, z forward (toward the camera), x toward the subject's left; units are
given by ``FaceModel.units`` (metres for the embedded rig, decimetres for the Basel model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

IBUG68_GROUPS = {
    "jaw": range(0, 17),
    "brow_right": range(17, 22),
    "brow_left": range(22, 27),
    "nose_bridge": range(27, 31),
    "nose_base": range(31, 36),
    "eye_right": range(36, 42),
    "eye_left": range(42, 48),
    "lips_outer": range(48, 60),
    "lips_inner": range(60, 68),
}
"""The 68-point iBUG layout by region. "right" is the subject's right (left in the image)."""


@dataclass(frozen=True, eq=False)
class FaceModel:
    """A linear face model: ``vertices + identity_basis·id + expression_basis·exp``.

    ``expression_bounds`` is ``(K, 2)``: the usable range of each channel, [0, 1] for the
    ARKit-named blendshapes, wide for PCA bases. ``regions`` holds named vertex index
    arrays (lips, eyes, ...) that renderers and metrics use.
    """

    model_id: str
    vertices: np.ndarray
    triangles: np.ndarray
    expression_names: tuple[str, ...]
    expression_basis: np.ndarray
    landmark_indices: np.ndarray
    identity_basis: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.float32))
    identity_names: tuple[str, ...] = ()
    expression_bounds: np.ndarray | None = None
    units: str = "m"
    regions: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = self.vertices
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"vertices must be (V, 3), got {v.shape}")
        if self.expression_basis.shape != (len(self.expression_names),) + v.shape:
            raise ValueError(
                f"expression_basis must be (K={len(self.expression_names)}, V, 3), got {self.expression_basis.shape}"
            )
        if self.identity_basis.size == 0:
            object.__setattr__(self, "identity_basis", np.zeros((0,) + v.shape, np.float32))
        if self.identity_basis.shape[1:] != v.shape or len(self.identity_names) != len(self.identity_basis):
            raise ValueError("identity_basis must be (I, V, 3) with one name per mode")
        if self.landmark_indices.shape != (68,) or self.landmark_indices.max() >= len(v):
            raise ValueError("landmark_indices must be 68 vertex indices (iBUG order)")
        if self.expression_bounds is None:
            bounds = np.tile(np.array([-np.inf, np.inf], np.float32), (self.num_expressions, 1))
            object.__setattr__(self, "expression_bounds", bounds)

    @property
    def num_vertices(self) -> int:
        return len(self.vertices)

    @property
    def num_expressions(self) -> int:
        return len(self.expression_names)

    @property
    def num_identity(self) -> int:
        return len(self.identity_basis)

    def geometry(self, expression: np.ndarray | None = None, identity: np.ndarray | None = None) -> np.ndarray:
        """Vertices ``(V, 3)``, or ``(T, V, 3)`` when ``expression`` is ``(T, K)``."""
        verts = self.vertices.astype(np.float64)
        if identity is not None and self.num_identity:
            verts = verts + np.tensordot(np.asarray(identity, np.float64), self.identity_basis, axes=(-1, 0))
        if expression is not None:
            expression = np.asarray(expression, np.float64)
            if expression.shape[-1] != self.num_expressions:
                raise ValueError(f"expected {self.num_expressions} expression values, got {expression.shape[-1]}")
            verts = verts + np.tensordot(expression, self.expression_basis, axes=(-1, 0))
        return verts

    def landmarks(self, expression: np.ndarray | None = None, identity: np.ndarray | None = None) -> np.ndarray:
        """The 68 iBUG landmarks ``(..., 68, 3)`` of the shaped face (evaluates only those vertices)."""
        idx = self.landmark_indices
        verts = self.vertices[idx].astype(np.float64)
        if identity is not None and self.num_identity:
            verts = verts + np.tensordot(np.asarray(identity, np.float64), self.identity_basis[:, idx], axes=(-1, 0))
        if expression is not None:
            verts = verts + np.tensordot(np.asarray(expression, np.float64), self.expression_basis[:, idx], axes=(-1, 0))
        return verts

    def expression_index(self, name: str) -> int:
        try:
            return self.expression_names.index(name)
        except ValueError:
            raise KeyError(f"{self.model_id} has no expression channel {name!r}; it has {list(self.expression_names)}") from None

    def with_identity(self, identity: np.ndarray) -> "FaceModel":
        """The same model with ``identity`` baked into the neutral shape (e.g. a fitted person),
        for exporters and renderers that only know neutral + expression."""
        neutral = self.geometry(identity=identity).astype(np.float32)
        return replace(self, vertices=neutral)

    def save(self, path: str | Path) -> None:
        """Write the model as ``.npz`` with a JSON header (no pickle)."""
        header = {
            "model_id": self.model_id,
            "expression_names": list(self.expression_names),
            "identity_names": list(self.identity_names),
            "units": self.units,
            "regions": sorted(self.regions),
        }
        arrays = {f"region_{k}": v for k, v in self.regions.items()}
        np.savez_compressed(
            path,
            header=np.frombuffer(json.dumps(header).encode(), np.uint8),
            vertices=self.vertices,
            triangles=self.triangles,
            expression_basis=self.expression_basis,
            identity_basis=self.identity_basis,
            landmark_indices=self.landmark_indices,
            expression_bounds=self.expression_bounds,
            **arrays,
        )

    @classmethod
    def load(cls, path: str | Path) -> "FaceModel":
        """Inverse of :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            return cls(
                model_id=header["model_id"],
                vertices=data["vertices"],
                triangles=data["triangles"],
                expression_names=tuple(header["expression_names"]),
                expression_basis=data["expression_basis"],
                landmark_indices=data["landmark_indices"],
                identity_basis=data["identity_basis"],
                identity_names=tuple(header["identity_names"]),
                expression_bounds=data["expression_bounds"],
                units=header["units"],
                regions={k: data[f"region_{k}"] for k in header["regions"]},
            )
