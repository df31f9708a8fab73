"""Face models (the embedded ARKit-52 rig and the Basel Face Model), pose, camera, fitting."""

from __future__ import annotations

from pathlib import Path

from s2t.face.camera import Camera
from s2t.face.coeffs import CoeffSequence
from s2t.face.model import IBUG68_GROUPS, FaceModel
from s2t.face.pose import POSE_NAMES, apply_pose, rotation_matrix

KNOWN_MODELS = {
    "s2t-arkit52": "the embedded rig: 52 ARKit-named blendshapes, built from code",
    "bfm-deep3d": "the Basel Face Model as Deep3DFaceRecon/SadTalker use it: pass the path to BFM_model_front.mat",
}


def load_face_model(name_or_path: str | Path = "s2t-arkit52") -> FaceModel:
    """The one entry point for face models: a known name, a ``BFM_model_front.mat`` (or the
    folder holding it), or a model saved with :meth:`FaceModel.save` (``.npz``)."""
    from s2t.face.bfm import load_bfm
    from s2t.face.rig import RIG_ID, build_rig

    if str(name_or_path) == RIG_ID:
        return build_rig()
    path = Path(name_or_path)
    if path.suffix == ".mat" or path.is_dir():
        return load_bfm(path)
    if path.suffix == ".npz":
        if not path.is_file():
            raise FileNotFoundError(f"face model file not found: {path}")
        return FaceModel.load(path)
    if str(name_or_path) == "bfm-deep3d":
        return load_bfm("BFM_model_front.mat")  # raises with instructions unless it is in the working folder
    known = ", ".join(f"{k} ({v})" for k, v in KNOWN_MODELS.items())
    raise ValueError(f"unknown face model {str(name_or_path)!r}; known: {known}; or a path to a .mat/.npz file")


__all__ = [
    "Camera", "CoeffSequence", "FaceModel", "IBUG68_GROUPS", "KNOWN_MODELS", "POSE_NAMES",
    "apply_pose", "load_face_model", "rotation_matrix",
]  # fmt: skip
