"""Retargeting: applying a take onto a big character, and matching real-world key names.

Run in a Python with pip ``bpy`` (``$S2T_BPY_PYTHON bench/bench_retarget.py``) or in
Blender (``blender -b --python bench/bench_retarget.py``). Prints the table and, with
``--write``, replaces the "Retargeting onto a character" section of bench/RESULTS.md.

- Apply: 250 frames x 52 channels onto a 50,000-vertex mesh with 60 shape keys (Character
  Creator names: 48 follow a channel, 12 stay unmapped) with a head bone: mapping, two new
  Actions, keys through ``keyframe_points.add`` + ``foreach_set``. Target < 20 ms.
- Matching: every name of ``tests/blender_addon/retarget_names.py`` (real key names from
  the conventions in the wild) against the take's 52 ARKit channels: wrong matches (must be
  0) and the share of placeable names that were placed.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import bpy
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "blender_addon"))

import blender_addon  # noqa: E402
from results_md import publish  # noqa: E402
import retarget_names  # noqa: E402
from blender_addon import character, core, retarget  # noqa: E402

FRAMES, VERTICES, RUNS = 250, 50_000, 10
HEADING = "## Retargeting onto a character"


def character_keys() -> list[str]:
    """60 Character Creator names: the mappable ones first, then keys with no ARKit counterpart."""
    mappable = [name for name, channel in retarget_names.CHARACTER_CREATOR if channel][:48]
    others = [name for name, channel in retarget_names.CHARACTER_CREATOR if not channel][:12]
    return mappable + others


def build_character(keys: list[str]) -> tuple[bpy.types.Object, bpy.types.Object]:
    side = int(np.ceil(np.sqrt(VERTICES)))
    u, v = np.meshgrid(np.linspace(-0.1, 0.1, side), np.linspace(-0.1, 0.1, side))
    vertices = np.stack([u.ravel(), np.zeros(side * side), v.ravel()], -1)
    faces = [(r * side + c, r * side + c + 1, (r + 1) * side + c + 1, (r + 1) * side + c)
             for r in range(side - 1) for c in range(side - 1)]
    mesh = bpy.data.meshes.new("Hero")
    mesh.from_pydata(vertices.tolist(), [], faces)
    obj = bpy.data.objects.new("Hero", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    rng = np.random.default_rng(0)
    for name in keys:
        block = obj.shape_key_add(name=name, from_mix=False)
        block.data.foreach_set("co", (vertices + rng.normal(0, 0.002, vertices.shape)).astype(np.float32).ravel())
    armature = bpy.data.objects.new("Rig", bpy.data.armatures.new("Rig"))
    bpy.context.scene.collection.objects.link(armature)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    bone = armature.data.edit_bones.new("head")
    bone.head, bone.tail = (0, 0, 1.5), (0, 0, 1.8)
    bpy.ops.object.mode_set(mode="OBJECT")
    bpy.context.view_layer.objects.active = obj
    return obj, armature


def median_ms(run, runs: int = RUNS) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the machine is shared: CPU time
    is what the work costs, wall time what the animator waits under that load)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def matching() -> tuple[int, int, int, int]:
    """(names, placeable names, placed correctly, placed wrongly) over the data table."""
    expected = {name: channel for _, name, channel in retarget_names.TABLE}
    mapping = retarget.match_channels(retarget.ARKIT_CHANNELS, list(expected))
    placeable = [name for name, channel in expected.items() if channel]
    right = sum(1 for name in placeable if mapping.get(name) == expected[name])
    wrong = sum(1 for name, channel in mapping.items() if channel != expected[name])
    return len(expected), len(placeable), right, wrong


def main() -> None:
    blender_addon.register()
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 25, 1.0
    keys = character_keys()
    obj, armature = build_character(keys)
    settings = obj.s2t_character
    settings.head_mode, settings.armature, settings.head_bone = "BONE", armature, "head"
    rng = np.random.default_rng(1)
    pose = np.concatenate([rng.uniform(-0.3, 0.3, (FRAMES, 3)), rng.uniform(-0.1, 0.1, (FRAMES, 3))], axis=1)
    take = core.Take("bench", 25.0, retarget.ARKIT_CHANNELS,
                     rng.uniform(0, 1, (FRAMES, 52)).astype(np.float32), pose.astype(np.float32))
    character.apply_take(scene, obj, take, "warm-up")
    mapped = sum(1 for row in settings.rows if row.channel)
    apply_ms = median_ms(lambda: character.apply_take(scene, obj, take, "bench"))
    read_ms = median_ms(lambda: character.read_take(scene, obj))
    names, placeable, right, wrong = matching()
    conventions = len(retarget_names.CONVENTIONS) - 1  # the near misses are not a convention
    load = os.getloadavg()
    rows = [
        (f"apply a take: {FRAMES} frames x 52 channels onto {len(obj.data.vertices):,} vertices, {len(keys)} shape keys "
         f"({mapped} mapped) + head bone; 2 new Actions, foreach_set (median of {RUNS})",
         f"{apply_ms[1]:.1f} ms CPU ({apply_ms[0]:.1f} ms wall)"),
        (f"read back for Render Stylized: {mapped} key curves + 3 head curves inverted (median of {RUNS})",
         f"{read_ms[1]:.1f} ms CPU ({read_ms[0]:.1f} ms wall)"),
        (f"matching: {names} real-world key names from {conventions} conventions + near misses, wrong matches",
         f"{wrong}"),
        (f"matching: placeable names placed ({placeable} have an ARKit counterpart)",
         f"{right}/{placeable} ({100 * right / placeable:.0f} %)"),
    ]
    publish(HEADING, [
        f"Command: `$S2T_BPY_PYTHON bench/bench_retarget.py --write`. Blender {bpy.app.version_string} (background), "
        f"Python {platform.python_version()}, {os.cpu_count()}-core CPU ({platform.machine()}), "
        f"{datetime.date.today()}, load average {load[0]:.1f} (a shared machine: timings are upper bounds).",
    ], rows)


if __name__ == "__main__":
    main()
