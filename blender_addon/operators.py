"""Operators: build the face rig, import a take as keyframes, export the (edited) F-curves."""

from __future__ import annotations

import json
from pathlib import Path

import bpy
import numpy as np
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import compat, core


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def rig_problem(context: bpy.types.Context) -> str:
    """Why the active object is not a face rig built by this add-on ("" when it is)."""
    obj = context.active_object
    if obj is None or "s2t_model_id" not in obj or obj.type != "MESH":
        return "Select a face rig first (Build Face Rig makes one)"
    if obj.data.shape_keys is None:
        return "The face rig has lost its shape keys; build it again"
    return ""


def take_problem(context: bpy.types.Context) -> str:
    """Why there is no take on the active face rig to export ("" when there is)."""
    problem = rig_problem(context)
    if not problem and not compat.fcurves(context.active_object.data.shape_keys):
        problem = "The face rig has no take yet (Import Coefficients first)"
    return problem


def poll_with_reason(cls: type, reason: str) -> bool:
    """Poll result; a disabled button shows ``reason`` as its tooltip where Blender supports it."""
    if reason and hasattr(cls, "poll_message_set"):
        cls.poll_message_set(reason)
    return not reason


def build_rig_object(context: bpy.types.Context, rig: core.Rig) -> bpy.types.Object:
    """A mesh object with one shape key per channel; the head pose goes on the object."""
    mesh = bpy.data.meshes.new(rig.model_id)
    mesh.from_pydata(rig.vertices.tolist(), [], rig.triangles.tolist())
    mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), bool))
    mesh.update()
    obj = bpy.data.objects.new(rig.model_id, mesh)
    obj.rotation_mode = core.ROTATION_MODE
    obj["s2t_model_id"] = rig.model_id
    obj["s2t_units"] = rig.units
    obj["s2t_channel_names"] = json.dumps(rig.channel_names)
    obj.shape_key_add(name="Basis", from_mix=False)
    for name, coords, (low, high) in zip(rig.channel_names, rig.shape_keys, rig.bounds):
        block = obj.shape_key_add(name=name, from_mix=False)
        block.slider_min = max(float(low), -10.0)  # Blender's slider range is [-10, 10]
        block.slider_max = min(float(high), 10.0)
        block.data.foreach_set("co", coords.ravel())
    context.scene.collection.objects.link(obj)
    for other in context.selected_objects:
        other.select_set(False)
    obj.select_set(True)
    context.view_layer.objects.active = obj
    return obj


def write_keys(id_data: bpy.types.ID, channels: list[core.ChannelKeys]) -> None:
    """The fast path: one ``keyframe_points.add`` + ``foreach_set`` per F-curve, linear keys."""
    linear = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value
    for channel in channels:
        fcurve = compat.new_fcurve(id_data, channel.data_path, channel.index, channel.group)
        points = fcurve.keyframe_points
        points.add(len(channel.co))
        points.foreach_set("co", channel.co.ravel())
        points.foreach_set("interpolation", np.full(len(channel.co), linear, np.int32))
        fcurve.update()


def apply_take(context: bpy.types.Context, obj: bpy.types.Object, take: core.Take, name: str) -> bpy.types.Action:
    """Key ``take`` into two new Actions (shape keys: ``name``; head: ``name head``) from the scene's frame start.

    Returns the shape-key Action. Earlier takes stay in the file untouched.
    """
    scene = context.scene
    metres = core.METRES_PER_UNIT[obj["s2t_units"]]
    keys = core.keyframe_arrays(take, scene_fps(scene), scene.style2talker.frame_start, metres)
    shape_action = compat.new_action(obj.data.shape_keys, name)
    shape_action["s2t_metadata"] = json.dumps(take.metadata)
    shape_action["s2t_source_fps"] = take.fps
    compat.new_action(obj, f"{shape_action.name} head")
    write_keys(obj.data.shape_keys, keys.shape)
    write_keys(obj, keys.pose)
    scene.frame_start, scene.frame_end = keys.frame_start, keys.frame_end
    return shape_action


