import numpy as np

from s2t.face.motion import blink_curve, blink_times, head_pose, stressed_syllables


def test_blinks_rate_and_shape():
    rng = np.random.default_rng(3)
    starts = blink_times(600.0, 15.0, rng)
    assert 10 <= len(starts) / 10 <= 20 and np.diff(starts).min() >= 0.6
    curve = blink_curve(starts[:20], int(120 * 1000), 1000.0, rng)  # 1 kHz to see the shape
    runs = np.diff(np.concatenate([[0], (curve > 0.02).astype(int), [0]]))
    lengths = np.nonzero(runs == -1)[0] - np.nonzero(runs == 1)[0]
    assert 140 <= lengths.min() and lengths.max() <= 270  # ms
    assert curve.max() <= 1 and curve.max() > 0.85


def _speech_loudness(seconds: float, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Syllables at ~4 Hz in phrases of 1.5-3 s with pauses; every third syllable 6 dB louder (stressed)."""
    loudness = np.full(int(seconds * fps), -70.0)
    t = 0.3
    while t < seconds - 0.5:
        phrase_end = min(t + rng.uniform(1.5, 3.0), seconds - 0.3)
        k = 0
        while t < phrase_end:
            a, b = int(t * fps), int((t + 0.18) * fps)
            loudness[a:b] = -26.0 + (6.0 if k % 3 == 0 else 0.0) + rng.normal(0, 1)
            t += 0.25
            k += 1
        t += rng.uniform(0.3, 0.6)
    return loudness


def test_head_motion_has_the_target_size_and_follows_loudness():
    fps, rng = 25.0, np.random.default_rng(4)
    loudness = _speech_loudness(12.0, fps, rng)
    pose = head_pose(loudness, fps, np.random.default_rng(5))
    degrees = np.degrees(pose[:, :3])
    std, span = degrees.std(0), np.ptp(degrees, 0)
    # The corpus's targets (s2t/face/motion.py): about twice the first corpus's 0.7 / 1.2 / 0.8 degrees std.
    assert 1.1 <= std[0] <= 2.5 and 1.6 <= std[1] <= 3.2 and 0.7 <= std[2] <= 1.6, std  # pitch, yaw, roll
    assert 5.0 <= span[0] <= 12.0 and 5.5 <= span[1] <= 13.0 and 2.5 <= span[2] <= 7.0, span
    assert np.abs(degrees).max() < 12 and np.abs(pose[:, 3:]).max() < 0.03  # metres
    corr = [np.corrcoef(head_pose(loudness, fps, np.random.default_rng(s))[:, 0], loudness)[0, 1] for s in range(20)]
    assert min(corr) > 0.0 and np.mean(corr) > 0.15  # the head dips with loud speech, for every speaker


def test_nods_land_on_stressed_syllables():
    fps = 25.0
    loudness = _speech_loudness(12.0, fps, np.random.default_rng(1))
    peaks = stressed_syllables(loudness, fps)
    assert peaks and np.diff([f for f, _ in peaks]).min() >= 0.3 * fps
    assert all(loudness[f - 2 : f + 3].max() > -22 for f, _ in peaks)  # the louder, stressed syllables
    # Averaged over many speakers (seeds), pitch velocity turns from down to up at the nod's peak.
    pitch = np.mean([head_pose(loudness, fps, np.random.default_rng(s))[:, 0] for s in range(40)], 0)
    frames = [f for f, _ in peaks if 3 <= f < len(pitch) - 3]
    before = np.mean([pitch[f] - pitch[f - 3] for f in frames])
    after = np.mean([pitch[f + 3] - pitch[f] for f in frames])
    assert before > 0.002 and after < -0.002  # radians: down into the syllable, back up after it


def test_head_motion_is_deterministic_and_scales():
    fps = 25.0
    loudness = _speech_loudness(6.0, fps, np.random.default_rng(2))
    a = head_pose(loudness, fps, np.random.default_rng(9))
    assert np.array_equal(a, head_pose(loudness, fps, np.random.default_rng(9)))
    still = head_pose(loudness, fps, np.random.default_rng(9), scale=0.5)
    assert np.degrees(still[:, 0]).std() < 0.6 * np.degrees(a[:, 0]).std()
