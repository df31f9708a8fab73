"""The add-on's state on the Scene: the inputs of a take, and the job state panels draw."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

EMOTION_PRESETS = (
    ("neutral", "Neutral", "He talks calmly with a neutral expression."),
    ("happy", "Happy", "She is happy, smiling warmly with raised cheeks."),
    ("sad", "Sad", "He is sad, with lowered lip corners and raised inner brows."),
    ("angry", "Angry", "She is angry, frowning hard with pressed lips."),
    ("surprised", "Surprised", "He is surprised, eyes wide and brows raised."),
    ("fear", "Fearful", "She is afraid, eyes wide and lips stretched."),
    ("disgusted", "Disgusted", "He is disgusted, wrinkling his nose."),
    ("contempt", "Contempt", "She shows contempt with a one-sided smirk."),
)
ART_PRESETS = ("cel", "comic", "noir", "oil", "pastel", "watercolour", "swirls", "pointillist", "sketch", "cartoon")


def _apply_emotion_preset(self, context: bpy.types.Context) -> None:
    if self.emotion_preset != "CUSTOM":
        self.emotion_text = dict((key, text) for key, _, text in EMOTION_PRESETS)[self.emotion_preset]


class S2TSceneProperties(bpy.types.PropertyGroup):
    """``scene.style2talker``: what the user chose, and what the backend job reports.

    Panels only read these; operators and the backend poll timer (runtime.py) write them.
    """

    photo_path: StringProperty(name="Identity Photo", subtype="FILE_PATH",
                               description="Photo of the person whose face is animated")
    audio_path: StringProperty(name="Audio", subtype="FILE_PATH",
                               description="Speech that drives the lips; also placed in the sequencer on import")
    emotion_text: StringProperty(name="Emotion", default="neutral",
                                 description="How the face should feel, in words (e.g. 'cheerful and surprised')")
    emotion_preset: EnumProperty(
        name="Preset", description="Fill the emotion text with a sentence for one of the eight MEAD emotions",
        items=[("CUSTOM", "Custom", "Keep the text as written")] + [(k, n, t) for k, n, t in EMOTION_PRESETS],
        default="CUSTOM", update=_apply_emotion_preset)
    emotion_strength: FloatProperty(name="Strength", default=1.0, min=0.0, max=2.0,
                                    description="0 neutral talking, 1 as trained, above 1 exaggerated")
    emotion_from_markers: BoolProperty(
        name="Emotion from Markers",
        description="Timeline markers named with an emotion sentence change the emotion from their frame on "
                    "(cross-faded over half a second); the emotion above holds until the first marker")
    audio_strip: StringProperty(name="Sound Strip",
                                description="Use this sound strip of the Sequencer instead of an audio file "
                                            "(the take then starts where the strip starts)")
    art_preset: EnumProperty(
        name="Art Style", description="A built-in art style, or a picture of your own",
        items=[("NONE", "None (photo)", "Render the photo without an art style"),
               ("PICTURE", "Picture...", "The art style of the picture below")]
        + [(name, name.title(), f"The built-in {name} style") for name in ART_PRESETS],
        default="cel")
    art_path: StringProperty(name="Art Picture", subtype="FILE_PATH",
                             description="Picture whose art style the stylized render follows")
    renderer: EnumProperty(
        name="Renderer", description="Which Style-A renders the frames",
        items=[("AUTO", "Auto", "The CPU renderer (the neural one only when chosen)"),
               ("CPU", "CPU", "Style-A without weights: the photo warped along the rig, styled after the art"),
               ("NEURAL", "Neural", "DualStyleGAN-based Style-A; needs a backend started with --style-a")],
        default="AUTO")
    art_strength: FloatProperty(name="Art Strength", default=1.0, min=0.0, max=1.0, subtype="FACTOR",
                                description="0 keeps the photo's look, 1 follows the art style fully")
    seed: IntProperty(name="Seed", default=0, min=0, description="Random seed of the generation")
    variants: IntProperty(name="Takes", default=1, min=1, max=8,
                          description="Takes of the same line to generate, one per seed from Seed on; each "
                                      "becomes its own action (and NLA track on a character set to stack takes)")
    resolution: EnumProperty(name="Resolution", description="Side of the square stylized frames, in pixels",
                             items=[("256", "256 px", ""), ("512", "512 px", ""), ("1024", "1024 px", "")],
                             default="512")
    frame_start: IntProperty(name="Frame Start", default=1, description="Scene frame of the take's first keyframe")
    job_status: EnumProperty(
        name="Status",
        items=[("IDLE", "Idle", ""), ("RUNNING", "Running", ""), ("DONE", "Done", ""),
               ("FAILED", "Failed", ""), ("CANCELLED", "Cancelled", "")],
        default="IDLE",
    )
    job_kind: StringProperty(name="Job")
    job_stage: StringProperty(name="Stage")
    job_progress: FloatProperty(name="Progress", default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    job_error: StringProperty(name="Error")
    last_take: StringProperty(name="Last Take", description="The Action the last generation made")


CLASSES = (S2TSceneProperties,)
