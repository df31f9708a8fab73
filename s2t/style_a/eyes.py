"""Closing eyelids for the CPU renderer: a blink is covered with lid skin, not with lashes.

The warp closes an eye by stretching the upper lid's skin over it: each lid point takes the
photo's colour where the fitted lid point was. In a photo the visible upper lid is a thin band
and its edge is the lash line (often fitted a pixel or two into the iris), so a plain stretch
drags lashes and iris down over the eye. As a lid closes beyond the photo's own closure, its
source points slide up onto the lid skin above the lashes, by up to ``LIFT`` of the eye's
opening, so a closed eye shows skin with the lash line only at its edge.

Where a closing lid meets the lower lid, the warp's source jumps from the lifted lid skin to
the lower lid: on the warp map (at most 320 px) that jump is a stair-stepped line, 3 px steps
at 1024. Around each closing eye :meth:`LidSkin.draw` warps the lids again at the
output resolution (2x supersampled, so the jump is anti-aliased), blends it in along the
meeting line and darkens the line itself softly, as the lashes of two closed lids do.

Stretching the lid still streaks: a band a few pixels tall spread over the whole eye repeats
each of its columns down the lid (vertical streaks), and where the photo's lid is shadowed it
paints a flat brown block. So a closing lid is covered with synthesised skin (:class:`_LidPatch`,
made once per photo): the photo around the eye with the eye's opening and lashes filled from the
skin around them (a smooth colour field, normalised convolution that ignores lashes and dark
rims) plus fine texture borrowed from the skin just below the eye; dark things above the lashes
(a spectacle frame, a brow) are left to the warp. Each frame the patch follows the eye's corners
and lower lid (the points a blink does not move) by an affine map, unstretched, covers the lid
above the driven lid edge by the blink's amount and is shaded darker towards the lash line; the
lash line itself is a soft line drawn along the lid's edge at output resolution, a darker shade
of the skin's hue, as soft as the photo is blurred.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from s2t.face import FaceModel
from s2t.style_a.raster import rasterize

LIFT = 0.55  # how far (in eye openings) a fully closing lid's source moves up
DROP = 0.15  # how far (in eye openings) the lower lid's edge samples below itself once the lids meet
EYES = {"Left": (42, 48), "Right": (36, 42)}  # the subject's left eye is iBUG 42-47 (image right)
MEETING_FROM = 0.35  # blinks below this leave the lids well apart: the map's warp is exact enough
SUPERSAMPLE = 2  # the lids' re-warp is done at twice the output resolution and averaged down
LASH_SHADE = 0.6  # how far the lash line goes towards LASH_DARK times the skin's colour at its centre
LASH_DARK = 0.38  # the lashes' and the lid fold's brightness against the skin's (the old warm tint's mean)
SKIN_FULL = 0.5  # how far a lid closes (of what is left of the photo's opening) before its skin is all synthesised
RISE = 0.6  # how far (in eye widths) above the eye the lid patch reaches
CREASE = 0.28  # how far (in eye widths) above the fitted upper lid edge the lid's skin is synthesised
LASHES = 0.2  # how far (in eye widths) the photo's lashes may reach above the fitted upper lid edge
COVER_ABOVE = 0.2  # how far (eye widths) above that the unstretched patch still covers the moving lid
LID_SHADOW = 0.14  # how much darker the closed lid's skin is at the lash line (it turns away from the light)
LID_IN_FRONT = 0.001  # depth (rig units, about a millimetre: a lid's thickness) the closing upper lid is brought forward by in the re-warp


class LidSkin:
    """Per-frame source positions of the lids for one fitted photo, the synthesised skin that
    covers a closing lid and the closed lids' meeting line. ``image`` is what the warp samples,
    ``source_xy`` (V, 2) the fitted vertices on it in its pixels."""

    def __init__(self, model: FaceModel, landmarks: np.ndarray, fit_expression: np.ndarray, scale: float,
                 image: np.ndarray, source_xy: np.ndarray) -> None:
        self.channels, self.shifts, self.closed, self.patches, self.in_front = [], [], [], [], []
        self.model, self.edges, self.near_eye, self.line_width = model, [], [], []
        v = model.vertices
        texture = _skin_texture(image, np.ptp(landmarks[36:48, 0]) / 2)
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
            # closed lids meet on skin, with the line drawn in ``draw``.
            along = self.edges[-1][1]
            shift[along, 1] = DROP * max(opening, 1.0) * scale * np.sin(np.linspace(0.0, np.pi, len(along)))
            self.channels.append(k)
            self.shifts.append(shift)
            self.closed.append(float(fit_expression[k]))
            self.in_front.append(LID_IN_FRONT * weight)
            self.line_width.append(max(0.6, 0.045 * np.ptp(eye[:, 0])))  # in photo pixels, as output pixels
            near = np.linalg.norm(v[:, :2] - centre[:2], axis=1) < 0.05
            still = np.nonzero(close & (moves < 0.05 * moves.max()))[0]  # corners, lower lid, below: a blink leaves them
            self.patches.append(_LidPatch.make(image, texture, eye, still, source_xy[near], weight[near]))

    def sources(self, source_xy: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """``source_xy`` with the upper lids' sources lifted by how far each lid closes beyond the photo's."""
        out = source_xy
        for k, shift, closed in zip(self.channels, self.shifts, self.closed):
            closing = (expression[k] - closed) / max(1.0 - closed, 1e-6)
            if closing > 0:
                out = out + min(closing, 1.0) * shift
        return out

    def draw(self, frame: np.ndarray, image: np.ndarray, xy: np.ndarray, depth: np.ndarray,
             sources: np.ndarray, expression: np.ndarray, source_xy: np.ndarray) -> np.ndarray:
        """``frame`` with each closing eye's lid covered with skin, its lash line drawn and, where
        the lids meet, re-warped at the output resolution along the meeting line. ``xy`` (V, 2) are
        the driven vertices, ``sources`` the lids' lifted source positions and ``source_xy`` the
        fitted ones, all in output pixels; ``depth`` (V,) the driven depth; ``image`` the warp's source."""
        for i, (k, edge, width) in enumerate(zip(self.channels, self.edges, self.line_width)):
            closing = (expression[k] - self.closed[i]) / max(1.0 - self.closed[i], 1e-6)
            amount = _smoothstep(0.0, SKIN_FULL, closing)
            if amount < 1e-3:  # a quarter of a grey level at most: the warp alone is exact enough
                continue
            line = xy[edge[0]]  # the upper lid's edge: it closes onto the lower one
            gap = float((xy[edge[1], 1] - line[:, 1]).max())
            meet = 1.0 - _smoothstep(0.5 * width, 3.0 * width, gap)  # how closed the lids are, on screen
            rewarp = float(np.clip((expression[k] - MEETING_FROM) / (1.0 - MEETING_FROM), 0.0, 1.0))
            if rewarp > 0.0:
                self._rewarp_meeting_line(frame, image, xy, depth + self.in_front[i], sources, self.near_eye[i], line,
                                          width, rewarp)
            patch = self.patches[i]
            affine = _fit_affine(source_xy[patch.still], xy[patch.still])
            patch.cover_lid(frame, affine, line, amount)
            _draw_lash_line(frame, line, np.hypot(0.5 * width, patch.blur), patch.tint, LASH_SHADE * max(meet, amount))
        return frame

    def _rewarp_meeting_line(self, frame, image, xy, depth, sources, triangles, line, width, closing) -> None:
        """Warp the lids again around ``line`` at twice the output resolution and blend that in
        along it, by ``closing``: the warp map's stair-stepped jump between the lids becomes smooth.

        A closed upper lid passes a pixel or two over the lower one at nearly the same depth; ``depth``
        has the upper lid brought forward (``LID_IN_FRONT``) so it covers the lower lid there, as it
        does on a face. Left to the fitted depths, the two z-fight and slivers of the lower lid show
        up to 2 px above the meeting line at 1024 (a wobbling line), depending on the fit."""
        size = frame.shape[0]
        pad = int(np.ceil(2 * width)) + 9  # the blend band's half-width and its blur
        x0, y0 = np.maximum(np.floor(line.min(0)).astype(int) - pad, 0)
        x1, y1 = np.minimum(np.ceil(line.max(0)).astype(int) + pad + 1, size)
        if x1 <= x0 or y1 <= y0:
            return
        w, h = x1 - x0, y1 - y0
        # Pixel centres of the supersampled grid sit at (i + 0.5) / S - 0.5 output pixels.
        s = SUPERSAMPLE
        fine = (xy - [x0, y0] + 0.5) * s - 0.5
        corners = xy[self.model.triangles[triangles]]  # only triangles that reach into the box
        lo, hi = corners.min(1), corners.max(1)
        faces = self.model.triangles[triangles[(hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)]]
        raster = rasterize(fine, depth, faces, w * s, h * s)
        if not raster.covered.any():
            return
        source = raster.interpolate(sources, faces)
        colour = cv2.remap(image, source[..., 0].astype(np.float32), source[..., 1].astype(np.float32),
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
        covered = raster.covered.astype(np.float32)[..., None]
        colour = cv2.resize(colour * covered, (w, h), interpolation=cv2.INTER_AREA)
        coverage = cv2.resize(covered[..., 0], (w, h), interpolation=cv2.INTER_AREA)
        colour /= np.maximum(coverage, 1e-6)[..., None]
        # The band the map's stair steps can reach (a map pixel is up to 3.2 output pixels), faded
        # out beyond it so the map's warp takes over without a seam.
        band = np.zeros((h, w), np.uint8)
        cv2.polylines(band, [np.round((line - [x0, y0]) * 16).astype(np.int32)], False, 255,
                      thickness=int(2 * (2 * width + 4)), lineType=cv2.LINE_AA, shift=4)
        weight = cv2.GaussianBlur(band.astype(np.float32) / 255.0, (0, 0), 1.5) * coverage * min(1.0, 2.0 * closing)
        box = np.s_[y0:y1, x0:x1]
        under = frame[box].astype(np.float32)
        frame[box] = np.clip(under + (colour - under) * weight[..., None] + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class _LidPatch:
    """The photo around one eye with the eye's opening and lashes painted over with skin.

    ``colour`` (h, w, 3) float32 starts at photo pixel (x0, y0); ``cover`` (h, w) says how much
    of a closing lid it replaces (the lid from a little above the photo's lid crease down, soft
    at the top and corners); ``still`` are the vertices that place it each frame."""

    x0: int
    y0: int
    colour: np.ndarray
    cover: np.ndarray
    still: np.ndarray
    width: float
    tint: np.ndarray  # the lash line's colour as a factor on the skin's: darker, in the skin's hue
    blur: float  # the photo's own blur around the eye (Gaussian sigma, px): the drawn lashes match it

    @classmethod
    def make(cls, image: np.ndarray, texture: np.ndarray, eye: np.ndarray, still: np.ndarray,
             points: np.ndarray, stretch: np.ndarray) -> "_LidPatch":
        """``points`` (N, 2) are fitted vertices around the eye (photo pixels) and ``stretch`` how
        much a blink moves each, 0 to 1: the warp stretches the skin as much, so the patch covers
        the lid as far as the blink moves it, fading out where the warp is exact."""
        size = image.shape[0]
        width = max(float(np.ptp(eye[:, 0])), 4.0)
        pad = int(0.5 * width) + 4
        x0, y0 = np.maximum(np.floor(eye.min(0) - [pad, pad + RISE * width]).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(eye.max(0) + pad).astype(int) + 1, size)
        patch = image[y0:y1, x0:x1].astype(np.float32)
        local = eye - [x0, y0]
        outward = (local[0] - local[3]) / max(np.linalg.norm(local[0] - local[3]), 1e-6)

        def region(raise_by: float, lower_by: float, corners: float) -> np.ndarray:
            up, down = np.array([0.0, raise_by * width]), np.array([0.0, lower_by * width])
            ends = (local[0] + corners * width * outward - 0.4 * up, local[3] - corners * width * outward - 0.4 * up)
            polygon = np.array([ends[0], local[1] - up, local[2] - up, ends[1], local[4] + down, local[5] + down])
            mask = np.zeros(patch.shape[:2], np.uint8)
            cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
            return mask.astype(np.float32) / 255.0

        # How far a blink moves the skin at each pixel, from the vertices' moves (normalised splats).
        spots, moved = np.zeros((2,) + patch.shape[:2], np.float32)
        inside = np.all((points >= [x0, y0]) & (points <= [x1 - 1, y1 - 1]), axis=1)
        cols, rows = np.round(points[inside] - [x0, y0]).astype(int).T
        np.add.at(spots, (rows, cols), 1.0)
        np.add.at(moved, (rows, cols), stretch[inside])
        sigma = max(1.0, 0.08 * width)
        moved = cv2.GaussianBlur(moved, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(spots, (0, 0), sigma), 1e-6)
        # The hole: the opening, the lashes and the visible lid up to about its crease (a closed lid
        # is smooth, unfolded skin). The cover: the hole and, fading out, the skin above that the blink moves.
        hole = cv2.GaussianBlur(region(CREASE, 0.03, 0.16), (0, 0), max(0.5, 0.04 * width))
        cover = np.maximum(np.clip((moved - 0.05) / 0.25, 0.0, 1.0) * region(CREASE + COVER_ABOVE, 0.05, 0.22), hole)
        cover = cv2.GaussianBlur(cover, (0, 0), max(0.7, 0.05 * width))
        # The skin around the hole, trusted less where it is dark (lashes, brows, a spectacle frame).
        lum = patch.mean(-1)
        ring = (hole < 0.05) & (cover > 0.05)
        skin = float(np.median(lum[ring])) if ring.any() else float(np.median(lum))
        light = np.clip((lum - 0.7 * skin) / (0.2 * skin + 1e-6), 0.0, 1.0)
        # Dark things above the lashes (a spectacle frame, a brow) stay as the warp moves them:
        # painted over, they would be bitten into where the patch ends.
        above = (1.0 - light) * (1.0 - region(LASHES, 0.05, 0.35))
        keep = np.clip(2.0 * cv2.GaussianBlur(cv2.dilate(above, np.ones((3, 3), np.uint8)), (0, 0),
                                              max(0.7, 0.04 * width)), 0.0, 1.0)
        hole, cover = hole * (1.0 - keep), cover * (1.0 - keep)
        known = (1.0 - hole) * light
        fill = _normalised_blur(patch, known, 0.12 * width)
        wide = _normalised_blur(patch, known, 0.4 * width)
        near = np.clip(cv2.GaussianBlur(known, (0, 0), 0.12 * width) / 0.15, 0.0, 1.0)[..., None]
        fill = near * fill + (1.0 - near) * wide
        # Fine texture from the skin just below the eye (the same grain, shifted down by the hole's height).
        rows = np.nonzero((hole > 0.5).any(1))[0]
        shift = int(np.ptp(rows) + 1 + 0.1 * width) if len(rows) else 0
        ys = np.clip(np.arange(y0, y1) + shift, 0, size - 1)
        grain = texture[ys][:, x0:x1]
        colour = patch + (fill + grain - patch) * hole[..., None]
        hue = np.median(fill[hole > 0.5], 0) if (hole > 0.5).any() else np.median(patch.reshape(-1, 3), 0)
        tint = (LASH_DARK * hue / max(float(hue.mean()), 1.0)).astype(np.float32)
        return cls(int(x0), int(y0), colour, cover, still, width, tint, _photo_blur(lum))

    def cover_lid(self, frame: np.ndarray, affine: np.ndarray, line: np.ndarray, amount: float) -> None:
        """Lay the patch, moved by ``affine`` (photo to output pixels), over ``frame`` above the
        driven upper lid edge ``line`` (output pixels), by ``amount``."""
        size = frame.shape[0]
        h, w = self.cover.shape
        corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64) + [self.x0, self.y0, 0]
        placed = corners @ affine.T
        x0, y0 = np.maximum(np.floor(placed.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(placed.max(0)).astype(int) + 1, size)
        if x1 <= x0 or y1 <= y0:
            return
        # patch pixel -> output pixel in the box: the affine after the patch's and the box's offsets
        to_box = affine.copy()
        to_box[:, 2] += affine[:, :2] @ [self.x0, self.y0] - [x0, y0]
        colour = cv2.warpAffine(self.colour, to_box, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        cover = cv2.warpAffine(self.cover, to_box, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
        order = np.argsort(line[:, 0])
        edge = np.interp(np.arange(x0, x1), line[order, 0], line[order, 1])[None, :]
        above = edge - np.arange(y0, y1)[:, None]  # output pixels above the lid's edge (negative below it)
        alpha = cover * np.clip(above + 0.5, 0.0, 1.0) * amount
        scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
        shade = 1.0 - LID_SHADOW * np.exp(-np.square(np.maximum(above, 0.0) / (0.12 * self.width * scale)))
        box = np.s_[y0:y1, x0:x1]
        under = frame[box].astype(np.float32)
        lid = colour * shade[..., None]
        frame[box] = np.clip(under + (lid - under) * alpha[..., None] + 0.5, 0, 255).astype(np.uint8)


def _draw_lash_line(frame: np.ndarray, line: np.ndarray, sigma: float, tint: np.ndarray, strength: float) -> None:
    """Darken ``frame`` softly (a Gaussian of ``sigma`` px) along ``line`` (output pixels) towards
    ``tint`` times what is there: lashes and the fold between closed lids are a deeper shade of the skin."""
    if strength <= 0.0:
        return
    size = frame.shape[0]
    pad = int(np.ceil(3 * sigma)) + 3
    x0, y0 = np.maximum(np.floor(line.min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(line.max(0)).astype(int) + pad + 1, size)
    if x1 <= x0 or y1 <= y0:
        return
    lash = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.polylines(lash, [np.round((line - [x0, y0]) * 16).astype(np.int32)], False, 255, thickness=1,
                  lineType=cv2.LINE_AA, shift=4)
    shade = cv2.GaussianBlur(lash.astype(np.float32) / 255.0, (0, 0), sigma)
    shade = strength * shade / max(float(shade.max()), 1e-6)
    box = np.s_[y0:y1, x0:x1]
    under = frame[box].astype(np.float32)
    frame[box] = np.clip(under + (under * tint - under) * shade[..., None] + 0.5, 0, 255).astype(np.uint8)


def _skin_texture(image: np.ndarray, eye_width: float) -> np.ndarray:
    """The photo's fine grain (float32, zero mean): what a blur of 3 % of an eye's width takes
    away, with strong edges (a spectacle frame, a lash, a wrinkle) compressed softly to the
    grain's usual size (a hard clip leaves flat blotches)."""
    image = image.astype(np.float32)
    detail = image - cv2.GaussianBlur(image, (0, 0), max(0.7, 0.03 * eye_width))
    limit = 1.5 * float(np.median(np.abs(detail))) + 0.5
    return limit * np.tanh(detail / limit)


def _photo_blur(grey: np.ndarray) -> float:
    """The Gaussian blur (sigma, px) that would make a sharp photo look like ``grey``, from how
    much of its detail at 4 px remains at 1 px: a step edge blurred by b keeps about
    (1 + b^2)^-1 of its 1 px detail and 16 (16 + b^2)^-1 of its 4 px detail."""
    fine = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.0)).mean()
    coarse = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 4.0)).mean()
    ratio = fine / max(coarse, 1e-6)
    return float(np.sqrt(max(16.0 * (1.0 - ratio) / max(16.0 * ratio - 1.0, 1e-3), 0.0)))


def _normalised_blur(image: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` smoothed by a Gaussian of ``sigma`` counting each pixel by ``weight``: a smooth
    colour field that fills where the weight is 0 from the weighted pixels around it."""
    num = cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / np.maximum(den, 1e-6)[..., None]


def _fit_affine(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares affine map (2, 3) taking ``source`` points to ``target`` points."""
    design = np.column_stack([source, np.ones(len(source))])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution.T


def _smoothstep(lo: float, hi: float, x: float) -> float:
    t = min(max((x - lo) / (hi - lo), 0.0), 1.0)
    return t * t * (3 - 2 * t)
