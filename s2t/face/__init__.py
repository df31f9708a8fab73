"""Face models (the embedded ARKit-52 rig and the Basel Face Model), pose, camera, fitting."""

from s2t.face.camera import Camera
from s2t.face.model import IBUG68_GROUPS, FaceModel
from s2t.face.pose import POSE_NAMES, apply_pose, rotation_matrix

__all__ = ["Camera", "FaceModel", "IBUG68_GROUPS", "POSE_NAMES", "apply_pose", "rotation_matrix"]
