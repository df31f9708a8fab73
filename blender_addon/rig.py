"""The face rig in Blender: build the mesh with its shape keys (textured with the photo when
the backend fitted one), key a take onto it, and read the (hand-edited) take back."""

from __future__ import annotations

import json
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

from . import compat, core


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def build_rig_object(scene: bpy.types.Scene, view_layer: bpy.types.ViewLayer, rig: core.Rig,
                     name: str | None = None, photo: str | None = None) -> bpy.types.Object:
    """A mesh object with one shape key per channel, made active; the head pose goes on the object.

    With ``rig.uv`` and a ``photo`` file, the mesh is UV-mapped onto the photo and shows it.
    """
    mesh = bpy.data.meshes.new(name or rig.model_id)
    mesh.from_pydata(rig.vertices.tolist(), [], rig.triangles.tolist())
    mesh.polygons.foreach_set("use_smooth", np.ones(len(mesh.polygons), bool))
    if rig.uv is not None:
        _add_uv(mesh, rig.uv)
    mesh.update()
    obj = bpy.data.objects.new(name or rig.model_id, mesh)
    obj.rotation_mode = core.ROTATION_MODE
    obj["s2t_model_id"] = rig.model_id
    obj["s2t_units"] = rig.units
    obj["s2t_channel_names"] = json.dumps(rig.channel_names)
    obj.shape_key_add(name="Basis", from_mix=False)
    for channel, coords, (low, high) in zip(rig.channel_names, rig.shape_keys, rig.bounds):
        block = obj.shape_key_add(name=channel, from_mix=False)
        block.slider_min = max(float(low), -10.0)  # Blender's slider range is [-10, 10]
        block.slider_max = min(float(high), 10.0)
        block.data.foreach_set("co", coords.ravel())
    if rig.uv is not None and photo:
        mesh.materials.append(photo_material(photo, f"{obj.name} photo"))
        obj["s2t_photo"] = photo
    obj.delta_location = clear_spot(view_layer, rig.vertices.min(axis=0), rig.vertices.max(axis=0),
                                    np.array(scene.cursor.location))
    scene.collection.objects.link(obj)
    for other in view_layer.objects:
        if other.select_get(view_layer=view_layer):
            other.select_set(False, view_layer=view_layer)
    obj.select_set(True, view_layer=view_layer)
    view_layer.objects.active = obj
    frame_in_views(view_layer)
    return obj


