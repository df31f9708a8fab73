"""The CPU renderer: Style-A's second implementation, with no learned weights.

It warps the identity photo along the face model: the fitted mesh tells where each skin
point was in the photo, the mesh driven by a frame's coefficients tells where it goes, and a
z-buffered raster of the driven mesh turns that into a dense backward map for ``cv2.remap``.
Beyond the mesh (hair, background, shoulders) the displacement is carried outward by
normalised Gaussian smoothing and fades to zero, so nothing tears. Teeth, tongue and mouth
cavity are parts of the rig; they are painted (they are not in the photo) wherever the
driven lips uncover them. Lids close by the same warp: the lid skin is stretched over the eye.

Every step is deterministic and spatially smooth, so consecutive frames do not flicker.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from s2t.face import FaceModel, rotation_matrix
from s2t.face.rig.build import vertex_normals
from s2t.style_a.base import StyleARenderer, Stylizer
from s2t.style_a.photo import PreparedPhoto
from s2t.style_a.raster import rasterize

PAINTED_PARTS = {  # region -> base colour (RGB); painted, not sampled from the photo
    "mouth_cavity": (78, 24, 28),
    "tongue": (184, 82, 86),
    "teeth_upper": (244, 240, 228),
    "teeth_lower": (236, 231, 216),
}


@dataclass(frozen=True)
class CpuRenderConfig:
    map_scale: float = 0.5  # warp-map resolution relative to the output (the map is smooth)
    max_map_size: int = 320  # above this the map costs time without visible gain
    spread: float = 0.18  # how far (in face widths) motion carries beyond the mesh
    neck_anchor: bool = True  # the neck's base keeps the photo's pose instead of turning with the head


class CpuRenderer(StyleARenderer):
    """Renders frames of one prepared photo for any expression and pose of ``model``,
    optionally through a ``stylizer`` (the art style; see :mod:`s2t.style_a.artstyle`).

    ``pose`` is relative head motion: its rotation is applied on top of the photo's fitted
    head rotation and its translation (model units) is added to the fitted translation, so
    a zero pose reproduces the photo's framing.
    """

    def __init__(self, model: FaceModel, photo: PreparedPhoto, stylizer: Stylizer | None = None,
                 config: CpuRenderConfig = CpuRenderConfig()) -> None:
        self.model, self.photo, self.stylizer, self.config = model, photo, stylizer, config
        if hasattr(stylizer, "prepare"):
            stylizer.prepare(photo.image)  # fix the colour mapping on the still photo, not on a moving frame
        # what the warp moves: the photo, or (painterly art styles) the photo painted once
        self.source_image = (stylizer.source_image(photo.image, photo.landmarks) if hasattr(stylizer, "source_image")
                             else photo.image)
        self.model_id = model.model_id
        fit = photo.fit
        self.size = photo.size
        self.map_size = max(16, min(config.max_map_size, int(round(photo.size * config.map_scale))))
        self.scale = self.map_size / photo.size
        self.identity = fit.identity
        self.source_rotation = rotation_matrix(fit.pose[:3])
        self.source_translation = fit.pose[3:]
        source = self._place(model.geometry(fit.expression, self.identity), self.source_rotation, self.source_translation)
        self.source_xy = fit.camera.project(source) * self.scale
        if hasattr(stylizer, "shape_identity"):  # frames take the art face's proportions, if it has a face
            self.identity = stylizer.shape_identity(model, fit.identity, photo.landmarks)
        self.normals = vertex_normals(model.vertices.astype(np.float64), model.triangles)  # neutral; enough for shading
        self.part_of_triangle = self._triangle_parts()
        self.neck = self._neck_weight() if config.neck_anchor else None
        ys, xs = np.mgrid[0 : self.map_size, 0 : self.map_size]
        self.grid = np.stack([xs, ys], -1).astype(np.float64)
        ys, xs = np.mgrid[0 : self.size, 0 : self.size]
        self.full_grid = np.stack([xs, ys], -1).astype(np.float32)
        face_width = np.ptp(photo.landmarks[:, 0]) * self.scale
        self.blur_sigma = max(1.0, config.spread * face_width)

    # --- set-up ---------------------------------------------------------------------------
    @staticmethod
    def _place(vertices: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
        return vertices @ rotation.T + translation

    def _triangle_parts(self) -> np.ndarray:
        """Per triangle: 0 = sampled from the photo, k > 0 = painted part k (PAINTED_PARTS order)."""
        parts = np.zeros(len(self.model.triangles), np.int64)
        for k, name in enumerate(PAINTED_PARTS, start=1):
            if name in self.model.regions:
                inside = np.zeros(self.model.num_vertices, bool)
                inside[self.model.regions[name]] = True
                parts[inside[self.model.triangles].all(1)] = k
        return parts

    def _neck_weight(self) -> np.ndarray:
        v = self.model.vertices
        t = np.clip((-0.11 - v[:, 1]) / 0.06, 0, 1)
        weight = t * t * (3 - 2 * t) * (v[:, 2] < 0.05)
        if "skin" in self.model.regions:
            skin = np.zeros(len(v), bool)
            skin[self.model.regions["skin"]] = True
            weight *= skin
        return weight

    # --- per frame ------------------------------------------------------------------------
    def render(self, expression: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """One RGB frame ``(size, size, 3)`` uint8."""
        pose = np.asarray(pose, np.float64)
        rotation = rotation_matrix(pose[:3]) @ self.source_rotation
        translation = self.source_translation + pose[3:]
        shape = self.model.geometry(expression, self.identity)
        target = self._place(shape, rotation, translation)
        if self.neck is not None:
            anchored = self._place(shape, self.source_rotation, self.source_translation)
            target += self.neck[:, None] * (anchored - target)
        camera = self.photo.fit.camera
        target_xy = camera.project(target) * self.scale
        raster = rasterize(target_xy, target[:, 2], self.model.triangles, self.map_size, self.map_size)
        parts = np.where(raster.covered, self.part_of_triangle[np.maximum(raster.triangle, 0)], -1)
        motion = self._backward_motion(raster, parts == 0, rotation)
        # Upsample the motion, not the coordinates: resizing a coordinate grid shifts it half a pixel.
        full = cv2.resize(motion.astype(np.float32), (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        full = full / self.scale + self.full_grid
        frame = cv2.remap(self.source_image, full[..., 0], full[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        frame, synthesized = self._paint_parts(frame, raster, parts, rotation)
        return self._finish(frame, synthesized)

    def _finish(self, frame: np.ndarray, synthesized: np.ndarray) -> np.ndarray:
        """The art style's last step; ``synthesized`` (float32 (size, size) alpha) marks the
        pixels not sampled from the source image."""
        if self.stylizer is None:
            return frame
        if hasattr(self.stylizer, "finish"):
            return self.stylizer.finish(frame, synthesized)
        return self.stylizer(frame)

    def _backward_motion(self, raster, sampled: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """How far each map pixel takes its colour from, in map pixels ``(m, m, 2)``.

        The mesh's own motion is trusted where the surface faces the camera; toward its
        silhouette and outline and beyond them, the motion blends into a smoothed field that fades with
        distance, so the warp has no seams at the head's outline.
        """
        # How squarely the surface faces the camera: 0 at the silhouette, 1 head-on.
        facing = np.clip((self.normals @ rotation[2]) / 0.4, 0.0, 1.0)
        interpolated = raster.interpolate(np.column_stack([self.source_xy, facing]), self.model.triangles)
        facing = np.where(sampled, interpolated[..., 2], 0.0)
        motion = np.where(raster.covered[..., None], interpolated[..., :2] - self.grid, 0.0)
        spread = self._wide_blur(np.dstack([motion * facing[..., None], facing]).astype(np.float32))
        smooth = spread[..., :2] / np.maximum(spread[..., 2:], 1e-6)
        smooth *= np.clip(spread[..., 2:] / 0.25, 0.0, 1.0)  # far from the head the motion dies out
        inner = cv2.GaussianBlur(raster.covered.astype(np.float32), (0, 0), 2.0)
        trust = (facing * np.clip(2.0 * inner - 1.0, 0.0, 1.0))[..., None]  # 0 at the mesh's outline
        return trust * motion + (1.0 - trust) * smooth

    def _wide_blur(self, image: np.ndarray) -> np.ndarray:
        """Gaussian blur of width ``blur_sigma``, done at a quarter resolution: the result is
        smooth anyway and this is 10x faster than blurring the full map."""
        small = max(8, self.map_size // 4)
        reduced = cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
        reduced = cv2.GaussianBlur(reduced, (0, 0), self.blur_sigma * small / self.map_size)
        return cv2.resize(reduced, (self.map_size, self.map_size), interpolation=cv2.INTER_LINEAR).astype(np.float64)

    def _paint_parts(self, frame: np.ndarray, raster, parts: np.ndarray,
                     rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        synthesized = np.zeros((self.size, self.size), np.float32)
        painted = parts > 0
        if not painted.any():
            return frame, synthesized
        ys, xs = np.nonzero(painted)
        corners = self.model.triangles[raster.triangle[ys, xs]]
        normals = np.einsum("nk,nkc->nc", raster.bary[ys, xs], self.normals[corners]) @ rotation.T
        light = np.clip(0.6 + 0.4 * normals[:, 2] / np.maximum(np.linalg.norm(normals, axis=1), 1e-9), 0.5, 1.0)
        depth = raster.depth[ys, xs]
        recess = np.clip(1.0 + (depth - depth.max()) / 0.03, 0.35, 1.0)  # darker deeper in the mouth
        colours = np.array(list(PAINTED_PARTS.values()), np.float32)[parts[ys, xs] - 1]
        y0, y1, x0, x1 = ys.min(), ys.max() + 2, xs.min(), xs.max() + 2  # one pixel of margin for the resize
        layer = np.zeros((y1 - y0, x1 - x0, 4), np.float32)
        layer[ys - y0, xs - x0, :3] = colours * (light * recess)[:, None]
        layer[ys - y0, xs - x0, 3] = 1.0
        # The same box in output pixels; resizing maps map-pixel centres onto output centres.
        f = 1.0 / self.scale
        Y0, X0 = int(round(y0 * f)), int(round(x0 * f))
        layer = cv2.resize(layer, (int(round((x1 - x0) * f)), int(round((y1 - y0) * f))), interpolation=cv2.INTER_LINEAR)
        Y1, X1 = min(self.size, Y0 + layer.shape[0]), min(self.size, X0 + layer.shape[1])
        layer = layer[: Y1 - Y0, : X1 - X0]
        alpha = layer[..., 3:]
        colour = layer[..., :3] / np.maximum(alpha, 1e-6)  # un-premultiply the resized edge
        box = frame[Y0:Y1, X0:X1].astype(np.float32)
        frame = frame.copy()
        frame[Y0:Y1, X0:X1] = np.clip(box * (1 - alpha) + colour * alpha, 0, 255).astype(np.uint8)
        synthesized[Y0:Y1, X0:X1] = alpha[..., 0]
        return frame, synthesized
