"""Frames per second of Style-A's neural renderer (``NeuralRenderer``), printed as a markdown table.

CPU: 256 px, batch 1 and 4, fp32. CUDA (when present): 1024 px, fp32 / fp16 / bf16 autocast,
batch 1 to 16, with and without ``torch.compile``. The networks have the public
architecture (DualStyleGAN config-f with ``channel_multiplier=2``, pSp IR-SE-50, our Gm / Ec /
R defaults) with random weights: speed does not depend on the weights, so no checkpoint is
needed. Rendering starts after one warm-up batch (and, with compile, after compiling);
``prepare`` (pSp, Ec, Gm's image encoder, once per video) is timed separately.

    python bench/bench_style_a_speed.py                 # CPU rows, plus CUDA rows on a GPU machine
    python bench/bench_style_a_speed.py --frames 64 --threads 8
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from s2t.face import CoeffSequence
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_a.neural.dualstylegan import DualStyleGANConfig
from s2t.style_a.neural.model import StyleANetwork, StyleAConfig
from s2t.style_a.neural.renderer import NeuralRenderer

RIG = "s2t-arkit52"


def take(frames: int) -> CoeffSequence:
    rng = np.random.default_rng(0)
    return CoeffSequence(RIG, 25.0, ARKIT_52, rng.uniform(0, 1, (frames, 52)), rng.normal(0, 0.05, (frames, 6)))


def build(size: int, device: str) -> StyleANetwork:
    torch.manual_seed(0)
    return StyleANetwork(StyleAConfig(generator=DualStyleGANConfig(size=size))).to(device).eval()


def measure(model: StyleANetwork, frames: int, batch: int, precision: str, compile: bool) -> tuple[float, float]:
    """(prepare seconds, rendered frames per second)."""
    identity = np.random.default_rng(1).integers(0, 256, (model.config.size, model.config.size, 3), np.uint8)
    art = torch.randn(1, model.config.n_latent, model.config.style_dim)
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    started = time.perf_counter()
    renderer = NeuralRenderer(model, identity, model_id=RIG, channel_names=ARKIT_52, art_code=art, batch_size=batch,
                              precision=precision, compile=compile)
    sync()
    prepare = time.perf_counter() - started
    seq = take(frames + batch)
    for _ in renderer.frames(seq, 0, batch):  # warm-up (and compilation)
        pass
    sync()
    started = time.perf_counter()
    count = sum(1 for _ in renderer.frames(seq, batch, batch + frames))
    sync()
    return prepare, count / (time.perf_counter() - started)


def rows_cpu(frames: int) -> list[tuple]:
    model = build(256, "cpu")
    return [("cpu", 256, "fp32", batch, "no", *measure(model, frames, batch, "fp32", False)) for batch in (1, 4)]


def rows_cuda(frames: int) -> list[tuple]:
    model = build(1024, "cuda")
    rows = []
    for compile in (False, True):
        for precision in ("fp32", "fp16", "bf16"):
            for batch in (1, 2, 4, 8, 16):
                rows.append(("cuda", 1024, precision, batch, "yes" if compile else "no",
                             *measure(model, frames, batch, precision, compile)))
                print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16, help="frames timed per row (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2)")
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    machine = f"{platform.processor() or platform.machine()}, {args.threads} torch threads"
    if torch.cuda.is_available():
        machine += f"; GPU {torch.cuda.get_device_name()}"
    rows = [] if args.skip_cpu else rows_cpu(args.frames)
    if torch.cuda.is_available():
        rows += rows_cuda(max(args.frames, 64))
    print(f"\nStyle-A neural renderer, random weights, public architecture ({machine}, torch {torch.__version__})\n")
    print("| device | size | precision | batch | compile | prepare (s) | frames/s |")
    print("|---|---|---|---|---|---|---|")
    for device, size, precision, batch, compiled, prepare, fps in rows:
        print(f"| {device} | {size} | {precision} | {batch} | {compiled} | {prepare:.2f} | {fps:.2f} |")


if __name__ == "__main__":
    main()
