"""The painterly art style: one-time painting cost, per-frame cost, texture, flicker, and a contact sheet.

    python bench/bench_painterly.py [--sizes 256 512 1024] [--frames 40] [--sheet docs/art_styles.png] [--sheet-size 192]

For each size the astronaut photo is painted after the ``swirls`` preset with the default
settings (in a fresh cache, so it is really painted), then a talking sequence (jaw and mouth
moving, head turning a little) is rendered three ways: unstyled, palette style, painted.

* texture: :func:`s2t.style_a.painterly.texture.texture_signature` (RMS of three lightness
  band-passes, sigma 1-2/2-4/4-8 px, and the structure-tensor coherence); reported is its
  distance to the art picture's signature (art resized to the frame size) for the photo
  and for the painted photo.
* flicker: the mean absolute difference (0..255) between consecutive frames, and the share
  of it that is not smooth motion (temporal second difference over first difference, see
  :func:`flicker`): a textured picture moving smoothly changes more per frame than a smooth
  one, but not less smoothly.

The contact sheet shows three portraits (scikit-image's astronaut, matplotlib's Grace Hopper
and scikit-image's cat Chelsea) under six art pictures, each before (palette method) and after
(painted). Load average is printed with every timing: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from s2t.face.detect import detect_landmarks, load_image
from s2t.face.rig import build_rig
from s2t.style_a.art_presets import load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.painterly.texture import texture_signature
from s2t.style_a.photo import head_crop, prepare_photo
from s2t.style_a.stylizer import Stylizer

SHEET_ARTS = ("oil", "swirls", "pointillist", "watercolour", "cartoon", "sketch")


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def as_painting(style: ArtStyle) -> ArtStyle:
    return ArtStyle(**{**vars(style), "method": "painting"})


def talking(rig, frames: int) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for t in range(frames):
        w = np.zeros(rig.num_expressions)
        w[rig.expression_index("jawOpen")] = 0.5 + 0.5 * np.sin(t / 2.0)
        w[rig.expression_index("mouthSmileLeft")] = w[rig.expression_index("mouthSmileRight")] = 0.3
        pose = np.zeros(6)
        pose[1] = 0.08 * np.sin(t / 7.0)
        out.append((w, pose))
    return out


def flicker(frames: list[np.ndarray]) -> tuple[float, float]:
    """(mean |f(t+1) - f(t)|, the share of it that is not smooth motion): the mean temporal
    second difference |f(t+1) - 2 f(t) + f(t-1)| over the first difference. Smooth motion
    of a fixed picture gives a low ratio whatever its texture; independent per-frame changes
    (flicker, boiling strokes) push it toward 1.7."""
    f = np.stack(frames).astype(np.float32)
    first = np.abs(np.diff(f, axis=0)).mean()
    second = np.abs(f[2:] - 2 * f[1:-1] + f[:-2]).mean()
    return float(first), float(second / max(first, 1e-6))


def bench_size(rig, size: int, frames: int) -> None:
    photo = prepare_photo(rig, load_image(_astronaut()), size)
    style = load_art_preset("swirls")
    started = time.perf_counter()
    painted = Stylizer(style)
    renderer = CpuRenderer(rig, photo, painted)
    paint_s = time.perf_counter() - started
    print(f"{size} px: painting once {paint_s:.1f} s ({load()})", flush=True)
    sequence = talking(rig, frames)
    results = {}
    for name, stylizer in (("unstyled", None), ("palette", Stylizer(load_art_preset("oil"))), ("painted", painted)):
        r = renderer if name == "painted" else CpuRenderer(rig, photo, stylizer)
        r.render(*sequence[0])
        started = time.perf_counter()
        out = [r.render(w, pose) for w, pose in sequence]
        results[name] = ((time.perf_counter() - started) / frames * 1000, *flicker(out))
    for name, (ms, still, whole) in results.items():
        print(f"  {name:9s} {ms:6.1f} ms/frame, frame-to-frame change {still:.2f}, unsmooth share {whole:.2f} ({load()})")
    art = texture_signature(cv2.resize(style.picture, (size, size), interpolation=cv2.INTER_AREA))
    before, after = texture_signature(photo.image), texture_signature(renderer.source_image)
    print(f"  texture signature photo {np.round(before, 2)}, painted {np.round(after, 2)}, art {np.round(art, 2)}; "
          f"distance to the art: photo {np.linalg.norm(before - art):.2f} -> painted {np.linalg.norm(after - art):.2f}")


def _astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def portraits(size: int) -> list[np.ndarray]:
    import matplotlib.cbook
    from skimage import data

    hopper = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    out = []
    for picture in (data.astronaut(), hopper):
        points = detect_landmarks(picture).points
        left, top, side = head_crop(points, picture.shape[1], picture.shape[0])
        crop = picture[int(top) : int(top + side), int(left) : int(left + side)]
        out.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    cat = data.chelsea()[:, 60:360]  # no human face ships in these packages; the cat sits for the third
    return out + [cv2.resize(cat, (size, size), interpolation=cv2.INTER_AREA)]


def contact_sheet(path: Path, size: int) -> None:
    faces = portraits(size)
    styles = [load_art_preset(name) for name in SHEET_ARTS]
    blank = np.full((size, size, 3), 255, np.uint8)
    rows = [np.hstack([blank] + [cv2.resize(s.picture, (size, size), interpolation=cv2.INTER_AREA) for s in styles])]
    for face in faces:
        before, after = [face], [face]
        for style in styles:
            started = time.perf_counter()
            before.append(Stylizer(style)(face))
            after.append(Stylizer(as_painting(style)).source_image(face, show_progress=False))
            print(f"  sheet: {style.name} {time.perf_counter() - started:.0f} s ({load()})", flush=True)
        rows += [np.hstack(before), np.hstack(after)]
    sheet = np.vstack(rows)
    for i, label in enumerate(["art pictures"] + ["before: palette", "after: painted"] * len(faces)):
        cv2.putText(sheet, label, (size + 4, i * size + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 2, cv2.LINE_AA)
        cv2.putText(sheet, label, (size + 4, i * size + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (20, 20, 20), 1, cv2.LINE_AA)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(path, optimize=True)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[256, 512, 1024])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--sheet", type=Path, default=Path("docs/art_styles.png"))
    parser.add_argument("--sheet-size", type=int, default=192)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["S2T_CACHE_DIR"] = cache  # paint for real, and leave the user's cache alone
        rig = build_rig()
        for size in args.sizes:
            bench_size(rig, size, args.frames)
        if args.sheet_size:
            contact_sheet(args.sheet, args.sheet_size)


if __name__ == "__main__":
    main()
