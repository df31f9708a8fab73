"""Closed parts behind the skin openings: eyeballs, teeth, tongue and the mouth cavity."""

from __future__ import annotations

import numpy as np


def uv_sphere(centre, radii, rings: int = 12, segments: int = 20, pole_axis: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """A UV sphere (vertices, outward triangles); ``pole_axis='z'`` puts a pole at the front."""
    phi = np.linspace(0, np.pi, rings + 1)[1:-1]
    theta = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ph, th = np.meshgrid(phi, theta, indexing="ij")
    a, b, c = np.sin(ph) * np.cos(th), np.sin(ph) * np.sin(th), np.cos(ph)
    ring = np.stack([a, b, c], -1).reshape(-1, 3)
    poles = np.array([[0, 0, 1.0], [0, 0, -1.0]])
    unit = np.concatenate([ring, poles])
    tris = []
    for r in range(rings - 2):
        for s in range(segments):
            i, j = r * segments + s, r * segments + (s + 1) % segments
            tris += [(i, i + segments, j), (j, i + segments, j + segments)]
    top, bottom, last = len(ring), len(ring) + 1, (rings - 2) * segments
    for s in range(segments):
        tris.append((top, s, (s + 1) % segments))
        tris.append((bottom, last + (s + 1) % segments, last + s))
    if pole_axis == "y":  # pole along +y: (a, b, c) -> (b, c, a) keeps handedness
        unit = unit[:, [1, 2, 0]]
    return np.asarray(centre) + unit * np.asarray(radii), np.array(tris)


def eyeball(centre, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eyeball with its pole looking forward and a slight corneal bulge; also the polar angle."""
    verts, tris = uv_sphere((0, 0, 0), (radius,) * 3, rings=14, segments=24, pole_axis="z")
    polar = np.arccos(np.clip(verts[:, 2] / radius, -1, 1))
    bulge = 1.0 + 0.07 * np.clip(np.cos(polar * 2.2), 0, None) * (polar < 0.7)
    return np.asarray(centre) + verts * bulge[:, None], tris, polar


def dental_arch(front_z: float, y_top: float, y_bottom: float, half_width: float = 0.0235, depth: float = 0.024,
                thickness: float = 0.0055, segments: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """A curved band of teeth following a parabolic arch, as a closed tube of quads."""
    u = np.linspace(-1.0, 1.0, segments)
    x, z = half_width * np.sin(u * 1.3) / np.sin(1.3), front_z - depth * u**2
    tangent = np.stack([np.gradient(x), np.gradient(z)], -1)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], -1)  # points outward (toward +z at front)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    inner_x, inner_z = x - thickness * normal[:, 0], z - thickness * normal[:, 1]
    profile = [(x, y_top, z), (x, y_bottom, z), (inner_x, y_bottom, inner_z), (inner_x, y_top, inner_z)]
    verts = np.concatenate([np.stack([px, np.full(segments, py), pz], -1) for px, py, pz in profile])
    tris = []
    for k in range(4):
        a, b = k * segments, ((k + 1) % 4) * segments
        for s in range(segments - 1):
            tris += [(a + s, b + s, a + s + 1), (a + s + 1, b + s, b + s + 1)]
    tris = np.array(tris)
    # Orient each face away from the tube's centre line (the middle of its cross-section).
    centre_line = np.stack([(x + inner_x) / 2, np.full(segments, (y_top + y_bottom) / 2), (z + inner_z) / 2], -1)
    tri_c = verts[tris].mean(1)
    nearest = centre_line[np.argmin(((tri_c[:, None] - centre_line[None]) ** 2).sum(-1), axis=1)]
    normals = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    flip = np.einsum("ij,ij->i", normals, tri_c - nearest) < 0
    tris[flip] = tris[flip][:, ::-1]
    return verts, tris
