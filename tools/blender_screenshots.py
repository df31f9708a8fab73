"""Screenshots of the add-on in Blender's real UI, driven as an animator would (for docs/).

    s2t-backend --bind tcp://127.0.0.1:5601 &                       # a backend to talk to
    python tools/build_addon.py --platform linux-x64                # the packaged add-on
    S2T_BACKEND=tcp://127.0.0.1:5601 S2T_ADDON_ZIP=dist/style2talker-0.1.0-addon-linux-x64.zip \\
    BLENDER_USER_SCRIPTS=/tmp/s2t-user xvfb-run -s "-screen 0 1600x1000x24" \\
        blender --factory-startup --enable-event-simulate --python tools/blender_screenshots.py -- docs PHOTO AUDIO

Runs the jobs from the panel's buttons with Blender's event loop live (timers, redraws):
a rig from a photo without a face first (``blender_panel_error.png``: the failure in the
panel), then the real one; takes ``blender_panel_rendering.png`` mid-render and
``blender_sequencer.png`` after it, and writes ``blender_ui_timings.json``: per job, the
add-on's timer callbacks' durations, how many redraws they asked for, and the gaps of a
10 ms probe timer (how long Blender's UI was unable to run anything: callbacks, redraws,
everything else on the main thread).

    S2T_ADDON_ZIP=... BLENDER_USER_SCRIPTS=/tmp/s2t-user xvfb-run -s "-screen 0 1600x1000x24" \
        blender --factory-startup --enable-event-simulate --python tools/blender_screenshots.py -- docs --character TAKE.npz

needs no backend: a character that is not ours (Suzanne with Character Creator key names and
a head bone) takes the take ``TAKE.npz`` (from ``s2t generate-coeffs``) through Import
Coefficients, and ``blender_character_mapping.png`` shows the mapping list.
"""

import json
import sys
import time
from pathlib import Path

import bpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "blender_addon"))
from flow_common import load_addon  # noqa: E402

ARGS = sys.argv[sys.argv.index("--") + 1:]
OUT, PHOTO, AUDIO = (Path(a) for a in ARGS[:3])
addon = load_addon()
runtime = addon.runtime
window = bpy.context.window_manager.windows[0]
steps = []
PROBE_INTERVAL = 0.01
probe = {"last": None, "gaps": []}  # (job label or "idle", ms between probe calls beyond PROBE_INTERVAL)


def probe_tick() -> float:
    """A 10 ms timer: the time between its calls, beyond 10 ms, is time the UI was stuck."""
    now = time.perf_counter()
    if probe["last"] is not None:
        job = runtime.active()
        probe["gaps"].append((job.label if job else "idle", (now - probe["last"] - PROBE_INTERVAL) * 1000.0))
    probe["last"] = now
    return PROBE_INTERVAL


def area_of(kind: str):
    return next(a for a in window.screen.areas if a.type == kind)


def run(operator: str, **options) -> None:
    """Run ``bpy.ops.<operator>`` in the 3D View, as its button would."""
    area = area_of("VIEW_3D")
    region = next(r for r in area.regions if r.type == "WINDOW")
    group, name = operator.split(".")
    with bpy.context.temp_override(window=window, area=area, region=region):
        result = getattr(getattr(bpy.ops, group), name)(**options)
    assert result == {"FINISHED"}, (operator, result)


def screenshot(name: str, kind: str = "VIEW_3D") -> None:
    window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=5, y=5)  # no tooltip in the picture
    with bpy.context.temp_override(window=window, area=area_of(kind)):
        bpy.ops.screen.screenshot(filepath=str(OUT / name))


def setup() -> None:
    window.event_simulate(type="ESC", value="PRESS")  # the splash screen
    window.event_simulate(type="ESC", value="RELEASE")
    bpy.ops.wm.save_as_mainfile(filepath=str(Path(bpy.app.tempdir) / "shot.blend"))
    scene = bpy.context.scene
    scene.render.fps = 25
    props = scene.style2talker
    blank = bpy.data.images.new("blank", 256, 256)  # a photo without a face: the first job fails
    blank.filepath_raw, blank.file_format = str(Path(bpy.app.tempdir) / "blank.png"), "PNG"
    blank.save()
    props.photo_path, props.audio_path = blank.filepath_raw, str(AUDIO)
    props.emotion_preset, props.resolution, props.art_preset = "happy", "512", "comic"
    props.variants = 2  # two takes of the line: the panel shows the Takes field in use
    view = area_of("VIEW_3D")
    view.spaces[0].show_region_ui = True
    view.spaces[0].shading.color_type = "TEXTURE"
    view.spaces[0].overlay.show_floor = False


def job_ended(status: str = "DONE"):
    def ended() -> bool:
        props = bpy.context.scene.style2talker
        if runtime.active() is not None:
            return False
        assert props.job_status == status, (props.job_status, props.job_error)
        return True
    return ended


job_done = job_ended()


