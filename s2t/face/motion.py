"""Blinks and head motion: the procedural model the synthetic corpus animates with and Style-E
falls back on for takes without blinks (:mod:`s2t.style_e.blinks`).

Blinks: spontaneous blinking while talking runs at roughly 10-25 a minute with irregular
gaps (never two within ~0.6 s); one blink closes fast (50-80 ms), may stay shut briefly and
reopens more slowly (90-140 ms), 150-260 ms in all (VanderWerf et al. 2003).

Head: rotations of a few degrees that follow the speech, built from what studies of talking
people report (sources in :func:`head_pose` and docs/corpus.md): a slow postural sway, motion
in the 1-2 Hz phrase band that follows the loudness envelope, and nods whose peak lands on
the loud, stressed syllables; the head turns about the neck, which gives the translation.
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


# Degrees (x ``scale``) of each part of the head motion, per axis (pitch, yaw, roll). No
# per-axis amplitude of real talking video (HDTF, VoxCeleb, MEAD) could be found in the sources
# reachable here, so these sizes are a stated choice, not a measurement: about twice the
# motion of the first corpus (whose within-clip std of 0.7 / 1.2 / 0.8 degrees the issue calls
# stiff), with most of the pitch motion tied to the voice (nods and the 1-2 Hz band) rather
# than to the sway, so a model can learn it from audio. On 3 s corpus clips: std about
# 1.4 / 2.3 / 1.0 degrees and range 6 / 7.5 / 3.6 (bench/bench_corpus_motion.py; tests pin it).
SWAY_DEGREES = (0.9, 2.2, 1.0)  # slow posture drift, time scale SWAY_SECONDS
SWAY_SECONDS = 1.6
PHRASE_DEGREES_PER_DB = (0.30, 0.10, 0.06)  # 1-2 Hz band of the loudness envelope
NOD_DEGREES_PER_DB = (0.45, 0.08, 0.08)  # a nod's peak per dB of its syllable's prominence
NOD_MAX_DEGREES = 4.0
NOD_SECONDS = 0.36  # one nod: down and back in about a third of a second


def bandpass(signal: np.ndarray, fps: float, low_hz: float, high_hz: float) -> np.ndarray:
    """Difference of Gaussians: keeps roughly ``low_hz``..``high_hz`` (sigma = 1 / (2 pi f))."""
    return gaussian_filter1d(signal, fps / (2 * np.pi * high_hz)) - gaussian_filter1d(signal, fps / (2 * np.pi * low_hz))


def stressed_syllables(loudness_db: np.ndarray, fps: float, min_gap: float = 0.3) -> list[tuple[int, float]]:
    """``(frame, prominence dB)`` of loud syllable peaks: local maxima of the smoothed loudness
    that stand at least 3 dB above the speech within +-0.6 s and 15 dB above the clip's floor,
    at least ``min_gap`` s apart (the louder one wins)."""
    speech = np.clip(loudness_db, np.percentile(loudness_db, 95) - 30.0, None)
    smooth = gaussian_filter1d(speech, 0.04 * fps)
    floor = np.percentile(speech, 10)
    voiced = (speech - floor >= 15.0).astype(float)  # the surroundings are the speech, not the pauses
    surround = gaussian_filter1d(speech * voiced, 0.6 * fps) / np.maximum(gaussian_filter1d(voiced, 0.6 * fps), 1e-6)
    prominence = smooth - surround
    peaks = [t for t in range(1, len(smooth) - 1)
             if smooth[t] >= smooth[t - 1] and smooth[t] > smooth[t + 1] and prominence[t] >= 3.0
             and smooth[t] - floor >= 15.0]  # fmt: skip
    chosen: list[int] = []
    for t in sorted(peaks, key=lambda t: -prominence[t]):
        if all(abs(t - c) >= min_gap * fps for c in chosen):
            chosen.append(t)
    return [(t, float(prominence[t])) for t in sorted(chosen)]


def head_pose(loudness_db: np.ndarray, fps: float, rng: np.random.Generator, scale: float = 1.0,
              pitch_offset: float = 0.0, roll_offset: float = 0.0) -> np.ndarray:  # fmt: skip
    """``(T, 6)`` pose (pitch, yaw, roll in radians, + pitch = head down; translation in metres).

    Three parts; the first two follow published observations of people talking, the sizes
    are the module's constants (a choice, see there):

    - **Nods on stressed syllables.** Each loud syllable peak (:func:`stressed_syllables`)
      brings a nod whose peak rotation is on the syllable: Alexanderson, House & Beskow
      (AVSP 2013, motion capture of spontaneous dialogue) found the nod's peak rotation on
      average aligned with the stressed syllable, and the syllables under nods louder and
      higher in F0 than the dialogue's mean; Hadar et al. (PubMed 6209950, polarised-light
      goniometer) found sharp head movements at peaks of loudness and major stress. Size
      grows with the syllable's prominence.
    - **Phrase-band motion tied to loudness.** Pitch (and a little yaw and roll) follows the
      loudness envelope band-passed to 1-2 Hz: across ~4000 speakers, envelope fluctuations
      at 1-2 Hz correlate with global face and head motion, 3-4 Hz ones with the mouth
      (PLOS Comput. Biol., doi:10.1371/journal.pcbi.1010273); head motion correlates with the
      voice's F0 and amplitude (Munhall et al., Psychol. Sci. 2004).
    - **Slow sway.** Yaw, pitch and roll drift on a ~1.6 s time scale (mostly below 0.5 Hz).

    ``scale`` multiplies all motion; ``pitch_offset`` / ``roll_offset`` (degrees) hold the head
    lowered or tilted, as some emotions do (Busso et al., IEEE TASLP 2007: emotional speech
    differs from neutral in head-motion activation, range and velocity).
    """
    num_frames = len(loudness_db)
    speech = np.clip(loudness_db, np.percentile(loudness_db, 95) - 30.0, None)
    phrase = bandpass(speech, fps, 1.0, 2.0)
    times = np.arange(num_frames)
    nods = np.zeros(num_frames)
    width = NOD_SECONDS * fps
    for frame, prominence in stressed_syllables(loudness_db, fps):
        x = (times - frame) / width  # peak on the syllable, -0.5..0.5 of the nod around it
        shape = np.where(np.abs(x) < 0.5, 0.5 + 0.5 * np.cos(2 * np.pi * x), 0.0)
        nods = np.maximum(nods, shape * min(prominence, NOD_MAX_DEGREES / NOD_DEGREES_PER_DB[0]))
    sides = rng.choice([-1.0, 1.0], 2)  # which way this clip's voice-driven motion turns and tilts the head
    degrees = np.zeros((num_frames, 3))
    for axis in range(3):
        sign = 1.0 if axis == 0 else sides[axis - 1]  # pitch: the head dips with the voice
        degrees[:, axis] = scale * (SWAY_DEGREES[axis] * _wander(num_frames, fps, SWAY_SECONDS, rng)
                                    + sign * (PHRASE_DEGREES_PER_DB[axis] * phrase + NOD_DEGREES_PER_DB[axis] * nods))
    degrees[:, 0] += pitch_offset
    degrees[:, 1] += rng.normal(0.0, 1.5)
    degrees[:, 2] += roll_offset + rng.normal(0.0, 1.0)
    angles = np.radians(degrees)
    translation = NECK_PIVOT - rotation_matrix(angles) @ NECK_PIVOT  # turning about the neck
    translation += 0.002 * scale * np.stack([_wander(num_frames, fps, 1.5, rng) for _ in range(3)], -1)
    return np.concatenate([angles, translation], -1).astype(np.float32)
