"""A take on the animator's own character: any mesh with shape keys, plus an optional head
(an object or an armature bone) and jaw bone.

The mapping (which key follows which channel, gain and offset per key) lives on the object
(``obj.s2t_character``, see :mod:`character_ui`) and is turned into a
:class:`retarget.Mapping` here. Applying a take makes new Actions (never touching earlier
ones), stores the take itself on the shape-key Action so that :func:`read_take` can give back
the channels with the animator's edits for Render Stylized. Every check runs before anything
is written: bad input raises ValueError with one line and leaves the file as it was.
"""

from __future__ import annotations

import json

import bpy
import numpy as np

from . import compat, core, retarget, rig

AXES = {
    "Y_UP": ("XYZ", ((0, 1.0), (1, 1.0), (2, 1.0))),
    "Z_UP": ("XZY", ((0, 1.0), (2, 1.0), (1, -1.0))),
    "Y_UP_BACK": ("XYZ", ((0, -1.0), (1, 1.0), (2, -1.0))),
}
"""Head axes: the Euler order, and for pitch, yaw, roll the (local axis, sign) they turn about.
``Y_UP``: a bone along the neck (Rigify, Mixamo, CC) or a Y-up object facing +Z;
``Z_UP``: a Blender object facing -Y (the face rig's own convention, see core.py);
``Y_UP_BACK``: a Y-up bone whose Z axis points to the back of the head."""


def is_proxy(obj: bpy.types.Object | None) -> bool:
    """Our own face rig (the photo preview), as opposed to the animator's character."""
    return obj is not None and "s2t_model_id" in obj


def character_problem(obj: bpy.types.Object | None) -> str:
    """Why ``obj`` cannot take a take as a character ("" when it can)."""
    if obj is None or obj.type != "MESH":
        return "Select a face rig or a character mesh with shape keys"
    key = obj.data.shape_keys
    if key is None or len(key.key_blocks) < 2:
        return f"{obj.name} has no shape keys to drive (it needs a Basis and at least one more)"
    return ""


def key_names(obj: bpy.types.Object) -> list[str]:
    """The mesh's shape keys except its reference key (Basis), in order."""
    key = obj.data.shape_keys
    return [block.name for block in key.key_blocks if block != key.reference_key]


def stored_mapping(obj: bpy.types.Object) -> retarget.Mapping:
    settings = obj.s2t_character
    rows = [retarget.Row(r.key, r.channel, r.gain, r.offset) for r in settings.rows]
    return retarget.Mapping(rows, settings.emotion_gain)


def store_mapping(obj: bpy.types.Object, mapping: retarget.Mapping) -> None:
    settings = obj.s2t_character
    settings.rows.clear()
    for row in mapping.rows:
        item = settings.rows.add()
        item.key, item.channel, item.gain, item.offset = row.key, row.channel, row.gain, row.offset
    settings.emotion_gain = mapping.emotion_gain


def mapping_for(obj: bpy.types.Object, channel_names) -> retarget.Mapping:
    """The stored mapping, checked against the mesh; matched by name (not stored) when there is none."""
    names = key_names(obj)
    if not len(obj.s2t_character.rows):
        mapping = retarget.auto_mapping(channel_names, names)
        mapping.emotion_gain = obj.s2t_character.emotion_gain
        return mapping
    mapping = stored_mapping(obj)
    missing = [row.key for row in mapping.rows if row.key not in names]
    if missing:
        raise ValueError(f"the mapping names shape keys {obj.name} does not have: {', '.join(missing[:4])} "
                         f"(Auto-Match again)")
    return mapping


# -- head and jaw ------------------------------------------------------------------------


def _head_target(obj: bpy.types.Object) -> tuple[bpy.types.Object | None, str]:
    """(the object whose curves carry the head, the pose bone's path prefix or "")."""
    settings = obj.s2t_character
    if settings.head_mode == "OBJECT":
        return settings.head_object or obj, ""
    if settings.head_mode == "BONE":
        armature = settings.armature
        if armature is None or armature.type != "ARMATURE":
            raise ValueError("choose the armature that holds the head bone")
        if settings.head_bone not in armature.pose.bones:
            raise ValueError(f"{armature.name} has no bone {settings.head_bone!r}")
        return armature, f'pose.bones["{settings.head_bone}"].'
    return None, ""