def real_photo() -> None:
    bpy.context.scene.style2talker.photo_path = str(PHOTO)


def frame_rig() -> None:
    """The new rig (placed beside the startup cube, and framed, by the add-on) seen from the front."""
    run("view3d.view_axis", type="FRONT")
    run("view3d.view_selected")


def our_tab() -> None:
    """Ctrl+Wheel over the sidebar steps through its tabs (Item, Tool, View, Style2Talker), as a user scrolls."""
    sidebar = next(r for r in area_of("VIEW_3D").regions if r.type == "UI")
    x, y = sidebar.x + sidebar.width // 2, sidebar.y + sidebar.height // 2
    window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=x, y=y)
    for _ in range(3):
        window.event_simulate(type="WHEELDOWNMOUSE", value="PRESS", x=x, y=y, ctrl=True)


def mid_render() -> bool:
    """A third of the frames in (or the render already over, on a machine too slow to catch it)."""
    job = runtime.active()
    progress = job.progress.fraction if hasattr(job, "progress") else bpy.context.scene.style2talker.job_progress
    return job is None or progress >= 0.35


def sequencer() -> None:
    scene = bpy.context.scene
    scene.frame_set((scene.frame_start + scene.frame_end) // 2)
    area = area_of("VIEW_3D")
    area.type = "SEQUENCE_EDITOR"
    area.spaces[0].view_type = "SEQUENCER_PREVIEW"
    area.spaces[0].show_region_ui = False
    with bpy.context.temp_override(window=window, area=area, region=next(r for r in area.regions if r.type == "WINDOW")):
        bpy.ops.sequencer.view_all()


def fit_preview() -> None:
    """Home over the preview, as a user would (once the new editor's regions have their sizes)."""
    area = area_of("SEQUENCE_EDITOR")
    preview = next(r for r in area.regions if r.type == "PREVIEW")
    with bpy.context.temp_override(window=window, area=area, region=preview):
        bpy.ops.sequencer.view_all_preview()


def summary(values: list[float]) -> dict:
    values = sorted(values)
    return {"longest_ms": round(values[-1], 1), "p99_ms": round(values[int(0.99 * (len(values) - 1))], 1),
            "median_ms": round(values[len(values) // 2], 1)}


def finish(timed_out: bool = False) -> None:
    """Per job kind (ms): timer-callback durations (Blender's UI waits for each one), redraws
    asked for, and the probe timer's gaps (everything the UI waited for, redraws included)."""
    bpy.app.timers.unregister(probe_tick)
    report = {"blender": bpy.app.version_string, "probe_interval_ms": PROBE_INTERVAL * 1000, "timed_out": timed_out}
    for label in sorted({name for name, _ in runtime.TIMINGS}):
        timings = [ms for name, ms in runtime.TIMINGS if name == label]
        gaps = [ms for name, ms in probe["gaps"] if name == label]
        jobs = [(ticks, redraws) for name, ticks, redraws in getattr(runtime, "REDRAWS", ()) if name == label]
        report[label] = {"callbacks": len(timings), **summary(timings),
                         "redraws_per_job": [redraws for _, redraws in jobs],
                         "probe_gaps": {"count": len(gaps), **summary(gaps),
                                        "over_100_ms": sum(gap > 100 for gap in gaps)}}
    (OUT / "blender_ui_timings.json").write_text(json.dumps(report, indent=1))
    print(f"SCREENSHOTS OK: {report}")
    bpy.ops.wm.quit_blender()


CHARACTER_KEYS = ("Jaw_Open", "Mouth_Smile_L", "Mouth_Smile_R", "Mouth_Frown_L", "Mouth_Frown_R", "Mouth_Funnel_Up_L",
                  "Mouth_Funnel_Up_R", "Eye_Blink_L", "Eye_Blink_R", "Brow_Raise_Inner_L", "Brow_Raise_Inner_R",
                  "Brow_Drop_L", "Brow_Drop_R", "Cheek_Puff_L", "Cheek_Puff_R", "Nose_Sneer_L", "Nose_Sneer_R",
                  "Mouth_Smile_Sharp_L", "Ear_Up_L", "Ear_Up_R")


def setup_character() -> None:
    """Suzanne with CC-named shape keys (each pulls a region of her face) and an armature with
    a head bone, the take imported onto her through the auto-matched mapping."""
    window.event_simulate(type="ESC", value="PRESS")
    window.event_simulate(type="ESC", value="RELEASE")
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    scene = bpy.context.scene
    scene.render.fps = 25
    run("mesh.primitive_monkey_add", size=0.3, location=(0, 0, 1.6))
    head = bpy.context.active_object
    head.name = "Suzanne"
    head.shape_key_add(name="Basis", from_mix=False)
    for name in CHARACTER_KEYS:  # each key pulls one region of her face (local axes: -y front, z up)
        block = head.shape_key_add(name=name, from_mix=False)
        side = 1 if name.endswith("_L") else -1 if name.endswith("_R") else 0
        mouth = name.startswith(("Jaw", "Mouth"))
        lift = {"Jaw_Open": -0.12, "Brow_Drop_L": -0.04, "Brow_Drop_R": -0.04, "Mouth_Frown_L": -0.04,
                "Mouth_Frown_R": -0.04}.get(name, 0.04)
        for vertex in block.data:
            x, y, z = vertex.co
            region = (z < -0.05 and y < -0.05) if mouth else (z > 0.08)
            if region and x * side >= 0:
                vertex.co.z += lift * min(1.0, abs(z) * 5)
    armature = bpy.data.objects.new("Suzanne Rig", bpy.data.armatures.new("Suzanne Rig"))
    scene.collection.objects.link(armature)
    bpy.context.view_layer.objects.active = armature
    run("object.mode_set", mode="EDIT")
    bone = armature.data.edit_bones.new("head")
    bone.head, bone.tail = (0, 0, 1.4), (0, 0, 1.9)
    run("object.mode_set", mode="OBJECT")
    armature.hide_set(True)
    world = head.matrix_world.copy()
    head.parent, head.parent_type, head.parent_bone = armature, "BONE", "head"
    bpy.context.view_layer.update()
    head.matrix_world = world  # keep her where she was, now turning with the bone
    bpy.context.view_layer.objects.active = head
    head.select_set(True)
    settings = head.s2t_character
    settings.head_mode, settings.armature, settings.head_bone = "BONE", armature, "head"
    run("s2t.auto_match")
    settings.rows[0].gain = 1.4
    settings.use_nla = True
    run("s2t.import_coefficients", filepath=str(Path(ARGS[ARGS.index("--character") + 1]).resolve()),
        take_name="She is happy")
    scene.frame_set(60)
    view = area_of("VIEW_3D")
    view.spaces[0].show_region_ui = True
    view.spaces[0].overlay.show_floor = False
    run("view3d.view_axis", type="FRONT")
    run("view3d.view_selected")


def character_properties() -> None:
    """Split the 3D View and show Object Data there: the Shape Keys and the character's mapping list."""
    view = area_of("VIEW_3D")
    before = set(window.screen.areas[:])
    with bpy.context.temp_override(window=window, area=view, region=next(r for r in view.regions if r.type == "WINDOW")):
        bpy.ops.screen.area_split(direction="VERTICAL", factor=0.42)
    new = next(a for a in window.screen.areas if a not in before)
    left, right = sorted((view, new), key=lambda a: a.x)
    right.type = "PROPERTIES"
    left.spaces[0].show_region_ui = False
    character_properties.area = right


def object_data_tab() -> None:
    """(A step after the editor changed: its tabs exist only once it has been drawn.)"""
    character_properties.area.spaces[0].context = "DATA"


def scroll_to_mapping() -> None:
    """Wheel the Object Data tab down to the mapping panel (it comes after Blender's own)."""
    region = next(r for r in character_properties.area.regions if r.type == "WINDOW")
    x, y = region.x + region.width // 2, region.y + region.height // 2
    window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=x, y=y)
    for _ in range(30):
        window.event_simulate(type="WHEELDOWNMOUSE", value="PRESS", x=x, y=y)


def quit_character() -> None:
    print("SCREENSHOTS OK: character")
    bpy.ops.wm.quit_blender()


# (action, condition to wait for before the next step)
character_steps = [
    (setup_character, None),
    (lambda: None, None),
    (character_properties, None),
    (object_data_tab, None),
    (scroll_to_mapping, None),
    (lambda: screenshot("blender_character_mapping.png"), None),
    (quit_character, None),
]
steps = [
    (setup, None),
    (our_tab, None),
    (lambda: run("s2t.build_face_rig"), job_ended("FAILED")),
    (lambda: None, None),
    (lambda: screenshot("blender_panel_error.png"), None),
    (real_photo, None),
    (lambda: run("s2t.build_face_rig"), job_done),
    (frame_rig, None),
    (lambda: run("s2t.generate_animation"), job_done),
    (lambda: run("s2t.render_stylized"), mid_render),
    (lambda: screenshot("blender_panel_rendering.png"), job_done),
    (sequencer, None),
    (fit_preview, None),
    (lambda: screenshot("blender_sequencer.png", "SEQUENCE_EDITOR"), None),
    (finish, None),
]
if "--character" in ARGS:
    steps = character_steps
deadline = time.monotonic() + 900


def step() -> float | None:
    if time.monotonic() > deadline:
        print("the screenshot run took too long; the timings so far:")
        finish(timed_out=True)
        return None
    if steps and steps[0][1] is not None and steps[0][0] is None:
        if not steps[0][1]():
            return 0.1
        steps.pop(0)
        return 0.5
    action, wait = steps.pop(0)
    action()
    if wait is not None:
        steps.insert(0, (None, wait))
    return 0.5 if steps else None


bpy.app.timers.register(step, first_interval=1.0)
bpy.app.timers.register(probe_tick, first_interval=1.0)
