"""File operators (no backend needed): import a face rig, import a take as keyframes, export
the (edited) F-curves; and the poll helpers every operator shares."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import character, compat, core, rig, sequencer


def rig_problem(context: bpy.types.Context) -> str:
    """Why the active object is not a face rig built by this add-on ("" when it is)."""
    obj = context.active_object
    if obj is None or "s2t_model_id" not in obj or obj.type != "MESH":
        return "Select a face rig first (Build Face Rig makes one)"
    if obj.data.shape_keys is None:
        return "The face rig has lost its shape keys; build it again"
    return ""


def target_problem(context: bpy.types.Context) -> str:
    """Why the active object cannot take a take: neither our face rig nor a mesh with shape keys."""
    obj = context.active_object
    return rig_problem(context) if character.is_proxy(obj) else character.character_problem(obj)


def take_problem(context: bpy.types.Context) -> str:
    """Why there is no take on the active face rig or character to export or render ("" when there is)."""
    obj = character.take_holder(context.active_object)
    if obj is not None and not character.is_proxy(obj) and not character.character_problem(obj):
        if character.take_action(obj) is None:
            return f"{obj.name} has no take yet (Generate Animation or Import Coefficients first)"
        return ""
    problem = rig_problem(context)
    if not problem and not compat.fcurves(context.active_object.data.shape_keys):
        problem = "The face rig has no take yet (Generate Animation or Import Coefficients first)"
    return problem


def read_active_take(context: bpy.types.Context) -> tuple[core.Take, int, str]:
    """The active face rig's or character's take with its edits, its first frame and its Action's name
    (with the character's armature or head object active, the character's)."""
    obj = character.take_holder(context.active_object)
    if character.is_proxy(obj):
        take, first_frame = rig.read_take(context.scene, obj)
        return take, first_frame, obj.data.shape_keys.animation_data.action.name
    take, first_frame = character.read_take(context.scene, obj)
    return take, first_frame, take.metadata["blender_action"]


def take_audio(take: core.Take, fallback: str) -> str:
    """The take's own speech when it names a file that exists, else ``fallback`` (the panel's)."""
    own = take.metadata.get("audio")
    return own if isinstance(own, str) and own and Path(own).is_file() else fallback


def poll_with_reason(cls: type, reason: str) -> bool:
    """Poll result; a disabled button shows ``reason`` as its tooltip where Blender supports it."""
    if reason and hasattr(cls, "poll_message_set"):
        cls.poll_message_set(reason)
    return not reason


class S2T_OT_import_face_rig(bpy.types.Operator, ImportHelper):
    """Build a face rig from a face model file (.npz, e.g. from `s2t rig export`), without a backend"""

    bl_idname = "s2t.import_face_rig"
    bl_label = "Import Face Rig"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            face = core.load_rig(self.filepath)
        except (OSError, ValueError) as exc:
            self.report({"ERROR"}, f"Cannot read the face model: {exc}")
            return {"CANCELLED"}
        obj = rig.build_rig_object(context.scene, context.view_layer, face)
        self.report({"INFO"}, f"Built {obj.name}: {len(face.vertices)} vertices, {len(face.channel_names)} shape keys")
        return {"FINISHED"}


class S2T_OT_import_coefficients(bpy.types.Operator, ImportHelper):
    """Key a coefficient file (.npz) onto the active face rig or character as a new take"""

    bl_idname = "s2t.import_coefficients"
    bl_label = "Import Coefficients"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})
    take_name: StringProperty(name="Take", description="Name of the new Action (default: the file's name)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, target_problem(context))

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = context.active_object
        try:
            take = core.load_take(self.filepath)
        except (OSError, ValueError) as exc:
            self.report({"ERROR"}, f"Cannot read the coefficients: {exc}")
            return {"CANCELLED"}
        props = context.scene.style2talker
        audio = take_audio(take, bpy.path.abspath(props.audio_path) if props.audio_path else "")
        if not character.is_proxy(obj):
            from .character_ui import apply_reporting

            result = apply_reporting(self, context, obj, take, self.take_name or Path(self.filepath).stem)
            if result == {"FINISHED"} and audio:
                sequencer.add_sound_strip(context.scene, audio, props.last_take, props.frame_start)
            return result
        missing = [name for name in take.channel_names if name not in obj.data.shape_keys.key_blocks]
        if take.model_id != obj["s2t_model_id"] or missing:
            self.report({"ERROR"}, f"The take is for {take.model_id!r} but the rig is {obj['s2t_model_id']!r} "
                                   f"(shape keys missing: {missing[:5]})")
            return {"CANCELLED"}
        action = rig.apply_take(context.scene, obj, take, self.take_name or Path(self.filepath).stem)
        if audio:
            sequencer.add_sound_strip(context.scene, audio, action.name, props.frame_start)
        self.report({"INFO"}, f"Take {action.name!r}: {take.num_frames} frames at {take.fps:g} fps")
        return {"FINISHED"}


class S2T_OT_export_coefficients(bpy.types.Operator, ExportHelper):
    """Write the active face rig's or character's take, hand edits included, as a coefficient file (.npz)"""

    bl_idname = "s2t.export_coefficients"
    bl_label = "Export Coefficients"
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, take_problem(context))

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            take = read_active_take(context)[0]
            core.save_take(self.filepath, take)
        except ValueError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        except OSError as exc:
            self.report({"ERROR"}, f"Cannot write {self.filepath}: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {take.num_frames} frames at {take.fps:g} fps to {self.filepath}")
        return {"FINISHED"}


CLASSES = (S2T_OT_import_face_rig, S2T_OT_import_coefficients, S2T_OT_export_coefficients)