EYE_CHANNELS = {"L": ("eyeLookUpLeft", "eyeLookDownLeft", "eyeLookOutLeft", "eyeLookInLeft"),
                "R": ("eyeLookUpRight", "eyeLookDownRight", "eyeLookOutRight", "eyeLookInRight")}


def _face_bones(obj: bpy.types.Object, mapping: retarget.Mapping, channel_names) -> dict[str, str]:
    """The jaw and eye bones to drive (``{"jaw": name, "L": name, "R": name}``, those chosen):
    the jaw from jawOpen unless a key takes jawOpen, the eyes from the eyeLook channels.
    ValueError when a bone is missing or the head is on another object."""
    settings = obj.s2t_character
    chosen = {"jaw": settings.jaw_bone, "L": settings.eye_bone_left, "R": settings.eye_bone_right}
    if "jawOpen" not in channel_names or any(row.channel == "jawOpen" for row in mapping.mapped()):
        chosen["jaw"] = ""
    for side, channels in EYE_CHANNELS.items():
        if not set(channels) <= set(channel_names):
            chosen[side] = ""
    chosen = {part: bone for part, bone in chosen.items() if bone}
    if not chosen:
        return {}
    armature = settings.armature
    if armature is None:
        raise ValueError("choose the armature that holds the jaw and eye bones")
    for bone in chosen.values():
        if bone not in armature.pose.bones:
            raise ValueError(f"{armature.name} has no bone {bone!r}")
    if settings.head_mode == "OBJECT":
        raise ValueError("jaw and eye bones need the head on their armature (Head: Bone, or None)")
    return chosen


def _head_keys(obj: bpy.types.Object, take: core.Take, frames: np.ndarray, scene_fps: float,
               bones: dict[str, str]) -> tuple[bpy.types.Object | None, list[core.ChannelKeys], dict]:
    settings = obj.s2t_character
    target, prefix = _head_target(obj)
    keys, info = [], {}

    def key(path: str, index: int, group: str, values: np.ndarray) -> None:
        keys.append(core.ChannelKeys(path, index, group, np.stack([frames, values], -1).astype(np.float32)))

    if target is not None:
        order, axes = AXES[settings.head_axes]
        angles = core.resample(take.pose[:, :3], take.fps, scene_fps, angle_columns=slice(0, 3))
        rest = np.zeros(3) if prefix else np.array(target.rotation_euler) if target.rotation_mode == order else None
        if rest is None:
            rest = np.array(target.rotation_euler.to_matrix().to_euler(order))
        for column, (axis, sign) in enumerate(axes):
            key(f"{prefix}rotation_euler", axis, "Head", angles[:, column] * sign * settings.head_gain + rest[axis])
        info = {"path": f"{prefix}rotation_euler", "order": order, "axes": axes, "gain": settings.head_gain,
                "rest": rest.tolist()}
    if bones:
        target = settings.armature
        names = list(take.channel_names)

        def channel(name: str) -> np.ndarray:
            return core.resample(take.expression[:, [names.index(name)]], take.fps, scene_fps)[:, 0]

    if "jaw" in bones:
        path = f'pose.bones["{bones["jaw"]}"].rotation_euler'
        key(path, 0, "Jaw", channel("jawOpen") * settings.jaw_angle)
        info["jaw"] = {"path": path, "angle": settings.jaw_angle}
    for side, out_sign in (("L", 1.0), ("R", -1.0)):
        if side in bones:  # an eye bone looking forward: up about its X, outwards about its Z
            up, down, out, inward = (channel(name) for name in EYE_CHANNELS[side])
            path = f'pose.bones["{bones[side]}"].rotation_euler'
            key(path, 0, "Eyes", (up - down) * settings.gaze_angle)
            key(path, 2, "Eyes", (out - inward) * out_sign * settings.gaze_angle)
    return target, keys, info


def check(obj: bpy.types.Object, channel_names) -> retarget.Mapping:
    """The mapping a take with ``channel_names`` would use; ValueError (one line) for any problem."""
    problem = character_problem(obj)
    if problem:
        raise ValueError(problem)
    mapping = mapping_for(obj, channel_names)
    if not mapping.mapped():
        raise ValueError(f"no shape key of {obj.name} matches a channel of the take; map them in the list")
    retarget.check_mapping(mapping, channel_names)
    _head_target(obj)
    _face_bones(obj, mapping, channel_names)
    return mapping