def read_take(context: bpy.types.Context, obj: bpy.types.Object) -> core.Take:
    """The rig's current animation (edits included), sampled at every scene frame of its keyed range.

    A channel without an F-curve holds its current value.
    """
    key = obj.data.shape_keys
    shape_curves = {fcurve.data_path: fcurve for fcurve in compat.fcurves(key)}
    pose_curves = {(fcurve.data_path, fcurve.array_index): fcurve for fcurve in compat.fcurves(obj)}
    ranges = np.array([fcurve.range() for fcurve in [*shape_curves.values(), *pose_curves.values()]])
    frames = np.arange(int(np.floor(ranges[:, 0].min())), int(np.ceil(ranges[:, 1].max())) + 1)

    def sample(fcurve: bpy.types.FCurve | None, current: float) -> np.ndarray:
        if fcurve is None:
            return np.full(len(frames), current)
        return np.array([fcurve.evaluate(frame) for frame in frames])

    names = tuple(json.loads(obj["s2t_channel_names"]))
    shape = {name: sample(shape_curves.get(core.shape_key_data_path(name)), key.key_blocks[name].value)
             for name in names}
    pose = {(c.data_path, c.index): sample(pose_curves.get((c.data_path, c.index)), getattr(obj, c.data_path)[c.index])
            for c in core.POSE_CHANNELS}
    action = key.animation_data.action
    metadata = {**json.loads(action.get("s2t_metadata", "{}")), "blender_action": action.name,
                "blender_version": bpy.app.version_string}
    return core.take_from_samples(shape, pose, obj["s2t_model_id"], scene_fps(context.scene), names,
                                  core.METRES_PER_UNIT[obj["s2t_units"]], metadata)


def add_audio_strip(context: bpy.types.Context, path: str, name: str, frame_start: int) -> None:
    """The take's audio in the sequencer, so playback lines lips up with speech."""
    compat.sequencer_strips(context.scene).new_sound(name, path, 1, frame_start)


class S2T_OT_build_face_rig(bpy.types.Operator, ImportHelper):
    """Build a mesh with one shape key per expression channel from a face model file (.npz)"""

    bl_idname = "s2t.build_face_rig"
    bl_label = "Build Face Rig"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            rig = core.load_rig(self.filepath)
        except (OSError, ValueError) as exc:
            self.report({"ERROR"}, f"Cannot read the face model: {exc}")
            return {"CANCELLED"}
        obj = build_rig_object(context, rig)
        self.report({"INFO"}, f"Built {obj.name}: {len(rig.vertices)} vertices, {len(rig.channel_names)} shape keys")
        return {"FINISHED"}


class S2T_OT_import_coefficients(bpy.types.Operator, ImportHelper):
    """Key a coefficient file (.npz) onto the active face rig as a new take"""

    bl_idname = "s2t.import_coefficients"
    bl_label = "Import Coefficients"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})
    take_name: StringProperty(name="Take", description="Name of the new Action (default: the file's name)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, rig_problem(context))

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = context.active_object
        try:
            take = core.load_take(self.filepath)
        except (OSError, ValueError) as exc:
            self.report({"ERROR"}, f"Cannot read the coefficients: {exc}")
            return {"CANCELLED"}
        missing = [name for name in take.channel_names if name not in obj.data.shape_keys.key_blocks]
        if take.model_id != obj["s2t_model_id"] or missing:
            self.report({"ERROR"}, f"The take is for {take.model_id!r} but the rig is {obj['s2t_model_id']!r} "
                                   f"(shape keys missing: {missing[:5]})")
            return {"CANCELLED"}
        action = apply_take(context, obj, take, self.take_name or Path(self.filepath).stem)
        props = context.scene.style2talker
        if props.audio_path:
            add_audio_strip(context, bpy.path.abspath(props.audio_path), action.name, props.frame_start)
        self.report({"INFO"}, f"Take {action.name!r}: {take.num_frames} frames at {take.fps:g} fps")
        return {"FINISHED"}


class S2T_OT_export_coefficients(bpy.types.Operator, ExportHelper):
    """Write the active face rig's F-curves, hand edits included, as a coefficient file (.npz)"""

    bl_idname = "s2t.export_coefficients"
    bl_label = "Export Coefficients"
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return poll_with_reason(cls, take_problem(context))

    def execute(self, context: bpy.types.Context) -> set[str]:
        take = read_take(context, context.active_object)
        try:
            core.save_take(self.filepath, take)
        except OSError as exc:
            self.report({"ERROR"}, f"Cannot write {self.filepath}: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {take.num_frames} frames at {take.fps:g} fps to {self.filepath}")
        return {"FINISHED"}


CLASSES = (S2T_OT_build_face_rig, S2T_OT_import_coefficients, S2T_OT_export_coefficients)
