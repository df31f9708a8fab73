"""Identity (face shape) modes of the embedded rig, as smooth displacement fields.

Each mode is what one unit of the coefficient does, about one standard deviation of adult
variation (anthropometric spreads are ~5-8% of the measured length); fitting a photo solves
for these with a unit Gaussian prior. Modes move every part (eyeballs, teeth) with the skin
around them, so the rig stays consistent whatever the identity.
"""

from __future__ import annotations

import numpy as np

from s2t.face.rig import sculpt
from s2t.face.rig.blendshapes import gauss, smoothstep
from s2t.face.rig.build import RigGeometry

IDENTITY_NAMES = (
    "headWidth", "faceLength", "jawWidth", "chinLength", "chinForward", "noseLength", "noseWidth", "noseProjection",
    "eyeSpacing", "eyeSize", "mouthWidth", "lipFullness", "browHeight", "cheekFullness", "faceDepth", "foreheadSlope",
)  # fmt: skip


def build_identity(geo: RigGeometry) -> np.ndarray:
    """Identity basis ``(16, V, 3)`` in :data:`IDENTITY_NAMES` order."""
    v = geo.vertices
    x, y, z = v.T
    zero = np.zeros_like(x)
    face = smoothstep(-0.02, 0.03, z)  # front half of the head
    below_eyes = smoothstep(0.0, -0.03, y)
    lower_face = smoothstep(-0.04, -0.075, y)
    nose = gauss(v, (0, -0.02, 0.105), (0.016, 0.03, 0.03))
    mouth = gauss(v, (0, sculpt.MOUTH_Y, 0.094), (0.035, 0.016, 0.03))
    skin = geo.mask("skin")  # normal-based modes swell the skin only, not teeth or eyeballs
    lips = gauss(v, (0, sculpt.MOUTH_Y, 0.096), (0.026, 0.011, 0.015)) * skin
    eyes = np.maximum(gauss(v, sculpt.EYE_CENTRE, (0.02, 0.016, 0.03)),
                      gauss(v, sculpt.EYE_CENTRE * [-1, 1, 1], (0.02, 0.016, 0.03)))  # fmt: skip
    side = np.sign(x)
    eye_offset = v - sculpt.EYE_CENTRE * np.stack([side, np.ones_like(x), np.ones_like(x)], -1)
    brows = gauss(v, (0, 0.027, 0.08), (0.05, 0.012, 0.03))
    cheeks = np.maximum(gauss(v, (0.045, -0.04, 0.06), (0.022, 0.025, 0.03)),
                        gauss(v, (-0.045, -0.04, 0.06), (0.022, 0.025, 0.03))) * skin  # fmt: skip
    modes = {
        "headWidth": np.stack([0.06 * x, zero, zero], -1),
        "faceLength": np.stack([zero, 0.07 * np.minimum(y, 0) * below_eyes, zero], -1),
        "jawWidth": np.stack([0.09 * x * lower_face * face, zero, zero], -1),
        "chinLength": np.stack([zero, -0.004 * smoothstep(-0.075, -0.11, y) * face, zero], -1),
        "chinForward": np.stack([zero, zero, 0.005 * smoothstep(-0.08, -0.1, y) * face], -1),
        "noseLength": np.stack([zero, -0.0035 * nose, 0.002 * nose], -1),
        "noseWidth": np.stack([0.25 * x * nose, zero, zero], -1),
        "noseProjection": np.stack([zero, zero, 0.0045 * nose], -1),
        "eyeSpacing": np.stack([0.003 * side * eyes, zero, zero], -1),
        "eyeSize": 0.08 * eye_offset * eyes[:, None],
        "mouthWidth": np.stack([0.08 * x * mouth, zero, zero], -1),
        "lipFullness": 0.0018 * lips[:, None] * geo.normals,
        "browHeight": np.stack([zero, 0.0035 * brows, zero], -1),
        "cheekFullness": 0.004 * cheeks[:, None] * geo.normals,
        "faceDepth": np.stack([zero, zero, 0.06 * np.maximum(z, 0) * face], -1),
        "foreheadSlope": np.stack([zero, zero, -0.08 * np.maximum(y - 0.03, 0) * face], -1),
    }
    return np.stack([modes[name] for name in IDENTITY_NAMES]).astype(np.float32)
