"""CPU renderer throughput, memory and end-to-end time on the sample photo.

    python bench/bench_render.py [--art PRESET]

Warp stage: the renderer alone (no art style, no encoding), over a talking-like sequence
(jaw, lips and blinks moving; the mouth open half the time), after two warm-up frames.
End to end: `s2t generate` work for 10 s of speech (250 frames) including photo fitting,
art style (when given) and H.264 encoding with the audio muxed in.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from skimage import data

from s2t.face import CoeffSequence
from s2t.face.rig import build_rig
from s2t.pipeline import TalkingHeadPipeline
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.photo import prepare_photo


def talking_sequence(model, frames: int) -> CoeffSequence:
    t = np.arange(frames) / 25.0
    w = np.zeros((frames, model.num_expressions))
    w[:, model.expression_index("jawOpen")] = 0.45 * np.clip(np.sin(2 * np.pi * 2.1 * t), 0, None)
    w[:, model.expression_index("mouthFunnel")] = 0.3 * np.clip(np.sin(2 * np.pi * 1.3 * t + 1), 0, None)
    for side in ("Left", "Right"):
        w[:, model.expression_index(f"eyeBlink{side}")] = np.exp(-(((t % 3.0) - 1.5) / 0.08) ** 2)
        w[:, model.expression_index(f"mouthSmile{side}")] = 0.4
    pose = np.zeros((frames, 6))
    pose[:, 1] = 0.08 * np.sin(2 * np.pi * 0.2 * t)
    pose[:, 0] = 0.04 * np.sin(2 * np.pi * 0.3 * t)
    return CoeffSequence(model.model_id, 25.0, model.expression_names, w, pose)


def warp_fps(model, size: int, frames: int = 100) -> float:
    photo = prepare_photo(model, data.astronaut(), size)
    renderer = CpuRenderer(model, photo)
    seq = talking_sequence(model, frames + 2)
    for t in range(2):
        renderer.render(seq.expression[t], seq.pose[t])
    started = time.perf_counter()
    for t in range(2, frames + 2):
        renderer.render(seq.expression[t], seq.pose[t])
    return frames / (time.perf_counter() - started)


def end_to_end(model, size: int, art: str | None) -> float:
    from s2t.style_a.art import resolve_art

    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "speech.wav"
        sf.write(audio, 0.05 * np.random.default_rng(0).normal(size=160000), 16000)
        started = time.perf_counter()
        TalkingHeadPipeline(model)(data.astronaut(), Path(tmp) / "talk.mp4", audio=audio,
                                   coeffs=talking_sequence(model, 250), art=resolve_art(art), size=size, progress=False)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--art", help="art preset for the end-to-end run")
    args = parser.parse_args()
    model = build_rig()
    print("| measure | value |\n|---|---|")
    for size in (512, 1024):
        print(f"| warp stage, {size}x{size} (frames/s, 100 frames) | {warp_fps(model, size):.1f} |")
    for size in (512,):
        print(f"| end to end, 10 s of speech at {size} ({args.art or 'no art style'}) | {end_to_end(model, size, args.art):.1f} s |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| peak resident memory of this process | {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
