"""Shaded previews of a face mesh (contact sheets, fit overlays, CLI previews) without OpenGL.

A painter's-algorithm rasteriser with PIL: faces are back-face culled, sorted far to near and
filled with Lambert shading. Fast enough for a few thousand faces at preview sizes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

LIGHT = np.array([0.35, 0.45, 0.82])


def render_mesh(
    vertices: np.ndarray,
    triangles: np.ndarray,
    size: int = 256,
    *,
    face_colors: np.ndarray | None = None,
    view: tuple[float, float] = (0.0, 0.0),
    extent: float | None = None,
    centre: np.ndarray | None = None,
    background: tuple[int, int, int] = (38, 40, 46),
) -> np.ndarray:
    """RGB image ``(size, size, 3)`` of the mesh seen orthographically from the front.

    ``view`` = (yaw, pitch) in radians turns the mesh before drawing; ``extent`` is the
    half-width of the visible square in mesh units (default: fits the mesh).
    """
    v = np.asarray(vertices, np.float64)
    centre = v.mean(0) if centre is None else np.asarray(centre, np.float64)
    yaw, pitch = view
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    rot = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]]) @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    v = (v - centre) @ rot.T
    extent = float(np.abs(v[:, :2]).max() * 1.05) if extent is None else extent
    scale = size / (2 * extent)
    xy = np.stack([size / 2 + v[:, 0] * scale, size / 2 - v[:, 1] * scale], -1)
    tri = v[triangles]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    visible = np.nonzero(normals[:, 2] > 0)[0]
    visible = visible[np.argsort(tri[visible, :, 2].mean(1))]
    colors = np.full((len(triangles), 3), (224, 189, 165), float) if face_colors is None else np.asarray(face_colors, float)
    shade = 0.25 + 0.75 * np.clip(normals @ (LIGHT / np.linalg.norm(LIGHT)), 0, 1)
    rgb = np.clip(colors * shade[:, None], 0, 255).astype(np.uint8)
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    for f in visible:
        draw.polygon([tuple(p) for p in xy[triangles[f]]], fill=tuple(int(c) for c in rgb[f]))
    return np.asarray(image)


def contact_sheet(images: list[np.ndarray], labels: list[str], columns: int = 8) -> np.ndarray:
    """Tile equally sized RGB images in a grid with a caption under each."""
    h, w = images[0].shape[:2]
    rows = -(-len(images) // columns)
    caption = 16
    sheet = Image.new("RGB", (columns * w, rows * (h + caption)), (20, 20, 24))
    draw = ImageDraw.Draw(sheet)
    for k, (img, label) in enumerate(zip(images, labels)):
        x, y = (k % columns) * w, (k // columns) * (h + caption)
        sheet.paste(Image.fromarray(img), (x, y))
        draw.text((x + 4, y + h + 2), label, fill=(230, 230, 230))
    return np.asarray(sheet)
