"""Video-corpus fitting benchmark: speed of each stage and recovery of known motion.

    python bench/bench_video_corpus.py [--seconds 4] [--sizes 256 1080]

Makes a talking clip the way the tests do (the astronaut photo driven by a known jawOpen
curve and a steady head turn through the CPU renderer, 30 fps), at 256x256 and as a
MEAD-like 1920x1080 frame (the face scaled to about 400 px wide on a grey background),
then times the adapter's stages in CPU seconds (BLAS on one thread): decoding to 25 fps, landmarks (tracked, and
for comparison the whole-frame search on every frame), identity, per-frame fits, and the
correlation of the recovered jawOpen and yaw with the driving curves. Prints markdown.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data
from threadpoolctl import threadpool_limits

from s2t.data.adapters import ANALYSIS_SIDE
from s2t.data.video_fit import VideoFitConfig, fill_gaps, fit_identity, fit_track, smooth, track_landmarks
from s2t.face import Camera
from s2t.face.detect import detect_landmarks
from s2t.face.rig import build_rig
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.photo import prepare_photo
from s2t.video import read_frames

SOURCE_FPS = 30


def driving_curves(num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(num_frames) / SOURCE_FPS
    jaw = 0.4 * (0.5 - 0.5 * np.cos(2 * np.pi * 1.7 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.4 * t))
    yaw = 0.15 * np.sin(2 * np.pi * t / t[-1]) if num_frames > 1 else np.zeros(1)
    return jaw, yaw


def render_clip(path: Path, jaw: np.ndarray, yaw: np.ndarray, size: int) -> None:
    rig = build_rig()
    renderer = CpuRenderer(rig, prepare_photo(rig, data.astronaut(), 256))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=SOURCE_FPS)
        stream.width, stream.height = (1920, 1080) if size == 1080 else (size, size)
        stream.pix_fmt, stream.options = "yuv420p", {"crf": "18", "preset": "veryfast"}
        for i, (jaw_open, turn) in enumerate(zip(jaw, yaw)):
            expression = np.zeros(rig.num_expressions)
            expression[rig.expression_index("jawOpen")] = jaw_open
            frame = renderer.render(expression, np.array([0.0, turn, 0, 0, 0, 0]))
            if size == 1080:
                canvas = np.full((1080, 1920, 3), 90, np.uint8)
                canvas[28:1052, 448:1472] = cv2.resize(frame, (1024, 1024), interpolation=cv2.INTER_CUBIC)
                frame = canvas
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, SOURCE_FPS)
            container.mux(stream.encode(picture))
        container.mux(stream.encode())


def timed(fn):
    """``(result, CPU seconds)``: this process's CPU time, so a busy shared machine does not
    inflate the numbers (decoding threads add theirs)."""
    start = time.process_time()
    result = fn()
    return result, time.process_time() - start


@threadpool_limits.wrap(limits=1)
def measure(path: Path, jaw: np.ndarray, yaw: np.ndarray) -> dict:
    rig, config = build_rig(), VideoFitConfig()
    detect_landmarks(data.astronaut())  # load dlib's models outside the timings
    frames, decode = timed(lambda: list(read_frames(path, max_side=ANALYSIS_SIDE)))
    count = len(frames)
    track, landmarks = timed(lambda: track_landmarks(frames, config))
    _, full_search = timed(lambda: [detect_landmarks(f, max_detect_side=config.full_detect_side) for f in frames[:10]])
    points = smooth(fill_gaps(track.points, track.found, 25.0, config), config)
    camera = Camera.for_image(*track.image_size)
    _, identity = timed(lambda: fit_identity(rig, points, camera, config.identity_frames))
    (_, params, rms), fitting = timed(lambda: fit_track(rig, points, camera, config))
    source = np.minimum(np.floor(np.arange(count) * SOURCE_FPS / 25 + 0.5).astype(int), len(jaw) - 1)
    total = decode + landmarks + fitting  # fit_track includes the identity fit
    return {
        "analysed": f"{track.image_size[0]}x{track.image_size[1]}", "frames": count,
        "decode_ms": 1e3 * decode / count, "landmarks_ms": 1e3 * landmarks / count,
        "full_search_ms": 1e3 * full_search / 10, "identity_s": identity,
        "fit_ms": 1e3 * (fitting - identity) / count, "fps": count / total, "rms_px": float(rms.mean()),
        "jaw_r": float(np.corrcoef(params[:, 6 + rig.expression_index("jawOpen")], jaw[source])[0, 1]),
        "yaw_r": float(np.corrcoef(params[:, 1], yaw[source])[0, 1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1080])
    args = parser.parse_args()
    jaw, yaw = driving_curves(int(round(args.seconds * SOURCE_FPS)))
    print(f"{platform.processor() or platform.machine()}, CPU time, {args.seconds:g} s clips at {SOURCE_FPS} fps\n")
    print("| source | analysed | frames | decode ms/f | landmarks ms/f (tracked) | whole-frame search ms/f "
          "| identity s | fit ms/f | total frames/s | RMS px | jawOpen r | yaw r |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"clip{size}.mp4"
            render_clip(path, jaw, yaw, size)
            r = measure(path, jaw, yaw)
            name = "1920x1080" if size == 1080 else f"{size}x{size}"
            print(f"| {name} | {r['analysed']} | {r['frames']} | {r['decode_ms']:.1f} | {r['landmarks_ms']:.1f} | "
                  f"{r['full_search_ms']:.1f} | {r['identity_s']:.2f} | {r['fit_ms']:.1f} | {r['fps']:.1f} | "
                  f"{r['rms_px']:.2f} | {r['jaw_r']:.3f} | {r['yaw_r']:.3f} |")


if __name__ == "__main__":
    main()
