"""Time the add-on's keyframe fast path: 250 frames x 58 channels (52 shape keys + 6 pose).

Run in a Python with pip ``bpy`` (``$S2T_BPY_PYTHON bench/bench_addon_keyframes.py``) or in
Blender (``blender -b --python bench/bench_addon_keyframes.py``). Prints the table and, with
``--write``, replaces the "Blender add-on" section of bench/RESULTS.md.
"""

from __future__ import annotations

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

import blender_addon  # noqa: E402
from results_md import publish  # noqa: E402
from blender_addon import core, rig  # noqa: E402

FRAMES, CHANNELS, RUNS = 250, 52, 10
HEADING = "## Blender add-on"


def synthetic_rig() -> core.Rig:
    """A 20x20 grid with 52 shape keys: the key count, not the mesh, is what is timed."""
    u, v = np.meshgrid(np.linspace(-0.1, 0.1, 20), np.linspace(-0.1, 0.1, 20))
    vertices = np.stack([u.ravel(), np.zeros(400), v.ravel()], -1).astype(np.float32)
    triangles = np.array([(r * 20 + c, r * 20 + c + 1, r * 20 + c + 21) for r in range(19) for c in range(19)], np.int32)
    shapes = vertices[None] + np.random.default_rng(0).normal(0, 0.01, (CHANNELS, 400, 3)).astype(np.float32)
    names = tuple(f"channel{k:02d}" for k in range(CHANNELS))
    return core.Rig("bench", "m", names, vertices, triangles, shapes, np.tile(np.float32([0, 1]), (CHANNELS, 1)))


def synthetic_take(names: tuple[str, ...]) -> core.Take:
    rng = np.random.default_rng(1)
    pose = np.concatenate([rng.uniform(-0.3, 0.3, (FRAMES, 3)), rng.uniform(-0.1, 0.1, (FRAMES, 3))], axis=1)
    return core.Take("bench", 25.0, names, rng.uniform(0, 1, (FRAMES, CHANNELS)).astype(np.float32),
                     pose.astype(np.float32))


def median_ms(run, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def keyframe_insert_ms(obj: bpy.types.Object, take: core.Take) -> float:
    """The slow path for comparison: set every value, then ``keyframe_insert`` it (one run)."""
    key = obj.data.shape_keys
    start = time.perf_counter()
    for t in range(take.num_frames):
        for k, name in enumerate(take.channel_names):
            block = key.key_blocks[name]
            block.value = float(take.expression[t, k])
            block.keyframe_insert("value", frame=1 + t)
        obj.rotation_euler = take.pose[t, :3].tolist()
        obj.location = take.pose[t, 3:].tolist()
        obj.keyframe_insert("rotation_euler", frame=1 + t)
        obj.keyframe_insert("location", frame=1 + t)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    blender_addon.register()
    context = bpy.context
    context.scene.render.fps, context.scene.render.fps_base = 25, 1.0
    obj = rig.build_rig_object(context.scene, context.view_layer, synthetic_rig())
    take = synthetic_take(obj.data.shape_keys.key_blocks.keys()[1:])

    apply_ms = median_ms(lambda: rig.apply_take(context.scene, obj, take, "bench"))
    read_ms = median_ms(lambda: rig.read_take(context.scene, obj))
    for action in list(bpy.data.actions):
        bpy.data.actions.remove(action)
    insert_ms = keyframe_insert_ms(obj, take)

    keys = FRAMES * (CHANNELS + 6)
    rows = [
        (f"apply a take: 2 new Actions, {CHANNELS + 6} F-curves, keyframe_points.add + foreach_set "
         f"(median of {RUNS})", f"{apply_ms:.1f} ms"),
        ("same keys with keyframe_insert, one by one (1 run)", f"{insert_ms:.0f} ms ({insert_ms / apply_ms:.0f}x slower)"),
        (f"read back: evaluate {CHANNELS + 6} F-curves at {FRAMES} frames, build the take (median of {RUNS})",
         f"{read_ms:.1f} ms"),
    ]
    publish(HEADING, [
        f"Command: `$S2T_BPY_PYTHON bench/bench_addon_keyframes.py --write`. Blender {bpy.app.version_string} "
        f"(background), Python {platform.python_version()}, {os.cpu_count()}-core CPU ({platform.machine()}).",
        f"Workload: {FRAMES} frames x {CHANNELS + 6} channels ({CHANNELS} shape keys + 6 pose) = {keys} keys.",
    ], rows)


if __name__ == "__main__":
    main()
