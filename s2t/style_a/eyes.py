"""Closing eyelids for the CPU renderer: a blink is covered with lid skin, not with lashes.

The warp closes an eye by stretching the upper lid's skin over it: each lid point takes the
photo's colour where the fitted lid point was. In a photo the visible upper lid is a thin band
and its edge is the lash line (often fitted a pixel or two into the iris), so a plain stretch
drags lashes and iris down over the eye. As a lid closes beyond the photo's own closure, its
source points slide up onto the lid skin above the lashes, by up to ``LIFT`` of the eye's
opening, so a closed eye shows skin with the lash line only at its edge.

Where a closing lid meets the lower lid, the warp's source jumps from the lifted lid skin to
the lower lid: on the warp map (at most 320 px) that jump is a stair-stepped line, 3 px steps
at 1024. Around each closing eye :meth:`LidSkin.draw_meeting_line` warps the lids again at the
output resolution (2x supersampled, so the jump is anti-aliased), blends it in along the
meeting line and darkens the line itself softly, as the lashes of two closed lids do.
"""

from __future__ import annotations

import cv2
import numpy as np

from s2t.face import FaceModel
from s2t.style_a.raster import rasterize

LIFT = 0.55  # how far (in eye openings) a fully closing lid's source moves up
DROP = 0.15  # how far (in eye openings) the lower lid's edge samples below itself once the lids meet
EYES = {"Left": (42, 48), "Right": (36, 42)}  # the subject's left eye is iBUG 42-47 (image right)
MEETING_FROM = 0.35  # blinks below this leave the lids well apart: the map's warp is exact enough
SUPERSAMPLE = 2  # the lids' re-warp is done at twice the output resolution and averaged down
LASH_SHADE = 0.6  # how far the closed lids' meeting line goes towards LASH_TINT at its centre
LASH_TINT = np.array([0.45, 0.33, 0.3], np.float32)  # the skin's colour, darker and warmer, at the meeting line


