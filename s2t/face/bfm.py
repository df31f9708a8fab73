"""The Basel Face Model as Deep3DFaceRecon and SadTalker use it (``BFM_model_front.mat``).

The file is Deep3DFaceRecon's crop of the Basel Face Model 2009 (35709 vertices) with Guo et
al.'s expression basis. Its licence does not allow us to ship it; users who have it point
:func:`load_bfm` at it. What the file holds (from Deep3DFaceRecon_pytorch ``util/load_mats.py``
and ``models/bfm.py``):

- ``meanshape`` ``(1, 3N)``, ``idBase`` ``(3N, 80)``, ``exBase`` ``(3N, 64)``: the 3N rows are
  x, y, z of vertex 0, then of vertex 1, ...; units are decimetres (the BFM's micrometres
  divided by 1e5). The bases already carry the PCA standard deviations, so coefficients are
  plain multipliers of order 1.
- ``tri`` ``(F, 3)`` and ``keypoints`` (68 iBUG landmarks): 1-based vertex indices.
- ``frontmask2_idx`` (1-based vertex indices of the photometric-loss region) and ``skinmask``
  (a 0/1 flag per vertex) are optional here; ``meantex``, ``texBase``, ``point_buf`` and
  ``tri_mask2`` are not used.

Deep3DFaceRecon recentres the mean shape on load (``recenter=True``, SadTalker keeps that
default), and its pose translation and camera distance (10 dm) are relative to that centre, so
this loader recentres too: SadTalker's 64 expression + 3 angle + 3 translation coefficients
then mean the same geometry here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import loadmat

from s2t.face.model import FaceModel

BFM_FILENAME = "BFM_model_front.mat"
BFM_MODEL_ID = "bfm-deep3d"
NUM_EXPRESSIONS = 64
NUM_IDENTITY = 80
BFM_EXPRESSION_NAMES = tuple(f"exp{i:02d}" for i in range(NUM_EXPRESSIONS))
EXPRESSION_BOUND = 10.0
"""PCA coefficients are in standard deviations; fits stay well inside ±10."""

_MISSING_HELP = (
    f"{BFM_FILENAME} is not included: the Basel Face Model's licence forbids redistribution. "
    "Build it as Deep3DFaceRecon_pytorch describes (https://github.com/sicxu/Deep3DFaceRecon_pytorch, "
    "'Prepare prerequisite models'): register with the University of Basel to download the "
    "Basel Face Model 2009 (01_MorphableModel.mat, https://faces.dmi.unibas.ch/bfm/), get "
    "Exp_Pca.bin from Guo et al.'s CoarseData (https://github.com/Juyong/3DFace), put both in "
    f"Deep3DFaceRecon's BFM/ folder and run its conversion, which writes BFM/{BFM_FILENAME}. "
    f"A SadTalker installation also has it in checkpoints/BFM_Fitting/{BFM_FILENAME}."
)


def load_bfm(path: str | Path) -> FaceModel:
    """Load ``BFM_model_front.mat`` (or a folder holding it) as a :class:`FaceModel`.

    Raises ``FileNotFoundError`` explaining how to obtain the file when it is absent, and
    ``ValueError`` naming the key when a required array is missing or misshapen.
    """
    path = Path(path)
    if path.is_dir():
        path = path / BFM_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"No Basel Face Model at {path}. {_MISSING_HELP}")
    mat = loadmat(str(path))

    mean = _array(mat, "meanshape").astype(np.float64).ravel()
    if mean.size == 0 or mean.size % 3:
        raise ValueError(f"{BFM_FILENAME}: 'meanshape' must hold 3N values (x, y, z per vertex), got {mean.size}")
    n = mean.size // 3
    id_base = _basis(mat, "idBase", n, NUM_IDENTITY)
    exp_base = _basis(mat, "exBase", n, NUM_EXPRESSIONS)
    triangles = _indices(mat, "tri", n)
    if triangles.ndim != 2 or triangles.shape[1] != 3:
        raise ValueError(f"{BFM_FILENAME}: 'tri' must be (F, 3), got {triangles.shape}")
    keypoints = _indices(mat, "keypoints", n).ravel()
    if keypoints.shape != (68,):
        raise ValueError(f"{BFM_FILENAME}: 'keypoints' must hold 68 landmark indices, got {keypoints.size}")

    vertices = mean.reshape(n, 3)
    vertices = vertices - vertices.mean(axis=0)
    return FaceModel(
        model_id=BFM_MODEL_ID,
        vertices=vertices.astype(np.float32),
        triangles=triangles.astype(np.int32),
        expression_names=BFM_EXPRESSION_NAMES,
        expression_basis=exp_base,
        landmark_indices=keypoints.astype(np.int32),
        identity_basis=id_base,
        identity_names=tuple(f"id{i:02d}" for i in range(NUM_IDENTITY)),
        expression_bounds=np.tile(np.array([-EXPRESSION_BOUND, EXPRESSION_BOUND], np.float32), (NUM_EXPRESSIONS, 1)),
        units="dm",
        regions=_regions(mat, n),
    )


def _array(mat: dict, key: str) -> np.ndarray:
    if key not in mat:
        raise ValueError(f"{BFM_FILENAME}: required key '{key}' is missing (is this Deep3DFaceRecon's file?)")
    return np.asarray(mat[key])


def _basis(mat: dict, key: str, n: int, k: int) -> np.ndarray:
    """A ``(3N, k)`` basis as ``(k, N, 3)``: column j holds x, y, z of each vertex in turn."""
    basis = _array(mat, key)
    if basis.shape != (3 * n, k):
        raise ValueError(f"{BFM_FILENAME}: '{key}' must be (3N={3 * n}, {k}), got {basis.shape}")
    return np.ascontiguousarray(basis.T.reshape(k, n, 3), dtype=np.float32)


def _indices(mat: dict, key: str, n: int) -> np.ndarray:
    """1-based vertex indices as 0-based, checked to lie in ``[0, n)``."""
    idx = _array(mat, key).astype(np.int64) - 1
    if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"{BFM_FILENAME}: '{key}' must hold 1-based vertex indices in 1..{n}")
    return idx


def _regions(mat: dict, n: int) -> dict[str, np.ndarray]:
    regions = {}
    if "frontmask2_idx" in mat:
        regions["front"] = _indices(mat, "frontmask2_idx", n).ravel().astype(np.int32)
    if "skinmask" in mat:
        skin = np.asarray(mat["skinmask"]).ravel()
        if skin.size != n:
            raise ValueError(f"{BFM_FILENAME}: 'skinmask' must flag each of the {n} vertices, got {skin.size}")
        regions["skin"] = np.flatnonzero(skin).astype(np.int32)
    return regions
