"""Draw the art-style preset pictures procedurally (CC0, made by this project).

    python tools/art_presets/make_presets.py [--out s2t/assets/art_presets]

Every picture is the same little landscape (sky, sun or moon, hills, a house, a tree)
painted in a different manner with numpy and OpenCV drawing calls and a seeded random
generator, so rerunning the script on the same library versions gives the same files. The
pictures are *art pictures* like any a user could provide: the stylizer analyses them, it
knows nothing of how they were made. Next to each ``<name>.png`` the script writes the
analysed style, ``<name>.artstyle.npz``, so presets load without re-analysis.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from s2t.style_a.art_presets import PRESET_DIR
from s2t.style_a.art_style import ArtStyle

SIZE = 512
SKY, SUN, FAR_HILLS, NEAR_HILL, GROUND, WALL, ROOF, TRUNK, CANOPY, WINDOW, CLOUD = range(11)


def scene_labels() -> np.ndarray:
    """The shared composition as a label map (one label per region, later ones on top)."""
    labels = np.full((SIZE, SIZE), SKY, np.uint8)
    x = np.arange(SIZE)
    cv2.circle(labels, (382, 118), 52, SUN, -1)
    for cx, cy in ((110, 92), (168, 80), (214, 98)):
        cv2.ellipse(labels, (cx, cy), (54, 24), 0, 0, 360, CLOUD, -1)
    for label, base, amp, freq, phase in ((FAR_HILLS, 262, 34, 0.012, 0.8), (NEAR_HILL, 318, 46, 0.008, 2.6)):
        top = base - amp * np.sin(freq * x + phase) - 0.4 * amp * np.sin(2.7 * freq * x)
        polygon = np.concatenate([np.stack([x, top], 1), [[SIZE - 1, SIZE - 1], [0, SIZE - 1]]]).astype(np.int32)
        cv2.fillPoly(labels, [polygon], label)
    cv2.fillPoly(labels, [np.array([[0, 402], [SIZE - 1, 380], [SIZE - 1, SIZE - 1], [0, SIZE - 1]], np.int32)], GROUND)
    cv2.rectangle(labels, (250, 300), (400, 420), WALL, -1)
    cv2.fillPoly(labels, [np.array([[236, 304], [325, 228], [414, 304]], np.int32)], ROOF)
    for left, top in ((270, 330), (350, 330)):
        cv2.rectangle(labels, (left, top), (left + 30, top + 30), WINDOW, -1)
    cv2.rectangle(labels, (312, 360), (340, 420), WINDOW, -1)
    cv2.rectangle(labels, (96, 300), (118, 440), TRUNK, -1)
    for cx, cy, r in ((107, 262, 62), (66, 300, 40), (150, 296, 42)):
        cv2.circle(labels, (cx, cy), r, CANOPY, -1)
    return labels


def shift(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved by (dx, dy) pixels, edges replicated."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REPLICATE)


def shading(labels: np.ndarray, sigma: float = 14.0, offset: float = 16.0) -> np.ndarray:
    """Soft light from the upper left: 1 inside and on lit sides of each region, toward 0 on
    the sides facing the lower right (the sky is not shaded)."""
    light = (labels == SKY).astype(np.float32)  # the sky is backdrop, not a lit shape
    for label in np.unique(labels[labels != SKY]):
        mask = (labels == label).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        solid = cv2.drawContours(np.zeros_like(mask), contours, -1, 1, -1).astype(np.float32)  # holes filled
        inside = shift(cv2.GaussianBlur(solid, (0, 0), sigma), -offset, -offset)  # depth seen from the lower right
        light += mask * inside
    return np.clip(light, 0, 1)


def outlines(labels: np.ndarray, width: int) -> np.ndarray:
    """Anti-aliased ink mask (0..1) along region boundaries."""
    edge = cv2.morphologyEx(labels, cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8)) > 0
    ink = cv2.dilate(edge.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
    return cv2.GaussianBlur(ink.astype(np.float32), (0, 0), 0.7)


def noise(rng: np.random.Generator, sigma: float, octaves: int = 1) -> np.ndarray:
    """Smooth random field with unit standard deviation (sum of blurred white noise)."""
    field = np.zeros((SIZE, SIZE), np.float32)
    for octave in range(octaves):
        s = sigma / 2**octave
        layer = cv2.GaussianBlur(rng.standard_normal((SIZE, SIZE)).astype(np.float32), (0, 0), s)
        field += layer / (layer.std() + 1e-6) / 2**octave
    return field / field.std()


def colour_map(labels: np.ndarray, colours: dict[int, tuple[int, int, int]]) -> np.ndarray:
    table = np.zeros((256, 3), np.float32)
    for label, rgb in colours.items():
        table[label] = rgb
    return table[labels] / 255.0


def mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (b - a) * t[..., None]


def cel(rng: np.random.Generator) -> np.ndarray:
    """Flat bright colours, one hard shadow tone per region, dark ink outlines."""
    labels = scene_labels()
    base = colour_map(labels, {
        SKY: (98, 190, 255), SUN: (255, 226, 80), CLOUD: (250, 250, 255), FAR_HILLS: (70, 180, 170),
        NEAR_HILL: (120, 205, 90), GROUND: (170, 225, 110), WALL: (255, 236, 200), ROOF: (232, 72, 72),
        WINDOW: (60, 80, 150), TRUNK: (150, 96, 60), CANOPY: (60, 170, 80)})
    sky_band = (np.arange(SIZE)[:, None] > 190) & (labels == SKY)
    base[sky_band] = np.array([150, 215, 255]) / 255
    shadow = base * np.array([0.62, 0.6, 0.85])  # shadows lean violet, as in anime backgrounds
    light = shading(labels) > 0.55
    image = np.where(light[..., None], base, shadow)
    return mix(image, np.array([0.12, 0.1, 0.16]), outlines(labels, 4))


def comic(rng: np.random.Generator) -> np.ndarray:
    """Primary colours, halftone dots for shading, bold black outlines."""
    labels = scene_labels()
    base = colour_map(labels, {
        SKY: (60, 200, 240), SUN: (255, 230, 0), CLOUD: (255, 255, 255), FAR_HILLS: (0, 150, 200),
        NEAR_HILL: (30, 180, 70), GROUND: (250, 200, 30), WALL: (255, 250, 235), ROOF: (230, 30, 40),
        WINDOW: (20, 30, 90), TRUNK: (160, 70, 30), CANOPY: (0, 150, 60)})
    dark = 1.0 - shading(labels, sigma=20, offset=22)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    u, v = (x + y) / np.sqrt(2), (x - y) / np.sqrt(2)  # 45-degree screen
    period = 9.0
    dist = np.hypot((u % period) - period / 2, (v % period) - period / 2) / (period / 2)
    dots = (dist < 1.15 * np.sqrt(np.clip(dark, 0, 1))).astype(np.float32)
    dots = cv2.GaussianBlur(dots, (0, 0), 0.6)
    image = mix(base, base * 0.35, dots)
    return mix(image, np.zeros(3), outlines(labels, 7))


def watercolour(rng: np.random.Generator) -> np.ndarray:
    """Translucent washes with soft, wandering edges, dark pigment rims and paper grain."""
    labels = scene_labels()
    flow = 3.5 * np.stack([noise(rng, 24, 2), noise(rng, 24, 2)], -1)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    wobbly = cv2.remap(labels, x + flow[..., 0], y + flow[..., 1], cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    pigments = {
        SKY: (120, 170, 220), SUN: (250, 200, 90), CLOUD: (235, 235, 240), FAR_HILLS: (120, 150, 190),
        NEAR_HILL: (130, 175, 110), GROUND: (190, 190, 120), WALL: (235, 200, 160), ROOF: (200, 100, 90),
        WINDOW: (80, 90, 130), TRUNK: (140, 100, 80), CANOPY: (90, 150, 100)}
    paper = 0.96 + 0.025 * noise(rng, 0.8) + 0.015 * noise(rng, 3)
    image = np.repeat(paper[..., None], 3, 2)
    granulation = noise(rng, 1.2)
    for label, rgb in pigments.items():
        mask = cv2.erode((wobbly == label).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
        soft = cv2.GaussianBlur(mask, (0, 0), 2.5)
        rim = np.clip(soft - cv2.GaussianBlur(mask, (0, 0), 7.0), 0, 1)  # pigment pools at the wet edge
        density = soft * (0.8 + 0.15 * noise(rng, 24) + 0.08 * granulation) + 0.9 * rim
        if label == SKY:
            density *= np.clip(1.1 - y / 330, 0.2, 1)  # graded wash, fading to the horizon
        absorb = 1.0 - np.array(rgb) / 255.0
        image *= 1.0 - np.clip(density, 0, 1)[..., None] * absorb
    return image


def oil(rng: np.random.Generator) -> np.ndarray:
    """Warm sunset palette laid in short directional strokes with impasto relief."""
    labels = scene_labels()
    base = colour_map(labels, {
        SKY: (240, 150, 70), SUN: (255, 220, 120), CLOUD: (245, 190, 150), FAR_HILLS: (120, 70, 90),
        NEAR_HILL: (100, 90, 40), GROUND: (170, 120, 50), WALL: (225, 180, 120), ROOF: (150, 50, 30),
        WINDOW: (60, 40, 40), TRUNK: (70, 40, 25), CANOPY: (60, 80, 30)})
    dusk = np.clip(1 - np.arange(SIZE, dtype=np.float32) / 260, 0, 1)[:, None] * np.ones((1, SIZE))  # violet at the top
    sky = labels == SKY
    base[sky] = mix(base, np.array([0.55, 0.3, 0.45]), dusk)[sky]
    base *= (0.65 + 0.35 * shading(labels, 18, 18))[..., None]
    canvas = cv2.GaussianBlur(base, (0, 0), 3)
    height = np.zeros((SIZE, SIZE), np.float32)
    angle_field = 0.5 * noise(rng, 40) + np.where(labels == SKY, 0.0, 0.8)
    for _ in range(9000):
        cx, cy = rng.uniform(0, SIZE, 2)
        ix, iy = int(cx), int(cy)
        angle = angle_field[iy, ix] + rng.normal(0, 0.25)
        length, width = rng.uniform(8, 20), int(rng.integers(3, 7))
        dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
        p, q = (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy))
        colour = np.clip(base[iy, ix] * rng.uniform(0.88, 1.12) + rng.normal(0, 0.03, 3), 0, 1)
        cv2.line(canvas, p, q, colour.tolist(), width, cv2.LINE_AA)
        cv2.line(height, p, q, float(rng.uniform(0.6, 1.0)), width, cv2.LINE_AA)
        cv2.line(height, p, q, 0.0, max(1, width - 3), cv2.LINE_AA)  # a groove down the stroke's middle
    relief = cv2.GaussianBlur(height, (0, 0), 1.0)
    light = cv2.Sobel(relief, cv2.CV_32F, 1, 0) * -0.5 + cv2.Sobel(relief, cv2.CV_32F, 0, 1) * -0.5
    weave = 0.02 * np.sin(np.arange(SIZE) * 2.2)[None, :] * np.sin(np.arange(SIZE) * 2.2)[:, None]
    return canvas * (1 + 0.12 * light + weave)[..., None]


def pastel(rng: np.random.Generator) -> np.ndarray:
    """Soft chalk colours on tinted paper; the paper's tooth shows through the strokes."""
    labels = scene_labels()
    base = colour_map(labels, {
        SKY: (190, 215, 245), SUN: (255, 240, 170), CLOUD: (252, 245, 250), FAR_HILLS: (200, 180, 230),
        NEAR_HILL: (175, 225, 190), GROUND: (235, 225, 170), WALL: (250, 220, 215), ROOF: (240, 160, 170),
        WINDOW: (150, 160, 200), TRUNK: (200, 165, 140), CANOPY: (150, 210, 170)})
    base *= (0.85 + 0.15 * shading(labels, 16, 14))[..., None]
    soft = cv2.GaussianBlur(base, (0, 0), 2.0)
    paper = np.array([0.34, 0.36, 0.44], np.float32)  # dark toned (Canson-like) paper
    tooth = noise(rng, 0.9) + 0.6 * np.sin(np.arange(SIZE) * 1.3)[None, :]  # laid paper lines
    hatch = cv2.GaussianBlur(rng.standard_normal((SIZE, SIZE)).astype(np.float32), (9, 1), 0)  # short strokes...
    turn = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), 30, 1.0)
    hatch = cv2.warpAffine(hatch, turn, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)  # ...slanted by 30 degrees
    pressure = 0.7 + 0.25 * hatch / hatch.std()
    coverage = 1.0 / (1.0 + np.exp(-3.0 * (pressure - 0.25 * tooth)))  # chalk catches the paper's peaks
    return mix(np.broadcast_to(paper, soft.shape), soft, coverage)


