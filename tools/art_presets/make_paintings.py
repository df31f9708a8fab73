"""Draw the painterly presets' pictures procedurally (CC0, made by this project).

    python tools/art_presets/make_paintings.py [--out s2t/assets/art_presets]

Three pictures painted stroke by stroke, for the ``"painting"`` method (the identity photo is
painted once after them by Gram-matrix style transfer), and one cartoon face for the palette
method: ``swirls`` (thick curved strokes following a swirling flow, night blues and yellows),
``pointillist`` (dots of pure colour over the presets' landscape), ``sketch`` (pencil hatching
on paper), ``cartoon`` (a flat big-eyed cartoon face with ink outlines). Random choices come
from a generator seeded by the name, so reruns on the same library versions give the same
files. Next to each ``<name>.png`` goes its analysis ``<name>.artstyle.npz``.
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from make_presets import scene_labels  # the presets' shared landscape (this folder is on sys.path)
from s2t.style_a.art_presets import PRESET_DIR
from s2t.style_a.art_style import ArtStyle

SIZE = 512


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def _smooth_noise(rng: np.random.Generator, sigma: float) -> np.ndarray:
    noise = cv2.GaussianBlur(rng.standard_normal((SIZE, SIZE)).astype(np.float32), (0, 0), sigma)
    return noise / noise.std()


def swirls() -> np.ndarray:
    """A night landscape in thick strokes along a flow that curls around a few centres."""
    rng = _rng("swirls")
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    angle = 0.6 * _smooth_noise(rng, 40)
    for cx, cy, r in ((150, 130, 90), (360, 90, 60), (420, 210, 50)):  # swirls in the sky
        d = np.hypot(xs - cx, ys - cy)
        angle += np.exp(-((d / r) ** 2)) * (np.arctan2(ys - cy, xs - cx) + np.pi / 2 - angle)
    hills = ys > 330 + 40 * np.sin(xs / 70.0)
    angle[hills] = 0.15 * _smooth_noise(rng, 20)[hills]
    sky = np.array([[20, 40, 110], [40, 80, 160], [70, 120, 190], [30, 60, 130]], np.float32)
    glow = np.array([[240, 210, 90], [250, 230, 140], [220, 180, 60]], np.float32)
    ground = np.array([[30, 60, 40], [50, 90, 60], [20, 40, 50], [80, 100, 60]], np.float32)
    canvas = np.full((SIZE, SIZE, 3), (30, 50, 100), np.uint8)
    for _ in range(9000):
        x, y = rng.uniform(0, SIZE, 2)
        ix, iy = int(x), int(y)
        stars = min(np.hypot(x - cx, y - cy) / r for cx, cy, r in ((360, 90, 45), (80, 60, 18), (250, 50, 15)))
        if hills[iy, ix]:
            colour = ground[rng.integers(len(ground))]
        elif stars < 1.0 or rng.random() < 0.04:
            colour = glow[rng.integers(len(glow))]
        else:
            colour = sky[rng.integers(len(sky))]
        colour = np.clip(colour * rng.uniform(0.85, 1.15), 0, 255)
        points = [(x, y)]
        for _ in range(rng.integers(4, 9)):  # follow the flow for a few steps
            a = angle[int(points[-1][1]) % SIZE, int(points[-1][0]) % SIZE]
            points.append((points[-1][0] + 4 * np.cos(a), points[-1][1] + 4 * np.sin(a)))
        cv2.polylines(canvas, [np.round(np.array(points) * 4).astype(np.int32)], False,
                      tuple(float(c) for c in colour), int(rng.integers(4, 7)), cv2.LINE_AA, shift=2)
    return canvas


def pointillist() -> np.ndarray:
    """The presets' landscape in dots of a few pure colours, mixed by the eye."""
    rng = _rng("pointillist")
    labels = scene_labels()
    palettes = {  # per region: pure colours whose dots mix to its hue
        0: [(90, 150, 230), (250, 250, 250), (160, 200, 250)], 1: [(255, 220, 60), (255, 160, 40)],
        2: [(90, 120, 200), (120, 170, 90), (170, 130, 200)], 3: [(60, 150, 60), (200, 200, 60), (40, 100, 160)],
        4: [(90, 170, 60), (230, 200, 70), (60, 120, 60)], 5: [(240, 230, 200), (250, 180, 120), (200, 200, 230)],
        6: [(200, 60, 50), (240, 120, 60), (120, 40, 90)], 7: [(110, 70, 40), (60, 40, 80)],
        8: [(40, 120, 50), (80, 170, 60), (30, 70, 110)], 9: [(60, 60, 120), (250, 220, 120)],
        10: [(250, 250, 250), (220, 220, 250), (250, 220, 230)],
    }
    canvas = np.full((SIZE, SIZE, 3), 245, np.uint8)
    for _ in range(26000):
        x, y = rng.integers(0, SIZE, 2)
        colours = palettes[int(labels[y, x])]
        colour = colours[rng.integers(len(colours))]
        cv2.circle(canvas, (int(x) * 4, int(y) * 4), int(rng.integers(8, 14)), colour, -1, cv2.LINE_AA, shift=2)
    return canvas


