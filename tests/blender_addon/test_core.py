"""The add-on's Blender-free core, in the main venv: axes, keyframe arrays, resampling, files.

The core is imported with torch blocked (``sys.modules['torch'] = None``) to keep the
add-on's no-torch rule checked; ``s2t`` is used only to write and read reference files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_blocked, sys.modules["torch"] = sys.modules.get("torch"), None
try:
    from blender_addon import core
finally:
    if _blocked is None:
        del sys.modules["torch"]
    else:
        sys.modules["torch"] = _blocked

from s2t.face.coeffs import CoeffSequence  # noqa: E402
from s2t.face.model import FaceModel  # noqa: E402
from s2t.face.pose import rotation_matrix  # noqa: E402

AXES = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float64)
"""Model (y up, z forward) -> Blender (z up, -y forward): a +90° turn about x."""


def make_take(frames: int = 30, fps: float = 25.0) -> core.Take:
    rng = np.random.default_rng(1)
    pose = np.concatenate([rng.uniform(-0.5, 0.5, (frames, 3)), rng.uniform(-1, 1, (frames, 3))], axis=1)
    return core.Take("model", fps, ("a", "b", "c"), rng.uniform(0, 1, (frames, 3)).astype(np.float32),
                     pose.astype(np.float32), {"note": "test"})


def test_axes_turn_up_and_forward_and_invert() -> None:
    up, forward, left = np.eye(3)[1], np.eye(3)[2], np.eye(3)[0]
    assert np.array_equal(core.to_blender_axes(up), [0, 0, 1])
    assert np.array_equal(core.to_blender_axes(forward), [0, -1, 0])
    assert np.array_equal(core.to_blender_axes(left), [1, 0, 0])
    points = np.random.default_rng(0).normal(size=(5, 7, 3))
    assert np.allclose(core.to_blender_axes(points), points @ AXES.T)
    assert np.allclose(core.from_blender_axes(core.to_blender_axes(points)), points)


def euler_xzy(x: float, y: float, z: float) -> np.ndarray:
    """Blender's ``'XZY'`` Euler order: X first, then Z, then Y."""
    rx, ry, rz = (rotation_matrix(np.array(a)) for a in ([x, 0, 0], [0, y, 0], [0, 0, z]))
    return ry @ rz @ rx


def test_pose_channels_reproduce_the_model_pose_in_blender_axes() -> None:
    take = make_take()
    keys = core.keyframe_arrays(take, take.fps, 1, metres_per_unit=0.1)
    curves = {(k.data_path, k.index): k.co[:, 1] for k in keys.pose}
    for t in (0, 13):
        euler = [curves["rotation_euler", i][t] for i in range(3)]
        assert core.ROTATION_MODE == "XZY"
        assert np.allclose(euler_xzy(*euler), AXES @ rotation_matrix(take.pose[t, :3]) @ AXES.T, atol=1e-6)
        location = [curves["location", i][t] for i in range(3)]
        assert np.allclose(location, AXES @ take.pose[t, 3:] * 0.1, atol=1e-6)


def test_keyframes_start_at_frame_start_one_per_frame() -> None:
    take = make_take(frames=30)
    keys = core.keyframe_arrays(take, 25.0, frame_start=101)
    assert (keys.frame_start, keys.frame_end) == (101, 130)
    assert [k.data_path for k in keys.shape] == ['key_blocks["a"].value', 'key_blocks["b"].value', 'key_blocks["c"].value']
    for k, channel in enumerate(keys.shape):
        assert channel.co.dtype == np.float32 and channel.co.shape == (30, 2)
        assert np.array_equal(channel.co[:, 0], np.arange(101, 131))
        assert np.array_equal(channel.co[:, 1], take.expression[:, k])


def test_other_scene_fps_resamples_like_the_library() -> None:
    take = make_take(frames=50, fps=25.0)
    keys = core.keyframe_arrays(take, 30.0, frame_start=1)
    assert len(keys.shape[0].co) == 60  # 2 s at 30 fps
    library = CoeffSequence("model", 25.0, take.channel_names, take.expression, take.pose).resample(30.0)
    assert np.allclose(np.stack([k.co[:, 1] for k in keys.shape], -1), library.expression, atol=1e-6)
    pitch = next(k for k in keys.pose if (k.data_path, k.index) == ("rotation_euler", 0))
    assert np.allclose(pitch.co[:, 1], library.pose[:, 0], atol=1e-6)


