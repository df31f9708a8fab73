"""Assemble the embedded ARKit-52 rig: skin, parts, regions, landmarks, bases."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from s2t.face.rig import parts, sculpt


@dataclass
class RigGeometry:
    """The neutral rig and the vertex sets that the shape definitions work with."""

    vertices: np.ndarray
    triangles: np.ndarray
    regions: dict[str, np.ndarray]
    skin: sculpt.Sculpt
    lid_weights: dict[str, np.ndarray]  # "upper_left", "lower_left", ... per vertex
    normals: np.ndarray

    def mask(self, name: str) -> np.ndarray:
        """Boolean per-vertex mask of a region."""
        m = np.zeros(len(self.vertices), bool)
        m[self.regions[name]] = True
        return m


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals."""
    tri = vertices[triangles]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, triangles[:, k], face_n)
    return normals / (np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12)


def _skin_regions(skin: sculpt.Sculpt) -> dict[str, np.ndarray]:
    rows = np.full(len(skin.vertices), -1)
    for r in range(skin.grid.shape[0]):
        rows[skin.grid[r]] = r
    mouth = skin.slits["mouth"]
    rows[mouth.lower[1:-1]] = mouth.row  # lower copies sit on the slit row too
    corners = mouth.upper[[0, -1]]
    upper = (rows > mouth.row) | np.isin(np.arange(len(rows)), mouth.upper[1:-1])
    lower = ((rows < mouth.row) & (rows >= 0)) | np.isin(np.arange(len(rows)), mouth.lower[1:-1])
    regions = {
        "skin": np.arange(len(skin.vertices)),
        "above_mouth": np.nonzero(upper)[0],
        "below_mouth": np.nonzero(lower)[0],
        "mouth_corners": corners,  # (right, left)
    }
    for name, slit in skin.slits.items():
        regions[f"{name}_upper_edge"] = slit.upper
        regions[f"{name}_lower_edge"] = slit.lower
    return regions


def _add_part(verts: list, tris: list, regions: dict, name: str, part_v: np.ndarray, part_t: np.ndarray,
              flip: bool = False) -> np.ndarray:
    start = sum(len(v) for v in verts)
    verts.append(part_v)
    tris.append((part_t[:, ::-1] if flip else part_t) + start)
    ids = np.arange(start, start + len(part_v))
    regions[name] = ids
    return ids


def build_geometry() -> RigGeometry:
    """The neutral head with open eyes and every part in place."""
    skin = sculpt.build_skin()
    lid = {}
    for side in ("left", "right"):
        up, lo, _ = sculpt.eyelid_weights(skin, side)
        lid[f"upper_{side}"], lid[f"lower_{side}"] = up, lo
    sculpt.open_eyes(skin)
    regions = _skin_regions(skin)
    verts, tris = [skin.vertices], [skin.triangles]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        centre = sculpt.EYE_CENTRE * np.array([sign, 1, 1])
        ev, et, polar = parts.eyeball(centre, sculpt.EYEBALL_RADIUS)
        ids = _add_part(verts, tris, regions, f"eyeball_{side}", ev, et)
        regions[f"iris_{side}"] = ids[polar < 0.46]
        regions[f"pupil_{side}"] = ids[polar < 0.2]
    _add_part(verts, tris, regions, "teeth_upper", *parts.dental_arch(0.0905, -0.0600, -0.0712))
    _add_part(verts, tris, regions, "teeth_lower", *parts.dental_arch(0.0885, -0.0722, -0.0810, half_width=0.0215))
    _add_part(verts, tris, regions, "tongue", *parts.uv_sphere((0, -0.0775, 0.060), (0.0185, 0.0055, 0.022)))
    _add_part(verts, tris, regions, "mouth_cavity", *parts.uv_sphere((0, -0.071, 0.052), (0.027, 0.019, 0.031)), flip=True)
    vertices, triangles = np.concatenate(verts), np.concatenate(tris)
    n = len(vertices)
    lid = {k: np.pad(w, (0, n - len(w))) for k, w in lid.items()}
    return RigGeometry(vertices, triangles, regions, skin, lid, vertex_normals(vertices, triangles))
