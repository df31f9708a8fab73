"""Blinks and head motion: the procedural model the synthetic corpus animates with and Style-E
falls back on for takes without blinks (:mod:`s2t.style_e.blinks`).

Blinks: spontaneous blinking while talking runs at roughly 10-25 a minute with irregular
gaps (never two within ~0.6 s); one blink closes fast (50-80 ms), may stay shut briefly and
reopens more slowly (90-140 ms), 150-260 ms in all (VanderWerf et al. 2003).

Head: small rotations (a few degrees) that follow the speech: the head nods with the loud,
stressed syllables (band-passed loudness drives pitch), yaw and roll wander slowly, and the
head turns about the neck, which gives the translation.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from s2t.face.pose import rotation_matrix

NECK_PIVOT = np.array([0.0, -0.11, -0.04])  # metres in the rig's frame: the top of the neck, behind the jaw


def blink_times(duration: float, rate_per_min: float, rng: np.random.Generator) -> list[float]:
    """Blink start times: gamma-distributed gaps (shape 3) of mean ``60 / rate``, at least 0.6 s,
    starting at a random phase so clip starts are not special."""
    mean_gap = 60.0 / rate_per_min
    t = -rng.uniform(0.0, mean_gap)
    starts = []
    while True:
        t += max(0.6, rng.gamma(3.0, mean_gap / 3.0))
        if t >= duration:
            return starts
        if t >= 0.0:
            starts.append(round(float(t), 4))


def blink_curve(starts: list[float], num_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """``(T,)`` eyelid closure in [0, 1] at frame times ``t / fps``, one shape per start."""
    times = np.arange(num_frames) / fps
    curve = np.zeros(num_frames)
    for start in starts:
        close, hold, reopen = rng.uniform(0.05, 0.08), rng.uniform(0.01, 0.04), rng.uniform(0.09, 0.14)
        depth = rng.uniform(0.85, 1.0)
        x = times - start
        closing = np.clip(x / close, 0.0, 1.0)
        opening = np.clip((x - close - hold) / reopen, 0.0, 1.0)
        shape = np.sin(0.5 * np.pi * closing) ** 2 * (1.0 - opening * opening * (3 - 2 * opening))
        curve = np.maximum(curve, depth * shape * (x >= 0))
    return curve


def frame_loudness(audio: np.ndarray, sr: int, num_frames: int, fps: float) -> np.ndarray:
    """``(T,)`` loudness in dB (RMS over each frame's samples), floored at -80 dB."""
    hop = sr / fps
    edges = np.minimum((np.arange(num_frames + 1) * hop).astype(int), len(audio))
    power = np.array([np.mean(audio[a:b].astype(np.float64) ** 2) if b > a else 0.0 for a, b in zip(edges[:-1], edges[1:])])
    return 10 * np.log10(power + 1e-8)


def _wander(num_frames: int, fps: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth zero-mean noise of unit standard deviation with time scale ``seconds``."""
    pad = int(3 * seconds * fps)
    noise = gaussian_filter1d(rng.normal(0.0, 1.0, num_frames + 2 * pad), sigma=seconds * fps)[pad : pad + num_frames]
    noise -= noise.mean()
    return noise / max(noise.std(), 1e-6)


def head_pose(loudness_db: np.ndarray, fps: float, rng: np.random.Generator, scale: float = 1.0,
              pitch_offset: float = 0.0, roll_offset: float = 0.0) -> np.ndarray:  # fmt: skip
    """``(T, 6)`` pose (pitch, yaw, roll in radians; translation in metres) driven by loudness.

    Pitch follows the loudness band-passed to syllable and phrase rates (0.3-3 Hz): about
    0.8 degrees per 10 dB, times ``scale``, so the head dips on loud syllables; yaw and roll
    wander (about 1.2 and 0.8 degrees); ``pitch_offset`` / ``roll_offset`` (degrees) hold the
    head lowered or tilted, as some emotions do.
    """
    num_frames = len(loudness_db)
    speech = np.clip(loudness_db, np.percentile(loudness_db, 95) - 30.0, None)
    band = gaussian_filter1d(speech, 0.06 * fps) - gaussian_filter1d(speech, 0.5 * fps)
    degrees = np.zeros((num_frames, 3))
    degrees[:, 0] = scale * (0.08 * band + 0.4 * _wander(num_frames, fps, 0.8, rng)) + pitch_offset
    degrees[:, 1] = scale * 1.2 * _wander(num_frames, fps, 1.0, rng) + rng.normal(0.0, 1.5)
    degrees[:, 2] = scale * 0.8 * _wander(num_frames, fps, 1.2, rng) + roll_offset + rng.normal(0.0, 1.0)
    angles = np.radians(degrees)
    translation = NECK_PIVOT - rotation_matrix(angles) @ NECK_PIVOT  # turning about the neck
    translation += 0.002 * scale * np.stack([_wander(num_frames, fps, 1.5, rng) for _ in range(3)], -1)
    return np.concatenate([angles, translation], -1).astype(np.float32)
