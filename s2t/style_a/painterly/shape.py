"""Face shape from the art picture: when it holds a face, its proportions (eye size and
spacing, face length, jaw, nose and mouth width) are carried onto the photo through the rig's
identity modes, the way DualStyleGAN's structure path makes a caricature of a face.

Proportions are ratios of distances between the 68 iBUG landmarks, measured on both pictures
with the same detector (so its biases cancel in the difference). The identity change that
makes the rig's own landmarks change their ratios by that difference is found by least
squares on the modes that own those proportions (a numerical Jacobian at the photo's
identity, with a small ridge). The renderer drives the mesh with the changed identity while
it samples the photo through the photo's own: the warp reshapes the face.
"""

from __future__ import annotations

import numpy as np

from s2t.face import FaceModel

SHAPE_MODES = ("headWidth", "faceLength", "jawWidth", "noseLength", "noseWidth", "eyeSpacing", "eyeSize", "mouthWidth")
MAX_IDENTITY = 4.0
"""Identity coefficients are in standard deviations of adult faces; beyond 4 the modes'
linear displacements start folding the mesh."""
RIDGE = 1e-5


def proportions(points: np.ndarray) -> np.ndarray:
    """``(7,)`` ratios of a face's 68 landmarks (x, y; extra columns ignored): eye width, eye
    spacing, mouth width, nose width and jaw width over the face width; nose length and
    face length over the face height (nose bridge to chin) and width."""
    p = np.asarray(points, np.float64)[:, :2]

    def gap(i: int | slice, j: int | slice) -> float:
        a = p[i].mean(0) if isinstance(i, slice) else p[i]
        b = p[j].mean(0) if isinstance(j, slice) else p[j]
        return float(np.linalg.norm(a - b))

    width, height = gap(0, 16), gap(27, 8)
    eye = (gap(36, 39) + gap(42, 45)) / 2
    return np.array([eye / width, gap(slice(36, 42), slice(42, 48)) / width, gap(48, 54) / width,
                     gap(31, 35) / width, gap(4, 12) / width, gap(27, 33) / height, height / width])


def shape_identity(model: FaceModel, identity: np.ndarray, photo_points: np.ndarray, art_points: np.ndarray,
                   strength: float = 1.0) -> np.ndarray:
    """``identity`` changed so that the rig's face takes ``strength`` of the art face's
    proportions relative to the photo's (both as 68 landmarks in their pictures)."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"face shape strength must be in [0, 1], got {strength}")
    names = getattr(model, "identity_names", None)
    modes = [names.index(n) for n in SHAPE_MODES if n in names] if names else list(range(model.num_identity))
    identity = np.asarray(identity, np.float64)
    if strength == 0.0 or not modes:
        return identity
    wanted = proportions(art_points) - proportions(photo_points)

    def rig_proportions(values: np.ndarray) -> np.ndarray:
        return proportions(model.landmarks(None, values))

    base = rig_proportions(identity)
    jacobian = np.empty((len(base), len(modes)))
    for column, mode in enumerate(modes):
        step = np.zeros_like(identity)
        step[mode] = 0.5
        jacobian[:, column] = (rig_proportions(identity + step) - base) / 0.5
    delta = np.linalg.solve(jacobian.T @ jacobian + RIDGE * np.eye(len(modes)), jacobian.T @ wanted)
    shaped = identity.copy()
    shaped[modes] = np.clip(identity[modes] + strength * delta, -MAX_IDENTITY, MAX_IDENTITY)
    return shaped
