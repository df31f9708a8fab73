"""The add-on's end-to-end flow, run inside Blender (pip ``bpy`` or ``blender -b --python``).

Usage: ``<python with bpy> blender_flow.py -- DIR`` where DIR holds ``rig.npz`` and
``take.npz`` (written by the s2t library). Asserts as it goes; exits non-zero on failure.
Build rig -> import the take twice -> values at frames match the file -> edit a key ->
export -> the exported file has the edit, the first take's Action is untouched.
"""

import math
import struct
import sys
import wave
from pathlib import Path

import bpy
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from flow_common import load_addon, unload_addon  # noqa: E402


def rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """The model's pose rotation ``Rz(roll) Ry(yaw) Rx(pitch)`` (as s2t.face.pose computes it)."""
    cx, sx, cy, sy, cz, sz = math.cos(pitch), math.sin(pitch), math.cos(yaw), math.sin(yaw), math.cos(roll), math.sin(roll)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def write_silence(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(struct.pack("<h", 0) * int(16000 * seconds))


def main(folder: Path) -> None:
    addon = load_addon()
    compat, core = addon.compat, addon.core
    scene = bpy.context.scene
    take = core.load_take(folder / "take.npz")
    scene.render.fps, scene.render.fps_base = int(take.fps), 1.0
    props = scene.style2talker
    props.frame_start = 10
    write_silence(folder / "speech.wav", take.num_frames / take.fps)
    props.audio_path = str(folder / "speech.wav")

    assert bpy.ops.s2t.import_face_rig(filepath=str(folder / "rig.npz")) == {"FINISHED"}
    obj = bpy.context.active_object
    cube = bpy.data.objects.get("Cube")  # the startup cube (2 m) would hide a rig built at the origin
    if cube is not None:
        assert obj.delta_location.x > cube.matrix_world.translation.x + 1.0, tuple(obj.delta_location)
        assert tuple(obj.delta_location)[1:] == tuple(scene.cursor.location)[1:]
    names = [block.name for block in obj.data.shape_keys.key_blocks]
    assert names == ["Basis", *take.channel_names], names

    assert bpy.ops.s2t.import_coefficients(filepath=str(folder / "take.npz"), take_name="take") == {"FINISHED"}
    first = obj.data.shape_keys.animation_data.action
    assert bpy.ops.s2t.import_coefficients(filepath=str(folder / "take.npz"), take_name="take") == {"FINISHED"}
    second = obj.data.shape_keys.animation_data.action
    assert first.name == "take" and second.name != first.name and first.name in bpy.data.actions
    assert obj.animation_data.action.name == f"{second.name} head"
    assert len(compat.sequencer_strips(scene)) == 2

    curves = {fcurve.data_path: fcurve for fcurve in compat.fcurves(obj.data.shape_keys)}
    assert len(curves) == len(take.channel_names) and len(compat.fcurves(obj)) == 6
    for t in (0, 7, take.num_frames - 1):
        scene.frame_set(props.frame_start + t)
        for k, name in enumerate(take.channel_names):
            assert abs(curves[core.shape_key_data_path(name)].evaluate(props.frame_start + t) - take.expression[t, k]) < 1e-6
            assert abs(obj.data.shape_keys.key_blocks[name].value - take.expression[t, k]) < 1e-6
        pitch, yaw, roll, *translation = take.pose[t].astype(np.float64)
        axes = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
        world = np.array(obj.matrix_world)
        assert np.allclose(world[:3, :3], axes @ rotation(pitch, yaw, roll) @ axes.T, atol=1e-5), t
        placed = np.array(obj.delta_location)  # where the rig was put; the take's head motion is on top
        assert np.allclose(world[:3, 3], placed + axes @ np.array(translation), atol=1e-5), t

    edited, edit_frame, edit_value = take.channel_names[3], 5, 0.77
    key = curves[core.shape_key_data_path(edited)].keyframe_points[edit_frame]
    assert key.co[0] == props.frame_start + edit_frame
    key.co[1] = edit_value
    pitch_curve = next(f for f in compat.fcurves(obj) if f.data_path == "rotation_euler" and f.array_index == 0)
    pitch_curve.keyframe_points[edit_frame].co[1] = 0.25
    for fcurve in [*curves.values(), pitch_curve]:
        fcurve.update()

    out = folder / "exported.npz"
    assert bpy.ops.s2t.export_coefficients(filepath=str(out)) == {"FINISHED"}
    exported = core.load_take(out)
    expected_expression, expected_pose = take.expression.copy(), take.pose.copy()
    expected_expression[edit_frame, 3], expected_pose[edit_frame, 0] = edit_value, 0.25
    assert exported.channel_names == take.channel_names and exported.fps == take.fps
    assert np.abs(exported.expression - expected_expression).max() < 1e-6
    assert np.abs(exported.pose - expected_pose).max() < 1e-5
    assert exported.metadata["blender_action"] == second.name

    first_curve = next(f for f in (first.layers[0].strips[0].channelbags[0].fcurves if compat.HAS_SLOTTED_ACTIONS
                                   else first.fcurves) if f.data_path == core.shape_key_data_path(edited))
    assert abs(first_curve.keyframe_points[edit_frame].co[1] - take.expression[edit_frame, 3]) < 1e-6
    unload_addon(addon)
    print(f"FLOW OK in Blender {bpy.app.version_string}: {take.num_frames} frames x {len(curves) + 6} curves")


if __name__ == "__main__":
    main(Path(sys.argv[sys.argv.index("--") + 1]))
