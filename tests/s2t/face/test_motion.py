import numpy as np

from s2t.face.motion import blink_curve, blink_times, head_pose


def test_blinks_rate_and_shape():
    rng = np.random.default_rng(3)
    starts = blink_times(600.0, 15.0, rng)
    assert 10 <= len(starts) / 10 <= 20 and np.diff(starts).min() >= 0.6
    curve = blink_curve(starts[:20], int(120 * 1000), 1000.0, rng)  # 1 kHz to see the shape
    runs = np.diff(np.concatenate([[0], (curve > 0.02).astype(int), [0]]))
    lengths = np.nonzero(runs == -1)[0] - np.nonzero(runs == 1)[0]
    assert 140 <= lengths.min() and lengths.max() <= 270  # ms
    assert curve.max() <= 1 and curve.max() > 0.85


def test_head_motion_is_small_and_follows_loudness():
    fps, rng = 25.0, np.random.default_rng(4)
    t = np.arange(200) / fps
    loudness = np.where(np.sin(2 * np.pi * 0.7 * t) > 0, -20.0, -60.0) + 3 * np.sin(2 * np.pi * 4 * t)
    pose = head_pose(loudness, fps, rng)
    degrees = np.degrees(pose[:, :3])
    assert np.abs(degrees).max() < 10 and degrees.std(0).max() < 4
    assert np.corrcoef(pose[:, 0], loudness)[0, 1] > 0.5
    assert np.abs(pose[:, 3:]).max() < 0.02  # metres
