"""The mouth interior of the CPU renderer, drawn at the output resolution.

The warp map is too coarse for the lips' inner edge (a 320 px map is scaled 3x at 1024), so
wherever the driven lips part, the interior is rasterised again at output size, in the
mouth's box only: the rig's cavity, tongue and both dental arches, z-buffered against the
skin around the mouth so that the lips' inner edge is the rig's slit, exactly. The edge is
anti-aliased by a sub-pixel blur of the coverage, and the interior is shaded darker near the
lips (they shade it) and deeper in the mouth: the cavity towards the throat, the tongue as a
dome. Teeth keep their base colour's lightness where they face the light (dimmed ivory reads
olive-grey, worse after H.264's chroma subsampling), with a wet sheen and a little light
bounced off the lips.

Colours come from two sources:

- **The photo's own interior**, when the photo shows one (lips apart in the fit): each
  interior pixel samples the photo where the same surface point of the rig was visible at
  the fitted expression, so the photo's upper teeth stay with the skull and its lower teeth
  go with the jaw. Synthetic teeth that continue them take their colour, and past the
  photo's teeth's edge the mouth is dark, not more tooth. Lip-red pixels inside the fit's
  opening (the fit opened the lips wider than the photo) are drawn once the lower lip
  moves, so they do not hang from the upper teeth.
- **Synthetic teeth** elsewhere, or for every pixel when the photo's mouth is closed, tiny
  or hidden: individual teeth along the arch (real tooth widths, separations, rounded
  incisal corners, a scalloped gum line, the upper row brighter), shaded with the rig's
  normals, in colours adapted to the photo (:mod:`s2t.style_a.mouth_colours`).

Everything is a function of the frame's geometry only, so a held pose gives the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from s2t.face import FaceModel
from s2t.style_a.mouth_colours import TEETH_LAB, MouthColours, clamp_lab, mouth_colours
from s2t.style_a.raster import rasterize

INTERIOR_PARTS = ("mouth_cavity", "tongue", "teeth_upper", "teeth_lower")  # part ids 1..4
CAVITY, TONGUE, UPPER, LOWER = 1, 2, 3, 4

# Tooth boundaries along the arch from the midline (mm): incisors, canine, premolars, molars.
UPPER_TEETH_MM = np.array([0.0, 8.6, 15.2, 23.0, 30.0, 37.0, 47.0, 57.0])
LOWER_TEETH_MM = np.array([0.0, 5.4, 11.2, 18.2, 25.2, 32.2, 43.0, 54.0])
LIGHT = np.array([0.0, 0.35, 1.0]) / np.hypot(0.35, 1.0)  # camera space: from the front, a little above
# Metres added to the rig's parts: its teeth sit ~7 mm above the lips' meeting line and would
# hide behind the upper lip; these put the upper incisors' edge 2 mm below the lip (the usual
# display when the lips part), the lower row under it with a normal overbite, the tongue behind.
PART_OFFSETS = {"teeth_upper": (0.0, -0.0105, 0.0005), "teeth_lower": (0.0, -0.0052, -0.0015),
                "tongue": (0.0, -0.0050, -0.0010)}
BOUNCE = 0.07  # how much of the teeth's light comes off the lips and gums
SHEEN = np.array([250.0, 248.0, 242.0])  # what wet enamel reflects of a near-white light
MIN_PHOTO_MOUTH_PX = 24  # narrower mouths (in the original photo) are too small to reuse their teeth


@dataclass
class Interior:
    """The drawn interior: colours and coverage in the output box ``(y0, x0)`` of size ``alpha.shape``."""

    y0: int
    x0: int
    colour: np.ndarray  # (h, w, 3) float32, 0-255
    alpha: np.ndarray  # (h, w) float32, 0-1 (anti-aliased coverage of the interior)
    ring: np.ndarray  # (h, w) float32: how much the lips' edge is shaded just outside the interior
    synthetic: np.ndarray  # (h, w) float32: coverage by pixels not sampled from the photo


def interior_part_per_triangle(model: FaceModel) -> np.ndarray:
    """Per triangle: 0 = skin or eye, k = ``INTERIOR_PARTS[k - 1]``."""
    parts = np.zeros(len(model.triangles), np.int64)
    for k, name in enumerate(INTERIOR_PARTS, start=1):
        if name in model.regions:
            inside = np.zeros(model.num_vertices, bool)
            inside[model.regions[name]] = True
            parts[inside[model.triangles].all(1)] = k
    return parts


def part_offsets(model: FaceModel) -> np.ndarray:
    """Per-vertex offsets (V, 3) the renderer adds to the rig (see ``PART_OFFSETS``)."""
    offsets = np.zeros((model.num_vertices, 3))
    for name, offset in PART_OFFSETS.items():
        offsets[model.regions[name]] = offset
    return offsets


def _arch_coordinates(vertices: np.ndarray, ids: np.ndarray, gum_at_top: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per vertex of one dental arch: signed arc length from the midline (mm) and height
    from the gum (0) to the biting edge (1), measured on the neutral rig."""
    p = vertices[ids].astype(np.float64)
    ring = p[: len(ids) // 4]  # the arch's outer top edge, in order (``parts.dental_arch`` builds 4 rings)
    steps = np.r_[0.0, np.cumsum(np.hypot(np.diff(ring[:, 0]), np.diff(ring[:, 2])))]
    steps -= np.interp(0.0, ring[:, 0], steps)
    arc = np.interp(p[:, 0], ring[:, 0], steps) * 1000.0
    lo, hi = p[:, 1].min(), p[:, 1].max()
    height = (hi - p[:, 1]) / (hi - lo) if gum_at_top else (p[:, 1] - lo) / (hi - lo)
    return arc, height


def _across_and_depth(p: np.ndarray) -> np.ndarray:
    """Per vertex of a soft part: position across it (-1 .. 1) and depth (0 at its front, 1 at its back)."""
    half = max(float(np.abs(p[:, 0]).max()), 1e-9)
    front, back = p[:, 2].max(), p[:, 2].min()
    return np.column_stack([p[:, 0] / half, (front - p[:, 2]) / max(front - back, 1e-9)])


def _smoothstep(lo, hi, x):
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class MouthInterior:
    """Draws the interior for one prepared photo. ``source_xy`` (V, 2) are the fitted mesh's
    vertices in output pixels, ``source_depth`` (V,) their depth, ``normals`` the rig's."""

    def __init__(self, model: FaceModel, image: np.ndarray, landmarks: np.ndarray, crop_side: float,
                 source_xy: np.ndarray, source_depth: np.ndarray, normals: np.ndarray) -> None:
        self.model, self.normals = model, normals
        self.size = image.shape[0]
        self.part_of_triangle = interior_part_per_triangle(model)
        v = model.vertices
        near_mouth = (v[:, 1] > -0.125) & (v[:, 1] < -0.03) & (v[:, 2] > 0.03) & (np.abs(v[:, 0]) < 0.07)
        skin = np.zeros(model.num_vertices, bool)
        skin[model.regions["skin"]] = True
        occluders = (near_mouth & skin)[model.triangles].all(1)
        self.triangles = np.nonzero(occluders | (self.part_of_triangle > 0))[0]
        self.upper_edge, self.lower_edge = model.regions["mouth_upper_edge"], model.regions["mouth_lower_edge"]
        # Per-vertex surface coordinates: on the teeth arc length (mm) and height (0 gum .. 1 edge);
        # on the tongue and the cavity across (-1 .. 1) and depth (0 front .. 1 throat).
        attributes = np.zeros((model.num_vertices, 2))
        for name, gum_at_top in (("teeth_upper", True), ("teeth_lower", False)):
            ids = model.regions[name]
            attributes[ids] = np.column_stack(_arch_coordinates(v, ids, gum_at_top))
        for name in ("tongue", "mouth_cavity"):
            attributes[model.regions[name]] = _across_and_depth(v[model.regions[name]])
        self.attributes = attributes
        self.front_tooth = model.regions["teeth_upper"][np.argmax(v[model.regions["teeth_upper"], 2])]
        self.colours: MouthColours = mouth_colours(image, landmarks)
        self.photo_teeth_end = None  # (arc mm, height) where the photo's upper teeth end, if it shows them
        self.source_parts = None  # interior part per pixel of the photo's mouth box at the fitted expression
        mouth_width = float(np.linalg.norm(landmarks[54] - landmarks[48]))
        self.edge_sigma = max(1.0, 0.05 * mouth_width)
        self.mm_per_px = 50.0 / max(mouth_width, 1.0)  # a mouth is about 50 mm wide
        self.source_xy = source_xy
        # Why the photo's teeth cannot be used although they might show (None: no problem).
        self.fallback = self._photo_interior_problem(image, landmarks, mouth_width * crop_side / self.size)
        self.source_box, self.source_weight = (None, None) if self.fallback else self._visible_in_photo(
            image, landmarks, source_xy, source_depth)

    # --- set-up ---------------------------------------------------------------------------
    def _photo_interior_problem(self, image: np.ndarray, landmarks: np.ndarray, photo_mouth_px: float) -> str | None:
        """Why the photo's own teeth cannot be reused (None if they can)."""
        if photo_mouth_px < MIN_PHOTO_MOUTH_PX:
            return f"the mouth is only {photo_mouth_px:.0f} px wide in the photo"
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float64)
        def median_a(polygon):
            mask = np.zeros(image.shape[:2], np.uint8)
            cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
            return float(np.median(lab[..., 1][mask > 0])) if mask.any() else 128.0
        lips = median_a(landmarks[48:60])
        cheeks = 0.5 * (median_a(landmarks[[1, 41, 48, 4]]) + median_a(landmarks[[15, 46, 54, 12]]))
        if lips < cheeks + 1.0:  # lips are redder than the cheeks; a hand, a microphone or a beard is not
            return "the lips do not look like lips (is the mouth covered?)"
        return None

    def _visible_in_photo(self, image: np.ndarray, landmarks: np.ndarray, source_xy: np.ndarray, source_depth: np.ndarray):
        """Where the photo shows each interior part at the fitted expression: a box and, per part,
        a soft weight (1 well inside, 0 on the lips), or (None, None) if it shows none."""
        found = self._raster(source_xy, source_depth)
        if found is None:
            return None, None
        (y0, x0), raster, parts = found
        # Where the fit's opening is wider than the photo's, the photo shows lip there, not teeth:
        # how lip-red (and not dark) each pixel is, so those pixels can be drawn once the lip moves.
        h, w = parts.shape
        lab = cv2.cvtColor(image[y0 : y0 + h, x0 : x0 + w], cv2.COLOR_RGB2LAB).astype(np.float32)
        band = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(band, [np.round(landmarks[48:60]).astype(np.int32)], 1)
        cv2.fillPoly(band, [np.round(landmarks[60:68]).astype(np.int32)], 0)
        lip_a = float(np.median(cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 1][band > 0])) if band.any() else 150.0
        middle = 0.5 * (lip_a + 131.0)  # halfway between the lips' redness and a tooth's
        lip_like = _smoothstep(middle - 3.0, middle + 3.0, lab[..., 1]) * _smoothstep(60.0, 110.0, lab[..., 0])
        weights = np.zeros((len(INTERIOR_PARTS) + 1,) + parts.shape, np.float32)
        self.source_parts = parts
        for k in range(1, len(INTERIOR_PARTS) + 1):
            near = cv2.GaussianBlur((parts == k).astype(np.float32), (0, 0), 0.7)
            weights[k] = _smoothstep(0.45, 0.85, near)  # fades out next to the lips once they move
        weights[0] = lip_like  # slot 0 (no part) holds how lip-like the photo is there
        if (weights[1:] > 0.5).sum() < 12:
            return None, None
        shown = (weights[UPPER] * (1.0 - lip_like) > 0.5) & (parts == UPPER)
        if shown.sum() >= 12:  # the synthetic teeth continue the photo's: same colour, same length
            tri = self.model.triangles[raster.triangle[shown]]
            arc, height = np.einsum("nk,nkc->nc", raster.bary[shown], self.attributes[tri]).T
            centres = np.arange(-40.0, 41.0, 4.0)  # per 4 mm of arch: where the photo's teeth end
            ends = np.array([height[np.abs(arc - c) <= 2.0].max(initial=-1.0) for c in centres])
            known = ends >= 0
            ends = np.interp(centres, centres[known], ends[known])
            ends = np.convolve(np.pad(ends, 2, mode="edge"), np.ones(5) / 5, mode="valid")  # a smooth edge line
            self.photo_teeth_end = (centres, ends)
            pixels = image[y0 : y0 + h, x0 : x0 + w][shown].astype(np.float64) / 255.0
            bright = pixels[pixels.mean(1) >= np.quantile(pixels.mean(1), 0.5)]
            self.colours = replace(self.colours, teeth=clamp_lab(np.median(bright, 0), TEETH_LAB) * 255)
        return (y0, x0), weights

    # --- per frame ------------------------------------------------------------------------
    def _opening_box(self, xy: np.ndarray) -> tuple[int, int, int, int] | None:
        """Output-pixel box (y0, y1, x0, x1) around the lips' slit if the lips are apart."""
        gap = xy[self.lower_edge, 1] - xy[self.upper_edge, 1]
        if gap.max() <= 0.05:
            return None
        edge = np.concatenate([xy[self.upper_edge], xy[self.lower_edge]])
        lo = np.floor(edge.min(0)).astype(int) - 3
        hi = np.ceil(edge.max(0)).astype(int) + 4
        x0, y0 = np.maximum(lo, 0)
        x1, y1 = np.minimum(hi, self.size)
        return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None

    def _raster(self, xy: np.ndarray, depth: np.ndarray):
        box = self._opening_box(xy)
        if box is None:
            return None
        y0, y1, x0, x1 = box
        corners = xy[self.model.triangles[self.triangles]]  # only triangles that reach into the box
        lo, hi = corners.min(1), corners.max(1)
        ids = self.triangles[(hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)]
        raster = rasterize(xy - [x0, y0], depth, self.model.triangles[ids], x1 - x0, y1 - y0)
        raster.triangle = np.where(raster.covered, ids[np.maximum(raster.triangle, 0)], -1)  # rig triangle ids
        parts = np.where(raster.covered, self.part_of_triangle[np.maximum(raster.triangle, 0)], 0)
        return (y0, x0), raster, parts

    def _between_the_lips(self, xy: np.ndarray, y0: int, x0: int, shape: tuple[int, int]) -> np.ndarray:
        """Pixels inside the polygon of the lips' inner edges: where the skin folds tightly (mouth
        corners in a smile) a tooth could poke through it, but it only ever shows between the lips."""
        edge = np.concatenate([xy[self.upper_edge], xy[self.lower_edge][::-1]]) - [x0, y0]
        mask = np.zeros(shape, np.uint8)
        cv2.fillPoly(mask, [np.round(edge * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        return cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0  # the raster decides the edge itself

    def draw(self, image: np.ndarray, xy: np.ndarray, depth: np.ndarray, rotation: np.ndarray) -> Interior | None:
        """The interior for driven vertices ``xy`` (output pixels) and ``depth``; ``image`` is the
        warp's source (the photo's own interior is sampled from it). None if the lips are closed."""
        found = self._raster(xy, depth)
        if found is None:
            return None
        (y0, x0), raster, parts = found
        inside = (parts > 0) & self._between_the_lips(xy, y0, x0, parts.shape)
        if not inside.any():
            return None
        ys, xs = np.nonzero(inside)
        tri = self.model.triangles[raster.triangle[ys, xs]]
        bary = raster.bary[ys, xs]
        part = parts[ys, xs]
        normal = np.einsum("nk,nkc->nc", bary, self.normals[tri]) @ rotation.T
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
        attr = np.einsum("nk,nkc->nc", bary, self.attributes[tri])
        # Deeper than the front teeth is darker; a fixed reference, so a held pose keeps its shade.
        recess = np.clip(1.0 + (raster.depth[ys, xs] - depth[self.front_tooth]) / 0.028, 0.2, 1.0)
        colour = self._synthetic(part, normal, attr, recess)
        h, w = inside.shape
        near = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), self.edge_sigma)
        rim = _smoothstep(0.1, 0.7, near[ys, xs])  # the lips shade the opening's rim, soft tissue more than teeth
        colour *= np.where(part >= UPPER, 0.96 + 0.04 * rim, 0.6 + 0.4 * rim)[:, None]
        from_photo = np.zeros(len(part), np.float32)
        if self.source_weight is not None:
            # Once the lower lip has moved off its place in the photo, lip-red pixels the fit took
            # for teeth would hang from the upper teeth: from then on they are drawn.
            lip_moved = np.abs(xy[self.lower_edge] - self.source_xy[self.lower_edge]).max()
            colour, from_photo = self._blend_photo(colour, image, part, bary, tri, float(np.clip(lip_moved / 2.0, 0, 1)))
        layer = np.zeros((h, w, 3), np.float32)
        layer[ys, xs] = colour
        alpha = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 0.6)  # sub-pixel anti-aliasing of the edge
        # Un-premultiply so the blurred edge keeps the interior's colour, not black.
        filled = cv2.GaussianBlur(layer, (0, 0), 0.6) / np.maximum(alpha, 1e-6)[..., None]
        soft_edge = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), max(1.0, 0.3 * self.edge_sigma))
        ring = np.clip(soft_edge - alpha, 0.0, 1.0)
        synthetic = np.zeros((h, w), np.float32)
        synthetic[ys, xs] = 1.0 - from_photo
        synthetic = cv2.GaussianBlur(synthetic, (0, 0), 0.6)
        return Interior(y0, x0, np.where(inside[..., None], layer, filled), alpha, ring, synthetic)

    def _synthetic(self, part, normal, attr, recess) -> np.ndarray:
        c = self.colours
        colour = np.zeros((len(part), 3))
        facing = np.clip(normal @ LIGHT, 0.0, 1.0)
        tongue = part == TONGUE
        if tongue.any():  # a rounded tongue: a lit dome, darker at its sides and towards the back
            across, back = attr[tongue, 0], np.clip(attr[tongue, 1], 0.0, 1.0)
            dome = np.sqrt(np.clip(1.0 - across**2, 0.0, 1.0))
            groove = 1.0 - 0.1 * np.exp(-((across / 0.15) ** 2))  # the faint median furrow
            shade = (0.35 + 0.5 * dome) * groove * (1.0 - 0.6 * back) * (0.75 + 0.25 * facing[tongue])
            colour[tongue] = c.tongue * shade[:, None]
        cavity = part == CAVITY
        if cavity.any():  # light comes in through the lips: the walls near them glow, the throat is black
            across, back = attr[cavity, 0], np.clip(attr[cavity, 1], 0.0, 1.0)
            throat = _smoothstep(0.25, 1.0, back) * (1.0 - 0.5 * across**2)
            colour[cavity] = c.cavity * (1.5 - 0.9 * throat)[:, None]
        teeth = part >= UPPER
        if teeth.any():
            upper = part[teeth] == UPPER
            arc, height = attr[teeth, 0], np.clip(attr[teeth, 1], 0.0, 1.0)
            pattern, gum, across = self._tooth_pattern(np.abs(arc), height, upper)
            # Teeth are the brightest thing in the mouth: the front ones keep the base colour's
            # lightness (a dimmed ivory reads olive, worse after H.264's chroma subsampling);
            # they fade only round the arch's curve and towards the far molars.
            light = 0.7 + 0.3 * facing[teeth]
            depth_shade = 0.6 + 0.4 * recess[teeth]
            shade = np.clip(pattern * np.where(upper, 1.06, 0.94) * light * depth_shade, 0.0, 1.08)
            tissue = c.gum * (0.6 + 0.4 * facing[teeth])[:, None] * recess[teeth, None]
            # Shadowed teeth darken toward the mouth's red-brown (light bounces off its walls), not
            # toward black or grey, which would turn ivory olive.
            warm_shadow = c.cavity * 1.8
            # Light bounced off the lips and gums warms them a little: without it, ivory between
            # pink lips reads greenish grey.
            lit = c.teeth * (1.0 - BOUNCE + BOUNCE * c.gum / c.gum.mean())
            enamel = warm_shadow + (lit - warm_shadow) * shade[:, None]
            # Wet enamel: a soft sheen on each crown's face, toward white (it is what makes a tooth
            # read as a tooth rather than as a beige slab at 512 px).
            sheen = (0.22 * np.where(upper, 1.0, 0.6) * facing[teeth] ** 2 * (1.0 - (2 * across - 1) ** 2)
                     * _smoothstep(0.3, 0.6, height) * (1.0 - _smoothstep(0.9, 1.0, height)))
            enamel += (SHEEN - enamel) * sheen[:, None]
            colour[teeth] = (1 - gum)[:, None] * enamel + gum[:, None] * tissue
            if self.photo_teeth_end is not None:  # past the photo's teeth's edge there is mouth, not more tooth
                end = np.interp(arc, *self.photo_teeth_end)
                past = (_smoothstep(end - 0.04, end + 0.08, height) * upper)[:, None]
                colour[teeth] = (1 - past) * colour[teeth] + past * c.cavity * 0.8
        return colour

    def _tooth_pattern(self, arc, height, upper):
        """Brightness of each point of the teeth (separations, rounded corners, bulge, translucent
        edge), how much of it is gum and where it lies across its tooth (0 .. 1), for arc length
        ``arc`` (mm) and ``height``."""
        bounds_upper, bounds_lower = UPPER_TEETH_MM, LOWER_TEETH_MM
        k_up = np.clip(np.searchsorted(bounds_upper, arc) - 1, 0, len(bounds_upper) - 2)
        k_lo = np.clip(np.searchsorted(bounds_lower, arc) - 1, 0, len(bounds_lower) - 2)
        left = np.where(upper, bounds_upper[k_up], bounds_lower[k_lo])
        right = np.where(upper, bounds_upper[k_up + 1], bounds_lower[k_lo + 1])
        across = np.clip((arc - left) / (right - left), 0.0, 1.0)
        to_gap = np.minimum(arc - left, right - arc)  # mm to the nearest separation
        width = max(0.3, 0.6 * self.mm_per_px)  # never thinner than a pixel: no shimmer
        corner = _smoothstep(0.72, 1.0, height) * 0.6  # incisal corners are rounded: the gap widens there
        line = np.exp(-((to_gap / width) ** 2))  # teeth touch: a thin shadowed line between them ...
        notch = np.exp(-((to_gap / (width + corner)) ** 2)) * _smoothstep(0.6, 1.0, height)  # ... open at the edge
        bulge = 1.0 - 0.08 * (2 * across - 1) ** 2
        edge = 1.0 - 0.1 * _smoothstep(0.94, 1.0, height)  # thin, translucent biting edge
        pattern = bulge * edge * (1.0 - 0.3 * line) * (1.0 - 0.3 * notch)
        papilla = (1.0 - np.sin(np.pi * across)) ** 1.5
        gum_line = 0.12 + 0.18 * papilla
        gum = 1.0 - _smoothstep(gum_line - 0.05, gum_line + 0.05, height)
        return pattern, gum, across

    def _blend_photo(self, colour, image, part, bary, tri, lip_moved: float):
        """Where the photo showed the same surface point, take the photo's pixel instead."""
        src = np.einsum("nk,nkc->nc", bary, self.source_xy[tri])
        (sy0, sx0), weights = self.source_box, self.source_weight
        col = np.round(src[:, 0] - sx0).astype(int)
        row = np.round(src[:, 1] - sy0).astype(int)
        ok = (row >= 0) & (row < weights.shape[1]) & (col >= 0) & (col < weights.shape[2])
        w = np.zeros(len(part), np.float32)
        r, c, k = row[ok], col[ok], part[ok]
        # While the lips keep their place in the photo, every pixel the photo shows is its own
        # (the fitted expression gives the photo back); as they move, the rim next to the lips
        # and lip-red pixels are drawn instead.
        shown = (self.source_parts[r, c] == k).astype(np.float32)
        w[ok] = (shown + (weights[k, r, c] - shown) * lip_moved) * (1.0 - lip_moved * weights[0, r, c])
        # Only teeth are rigid: what the photo showed on the cavity's or tongue's place would stretch.
        w[part < UPPER] *= 1.0 - lip_moved
        xs = np.clip(src[:, 0], 0, self.size - 1)
        ys = np.clip(src[:, 1], 0, self.size - 1)
        x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
        x1, y1 = np.minimum(x0 + 1, self.size - 1), np.minimum(y0 + 1, self.size - 1)
        fx, fy = (xs - x0)[:, None], (ys - y0)[:, None]
        at = lambda r, c: image[r, c].astype(np.float32)
        photo = (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x1) * fx * (1 - fy)
                 + at(y1, x0) * (1 - fx) * fy + at(y1, x1) * fx * fy)
        return colour * (1 - w[:, None]) + photo * w[:, None], w
