"""Peak memory of a Style-E coefficients job against the length of the speech.

    python bench/bench_style_e_memory.py [--minutes 1 10 30] [--checkpoint default] [--threads 1]

For each length a WAV of synthetic voiced syllables is written, and a fresh Python process
does what the backend's coefficients job does (load the checkpoint, decode the file, run
``StyleE.generate``) and reports its peak resident set size (``ru_maxrss``), the time the
generation took and the peak of a process that only loaded the model and decoded the file.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile

CHILD = r"""
import json, resource, sys, time
import torch
torch.set_num_threads(int(sys.argv[3]))
from s2t.audio import load_audio
from s2t.style_e import load_style_e
style_e = load_style_e(sys.argv[2])
audio = load_audio(sys.argv[1])
loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
sequence = style_e.generate(audio, "He is angry, frowning.", seed=0)
seconds = time.perf_counter() - start
print(json.dumps({"frames": sequence.num_frames, "loaded_mb": loaded, "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def synthetic_speech(seconds: float, seed: int = 0, sample_rate: int = 16000) -> np.ndarray:
    """Voiced syllables at about 3.5 a second with pauses: loud enough to move the jaw."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    envelope = np.clip(np.sin(2 * np.pi * 3.5 * t + 2 * np.sin(2 * np.pi * 0.2 * t)), 0, None)
    voice = np.sin(2 * np.pi * 160 * t) + 0.4 * np.sin(2 * np.pi * 320 * t)
    return (0.25 * envelope * voice + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def measure(minutes: float, checkpoint: str, threads: int, folder: Path) -> dict:
    wav = folder / f"speech_{minutes:g}min.wav"
    soundfile.write(wav, synthetic_speech(60 * minutes), 16000, subtype="PCM_16")
    result = subprocess.run([sys.executable, "-c", CHILD, str(wav), checkpoint, str(threads)],
                            capture_output=True, text=True, check=True)  # fmt: skip
    wav.unlink()
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 30])
    parser.add_argument("--checkpoint", default="default")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, {args.threads} thread(s), checkpoint {args.checkpoint}")
    print("| speech | frames | peak RSS MB | after loading model + audio MB | generate s |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for minutes in args.minutes:
            row = measure(minutes, args.checkpoint, args.threads, Path(folder))
            print(f"| {minutes:g} min | {row['frames']} | {row['peak_mb']:.0f} | {row['loaded_mb']:.0f} | "
                  f"{row['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