def sketch() -> np.ndarray:
    """Pencil hatching on cream paper: denser and crossed where the landscape is darker."""
    rng = _rng("sketch")
    labels = scene_labels()
    tone = np.array([0.95, 0.9, 0.55, 0.45, 0.6, 0.85, 0.35, 0.2, 0.3, 0.1, 0.98], np.float32)[labels]
    tone = cv2.GaussianBlur(tone, (0, 0), 3)
    paper = np.full((SIZE, SIZE), 238.0, np.float32) + 6 * _smooth_noise(rng, 1.0)
    ink = np.zeros((SIZE, SIZE), np.float32)
    for layer, (direction, threshold) in enumerate(((0.8, 0.8), (-0.7, 0.55), (0.1, 0.3))):
        for _ in range(5000):
            x, y = rng.uniform(0, SIZE, 2)
            if tone[int(y), int(x)] > threshold + 0.1 * rng.standard_normal():
                continue
            length = rng.uniform(10, 24)
            a = direction + 0.08 * rng.standard_normal()
            end = (x + length * np.cos(a), y - length * np.sin(a))
            cv2.line(ink, (int(x * 4), int(y * 4)), (int(end[0] * 4), int(end[1] * 4)),
                     float(rng.uniform(0.25, 0.6)), 1, cv2.LINE_AA, shift=2)
    edges = cv2.Canny((tone * 255).astype(np.uint8), 20, 60).astype(np.float32) / 255
    ink = np.clip(ink + 0.7 * cv2.GaussianBlur(edges, (0, 0), 0.7), 0, 1)
    grey = paper * (1 - 0.75 * ink)
    return np.clip(np.dstack([grey, grey * 0.98, grey * 0.93]), 0, 255).astype(np.uint8)


def cartoon() -> np.ndarray:
    """A flat cartoon face: big eyes set wide, small nose and mouth, a round jaw, ink outlines."""
    canvas = np.full((SIZE, SIZE, 3), (120, 200, 230), np.uint8)
    ink = (40, 30, 50)
    cv2.ellipse(canvas, (256, 230), (170, 185), 0, 180, 360, (90, 50, 40), -1, cv2.LINE_AA)  # hair
    cv2.rectangle(canvas, (170, 440), (342, 512), (240, 120, 80), -1)  # shirt
    cv2.rectangle(canvas, (225, 380), (287, 450), (250, 205, 170), -1)  # neck
    cv2.ellipse(canvas, (256, 280), (140, 160), 0, 0, 360, (252, 214, 180), -1, cv2.LINE_AA)  # face
    cv2.ellipse(canvas, (256, 280), (140, 160), 0, 0, 360, ink, 4, cv2.LINE_AA)
    cv2.ellipse(canvas, (256, 150), (150, 70), 0, 180, 360, (90, 50, 40), -1, cv2.LINE_AA)  # fringe
    for cx in (196, 316):  # eyes
        cv2.ellipse(canvas, (cx, 270), (40, 50), 0, 0, 360, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(canvas, (cx, 280), 28, (60, 120, 60), -1, cv2.LINE_AA)
        cv2.circle(canvas, (cx, 282), 15, (15, 15, 20), -1, cv2.LINE_AA)
        cv2.circle(canvas, (cx + 8, 270), 7, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.ellipse(canvas, (cx, 270), (40, 50), 0, 0, 360, ink, 4, cv2.LINE_AA)
        cv2.ellipse(canvas, (cx, 205), (36, 10), 0, 180, 360, (70, 40, 30), 8, cv2.LINE_AA)  # brows
    cv2.ellipse(canvas, (256, 345), (10, 7), 0, 0, 180, ink, 3, cv2.LINE_AA)  # nose
    cv2.ellipse(canvas, (256, 385), (36, 18), 0, 0, 180, (200, 40, 70), -1, cv2.LINE_AA)  # mouth, red lips
    cv2.ellipse(canvas, (256, 385), (36, 18), 0, 0, 180, ink, 3, cv2.LINE_AA)
    cv2.line(canvas, (220, 385), (292, 385), ink, 3, cv2.LINE_AA)
    for cx in (160, 352):
        cv2.circle(canvas, (cx, 340), 22, (250, 170, 160), -1, cv2.LINE_AA)  # cheeks
    return canvas


PAINTINGS = {"swirls": (swirls, "painting"), "pointillist": (pointillist, "painting"),
             "sketch": (sketch, "painting"), "cartoon": (cartoon, "palette")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PRESET_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (draw, method) in PAINTINGS.items():
        picture = draw()
        Image.fromarray(picture).save(args.out / f"{name}.png", optimize=True)
        ArtStyle.from_picture(picture, name, method=method).save(args.out / f"{name}.artstyle.npz")
        print(f"wrote {name}.png ({method})")


if __name__ == "__main__":
    main()
