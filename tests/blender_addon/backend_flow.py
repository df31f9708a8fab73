"""The add-on against a real backend, inside Blender: ``<blender python> backend_flow.py -- DIR``.

DIR holds ``photo.png`` and ``speech.wav``; ``S2T_BACKEND`` names the backend. Drives the
panel's operators as an animator would and calls the timer callback the way Blender's
event loop does (timers do not run in background mode): Build Face Rig (from the photo) ->
Generate Animation -> keyframes -> edit a key -> Render Stylized -> frames on disk and in the
Sequencer -> Generate again (a new take; the edited one untouched) -> Cancel a render ->
Generate onto a character of our own (CC-style key names), edit its jaw key, Render from it.
Writes ``flow.json`` (what the test checks against the backend's job folders).
"""

import json
import os
import socket
import sys
import time
from pathlib import Path

import bpy
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from character_flow import build_character  # noqa: E402
from flow_common import load_addon, unload_addon  # noqa: E402


def run_job(runtime, props, limit: float = 120.0) -> None:
    """Call the timer callback until the job ends, as Blender would every POLL_INTERVAL."""
    deadline = time.monotonic() + limit
    while runtime.active() is not None:
        assert time.monotonic() < deadline, f"job still {props.job_stage!r} after {limit} s"
        if runtime.tick() is not None:
            time.sleep(runtime.POLL_INTERVAL)


def free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def check_quiet_while_waiting(runtime, props) -> None:
    """A job that waits (no backend answers) and is polled 40 times in 1.2 s asks for a redraw
    when its text changes ("connecting", "connecting (1 s)") and when it ends, not per poll."""
    backend = os.environ["S2T_BACKEND"]
    os.environ["S2T_BACKEND"] = free_endpoint()
    try:
        assert bpy.ops.s2t.build_face_rig() == {"FINISHED"}
    finally:
        os.environ["S2T_BACKEND"] = backend
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        runtime.tick()
        time.sleep(runtime.POLL_INTERVAL)
    assert props.job_stage == "connecting (1 s)", props.job_stage
    assert bpy.ops.s2t.cancel_job() == {"FINISHED"}
    run_job(runtime, props, limit=5)
    label, ticks, redraws = runtime.REDRAWS[-1]
    assert label == "Build Face Rig" and ticks >= 25 and redraws == 3, runtime.REDRAWS[-1]
    assert props.job_status == "CANCELLED"


def check_malformed_address() -> None:
    """``localhost:5599`` (no tcp://) is refused by the button with one line, not a ZMQError traceback."""
    backend = os.environ["S2T_BACKEND"]
    os.environ["S2T_BACKEND"] = "localhost:5599"
    try:
        bpy.ops.s2t.build_face_rig()
    except RuntimeError as exc:  # how bpy.ops hands a script an operator's error report
        message = str(exc).strip()
    else:
        raise AssertionError("a malformed address was accepted")
    finally:
        os.environ["S2T_BACKEND"] = backend
    assert "\n" not in message and "did you mean tcp://localhost:5599?" in message, message
    assert "ZMQError" not in message and "Traceback" not in message, message


