"""The CPU renderer: Style-A's second implementation, with no learned weights.

It warps the identity photo along the face model: the fitted mesh tells where each skin
point was in the photo, the mesh driven by a frame's coefficients tells where it goes, and a
z-buffered raster of the driven mesh turns that into a dense backward map for ``cv2.remap``.
Beyond the mesh (hair, background, shoulders) the displacement is carried outward by
normalised Gaussian smoothing and fades to zero, so nothing tears. Where the driven lips part,
the mouth interior is drawn at the output resolution (:mod:`s2t.style_a.mouth`): the photo's
own teeth where it shows them, synthetic teeth elsewhere. Lids close by the same warp, covered
with skin synthesised from the photo around the eye (:mod:`s2t.style_a.eyes`).

Every step is deterministic and spatially smooth, so consecutive frames do not flicker.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from s2t.face import FaceModel, rotation_matrix
from s2t.face.rig.build import vertex_normals
from s2t.style_a.art import Art
from s2t.style_a.art_presets import list_art_presets, load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.base import StyleARenderer
from s2t.style_a.eyes import LidSkin
from s2t.style_a.mouth import MouthInterior, interior_part_per_triangle, part_offsets
from s2t.style_a.photo import PreparedPhoto
from s2t.style_a.raster import rasterize
from s2t.style_a.stylizer import Stylizer

@dataclass(frozen=True)
class CpuRenderConfig:
    map_scale: float = 0.5  # warp-map resolution relative to the output (the map is smooth)
    max_map_size: int = 320  # above this the map costs time without visible gain
    spread: float = 0.18  # how far (in face widths) motion carries beyond the mesh
    neck_anchor: bool = True  # the neck's base keeps the photo's pose instead of turning with the head


class CpuRenderer(StyleARenderer):
    """Renders frames of one prepared photo for any expression and pose of ``model``,
    optionally through a ``stylizer`` (the art style: :class:`CpuStyleA` makes it from an
    :class:`~s2t.style_a.art.Art`; see :mod:`s2t.style_a.stylizer`).

    ``pose`` is relative head motion: its rotation is applied on top of the photo's fitted
    head rotation and its translation (model units) is added to the fitted translation, so
    a zero pose reproduces the photo's framing.
    """

    def __init__(self, model: FaceModel, photo: PreparedPhoto, stylizer: Stylizer | None = None,
                 config: CpuRenderConfig = CpuRenderConfig()) -> None:
        self.model, self.photo, self.stylizer, self.config = model, photo, stylizer, config
        self.source_image = photo.image  # what the warp moves: the photo, or (painterly art styles) the photo painted once
        if stylizer is not None:
            stylizer.prepare(photo.image)  # fix the colour mapping on the still photo, not on a moving frame
            self.source_image = stylizer.source_image(photo.image, photo.landmarks)
        self.model_id = model.model_id
        fit = photo.fit
        self.size = photo.size
        self.map_size = max(16, min(config.max_map_size, int(round(photo.size * config.map_scale))))
        self.scale = self.map_size / photo.size
        self.source_rotation = rotation_matrix(fit.pose[:3])
        self.source_translation = fit.pose[3:]
        self.offsets = part_offsets(model)
        source = self._place(model.geometry(fit.expression, fit.identity) + self.offsets, self.source_rotation,
                             self.source_translation)
        self.source_xy = fit.camera.project(source) * self.scale
        # frames take the art face's proportions when the art style has a face; the photo is sampled as fitted
        self.identity = (fit.identity if stylizer is None
                         else stylizer.shape_identity(model, fit.identity, photo.landmarks))
        # The identity never changes: its shape is computed once, and each frame adds only the
        # expression, as one float32 matrix-vector product (a third of the per-frame cost before).
        self.identity_shape = model.geometry(None, self.identity) + self.offsets
        self.expression_matrix = np.asarray(model.expression_basis, np.float32).reshape(model.num_expressions, -1)
        self.normals = vertex_normals(model.vertices.astype(np.float64), model.triangles)  # neutral; enough for shading
        self.part_of_triangle = interior_part_per_triangle(model)
        self.lids = LidSkin(model, photo.landmarks, fit.expression, self.scale, self.source_image,
                            self.source_xy / self.scale)
        self.mouth = MouthInterior(model, photo.image, photo.landmarks, photo.crop_box[2], self.source_xy / self.scale,
                                   source[:, 2], self.normals)
        if self.mouth.source_box is None:
            self.source_xy = self._lips_off_the_slit(self.source_xy, np.ptp(photo.landmarks[[48, 54], 0]) * self.scale)
        self.source_xy_out = self.source_xy / self.scale  # the same points in output pixels, for the lids
        if self.mouth.fallback:
            warnings.warn(f"the photo's own teeth are not used ({self.mouth.fallback}); the mouth interior is synthetic",
                          stacklevel=2)
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

    def _lips_off_the_slit(self, source_xy: np.ndarray, mouth_width: float) -> np.ndarray:
        """Where the photo's lips are closed, the lips' inner edges sample the lip a little
        away from the dark line where they meet, so opening the jaw stretches the lips'
        colour band instead of smearing that line along the opening."""
        shifted = source_xy.copy()
        for name, sign in (("mouth_upper_edge", -1.0), ("mouth_lower_edge", 1.0)):
            ids = self.model.regions[name]
            taper = np.sin(np.linspace(0.0, np.pi, len(ids)))  # nothing moves at the corners
            shifted[ids, 1] += sign * 0.025 * mouth_width * taper
        return shifted

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
        shape = self._shape(expression)
        target = self._place(shape, rotation, translation)
        if self.neck is not None:
            anchored = self._place(shape, self.source_rotation, self.source_translation)
            target += self.neck[:, None] * (anchored - target)
        camera = self.photo.fit.camera
        target_xy = camera.project(target) * self.scale
        raster = rasterize(target_xy, target[:, 2], self.model.triangles, self.map_size, self.map_size)
        parts = np.where(raster.covered, self.part_of_triangle[np.maximum(raster.triangle, 0)], -1)
        lid_sources = self.lids.sources(self.source_xy, expression)
        motion = self._backward_motion(raster, parts == 0, rotation, lid_sources)
        # Upsample the motion, not the coordinates: resizing a coordinate grid shifts it half a pixel.
        full = cv2.resize(motion.astype(np.float32), (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        full = full / self.scale + self.full_grid
        frame = cv2.remap(self.source_image, full[..., 0], full[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        synthesized = np.zeros((self.size, self.size), np.float32)
        target_out = target_xy / self.scale  # output pixels
        interior = self.mouth.draw(self.source_image, target_out, target[:, 2], rotation)
        if interior is not None:
            frame = self._composite(frame, interior, synthesized)
        frame = self.lids.draw(frame, self.source_image, target_out, target[:, 2], lid_sources / self.scale, expression,
                               self.source_xy_out)
        return self._finish(frame, synthesized)

    def _shape(self, expression: np.ndarray) -> np.ndarray:
        """The rig's vertices (V, 3) for ``expression`` with the photo's identity."""
        expression = np.asarray(expression, np.float32)
        if expression.shape != (self.model.num_expressions,):
            raise ValueError(f"expected {self.model.num_expressions} expression values, got {expression.shape[-1]}")
        return self.identity_shape + (expression @ self.expression_matrix).reshape(-1, 3)

    def _finish(self, frame: np.ndarray, synthesized: np.ndarray) -> np.ndarray:
        """The art style's last step; ``synthesized`` (float32 (size, size) alpha) marks the
        pixels not sampled from the source image."""
        return frame if self.stylizer is None else self.stylizer.finish(frame, synthesized)

    @staticmethod
    def _composite(frame: np.ndarray, interior, synthesized: np.ndarray) -> np.ndarray:
        """Lay the mouth interior over the warped frame; the lips' inner edge gets a soft shadow."""
        h, w = interior.alpha.shape
        box = np.s_[interior.y0 : interior.y0 + h, interior.x0 : interior.x0 + w]
        alpha = interior.alpha[..., None]
        under = frame[box].astype(np.float32) * (1.0 - 0.3 * interior.ring[..., None])
        frame[box] = np.clip(under * (1 - alpha) + interior.colour * alpha + 0.5, 0, 255).astype(np.uint8)
        synthesized[box] = interior.synthetic
        return frame

    def _backward_motion(self, raster, sampled: np.ndarray, rotation: np.ndarray, source_xy: np.ndarray) -> np.ndarray:
        """How far each map pixel takes its colour from, in map pixels ``(m, m, 2)``.

        The mesh's own motion is trusted where the surface faces the camera; toward its
        silhouette and outline and beyond them, the motion blends into a smoothed field that fades with
        distance, so the warp has no seams at the head's outline.
        """
        # How squarely the surface faces the camera: 0 at the silhouette, 1 head-on.
        facing = np.clip((self.normals @ rotation[2]) / 0.4, 0.0, 1.0)
        interpolated = raster.interpolate(np.column_stack([source_xy, facing]), self.model.triangles)
        facing = np.where(sampled, interpolated[..., 2], 0.0)
        motion = np.where(raster.covered[..., None], interpolated[..., :2] - self.grid, 0.0)
        opening = raster.covered & ~sampled
        motion = self._lips_into_the_opening(motion, sampled, opening)
        spread = self._wide_blur(np.dstack([motion * facing[..., None], facing]).astype(np.float32))
        smooth = spread[..., :2] / np.maximum(spread[..., 2:], 1e-6)
        smooth *= np.clip(spread[..., 2:] / 0.25, 0.0, 1.0)  # far from the head the motion dies out
        inner = cv2.GaussianBlur(raster.covered.astype(np.float32), (0, 0), 2.0)
        trust = (np.where(opening, 1.0, facing) * np.clip(2.0 * inner - 1.0, 0.0, 1.0))[..., None]  # 0 at the outline
        return trust * motion + (1.0 - trust) * smooth

    @staticmethod
    def _lips_into_the_opening(motion: np.ndarray, sampled: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """Inside the mouth's opening (drawn over later) the map carries the lips' motion on,
        so the upsampled map has the lips' own motion right up to their edge and does not pull
        other skin into the lips."""
        if not opening.any():
            return motion
        ys, xs = np.nonzero(opening)
        box = np.s_[max(ys.min() - 8, 0) : ys.max() + 9, max(xs.min() - 8, 0) : xs.max() + 9]
        weight = sampled[box].astype(np.float32)
        spread = cv2.GaussianBlur(np.dstack([motion[box] * weight[..., None], weight]).astype(np.float32), (0, 0), 2.0)
        filled = spread[..., :2] / np.maximum(spread[..., 2:], 1e-6)
        motion = motion.copy()
        motion[box] = np.where(opening[box][..., None] & (spread[..., 2:] > 1e-3), filled, motion[box])
        return motion

    def _wide_blur(self, image: np.ndarray) -> np.ndarray:
        """Gaussian blur of width ``blur_sigma``, done at a quarter resolution: the result is
        smooth anyway and this is 10x faster than blurring the full map."""
        small = max(8, self.map_size // 4)
        reduced = cv2.resize(image, (small, small), interpolation=cv2.INTER_AREA)
        reduced = cv2.GaussianBlur(reduced, (0, 0), self.blur_sigma * small / self.map_size)
        return cv2.resize(reduced, (self.map_size, self.map_size), interpolation=cv2.INTER_LINEAR).astype(np.float64)


@dataclass(frozen=True)
class CpuStyleA:
    """Style-A without learned weights (:class:`s2t.style_a.base.StyleA`): the photo warped by
    :class:`CpuRenderer`, restyled by a :class:`~s2t.style_a.stylizer.Stylizer` after the art
    preset or picture at the art's strength (none at strength 0 or for no art)."""

    config: CpuRenderConfig = CpuRenderConfig()

    def check(self, art: Art) -> None:
        if art.strength > 0 and art.name is not None and art.preset is None:
            raise ValueError(f"art {art.name!r} is neither a picture file nor a preset; presets: "
                             f"{', '.join(list_art_presets())}, or none")

    def stylizer(self, art: Art) -> Stylizer | None:
        """The art filter for ``art``; None draws the plain photo."""
        self.check(art)
        if art.is_none or art.strength == 0:
            return None
        style = ArtStyle.from_picture(art.picture) if art.picture is not None else load_art_preset(art.name)
        return Stylizer(style, art.strength)

    def prepare(self, model: FaceModel, photo: PreparedPhoto, art: Art, size: int) -> CpuRenderer:
        if photo.size != size:
            raise ValueError(f"the photo was prepared at {photo.size} px, not {size}")
        return CpuRenderer(model, photo, self.stylizer(art), self.config)
