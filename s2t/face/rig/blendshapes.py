"""The 52 ARKit-named expression blendshapes of the embedded rig, as displacement fields.

"Left" is the subject's own left (+x), as in ARKit. Each shape is its full (weight 1)
displacement; the linear model blends them. Amounts are in metres and chosen to match the
extent of the corresponding ARKit poses on an adult face (e.g. jawOpen parts the lips by
about 3 cm). Rotational shapes (jaw, lids, gaze) rotate vertices about anatomical pivots with
a per-vertex fraction of the angle, so skin stretches smoothly between moving and still parts.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from s2t.face.rig import sculpt
from s2t.face.rig.build import RigGeometry

ARKIT_52 = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)  # fmt: skip

JAW_OPEN_ANGLE = 0.30  # radians: about 3 cm between the lips
GAZE_ANGLE = 0.38  # radians of eyeball rotation at full look
Y_M, X_C = sculpt.MOUTH_Y, sculpt.MOUTH_CORNER[0]


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def gauss(v: np.ndarray, centre, radii) -> np.ndarray:
    return np.exp(-(((v - np.asarray(centre)) / np.asarray(radii)) ** 2).sum(-1))


class ShapeBuilder:
    """Holds the neutral rig and the masks the shape definitions share."""

    def __init__(self, geo: RigGeometry) -> None:
        self.geo = geo
        self.v = geo.vertices
        self.x, self.y, self.z = self.v.T
        self.skin = geo.mask("skin")
        self.upper = geo.mask("above_mouth")
        self.lower = geo.mask("below_mouth")
        self.jaw = self._jaw_weight()
        self.jaw_open = self._rotate_x(sculpt.JAW_HINGE, JAW_OPEN_ANGLE * self.jaw)

    # --- masks -------------------------------------------------------------------------
    def _lip_follow(self) -> np.ndarray:
        """How much each skin vertex follows the lower jaw near the mouth (corners: half)."""
        ax = np.abs(self.x)
        inside = ax <= X_C
        ramp = smoothstep(0.5 * X_C, X_C, ax)
        above = 1 - smoothstep(0.0, 0.015, self.y - Y_M)
        outside = 0.5 * (1 - smoothstep(X_C, X_C + 0.03, ax))
        lower = np.where(inside, 1 - 0.5 * ramp, outside)
        upper = np.where(inside, 0.5 * ramp, outside) * above
        # The mouth row beyond the corners belongs to neither side; the "upper" formula equals
        # the lateral one there, so it continues smoothly around the head.
        return np.where(self.lower, lower, upper) * self.skin

    def _jaw_weight(self) -> np.ndarray:
        ax = np.abs(self.x)
        # The jaw's upper edge: just under the lower lip in front, rising to the hinge at the sides.
        boundary = np.interp(ax, [X_C + 0.008, 0.068], [Y_M - 0.015, -0.03])
        below_line = smoothstep(boundary + 0.015, boundary - 0.03, self.y)
        w = np.maximum(below_line, self._lip_follow()) * self.skin
        w *= (1 - smoothstep(-0.125, -0.165, self.y)) * smoothstep(-0.015, 0.015, self.z)
        w[self.geo.regions["teeth_lower"]] = 1.0
        w[self.geo.regions["tongue"]] = 1.0
        cavity = self.geo.regions["mouth_cavity"]
        w[cavity] = smoothstep(Y_M + 0.006, Y_M - 0.01, self.y[cavity])
        return w

    def lips(self, side_mask: np.ndarray, dy: float, rx: float = 1.05) -> np.ndarray:
        """Lip band above (dy > 0) or below (dy < 0) the mouth line."""
        return side_mask * gauss(self.v, (0, Y_M + dy, 0.096), (X_C * rx, abs(dy) + 0.004, 0.02))

    def lip_block(self, side_mask: np.ndarray, direction: int) -> np.ndarray:
        """The whole lip on one side of the slit at full weight (fading past the vermilion)."""
        lateral = np.exp(-((self.x / (X_C * 1.05)) ** 2))
        beyond = (self.y - Y_M) * direction
        return side_mask * lateral * (1 - smoothstep(0.006, 0.018, beyond)) * (self.z > 0.07)

    def corner(self, sign: float) -> np.ndarray:
        return self.skin * gauss(self.v, (X_C * sign, Y_M, 0.088), (0.014, 0.012, 0.02)) * (self.z > 0.04)

    def half(self, sign: float) -> np.ndarray:
        """Smooth selector of one side of the face (sign +1: left)."""
        return smoothstep(-0.006, 0.008, self.x * sign)

    def brow(self, centre, radii) -> np.ndarray:
        return self.skin * gauss(self.v, centre, radii) * smoothstep(0.006, 0.016, self.y)

    # --- deformers ---------------------------------------------------------------------
    def _rotate_x(self, pivot, angles: np.ndarray) -> np.ndarray:
        moved = sculpt.rotate_about_x(self.v, np.asarray(pivot), angles)
        return moved - self.v

    def _rotate_y(self, ids: np.ndarray, pivot, angle: float) -> np.ndarray:
        delta = np.zeros_like(self.v)
        q = self.v[ids] - pivot
        c, s = np.cos(angle), np.sin(angle)
        delta[ids] = np.stack([q[:, 0] * c + q[:, 2] * s, q[:, 1], -q[:, 0] * s + q[:, 2] * c], -1) - q
        return delta

    def translate(self, weight: np.ndarray, offset) -> np.ndarray:
        return weight[:, None] * np.asarray(offset, float)

    def lids(self, side: str, upper_angle: float, lower_angle: float) -> np.ndarray:
        """Rotate the lids of one eye about its centre (positive angle: downward)."""
        centre = sculpt.EYE_CENTRE * np.array([1.0 if side == "left" else -1.0, 1, 1])
        angle = upper_angle * self.geo.lid_weights[f"upper_{side}"] + lower_angle * self.geo.lid_weights[f"lower_{side}"]
        return self._rotate_x(centre, angle)

    def gaze(self, side: str, pitch: float = 0.0, yaw: float = 0.0) -> np.ndarray:
        centre = sculpt.EYE_CENTRE * np.array([1.0 if side == "left" else -1.0, 1, 1])
        ids = self.geo.regions[f"eyeball_{side}"]
        angles = np.zeros(len(self.v))
        angles[ids] = pitch
        delta = self._rotate_x(centre, angles) if pitch else np.zeros_like(self.v)
        return delta + (self._rotate_y(ids, centre, yaw) if yaw else 0.0)


def _eye_shapes(b: ShapeBuilder, side: str, sign: float) -> dict[str, np.ndarray]:
    up, down = sculpt.LID_OPEN_UP, sculpt.LID_OPEN_DOWN
    suffix = side.capitalize()
    cheek = b.skin * gauss(b.v, (0.034 * sign, -0.013, 0.078), (0.016, 0.01, 0.02))
    return {
        f"eyeBlink{suffix}": b.lids(side, up + 0.3 * down, -0.7 * down),
        f"eyeSquint{suffix}": b.lids(side, 0.08, -0.45 * down) + b.translate(cheek, (0, 0.0022, 0.001)),
        f"eyeWide{suffix}": b.lids(side, -0.28, 0.08),
        f"eyeLookUp{suffix}": b.gaze(side, pitch=-GAZE_ANGLE) + b.lids(side, -0.14, -0.06),
        f"eyeLookDown{suffix}": b.gaze(side, pitch=GAZE_ANGLE) + b.lids(side, 0.22, 0.05),
        # Looking "in" turns the cornea toward the nose: -x for the left eye, +x for the right.
        f"eyeLookIn{suffix}": b.gaze(side, yaw=-GAZE_ANGLE * sign),
        f"eyeLookOut{suffix}": b.gaze(side, yaw=GAZE_ANGLE * sign),
    }


def _mouth_side_shapes(b: ShapeBuilder, side: str, sign: float) -> dict[str, np.ndarray]:
    s = side.capitalize()
    corner, half = b.corner(sign), b.half(sign)
    lip_band = b.skin * gauss(b.v, (0, Y_M, 0.095), (X_C * 1.1, 0.013, 0.02))
    cheek = b.skin * gauss(b.v, (0.035 * sign, -0.045, 0.075), (0.016, 0.014, 0.02))
    lower_half = b.lower * gauss(b.v, (0.012 * sign, Y_M - 0.004, 0.096), (0.014, 0.008, 0.02))
    upper_half = b.upper * gauss(b.v, (0.012 * sign, Y_M + 0.005, 0.096), (0.014, 0.009, 0.02))
    press = np.stack([np.zeros_like(b.y), -(b.y - Y_M) * 0.35, np.full_like(b.y, -0.001)], -1)
    return {
        f"mouthSmile{s}": b.translate(corner, (0.006 * sign, 0.008, -0.004)) + b.translate(cheek, (0.0015 * sign, 0.004, 0.003)),
        f"mouthFrown{s}": b.translate(corner, (0.002 * sign, -0.007, -0.001)),
        f"mouthDimple{s}": b.translate(corner, (0.004 * sign, 0.0005, -0.005)),
        f"mouthStretch{s}": b.translate(corner, (0.008 * sign, -0.004, -0.003)) + b.translate(lower_half, (0.003 * sign, -0.002, 0)),
        f"mouthPress{s}": (lip_band * half)[:, None] * press,
        f"mouthLowerDown{s}": b.translate(lower_half, (0, -0.0065, 0.001)),
        f"mouthUpperUp{s}": b.translate(upper_half, (0, 0.005, 0.001)),
        f"mouth{s}": b.translate(b.skin * gauss(b.v, (0, Y_M, 0.095), (0.035, 0.022, 0.03)), (0.01 * sign, 0, 0)),
        f"jaw{s}": b.translate(b.jaw, (0.009 * sign, 0, 0)),
        f"cheekSquint{s}": b.translate(b.skin * gauss(b.v, (0.042 * sign, -0.018, 0.065), (0.017, 0.012, 0.02)), (0.001 * sign, 0.004, 0.002)),
        f"noseSneer{s}": b.translate(b.skin * gauss(b.v, (0.012 * sign, -0.03, 0.1), (0.009, 0.012, 0.02)), (0, 0.004, 0.001))
        + b.translate(b.upper * gauss(b.v, (0.012 * sign, Y_M + 0.01, 0.095), (0.01, 0.01, 0.02)), (0, 0.002, 0)),
        f"browDown{s}": b.translate(b.brow((0.03 * sign, 0.026, 0.08), (0.026, 0.012, 0.025)), (-0.002 * sign, -0.005, 0.001)),
        f"browOuterUp{s}": b.translate(b.brow((0.05 * sign, 0.024, 0.065), (0.018, 0.014, 0.025)), (0, 0.006, 0)),
    }


def _mouth_shapes(b: ShapeBuilder) -> dict[str, np.ndarray]:
    lip_band = b.skin * gauss(b.v, (0, Y_M, 0.095), (X_C * 1.1, 0.013, 0.02))
    edge = gauss(b.v, (0, Y_M, 0.096), (X_C * 0.8, 0.006, 0.02))
    parting = (b.upper * 0.003 - b.lower * 0.004) * edge
    lower_lip, upper_lip = b.lips(b.lower, -0.006), b.lips(b.upper, 0.005)
    lower_edge = b.geo.regions["mouth_lower_edge"]
    reference = b.jaw_open[lower_edge[len(lower_edge) // 2]]
    tongue = b.geo.regions["tongue"]
    tongue_out = np.zeros_like(b.v)
    tz = b.z[tongue]
    tongue_out[tongue] = np.outer(0.3 + 0.7 * smoothstep(tz.min(), tz.max(), tz), (0, -0.006, 0.03))
    return {
        "jawOpen": b.jaw_open,
        "jawForward": b.translate(b.jaw, (0, 0, 0.009)),
        "mouthClose": -0.65 * b.jaw_open * b.lip_block(b.lower, -1)[:, None] + 0.35 * b.lip_block(b.upper, 1)[:, None] * reference,
        "mouthFunnel": np.stack([-0.3 * b.x * lip_band, parting, 0.008 * lip_band], -1),
        "mouthPucker": np.stack([-0.45 * b.x * lip_band, -(b.y - Y_M) * 0.3 * lip_band, 0.011 * lip_band], -1),
        "mouthRollLower": b.translate(b.lips(b.lower, -0.004, 1.0), (0, 0.002, -0.006)),
        "mouthRollUpper": b.translate(b.lips(b.upper, 0.004, 1.0), (0, -0.002, -0.006)),
        "mouthShrugLower": b.translate(b.lower * gauss(b.v, (0, -0.086, 0.09), (0.025, 0.02, 0.03)), (0, 0.004, 0.003)),
        "mouthShrugUpper": b.translate(upper_lip, (0, 0.003, 0.002)),
        "browInnerUp": b.translate(np.maximum(b.brow((0.013, 0.027, 0.085), (0.014, 0.014, 0.02)),
                                              b.brow((-0.013, 0.027, 0.085), (0.014, 0.014, 0.02))), (0, 0.007, 0)),
        "cheekPuff": (np.maximum(gauss(b.v, (0.042, -0.055, 0.062), (0.02, 0.02, 0.025)),
                                 gauss(b.v, (-0.042, -0.055, 0.062), (0.02, 0.02, 0.025))) * b.skin * 0.009)[:, None] * b.geo.normals,
        "tongueOut": tongue_out,
    }


SHAPE_GROUPS: tuple[Callable[[ShapeBuilder], dict[str, np.ndarray]], ...] = (
    lambda b: _eye_shapes(b, "left", 1.0),
    lambda b: _eye_shapes(b, "right", -1.0),
    lambda b: _mouth_side_shapes(b, "left", 1.0),
    lambda b: _mouth_side_shapes(b, "right", -1.0),
    _mouth_shapes,
)


def build_blendshapes(geo: RigGeometry) -> np.ndarray:
    """Expression basis ``(52, V, 3)`` in :data:`ARKIT_52` order."""
    builder = ShapeBuilder(geo)
    shapes: dict[str, np.ndarray] = {}
    for group in SHAPE_GROUPS:
        shapes.update(group(builder))
    missing = set(ARKIT_52) - set(shapes)
    if missing:
        raise RuntimeError(f"blendshapes not defined: {sorted(missing)}")
    return np.stack([shapes[name] for name in ARKIT_52]).astype(np.float32)