class LidSkin:
    """Per-frame source positions of the lids for one fitted photo, and the closed lids' meeting line."""

    def __init__(self, model: FaceModel, landmarks: np.ndarray, fit_expression: np.ndarray, scale: float) -> None:
        self.channels, self.shifts, self.closed = [], [], []
        self.model, self.edges, self.near_eye, self.line_width = model, [], [], []
        v = model.vertices
        for side, (a, b) in EYES.items():
            upper_edge, lower = (model.regions[f"eye_{side.lower()}_{e}_edge"] for e in ("upper", "lower"))
            self.edges.append((upper_edge[np.argsort(v[upper_edge, 0])], lower[np.argsort(v[lower, 0])]))
            centre = v[lower].mean(0)
            close = np.linalg.norm(v[:, :2] - centre[:2], axis=1) < 0.035
            self.near_eye.append(np.nonzero(close[model.triangles].all(1))[0])
            k = model.expression_index(f"eyeBlink{side}")
            moves = np.linalg.norm(model.expression_basis[k], axis=1)
            eye = landmarks[a:b]
            opening = 0.5 * (np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4]))
            upper = (v[:, 1] > 0.004) & (np.sign(v[:, 0]) == (1 if side == "Left" else -1))  # above the eye's centre
            weight = np.where(upper, moves / max(moves.max(), 1e-12), 0.0)
            shift = np.zeros((model.num_vertices, 2))
            shift[:, 1] = -LIFT * max(opening, 1.0) * scale * weight  # image y grows downward: up is negative
            # The lower lid's edge samples a little below its wet rim (bright, often a glint) so the
            # closed lids meet on skin, with the line drawn in ``draw_meeting_line``.
            along = self.edges[-1][1]
            shift[along, 1] = DROP * max(opening, 1.0) * scale * np.sin(np.linspace(0.0, np.pi, len(along)))
            self.channels.append(k)
            self.shifts.append(shift)
            self.closed.append(float(fit_expression[k]))
            self.line_width.append(max(0.6, 0.045 * np.ptp(eye[:, 0])))  # in photo pixels, as output pixels

    def sources(self, source_xy: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """``source_xy`` with the upper lids' sources lifted by how far each lid closes beyond the photo's."""
        out = source_xy
        for k, shift, closed in zip(self.channels, self.shifts, self.closed):
            closing = (expression[k] - closed) / max(1.0 - closed, 1e-6)
            if closing > 0:
                out = out + min(closing, 1.0) * shift
        return out

    def draw_meeting_line(self, frame: np.ndarray, image: np.ndarray, xy: np.ndarray, depth: np.ndarray,
                          sources: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """``frame`` with each closing eye's lids re-warped at the output resolution along the line
        where they meet. ``xy`` (V, 2) are the driven vertices and ``sources`` the lids' lifted
        source positions, both in output pixels; ``depth`` (V,) the driven depth; ``image`` the
        warp's source."""
        size = frame.shape[0]
        for k, edge, triangles, width in zip(self.channels, self.edges, self.near_eye, self.line_width):
            closing = float(np.clip((expression[k] - MEETING_FROM) / (1.0 - MEETING_FROM), 0.0, 1.0))
            if closing <= 0.0:
                continue
            line = xy[edge[0]]  # the upper lid's edge: it closes onto the lower one
            gap = float((xy[edge[1], 1] - line[:, 1]).max())
            meet = 1.0 - _smoothstep(0.5 * width, 3.0 * width, gap)  # how closed the lids are, on screen
            pad = int(np.ceil(2 * width)) + 9  # the blend band's half-width and its blur
            x0, y0 = np.maximum(np.floor(line.min(0)).astype(int) - pad, 0)
            x1, y1 = np.minimum(np.ceil(line.max(0)).astype(int) + pad + 1, size)
            if x1 <= x0 or y1 <= y0:
                continue
            w, h = x1 - x0, y1 - y0
            # Pixel centres of the supersampled grid sit at (i + 0.5) / S - 0.5 output pixels.
            s = SUPERSAMPLE
            fine = (xy - [x0, y0] + 0.5) * s - 0.5
            corners = xy[self.model.triangles[triangles]]  # only triangles that reach into the box
            lo, hi = corners.min(1), corners.max(1)
            faces = self.model.triangles[triangles[(hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)]]
            raster = rasterize(fine, depth, faces, w * s, h * s)
            if not raster.covered.any():
                continue
            source = raster.interpolate(sources, faces)
            colour = cv2.remap(image, source[..., 0].astype(np.float32), source[..., 1].astype(np.float32),
                               cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
            covered = raster.covered.astype(np.float32)[..., None]
            colour = cv2.resize(colour * covered, (w, h), interpolation=cv2.INTER_AREA)
            coverage = cv2.resize(covered[..., 0], (w, h), interpolation=cv2.INTER_AREA)
            colour /= np.maximum(coverage, 1e-6)[..., None]
            # The band the map's stair steps can reach (a map pixel is up to 3.2 output pixels), faded
            # out beyond it so the map's warp takes over without a seam.
            local = np.round((line - [x0, y0]) * 16).astype(np.int32)
            band = np.zeros((h, w), np.uint8)
            cv2.polylines(band, [local], False, 255, thickness=int(2 * (2 * width + 4)), lineType=cv2.LINE_AA, shift=4)
            weight = cv2.GaussianBlur(band.astype(np.float32) / 255.0, (0, 0), 1.5) * coverage * min(1.0, 2.0 * closing)
            lash = np.zeros((h, w), np.uint8)
            cv2.polylines(lash, [local], False, 255, thickness=1, lineType=cv2.LINE_AA, shift=4)
            shade = cv2.GaussianBlur(lash.astype(np.float32) / 255.0, (0, 0), 0.5 * width)
            shade = LASH_SHADE * meet * shade / max(float(shade.max()), 1e-6)
            box = np.s_[y0:y1, x0:x1]
            under = frame[box].astype(np.float32)
            warped = under * (1.0 - weight[..., None]) + colour * weight[..., None]
            # Lashes and the fold between the lids are a deeper, warmer shade of the skin, not grey.
            darker = warped * LASH_TINT
            frame[box] = np.clip(warped + (darker - warped) * shade[..., None] + 0.5, 0, 255).astype(np.uint8)
        return frame


def _smoothstep(lo: float, hi: float, x: float) -> float:
    t = min(max((x - lo) / (hi - lo), 0.0), 1.0)
    return t * t * (3 - 2 * t)