def test_resample_unwraps_angles_across_pi() -> None:
    values = np.array([[3.1], [-3.1]])
    halfway = core.resample(values, 1.0, 2.0, angle_columns=slice(0, 1))[1, 0]
    assert abs(abs(halfway) - np.pi) < 0.01  # the short way round, not through 0


def test_samples_back_to_take_inverts_keyframes() -> None:
    take = make_take()
    keys = core.keyframe_arrays(take, take.fps, 1, metres_per_unit=0.01)
    shape = {name: k.co[:, 1] for name, k in zip(take.channel_names, keys.shape)}
    pose = {(k.data_path, k.index): k.co[:, 1] for k in keys.pose}
    back = core.take_from_samples(shape, pose, "model", take.fps, take.channel_names, 0.01, take.metadata)
    assert np.array_equal(back.expression, take.expression)
    assert np.allclose(back.pose, take.pose, atol=1e-6)


def test_coefficient_files_round_trip_with_the_library(tmp_path: Path) -> None:
    take = make_take()
    core.save_take(tmp_path / "a.npz", take)
    library = CoeffSequence.load(tmp_path / "a.npz")
    assert library.channel_names == take.channel_names and library.metadata == {"note": "test"}
    assert np.array_equal(library.expression, take.expression) and np.array_equal(library.pose, take.pose)
    library.save(tmp_path / "b.npz")
    again = core.load_take(tmp_path / "b.npz")
    assert (again.model_id, again.fps, again.metadata) == ("model", 25.0, {"note": "test"})
    assert np.array_equal(again.expression, take.expression)


def test_load_take_rejects_other_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="no JSON header"):
        core.load_take(tmp_path / "plain.npz")
    header = np.frombuffer(b'{"format": "s2t-coeff-sequence", "format_version": 99}', np.uint8)
    np.savez(tmp_path / "future.npz", header=header)
    with pytest.raises(ValueError, match="Update the add-on"):
        core.load_take(tmp_path / "future.npz")


def test_rig_in_blender_axes_and_metres(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    vertices = rng.normal(size=(70, 3)).astype(np.float32)
    basis = rng.normal(size=(2, 70, 3)).astype(np.float32)
    FaceModel("m", vertices, np.array([[0, 1, 2]], np.int32), ("jawOpen", "eyeBlinkLeft"), basis,
              np.arange(68), units="dm").save(tmp_path / "rig.npz")
    rig = core.load_rig(tmp_path / "rig.npz")
    assert rig.channel_names == ("jawOpen", "eyeBlinkLeft") and rig.metres_per_unit == 0.1
    assert np.allclose(rig.vertices, vertices @ AXES.T * 0.1, atol=1e-6)
    assert np.allclose(rig.shape_keys[1], (vertices + basis[1]) @ AXES.T * 0.1, atol=1e-6)


def test_timeline_markers_become_an_emotion_track() -> None:
    markers = [(151, "She turns angry, frowning."), (40, "F_40"), (1, "ignored: before the take"),
               (101, "  He grins, delighted. ")]
    track = core.emotion_track_from_markers(markers, frame_start=51, fps=25.0, first_text="calm")
    assert track == [{"start": 0.0, "text": "calm"}, {"start": 2.0, "text": "He grins, delighted."},
                     {"start": 4.0, "text": "She turns angry, frowning."}]
    # a marker on the take's first frame replaces the panel's emotion from the start
    assert core.emotion_track_from_markers([(51, "sad")], 51, 25.0, "calm") == [{"start": 0.0, "text": "sad"}]
    # 24 fps scenes count seconds at 24 fps; unnamed markers change nothing
    assert core.emotion_track_from_markers([(25, "joy")], 1, 24.0, "calm")[1]["start"] == 1.0
    assert core.emotion_track_from_markers([(30, "F_30"), (31, " ")], 1, 25.0, "calm") == []


def test_a_marker_track_is_one_the_backend_accepts() -> None:
    from s2t.style_e.emotion_track import parse_emotion_track

    track = core.emotion_track_from_markers([(76, "angry")], 1, 25.0, "calm")
    parsed = parse_emotion_track(track)
    assert [(cue.start, cue.text) for cue in parsed.cues] == [(0.0, "calm"), (3.0, "angry")]
