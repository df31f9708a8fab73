"""A take on someone else's character, inside Blender: ``<python with bpy> character_flow.py -- DIR``.

DIR holds ``take.npz`` (52 ARKit channels, 40 frames at 25 fps, written by the s2t library).
Builds a mesh with Character Creator names and an armature with head, jaw and eye bones,
maps them, imports the take (an NLA strip per take), checks the keys equal the take x gain,
the head, jaw and eye bones turn, applies the take again (stepped) leaving the first Action
untouched, edits the character and exports: the edit is in the channels a render job would
get. Frame-rate conversion, the take's own audio, a viseme-only mesh. Bad input (missing
bone, malformed or foreign preset, another channel set, another frame rate) changes nothing.
"""

import struct
import sys
import wave
from pathlib import Path

import bpy
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from flow_common import load_addon, unload_addon  # noqa: E402

KEYS = ["Mouth_Smile_L", "Mouth_Smile_R", "Eye_Blink_L", "Eye_Blink_R", "Brow_Raise_Inner_L", "Brow_Raise_Inner_R",
        "Mouth_Funnel_Up_L", "Nose_Sneer_L", "Ear_Up_L", "Mouth_Smile_Sharp_L"]
CHANNELS = ["mouthSmileLeft", "mouthSmileRight", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browInnerUp",
            "mouthFunnel", "noseSneerLeft", "", ""]


def build_character(keys: list[str] = KEYS) -> tuple[bpy.types.Object, bpy.types.Object]:
    """A small mesh with ``keys`` (CC-style names), and an armature with a head and a jaw bone; the mesh active."""
    mesh = bpy.data.meshes.new("Hero")
    mesh.from_pydata([(x * 0.1, 0, z * 0.1) for z in range(4) for x in range(4)], [],
                     [(r * 4 + c, r * 4 + c + 1, r * 4 + c + 5, r * 4 + c + 4) for r in range(3) for c in range(3)])
    obj = bpy.data.objects.new("Hero", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for k, name in enumerate(keys):
        block = obj.shape_key_add(name=name, from_mix=False)
        block.data[k].co.y -= 0.05
    armature = bpy.data.objects.new("Hero Rig", bpy.data.armatures.new("Hero Rig"))
    bpy.context.scene.collection.objects.link(armature)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    for name, head, tail in (("head", (0, 0, 1.5), (0, 0, 1.8)), ("jaw", (0, -0.02, 1.55), (0, -0.1, 1.5)),
                             ("eye.L", (0.03, -0.08, 1.65), (0.03, -0.1, 1.65)),
                             ("eye.R", (-0.03, -0.08, 1.65), (-0.03, -0.1, 1.65))):
        bone = armature.data.edit_bones.new(name)
        bone.head, bone.tail = head, tail
    bpy.ops.object.mode_set(mode="OBJECT")
    for other in bpy.context.view_layer.objects:
        other.select_set(False)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)
    return obj, armature


def curve_values(compat, action, data_path: str, index: int = 0) -> np.ndarray:
    fcurve = next(f for f in compat.action_fcurves(action) if f.data_path == data_path and f.array_index == index)
    return np.array([[p.co[0], p.co[1]] for p in fcurve.keyframe_points])


def refused(operator, **options) -> str:
    """An operator that reports an error raises it when called from a script: its message."""
    try:
        result = operator(**options)
    except RuntimeError as exc:
        return str(exc).strip()
    raise AssertionError(f"{operator} was expected to refuse, returned {result}")


def action_count() -> int:
    return len(bpy.data.actions)