def clear_spot(view_layer: bpy.types.ViewLayer, low: np.ndarray, high: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Where a rig spanning ``low``-``high`` (metres, around its origin) can be seen: at ``start``
    (the 3D cursor, where Blender adds objects), moved along +x past every visible object whose
    bounds it would sit inside (a 0.2 m face at the origin is hidden in the 2 m startup cube).

    It goes in the object's *delta* location: a take keys ``location`` with the head's motion.
    """
    boxes = []
    for other in view_layer.objects:
        if other.visible_get(view_layer=view_layer) and other.type in {"MESH", "CURVE", "SURFACE", "META", "FONT"}:
            corners = np.array([other.matrix_world @ Vector(corner) for corner in other.bound_box])
            boxes.append((corners.min(axis=0), corners.max(axis=0)))
    spot = np.array(start, np.float64)
    margin = 0.25 * float(np.max(high - low))
    for _ in range(len(boxes)):
        inside = [box for box in boxes if np.all(spot + low < box[1]) and np.all(spot + high > box[0])]
        if not inside:
            break
        spot[0] = max(box[1][0] for box in inside) - low[0] + margin
    return spot


def frame_in_views(view_layer: bpy.types.ViewLayer) -> None:
    """Frame the selection in every 3D View, as View > Frame Selected would (no-op without a window)."""
    window_manager = bpy.context.window_manager
    views = [(window, area) for window in (window_manager.windows if window_manager else ())
             for area in window.screen.areas if area.type == "VIEW_3D"]
    if not views:
        return
    view_layer.update()  # the new object's bounds, for the operator
    for window, area in views:
        region = next(r for r in area.regions if r.type == "WINDOW")
        with bpy.context.temp_override(window=window, area=area, region=region):
            bpy.ops.view3d.view_selected()


def _add_uv(mesh: bpy.types.Mesh, uv: np.ndarray) -> None:
    """Per-vertex photo coordinates -> a UV map (Blender stores UVs per face corner)."""
    layer = mesh.uv_layers.new(name="Photo")
    corners = np.empty(len(mesh.loops), np.int32)
    mesh.loops.foreach_get("vertex_index", corners)
    layer.data.foreach_set("uv", uv[corners].ravel())


def photo_material(photo: str, name: str) -> bpy.types.Material:
    """A material showing ``photo`` through the mesh's UV map (matte, as skin in a photo is lit already)."""
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    nodes = material.node_tree.nodes
    shader = next(node for node in nodes if node.type == "BSDF_PRINCIPLED")
    shader.inputs["Roughness"].default_value = 0.8
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = bpy.data.images.load(photo, check_existing=True)
    texture.location = (shader.location.x - 320, shader.location.y)
    material.node_tree.links.new(texture.outputs["Color"], shader.inputs["Base Color"])
    return material


def write_keys(id_data: bpy.types.ID, channels: list[core.ChannelKeys], interpolation: str = "LINEAR") -> None:
    """The fast path: one ``keyframe_points.add`` + ``foreach_set`` per F-curve, linear keys
    (``"CONSTANT"``: stepped, for 2D and limited animation)."""
    linear = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[interpolation].value
    for channel in channels:
        fcurve = compat.new_fcurve(id_data, channel.data_path, channel.index, channel.group)
        points = fcurve.keyframe_points
        points.add(len(channel.co))
        points.foreach_set("co", channel.co.ravel())
        points.foreach_set("interpolation", np.full(len(channel.co), linear, np.int32))
        fcurve.update()


def apply_take(scene: bpy.types.Scene, obj: bpy.types.Object, take: core.Take, name: str) -> bpy.types.Action:
    """Key ``take`` into two new Actions (shape keys: ``name``; head: ``name head``) from the scene's frame start.

    Returns the shape-key Action. Earlier takes stay in the file untouched (Blender makes
    the new name unique, and the fake user keeps unassigned takes).
    """
    metres = core.METRES_PER_UNIT[obj["s2t_units"]]
    keys = core.keyframe_arrays(take, scene_fps(scene), scene.style2talker.frame_start, metres)
    shape_action = compat.new_action(obj.data.shape_keys, name)
    shape_action["s2t_metadata"] = json.dumps(take.metadata)
    shape_action["s2t_source_fps"] = take.fps
    store_take(shape_action, take, scene_fps(scene), scene.style2talker.frame_start, {})
    compat.new_action(obj, f"{shape_action.name} head")
    write_keys(obj.data.shape_keys, keys.shape)
    write_keys(obj, keys.pose)
    scene.frame_start, scene.frame_end = keys.frame_start, keys.frame_end
    return shape_action


def store_take(action: bpy.types.Action, take: core.Take, scene_fps: float, frame_start: int, head: dict) -> None:
    """Keep the take as it arrived on its shape-key Action: it can be applied again to another
    target, and a character's curves are read back against it (character.py)."""
    action["s2t_take"] = json.dumps({"model_id": take.model_id, "fps": take.fps, "channel_names": take.channel_names,
                                     "metadata": take.metadata, "scene_fps": scene_fps, "frame_start": frame_start,
                                     "head": head})
    action["s2t_expression"] = take.expression.astype(np.float64).ravel().tolist()
    action["s2t_pose"] = take.pose.astype(np.float64).ravel().tolist()


def read_take(scene: bpy.types.Scene, obj: bpy.types.Object) -> tuple[core.Take, int]:
    """The rig's current animation (edits included), sampled at every scene frame of its keyed
    range, and the scene frame of its first sample. A channel without an F-curve holds its
    current value."""
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
    take = core.take_from_samples(shape, pose, obj["s2t_model_id"], scene_fps(scene), names,
                                  core.METRES_PER_UNIT[obj["s2t_units"]], metadata)
    return take, int(frames[0])


def take_name(base: str) -> str:
    """A readable, unused Action name for a new take (``<base> 001``...)."""
    stem = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in base).strip()[:40] or "take"
    for number in range(1, 1000):
        name = f"{stem} {number:03d}"
        if name not in bpy.data.actions:
            return name
    return stem


def frames_folder(take: str) -> tuple[Path, bool]:
    """Where a take's frames go: ``//s2t/<take>/`` beside the .blend, or a temporary folder
    for an unsaved file (``False`` then, so the operator can say so)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in take)
    if bpy.data.filepath:
        return Path(bpy.path.abspath(f"//s2t/{safe}")), True
    return Path(bpy.app.tempdir or "/tmp") / "s2t" / safe, False
