"""The add-on's state on the Scene: the inputs of a take, and the job state panels draw."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, StringProperty


class S2TSceneProperties(bpy.types.PropertyGroup):
    """``scene.style2talker``: what the user chose, and what the backend job reports.

    Panels only read these; operators (and, later, the backend poll timer) write them.
    """

    photo_path: StringProperty(name="Identity Photo", subtype="FILE_PATH",
                               description="Photo of the person whose face is animated")
    audio_path: StringProperty(name="Audio", subtype="FILE_PATH",
                               description="Speech that drives the lips; also placed in the sequencer on import")
    emotion_text: StringProperty(name="Emotion", default="neutral",
                                 description="How the face should feel, in words (e.g. 'cheerful and surprised')")
    emotion_strength: FloatProperty(name="Strength", default=1.0, min=0.0, max=2.0,
                                    description="Scale of the emotion's effect; 0 is neutral")
    art_path: StringProperty(name="Art Picture", subtype="FILE_PATH",
                             description="Picture whose art style the stylized render follows")
    seed: IntProperty(name="Seed", default=0, min=0, description="Random seed of the generation")
    resolution: IntProperty(name="Resolution", default=256, min=64, max=2048, step=64,
                            description="Side of the square stylized frames, in pixels")
    frame_start: IntProperty(name="Frame Start", default=1, description="Scene frame of the take's first keyframe")
    job_status: EnumProperty(
        name="Status",
        items=[("IDLE", "Idle", ""), ("RUNNING", "Running", ""), ("DONE", "Done", ""),
               ("FAILED", "Failed", ""), ("CANCELLED", "Cancelled", "")],
        default="IDLE",
    )
    job_progress: FloatProperty(name="Progress", default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    job_error: StringProperty(name="Error")


CLASSES = (S2TSceneProperties,)