def main(folder: Path) -> None:
    addon = load_addon()
    compat, core, runtime = addon.compat, addon.core, addon.runtime
    bpy.ops.wm.save_as_mainfile(filepath=str(folder / "scene.blend"))  # frames go to //s2t/<take>/
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    props = scene.style2talker
    props.photo_path = str(folder / "photo.png")
    props.audio_path = str(folder / "speech.wav")
    props.frame_start = 11
    props.emotion_preset = "happy"
    assert "happy" in props.emotion_text
    props.resolution, props.art_preset = "256", "cel"

    check_malformed_address()
    check_quiet_while_waiting(runtime, props)
    props.photo_path = str(folder / "blank.png")  # no face in it: the job fails, its reason goes to the log
    assert bpy.ops.s2t.build_face_rig() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "FAILED" and "photo" in props.job_error, (props.job_status, props.job_error)
    failure = props.job_error
    props.photo_path = str(folder / "photo.png")
    assert bpy.ops.s2t.build_face_rig() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "DONE", props.job_error
    obj = bpy.context.active_object
    assert obj.name == "Face (photo)" and len(obj.data.shape_keys.key_blocks) == 53
    assert obj.delta_location.x > 1.0  # beside the startup cube, not inside it
    assert obj.data.uv_layers["Photo"] and obj.active_material.node_tree.nodes["Image Texture"].image

    assert bpy.ops.s2t.generate_animation() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "DONE", props.job_error
    first_take = props.last_take
    key = obj.data.shape_keys
    assert key.animation_data.action.name == first_take
    curves = {fcurve.data_path: fcurve for fcurve in compat.fcurves(key)}
    jaw = curves[core.shape_key_data_path("jawOpen")]
    frames = len(jaw.keyframe_points)
    keyed = np.array([[jaw.keyframe_points[i].co[0], jaw.keyframe_points[i].co[1]] for i in range(frames)])
    assert keyed[0, 0] == 11 and len(compat.fcurves(obj)) == 6
    sound = [s for s in compat.sequencer_strips(scene) if s.type == "SOUND"]
    assert len(sound) == 1 and sound[0].frame_start == 11

    edit_index, edit_value = frames // 2, 0.93
    jaw.keyframe_points[edit_index].co[1] = edit_value
    jaw.update()

    assert bpy.ops.s2t.render_stylized() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "DONE", props.job_error
    frame_dir = Path(bpy.path.abspath(f"//s2t/{first_take.replace(' ', '_')}"))
    pngs = sorted(frame_dir.glob("*.png"))
    assert len(pngs) == frames, (len(pngs), frames)
    images = [s for s in compat.sequencer_strips(scene) if s.type == "IMAGE"]
    assert len(images) == 1
    strip = images[0]
    assert strip.frame_start == 11 and strip.frame_final_duration == frames and len(strip.elements) == frames
    assert strip.frame_final_end == sound[0].frame_final_start + frames
    assert (scene.render.resolution_x, scene.render.resolution_y) == (256, 256)  # the canvas is the frames' size

    assert bpy.ops.s2t.render_stylized() == {"FINISHED"}  # re-render replaces our strip only
    run_job(runtime, props)
    assert len([s for s in compat.sequencer_strips(scene) if s.type == "IMAGE"]) == 1

    props.emotion_preset = "sad"
    props.seed, props.variants = 4, 2  # two takes of the line, seeds 4 and 5: an action each, one sound strip
    assert bpy.ops.s2t.generate_animation() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "DONE", props.job_error
    second_take = props.last_take
    variant_takes = sorted(a.name for a in bpy.data.actions if " seed " in a.name and not a.name.endswith(" head"))
    assert [name.rsplit(" ", 2)[1] for name in variant_takes] == ["4", "5"], variant_takes
    assert second_take == variant_takes[1], (second_take, variant_takes)
    assert second_take != first_take and first_take in bpy.data.actions
    assert len([s for s in compat.sequencer_strips(scene) if s.type == "SOUND"]) == 2
    props.seed, props.variants = 0, 1
    first_action = bpy.data.actions[first_take]
    first_jaw = next(f for f in (first_action.layers[0].strips[0].channelbags[0].fcurves
                                 if compat.HAS_SLOTTED_ACTIONS else first_action.fcurves)
                     if f.data_path == core.shape_key_data_path("jawOpen"))
    assert abs(first_jaw.keyframe_points[edit_index].co[1] - edit_value) < 1e-6  # the edit survived

    assert bpy.ops.s2t.render_stylized() == {"FINISHED"}
    runtime.tick()
    while props.job_stage in ("connecting", "submitting"):
        runtime.tick()
        time.sleep(0.01)
    assert bpy.ops.s2t.cancel_job() == {"FINISHED"}
    run_job(runtime, props, limit=20)
    assert props.job_status == "CANCELLED", (props.job_status, props.job_error)

    hero, _ = build_character(["Jaw_Open", "Mouth_Smile_L", "Eye_Blink_L", "Ear_Up_L"])
    hero.s2t_character.head_mode = "NONE"
    props.emotion_from_markers = True  # the emotion turns at a named timeline marker
    bpy.context.scene.timeline_markers.new("She turns angry, frowning.", frame=props.frame_start + 10)
    assert bpy.ops.s2t.generate_animation() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "DONE", (props.job_error, hero.s2t_character.message)
    hero_take = bpy.data.actions[props.last_take]
    hero_jaw = next(f for f in compat.action_fcurves(hero_take) if f.data_path == core.shape_key_data_path("Jaw_Open"))
    hero_keyed = [p.co[1] for p in hero_jaw.keyframe_points]
    hero_jaw.keyframe_points[3].co[1] = 0.55
    hero_jaw.update()
    assert bpy.ops.s2t.render_stylized() == {"FINISHED"}
    run_job(runtime, props)
    assert props.job_status == "DONE", props.job_error

    result = {"failure": failure, "first_take": first_take, "hero": {"keyed": hero_keyed, "edit_index": 3, "edit_value": 0.55},
              "second_take": second_take, "variant_takes": variant_takes, "frames": frames, "keyed": keyed.tolist(),
              "edit_index": edit_index, "edit_value": edit_value, "frame_dir": str(frame_dir),
              "longest_tick_ms": {label: max(ms for name, ms in runtime.TIMINGS if name == label)
                                  for label in {name for name, _ in runtime.TIMINGS}},
              "blender": bpy.app.version_string}
    (folder / "flow.json").write_text(json.dumps(result))
    unload_addon(addon)
    print(f"BACKEND FLOW OK in Blender {bpy.app.version_string}: {frames} frames, "
          f"longest timer callback per job kind (ms): {result['longest_tick_ms']}")


if __name__ == "__main__":
    main(Path(sys.argv[sys.argv.index("--") + 1]))
