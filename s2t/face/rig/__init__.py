"""The embedded face rig: a head sculpted in code with the 52 ARKit-named blendshapes.

``build_rig()`` returns it as a :class:`~s2t.face.model.FaceModel`; it is deterministic and
built from code (a couple of seconds), then cached for the process.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from s2t.face.model import FaceModel

RIG_ID = "s2t-arkit52"


@lru_cache(maxsize=1)
def build_rig() -> FaceModel:
    from s2t.face.rig.blendshapes import ARKIT_52, build_blendshapes
    from s2t.face.rig.build import build_geometry
    from s2t.face.rig.identity import IDENTITY_NAMES, build_identity
    from s2t.face.rig.landmarks import ibug68_indices

    geo = build_geometry()
    bounds = np.tile(np.array([0.0, 1.0], np.float32), (len(ARKIT_52), 1))
    return FaceModel(
        model_id=RIG_ID,
        vertices=geo.vertices.astype(np.float32),
        triangles=geo.triangles.astype(np.int32),
        expression_names=ARKIT_52,
        expression_basis=build_blendshapes(geo),
        landmark_indices=ibug68_indices(geo),
        identity_basis=build_identity(geo),
        identity_names=IDENTITY_NAMES,
        expression_bounds=bounds,
        units="m",
        regions={k: np.asarray(v, np.int32) for k, v in geo.regions.items()},
    )


__all__ = ["RIG_ID", "build_rig"]