# -- apply -----------------------------------------------------------------------------------


def apply_take(scene: bpy.types.Scene, obj: bpy.types.Object, take: core.Take, name: str) -> bpy.types.Action:
    """Key ``take`` onto the character ``obj`` through its mapping, as new Actions from the
    scene's frame start; returns the shape-key Action (named ``name``, made unique)."""
    settings = obj.s2t_character
    mapping = check(obj, take.channel_names)
    fps = rig.scene_fps(scene)
    expression = core.resample(take.expression, take.fps, fps)
    keyed, values = retarget.key_values(mapping, take.channel_names, expression)
    start = scene.style2talker.frame_start
    frames = start + np.arange(len(values), dtype=np.float64)
    bones = _face_bones(obj, mapping, take.channel_names)
    head, head_keys, head_info = _head_keys(obj, take, frames, fps, bones)
    shape_keys = [core.ChannelKeys(core.shape_key_data_path(key), 0, "Expression",
                                   np.stack([frames, values[:, k]], -1).astype(np.float32))
                  for k, key in enumerate(keyed)]
    # every check is done: from here on the file changes
    if not len(settings.rows):
        store_mapping(obj, mapping)
    interpolation = "CONSTANT" if settings.stepped else "LINEAR"
    key = obj.data.shape_keys
    for id_data in (key, head):  # the animator's own Actions are unassigned below: keep them in the file
        previous = id_data.animation_data.action if id_data is not None and id_data.animation_data else None
        if previous is not None:
            previous.use_fake_user = True
    action = compat.new_action(key, name)
    rig.store_take(action, take, fps, start, head_info)
    action["s2t_mapping"] = retarget.mapping_to_json(mapping)  # read back with the gains it was keyed with
    rig.write_keys(key, shape_keys, interpolation)
    actions = [(key, action)]
    if head is not None:
        if head.type == "ARMATURE":
            for bone in bones.values():
                head.pose.bones[bone].rotation_mode = "XYZ"
            if settings.head_mode == "BONE":
                head.pose.bones[settings.head_bone].rotation_mode = AXES[settings.head_axes][0]
        else:
            head.rotation_mode = AXES[settings.head_axes][0]
        head_action = compat.new_action(head, f"{action.name} head")
        head_action["s2t_take_of"] = action.name
        rig.write_keys(head, head_keys, interpolation)
        actions.append((head, head_action))
    if settings.use_nla:
        for id_data, id_action in actions:
            push_to_nla(id_data, id_action, start, settings.nla_blend, settings.nla_influence)
    scene.frame_start, scene.frame_end = start, int(frames[-1])
    settings.message = f"{action.name}: {len(keyed)} of {len(key_names(obj))} keys keyed"
    settings.message_is_error = False
    return action


def push_to_nla(id_data: bpy.types.ID, action: bpy.types.Action, start: int, blend: float,
                influence: float) -> bpy.types.NlaStrip:
    """The assigned ``action`` becomes a strip on a new NLA track of its own (named after it),
    so takes stack and can be soloed, muted and blended; the active action is cleared."""
    animation_data = id_data.animation_data
    slot = animation_data.action_slot if compat.HAS_SLOTTED_ACTIONS else None
    track = animation_data.nla_tracks.new()
    track.name = action.name
    strip = track.strips.new(action.name, int(start), action)
    if slot is not None and strip.action_slot != slot:
        strip.action_slot = slot
    blend = min(blend, (strip.frame_end - strip.frame_start) / 2)
    strip.blend_in = strip.blend_out = blend
    if influence < 1.0:  # a constant influence must be keyed, so key the blends with it
        strip.use_animated_influence = True
        ramp = 0.0 if blend > 0 else influence
        for frame, value in ((strip.frame_start, ramp), (strip.frame_start + blend, influence),
                             (strip.frame_end - blend, influence), (strip.frame_end, ramp)):
            strip.influence = value
            strip.keyframe_insert("influence", frame=frame)
    animation_data.action = None
    return strip


# -- read back ----------------------------------------------------------------------------------


def take_action(obj: bpy.types.Object) -> bpy.types.Action | None:
    """The character's take: the assigned shape-key Action if it is one, else the top NLA strip's."""
    key = obj.data.shape_keys if obj is not None and obj.type == "MESH" else None
    animation_data = key.animation_data if key else None
    if animation_data is None:
        return None
    if animation_data.action is not None and "s2t_take" in animation_data.action:
        return animation_data.action
    for track in reversed(animation_data.nla_tracks):
        for strip in track.strips:
            if strip.action is not None and "s2t_take" in strip.action and not track.mute:
                return strip.action
    return None