def main(folder: Path) -> None:
    addon = load_addon()
    compat, core, character = addon.compat, addon.core, addon.character
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    scene.style2talker.frame_start = 5
    take = core.load_take(folder / "take.npz")
    channel = {name: k for k, name in enumerate(take.channel_names)}
    obj, armature = build_character()
    settings = obj.s2t_character

    # the mapping: matched by name, edited, saved and loaded back
    assert bpy.ops.s2t.auto_match() == {"FINISHED"}
    matched = [(row.key, row.channel) for row in settings.rows]
    assert matched == list(zip(KEYS, CHANNELS)), matched
    settings.rows[0].gain = 1.5
    settings.rows[2].offset = 0.1
    settings.emotion_gain = 0.5
    assert bpy.ops.s2t.save_mapping(filepath=str(folder / "hero.json")) == {"FINISHED"}
    settings.rows[0].gain = 9.0
    assert bpy.ops.s2t.load_mapping(filepath=str(folder / "hero.json")) == {"FINISHED"}
    assert settings.rows[0].gain == 1.5 and settings.emotion_gain == 0.5

    (folder / "bad.json").write_text("{not json")
    assert refused(bpy.ops.s2t.load_mapping, filepath=str(folder / "bad.json"))
    assert settings.message.startswith("Cannot load the mapping: the mapping preset is not valid JSON")
    (folder / "other.json").write_text('{"format": "s2t-retarget-mapping", "rows": [{"key": "Jaw_Open", '
                                       '"channel": "jawOpen"}]}')
    assert refused(bpy.ops.s2t.load_mapping, filepath=str(folder / "other.json"))
    assert "does not have: Jaw_Open" in settings.message and settings.rows[0].gain == 1.5 and len(settings.rows) == 10

    settings.head_mode, settings.armature, settings.head_bone = "BONE", armature, "nope"
    settings.jaw_bone, settings.jaw_angle, settings.head_gain = "jaw", 0.3, 0.5
    settings.eye_bone_left, settings.eye_bone_right, settings.gaze_angle = "eye.L", "eye.R", 0.4
    settings.use_nla, settings.nla_blend = True, 2.0
    before = action_count()
    assert refused(bpy.ops.s2t.import_coefficients, filepath=str(folder / "take.npz"), take_name="first")
    assert settings.message == "Hero Rig has no bone 'nope'" and action_count() == before
    assert obj.data.shape_keys.animation_data is None
    foreign = core.Take("other", 25.0, ("a", "b"), np.zeros((4, 2), np.float32), np.zeros((4, 6), np.float32))
    core.save_take(folder / "foreign.npz", foreign)
    settings.head_bone = "head"
    assert refused(bpy.ops.s2t.import_coefficients, filepath=str(folder / "foreign.npz"))
    assert settings.message.startswith("the take has no channel") and action_count() == before

    # apply: keys = take x gain (x emotion gain for emotion channels) + offset, bones turn, one NLA strip
    assert bpy.ops.s2t.import_coefficients(filepath=str(folder / "take.npz"), take_name="first") == {"FINISHED"}
    first = bpy.data.actions["first"]
    frames = 5 + np.arange(take.num_frames)
    smile = curve_values(compat, first, core.shape_key_data_path("Mouth_Smile_L"))
    assert np.allclose(smile[:, 0], frames)
    assert np.abs(smile[:, 1] - take.expression[:, channel["mouthSmileLeft"]] * 1.5 * 0.5).max() < 1e-6
    blink = curve_values(compat, first, core.shape_key_data_path("Eye_Blink_L"))[:, 1]
    assert np.abs(blink - (take.expression[:, channel["eyeBlinkLeft"]] + 0.1)).max() < 1e-6
    brow = curve_values(compat, first, core.shape_key_data_path("Brow_Raise_Inner_R"))[:, 1]
    assert np.abs(brow - take.expression[:, channel["browInnerUp"]] * 0.5).max() < 1e-6
    assert not [f for f in compat.action_fcurves(first) if "Ear_Up_L" in f.data_path]

    key = obj.data.shape_keys
    tracks = [(t.name, [(s.action.name, s.frame_start) for s in t.strips]) for t in key.animation_data.nla_tracks]
    assert tracks == [("first", [("first", 5.0)])], tracks
    assert [t.name for t in armature.animation_data.nla_tracks] == ["first head"]
    t = 20
    scene.frame_set(5 + t)
    assert abs(key.key_blocks["Mouth_Smile_L"].value - smile[t, 1]) < 1e-5
    bone = armature.pose.bones["head"]
    pitch, yaw, roll = take.pose[t, :3] * 0.5
    assert bone.rotation_mode == "XYZ" and np.allclose(bone.rotation_euler[:], (pitch, yaw, roll), atol=1e-5)
    assert not np.allclose(np.array(bone.matrix), np.array(armature.data.bones["head"].matrix_local), atol=1e-3)
    jaw = armature.pose.bones["jaw"].rotation_euler[0]
    assert abs(jaw - take.expression[t, channel["jawOpen"]] * 0.3) < 1e-5
    for side, outwards in (("Left", 1), ("Right", -1)):  # the eyes look where the take says, in the world
        look = {d: take.expression[t, channel[f"eyeLook{d}{side}"]] for d in ("Up", "Down", "Out", "In")}
        pitch, yaw = (look["Up"] - look["Down"]) * 0.4, (look["Out"] - look["In"]) * 0.4
        gaze = np.array(armature.pose.bones[f"eye.{side[0]}"].matrix)[:3, 1]
        assert np.allclose(gaze, (outwards * np.sin(yaw) * np.cos(pitch), -np.cos(yaw) * np.cos(pitch), np.sin(pitch)),
                           atol=1e-4), (side, gaze)

    # a second take (stepped, at half influence) leaves the first untouched and stacks on top
    settings.stepped, settings.nla_influence = True, 0.5
    assert bpy.ops.s2t.apply_take(take="first") == {"FINISHED"}
    second = bpy.data.actions[scene.style2talker.last_take]
    assert second.name != "first" and first.name in bpy.data.actions
    stepped = next(f for f in compat.action_fcurves(second) if "Mouth_Smile_L" in f.data_path)
    assert {p.interpolation for p in stepped.keyframe_points} == {"CONSTANT"}
    assert [t.name for t in key.animation_data.nla_tracks] == ["first", second.name]
    assert character.take_action(obj) == second
    scene.frame_set(5 + t)
    assert abs(key.animation_data.nla_tracks[-1].strips[0].influence - 0.5) < 1e-6
    settings.nla_influence = 1.0

    # an edit on the character reaches what a render job sends (read back, inverted through the mapping)
    edit = 11
    smile_curve = next(f for f in compat.action_fcurves(second) if "Mouth_Smile_L" in f.data_path)
    smile_curve.keyframe_points[edit].co[1] = 0.6
    smile_curve.update()
    head_action = bpy.data.actions[f"{second.name} head"]
    pitch_curve = next(f for f in compat.action_fcurves(head_action)
                       if f.data_path == 'pose.bones["head"].rotation_euler' and f.array_index == 0)
    pitch_curve.keyframe_points[edit].co[1] = 0.2
    pitch_curve.update()
    settings.rows[0].gain = 9.0  # a later change to the list is for the next take, not this one's read-back
    assert bpy.ops.s2t.export_coefficients(filepath=str(folder / "hero.npz")) == {"FINISHED"}
    exported = core.load_take(folder / "hero.npz")
    expected = take.expression.copy()
    expected[edit, channel["mouthSmileLeft"]] = 0.6 / (1.5 * 0.5)
    assert np.abs(exported.expression - expected).max() < 1e-5
    expected_pose = take.pose.copy()
    expected_pose[edit, 0] = 0.2 / 0.5
    assert np.abs(exported.pose - expected_pose).max() < 1e-5
    assert exported.metadata["blender_action"] == second.name and exported.metadata["seed"] == 0
    bpy.context.view_layer.objects.active = armature  # editing the bones: the character's take still renders
    assert bpy.ops.s2t.export_coefficients(filepath=str(folder / "from_rig.npz")) == {"FINISHED"}
    assert np.array_equal(core.load_take(folder / "from_rig.npz").expression, exported.expression)
    bpy.context.view_layer.objects.active = obj
    settings.rows[0].gain = 1.5
    untouched = curve_values(compat, first, core.shape_key_data_path("Mouth_Smile_L"))
    assert np.array_equal(untouched, smile)

    # another frame rate: the take is converted on apply; reading back at the wrong rate is refused
    scene.render.fps = 50
    assert refused(bpy.ops.s2t.export_coefficients, filepath=str(folder / "wrong.npz"))
    assert not (folder / "wrong.npz").exists()
    settings.use_nla = settings.stepped = False
    assert bpy.ops.s2t.apply_take(take="first") == {"FINISHED"}
    third = key.animation_data.action
    smile50 = curve_values(compat, third, core.shape_key_data_path("Mouth_Smile_L"))
    assert len(smile50) == 2 * take.num_frames and np.allclose(smile50[::2, 1], smile[:, 1], atol=1e-6)

    # Import Coefficients brings the take's own speech when it names one
    with wave.open(str(folder / "own.wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes(struct.pack("<h", 0) * 16000 * 2)
    core.save_take(folder / "spoken.npz", core.Take(take.model_id, take.fps, take.channel_names, take.expression,
                                                    take.pose, {"audio": str(folder / "own.wav")}))
    scene.style2talker.audio_path = str(folder / "panel.wav")  # not this one
    assert bpy.ops.s2t.import_coefficients(filepath=str(folder / "spoken.npz"), take_name="spoken") == {"FINISHED"}
    sounds = [s for s in compat.sequencer_strips(scene) if s.type == "SOUND"]
    assert [Path(bpy.path.abspath(s.sound.filepath)) for s in sounds] == [folder / "own.wav"], sounds

    # a VRM-style mesh with only visemes follows the mouth through the projection
    vrm, _ = build_character(["A", "I", "U", "E", "O", "Blink"])
    vrm.s2t_character.head_mode = "NONE"
    assert bpy.ops.s2t.import_coefficients(filepath=str(folder / "take.npz"), take_name="vowels") == {"FINISHED"}
    vowels = vrm.data.shape_keys.animation_data.action
    keyed, expected = addon.retarget.key_values(addon.character.stored_mapping(vrm), take.channel_names,
                                                core.resample(take.expression, take.fps, 50.0))
    assert keyed == ["A", "I", "U", "E", "O"] and expected.max() > 0.3
    for k, name in enumerate(keyed):
        values = curve_values(compat, vowels, core.shape_key_data_path(name))[:, 1]
        assert np.abs(values - expected[:, k]).max() < 1e-6 and values.min() >= 0 and values.max() <= 1

    # our own face rig is the photo's preview; a mesh without shape keys is refused in one line
    plain = bpy.data.objects.new("Plain", bpy.data.meshes.new("Plain"))
    assert character.character_problem(plain) == ("Plain has no shape keys to drive "
                                                  "(it needs a Basis and at least one more)")
    unload_addon(addon)
    print(f"CHARACTER FLOW OK in Blender {bpy.app.version_string}: {len(KEYS)} keys, {take.num_frames} frames")


if __name__ == "__main__":
    main(Path(sys.argv[sys.argv.index("--") + 1]))
