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


REGION_COLORS = {
    "eyeball_left": (238, 238, 232), "eyeball_right": (238, 238, 232),
    "iris_left": (84, 112, 150), "iris_right": (84, 112, 150),
    "pupil_left": (12, 12, 14), "pupil_right": (12, 12, 14),
    "teeth_upper": (246, 244, 232), "teeth_lower": (246, 244, 232),
    "tongue": (196, 96, 98), "mouth_cavity": (72, 26, 32),
}  # fmt: skip
SKIN_COLOR = (224, 189, 165)


def region_face_colors(triangles: np.ndarray, regions: dict[str, np.ndarray]) -> np.ndarray:
    """Per-face colours: skin, with eyes, teeth, tongue and mouth cavity painted (later wins)."""
    colors = np.tile(np.array(SKIN_COLOR, float), (len(triangles), 1))
    for name, color in REGION_COLORS.items():
        if name in regions:
            inside = np.zeros(triangles.max() + 1, bool)
            inside[regions[name]] = True
            colors[inside[triangles].all(1)] = color
    return colors


def blendshape_sheet(model, size: int = 200, columns: int = 8) -> np.ndarray:
    """Contact sheet: the neutral face, then every expression channel at weight 1.

    Eye and brow shapes are framed on the upper face, the rest on the lower face, each
    turned a little so depth (jaw, lips, tongue) reads.
    """
    colors = region_face_colors(model.triangles, model.regions)
    upper = dict(centre=np.array([0.0, 0.012, 0.07]), extent=0.05, view=(0.3, 0.1))
    lower = dict(centre=np.array([0.0, -0.06, 0.07]), extent=0.06, view=(0.45, 0.1))
    images, labels = [], []
    for label, frame in (("neutral (upper)", upper), ("neutral (lower)", lower)):
        images.append(render_mesh(model.vertices, model.triangles, size, face_colors=colors, **frame))
        labels.append(label)
    for k, name in enumerate(model.expression_names):
        frame = upper if name.startswith(("eye", "brow", "cheekSquint")) else lower
        images.append(render_mesh(model.vertices + model.expression_basis[k], model.triangles, size, face_colors=colors, **frame))
        labels.append(name)
    return contact_sheet(images, labels, columns)
