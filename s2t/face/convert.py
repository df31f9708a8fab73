"""Carry expression coefficients from one face model to another (e.g. Basel PCA -> ARKit rig).

Two models share no vertices, but both mark the 68 iBUG landmarks. Each source channel moves
those landmarks somehow; the converter finds target coefficients whose landmark motion
matches by (ridge-regularised, bounds-respecting) least squares. The neutral landmark sets are
first aligned by a similarity transform, so models in different units (dm vs m), origins and
slight tilts compare directly. Conversion is linear apart from the bounds, so the projection
is precomputed once per model pair.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import lsq_linear

from s2t.face.coeffs import CoeffSequence
from s2t.face.model import FaceModel

_INERT = 1e-6
"""A channel whose landmark motion is below this fraction of the largest channel's moves no landmark."""


def similarity_transform(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale ``s``, rotation ``R`` and translation ``t`` minimising ``|s R source + t - target|²``.

    ``source`` and ``target`` are corresponding points ``(N, 3)``; this is Umeyama's closed form
    (the SVD of the cross-covariance, with the reflection removed).
    """
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    mu_s, mu_t = source.mean(0), target.mean(0)
    src, tgt = source - mu_s, target - mu_t
    u, sing, vt = np.linalg.svd(tgt.T @ src / len(source))
    sign = np.ones(3)
    sign[2] = np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0
    rotation = u @ np.diag(sign) @ vt
    scale = float((sing * sign).sum() / (src**2).sum(1).mean())
    return scale, rotation, mu_t - scale * rotation @ mu_s


class ExpressionConverter:
    """Projects expression coefficients of ``source`` onto ``target``'s channels.

    ``ridge`` is relative: the penalty on ``|x|²`` is ``ridge`` times the mean squared landmark
    motion of the target's channels, so the same value suits models of any size or unit. It
    keeps nearly redundant target channels (left/right pairs, PCA tails) from fighting each
    other. Target channels that move no landmark always come out 0.

    Attributes: ``scale``, ``rotation``, ``translation`` map the source's neutral landmarks onto
    the target's (:func:`similarity_transform`); ``active`` lists the target channels that move
    landmarks.
    """

    def __init__(self, source: FaceModel, target: FaceModel, ridge: float = 1e-3) -> None:
        if ridge < 0:
            raise ValueError(f"ridge must be >= 0, got {ridge}")
        self.source = source
        self.target = target
        self.scale, self.rotation, self.translation = similarity_transform(
            source.vertices[source.landmark_indices], target.vertices[target.landmark_indices]
        )
        # landmark motion per channel as matrix columns (68*3 rows), source mapped into the target's frame
        src_motion = self.scale * source.expression_basis[:, source.landmark_indices].astype(np.float64) @ self.rotation.T
        tgt_motion = target.expression_basis[:, target.landmark_indices].astype(np.float64)
        self._source_matrix = src_motion.reshape(source.num_expressions, -1).T
        tgt_matrix = tgt_motion.reshape(target.num_expressions, -1).T

        norms = np.linalg.norm(tgt_matrix, axis=0)
        self.active = np.flatnonzero(norms > _INERT * norms.max(initial=0.0))
        a = tgt_matrix[:, self.active]
        penalty = ridge * float((a**2).sum(0).mean()) if self.active.size else 0.0
        # closed-form ridge solution x = P b for landmark motion b; exact whenever it is within bounds
        gram = a.T @ a + penalty * np.eye(self.active.size)
        self._projection = np.linalg.lstsq(gram, a.T, rcond=None)[0]
        # the same objective as one stacked least-squares system, for the bounded solver
        self._stacked = np.vstack([a, np.sqrt(penalty) * np.eye(self.active.size)])
        bounds = np.asarray(target.expression_bounds, np.float64)[self.active]
        self._lower, self._upper = bounds[:, 0], bounds[:, 1]

    def convert(self, expression: np.ndarray) -> np.ndarray:
        """Target coefficients ``(T, Kt)`` for source coefficients ``(T, Ks)``."""
        expression = np.asarray(expression, np.float64)
        if expression.ndim != 2 or expression.shape[1] != self.source.num_expressions:
            raise ValueError(
                f"expected expression (T, {self.source.num_expressions}) for {self.source.model_id}, got {expression.shape}"
            )
        motion = expression @ self._source_matrix.T
        solved = motion @ self._projection.T
        tol = 1e-9 * (1.0 + np.abs(solved))
        outside = np.any((solved < self._lower - tol) | (solved > self._upper + tol), axis=1)
        padding = np.zeros(self.active.size)
        for t in np.flatnonzero(outside):
            rhs = np.concatenate([motion[t], padding])
            solved[t] = lsq_linear(self._stacked, rhs, bounds=(self._lower, self._upper), method="bvls").x
        result = np.zeros((len(expression), self.target.num_expressions))
        result[:, self.active] = np.clip(solved, self._lower, self._upper)
        return result

    def convert_pose(self, pose: np.ndarray) -> np.ndarray:
        """Pose ``(T, 6)`` for the target: angles kept, translations times the similarity scale.

        Every :class:`FaceModel` uses the same axes, so a head rotation means the same thing in
        both; translations are in model units and place the face relative to the camera, so
        they only change unit. The alignment's rotation and offset just absorb how the two
        meshes happen to sit, and are deliberately not applied to the pose.
        """
        pose = np.array(pose, np.float64)
        if pose.ndim != 2 or pose.shape[1] != 6:
            raise ValueError(f"expected pose (T, 6), got {pose.shape}")
        pose[:, 3:] *= self.scale
        return pose

    def convert_sequence(self, seq: CoeffSequence) -> CoeffSequence:
        """``seq`` (of the source model) as a sequence of the target model, same fps and metadata.

        The metadata gains ``converted_from``: the source model's id.
        """
        if seq.model_id != self.source.model_id or seq.channel_names != self.source.expression_names:
            raise ValueError(
                f"the sequence is for {seq.model_id!r} with {len(seq.channel_names)} channels; this converter "
                f"takes {self.source.model_id!r} with channels {self.source.expression_names[:3]}..."
            )
        return CoeffSequence(
            model_id=self.target.model_id,
            fps=seq.fps,
            channel_names=self.target.expression_names,
            expression=self.convert(seq.expression),
            pose=self.convert_pose(seq.pose),
            metadata={**seq.metadata, "converted_from": self.source.model_id},
        )


def convert_sequence(seq: CoeffSequence, source: FaceModel, target: FaceModel, ridge: float = 1e-3) -> CoeffSequence:
    """One-off conversion of ``seq`` from ``source`` to ``target``; build an :class:`ExpressionConverter` to reuse."""
    return ExpressionConverter(source, target, ridge).convert_sequence(seq)