def noir(rng: np.random.Generator) -> np.ndarray:
    """Night in black and white: hard shadows, a lit window, blind stripes, film grain."""
    labels = scene_labels()
    grey = colour_map(labels, {
        SKY: (20, 20, 20), SUN: (235, 235, 235), CLOUD: (70, 70, 70), FAR_HILLS: (45, 45, 45),
        NEAR_HILL: (12, 12, 12), GROUND: (120, 120, 120), WALL: (200, 200, 200), ROOF: (30, 30, 30),
        WINDOW: (250, 250, 250), TRUNK: (5, 5, 5), CANOPY: (15, 15, 15)})
    light = shading(labels, 10, 14) > 0.5
    image = np.where(light[..., None], grey, grey * 0.15)
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    blinds = ((x * 0.35 + y) % 28 < 11) & (y > 300)
    image[blinds] *= 0.2
    vignette = np.clip(1.25 - 0.9 * np.hypot(x / SIZE - 0.55, y / SIZE - 0.45), 0, 1)
    image = image * vignette[..., None] + 0.025 * noise(rng, 0.7)[..., None]
    return np.repeat(image.mean(axis=2, keepdims=True), 3, 2)


PAINTERS = {"cel": cel, "comic": comic, "watercolour": watercolour, "oil": oil, "pastel": pastel, "noir": noir}


def make_picture(name: str) -> np.ndarray:
    """The preset picture ``name`` as RGB uint8; seeded by the name, so always the same."""
    seed = sum(ord(c) * 31**i for i, c in enumerate(name)) % 2**32
    image = PAINTERS[name](np.random.default_rng(seed))
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PRESET_DIR)
    args = parser.parse_args()
    for name in PAINTERS:
        picture = make_picture(name)
        Image.fromarray(picture).save(args.out / f"{name}.png", optimize=True)
        ArtStyle.from_picture(picture, name=name).save(args.out / f"{name}.artstyle.npz")
        print(f"wrote {args.out / name}.png")


if __name__ == "__main__":
    main()