def stored_take(action: bpy.types.Action) -> core.Take:
    """The take as it was applied (before mapping, at its own fps)."""
    info = json.loads(action["s2t_take"])
    names = tuple(info["channel_names"])
    expression = np.array(action["s2t_expression"], np.float32).reshape(-1, len(names))
    pose = np.array(action["s2t_pose"], np.float32).reshape(-1, 6)
    return core.Take(info["model_id"], float(info["fps"]), names, expression, pose, dict(info["metadata"]))


def _sample(fcurves: dict, path: str, index: int, frames: np.ndarray) -> np.ndarray | None:
    fcurve = fcurves.get((path, index))
    return None if fcurve is None else np.array([fcurve.evaluate(frame) for frame in frames])


def read_take(scene: bpy.types.Scene, obj: bpy.types.Object) -> tuple[core.Take, int]:
    """The take on the character with the animator's edits, at the scene's fps, and its first
    frame: mapped channels are read back from the key curves (inverting gain and offset),
    head pitch/yaw/roll from the head curves; the rest is the take as applied."""
    action = take_action(obj)
    if action is None:
        raise ValueError(f"{obj.name} has no take yet (Generate Animation or Import Coefficients first)")
    info = json.loads(action["s2t_take"])
    fps = rig.scene_fps(scene)
    if abs(info["scene_fps"] - fps) > 1e-6:
        raise ValueError(f"the take was keyed at {info['scene_fps']:g} fps but the scene is at {fps:g} fps; "
                         f"set the scene back or apply the take again")
    take = stored_take(action)
    expression = core.resample(take.expression, take.fps, fps)
    pose = core.resample(take.pose, take.fps, fps, angle_columns=slice(0, 3))
    frames = info["frame_start"] + np.arange(len(expression), dtype=np.float64)
    curves = {(f.data_path, f.array_index): f for f in compat.action_fcurves(action)}
    mapping = retarget.mapping_from_json(action["s2t_mapping"], key_names(obj))
    keys = {}
    for row in mapping.mapped():
        values = _sample(curves, core.shape_key_data_path(row.key), 0, frames)
        if values is not None:
            keys[row.key] = values
    expression = retarget.read_back(mapping, take.channel_names, expression, keys)
    head_action = bpy.data.actions.get(f"{action.name} head")
    head_info = info["head"]
    if head_action is not None and head_action.get("s2t_take_of") == action.name:
        head_curves = {(f.data_path, f.array_index): f for f in compat.action_fcurves(head_action)}
        if "path" in head_info and abs(head_info["gain"]) > 1e-6:
            for column, (axis, sign) in enumerate(head_info["axes"]):
                values = _sample(head_curves, head_info["path"], axis, frames)
                if values is not None:
                    pose[:, column] = (values - head_info["rest"][axis]) / (sign * head_info["gain"])
        jaw = head_info.get("jaw")
        if jaw and abs(jaw["angle"]) > 1e-6:
            values = _sample(head_curves, jaw["path"], 0, frames)
            if values is not None:
                expression[:, list(take.channel_names).index("jawOpen")] = values / jaw["angle"]
    metadata = {**take.metadata, "blender_action": action.name, "blender_version": bpy.app.version_string,
                "retargeted_to": obj.name}
    return core.Take(take.model_id, fps, take.channel_names, expression.astype(np.float32), pose.astype(np.float32),
                     metadata), int(frames[0])


def take_holder(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The mesh whose take ``obj`` shows: ``obj`` itself, or for a head object or an armature
    the character that drives it (an animator edits bones with the armature selected)."""
    if obj is None or obj.type == "MESH":
        return obj
    for other in bpy.data.objects:
        settings = getattr(other, "s2t_character", None)
        if other.type == "MESH" and settings is not None and obj in (settings.armature, settings.head_object) \
                and take_action(other) is not None:
            return other
    return obj


def takes_in_file() -> list[bpy.types.Action]:
    """Every Action that holds a take (applied to a character, or keyed on the face rig)."""
    return [action for action in bpy.data.actions if "s2t_take" in action]
