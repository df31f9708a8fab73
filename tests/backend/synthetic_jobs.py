"""Synthetic material for the backend tests: a short talking take, and a job kind for
timing-sensitive paths (cancel, kills, concurrency).

``count`` yields ``frames`` raw frames, one every ``delay`` seconds; frame ``i`` of seed ``s``
is :func:`expected_frame`, so a client can check every byte it got. ``PRODUCED`` records how
many frames each job made and ``ENDED`` the jobs whose generator has ended (run out, or closed by
a cancel), to show that a cancelled job really stopped.
"""

from __future__ import annotations

import time

import numpy as np

from backend.jobs import JobKind, frame_message
from s2t.face import CoeffSequence
from s2t.face.rig import RIG_ID
from s2t.face.rig.blendshapes import ARKIT_52

PRODUCED: dict[str, int] = {}
ENDED: set[str] = set()


def talking_sequence(frames: int = 8) -> CoeffSequence:
    """A take of the embedded rig: the jaw opens and closes, a smile grows, the head turns."""
    t = np.linspace(0.0, 1.0, frames)
    expression = np.zeros((frames, len(ARKIT_52)), np.float32)
    expression[:, ARKIT_52.index("jawOpen")] = 0.6 * np.sin(2 * np.pi * t) ** 2
    for name in ("mouthSmileLeft", "mouthSmileRight"):
        expression[:, ARKIT_52.index(name)] = 0.8 * t
    pose = np.zeros((frames, 6), np.float32)
    pose[:, 1] = 0.3 * np.sin(2 * np.pi * t)
    return CoeffSequence(RIG_ID, 25.0, ARKIT_52, expression, pose, {"source": "backend tests"})


def expected_frame(seed: int, index: int) -> np.ndarray:
    rows = np.arange(6, dtype=np.uint16)[:, None, None]
    return ((seed * 31 + index * 7 + rows + np.arange(3)) % 256).astype(np.uint8).repeat(5, axis=1)


def prepare_count(params: dict, buffers: dict) -> tuple[tuple, dict]:
    arg = (int(params.get("frames", 3)), float(params.get("delay", 0.0)), int(params.get("seed", 0)))
    return arg, {"frames": arg[0]}


def run_count(arg: tuple, ctx):
    frames, delay, seed = arg
    try:
        for index in range(frames):
            time.sleep(delay)
            PRODUCED[ctx.job_id] = index + 1
            yield frame_message(index, expected_frame(seed, index), "raw", "synthetic")
    finally:
        ENDED.add(ctx.job_id)


def large_frame(size: int, index: int) -> np.ndarray:
    """A ``(size, size, 3)`` frame that names its index in every pixel's first two bytes."""
    frame = np.empty((size, size, 3), np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = index % 256, index // 256, 7
    return frame


def prepare_large(params: dict, buffers: dict) -> tuple[tuple, dict]:
    arg = (int(params.get("frames", 3)), int(params.get("size", 512)), float(params.get("delay", 0.0)))
    return arg, {"frames": arg[0]}


def run_large(arg: tuple, ctx):
    """Big raw frames as fast as they can be stored: a client that does not read falls behind at once."""
    frames, size, delay = arg
    for index in range(frames):
        time.sleep(delay)
        yield frame_message(index, large_frame(size, index), "raw", "synthetic")


KINDS = {"count": JobKind("count", "synthetic frames for tests", prepare_count, run_count),
         "large": JobKind("large", "big raw frames for memory tests", prepare_large, run_large)}
