"""Art-style benchmark: analysis, preparation and per-frame stylization speed, temporal
stability, and the contact sheet of the presets.

    python bench/bench_artstyle.py [--runs 20] [--out docs/art_presets.png]

Frames are ``skimage.data.astronaut()`` at 512x512 and upscaled (bicubic) to 1024x1024.
Per preset it measures: analysing the art picture, loading the stored analysis, preparing
the colour look-up table from the first frame, stylizing one frame (median of ``--runs``,
best run in brackets; strength 1 and 0.5), and the flicker ratio: how much the output changes when the face moves
by one pixel (smoothly, subpixel), relative to how much the input changes. Prints markdown
tables and writes the contact sheet (art picture, strength 0.5, strength 1.0 per preset).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from s2t.style_a.art_presets import PRESET_DIR, list_art_presets, load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.stylizer import Stylizer


def timings_ms(fn, runs: int) -> np.ndarray:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * np.array(times)


def median_ms(fn, runs: int) -> float:
    return float(np.median(timings_ms(fn, runs)))


def moved_face(frame: np.ndarray) -> np.ndarray:
    """The frame with the face region pushed by up to (1, 0.5) px, as a talking head moves."""
    h, w = frame.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    bump = np.exp(-((x - 0.49 * w) ** 2 + (y - 0.3 * h) ** 2) / (2 * (0.08 * w) ** 2)).astype(np.float32)
    return cv2.remap(frame, x - bump, y - 0.5 * bump, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


FACE_CROP = (10, 110)
"""Top-left corner of the astronaut's head-and-shoulders crop shown in the contact sheet."""


def contact_sheet(frame: np.ndarray, names: list[str], cell: int) -> np.ndarray:
    """Per preset a column: the art picture (scaled), the frame at strength 0.5 and at 1.0
    (a ``cell``-sized crop of the head at the frame's own resolution)."""
    columns = []
    for name in names:
        art = np.asarray(Image.open(PRESET_DIR / f"{name}.png").convert("RGB"))
        thumb = cv2.resize(art, (cell, cell), interpolation=cv2.INTER_AREA)
        cv2.rectangle(thumb, (0, 0), (12 + 11 * len(name), 26), (255, 255, 255), -1)
        cv2.putText(thumb, name, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        styled = [Stylizer(load_art_preset(name), strength)(frame) for strength in (0.5, 1.0)]
        top, left = FACE_CROP
        columns.append(np.vstack([thumb] + [s[top : top + cell, left : left + cell] for s in styled]))  # native pixels
    return np.hstack(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("docs/art_presets.png"))
    parser.add_argument("--cell", type=int, default=224, help="contact-sheet cell size in px")
    args = parser.parse_args()

    frame = data.astronaut()
    big = cv2.resize(frame, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    moved = moved_face(frame)
    names = list_art_presets()
    print(f"{platform.processor() or platform.machine()}, OpenCV {cv2.__version__} with {cv2.getNumThreads()} threads")
    print()
    print("| preset | analyse picture | load analysis | prepare (LUT) | 512 (best) | 512 @ 0.5 | 1024 (best) "
          "| fps 512 / 1024 | flicker ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals = []
    for name in names:
        picture = np.asarray(Image.open(PRESET_DIR / f"{name}.png").convert("RGB"))
        analyse = median_ms(lambda: ArtStyle.from_picture(picture, name), max(3, args.runs // 4))
        load = median_ms(lambda: ArtStyle.load(PRESET_DIR / f"{name}.artstyle.npz"), args.runs)
        style = load_art_preset(name)
        full, half = Stylizer(style, 1.0), Stylizer(style, 0.5)
        prepare = median_ms(lambda: full.prepare(frame), max(3, args.runs // 4))
        half.prepare(frame)
        times512 = timings_ms(lambda: full(frame), args.runs)
        ms_half = median_ms(lambda: half(frame), args.runs)
        times1024 = timings_ms(lambda: full(big), args.runs)
        ms512, ms1024 = float(np.median(times512)), float(np.median(times1024))
        change = np.abs(full(moved).astype(np.float32) - full(frame)).mean()
        ratio = change / np.abs(moved.astype(np.float32) - frame).mean()
        totals.append((ms512, ms1024))
        print(f"| {name} | {analyse:.0f} ms | {load:.1f} ms | {prepare:.0f} ms "
              f"| {ms512:.1f} ({times512.min():.1f}) ms | {ms_half:.1f} ms | {ms1024:.1f} ({times1024.min():.1f}) ms "
              f"| {1000 / ms512:.0f} / {1000 / ms1024:.0f} | {ratio:.2f} |")
    worst512, worst1024 = np.max(totals, axis=0)
    print()
    print(f"slowest preset: {worst512:.1f} ms at 512 ({1000 / worst512:.0f} fps), "
          f"{worst1024:.1f} ms at 1024 ({1000 / worst1024:.0f} fps)")

    sheet = contact_sheet(frame, names, args.cell)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
