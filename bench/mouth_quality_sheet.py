"""Contact sheet of the CPU renderer's mouth and lids: before (git ``main``) and after (this tree).

    python bench/mouth_quality_sheet.py [--before-ref main] [--out docs/mouth_quality.png]

docs/mouth_quality.png is made with ``--before-ref 4cf987d`` (``main`` before issue 14's first
merge): the tree's layout then (``presets/``, ``s2t.style_a.artstyle``) is still read.

Four photos of different people that ship with installed packages (scikit-image's astronaut,
matplotlib's Grace Hopper with glasses, two of scikit-image's 25 px LFW faces scaled up: the
small, blurry case) x closed / half-open / wide-open / "oo" / smile, in the photo style and
the ``cel`` art preset, rendered at 512 px, then half-closed and closed lids (eyeBlink 0.5 and
1, the tile framed on the eyes). "Before" runs the renderer of ``--before-ref``,
exported with ``git archive`` into a temporary directory and run in a subprocess.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXPRESSIONS = {
    "closed": {},
    "half-open": {"jawOpen": 0.3},
    "wide-open": {"jawOpen": 0.65},
    "oo": {"jawOpen": 0.22, "mouthFunnel": 0.6, "mouthPucker": 0.4},
    "smile": {"jawOpen": 0.12, "mouthSmileLeft": 0.8, "mouthSmileRight": 0.8},
    "eyes half-closed": {"eyeBlinkLeft": 0.5, "eyeBlinkRight": 0.5},
    "eyes closed": {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
}
STYLES = (None, "cel")
TILE = 200


def photos() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    from skimage import data, io

    out = {"astronaut": data.astronaut(),
           "hopper (glasses)": io.imread(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))}
    faces = data.lfw_subset()
    for k in (0, 3):
        grey = cv2.resize((faces[k] * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
        out[f"LFW #{k} (25 px)"] = cv2.copyMakeBorder(np.dstack([grey] * 3), 100, 100, 100, 100, cv2.BORDER_REPLICATE)
    return out


def render_tiles(path: Path) -> None:
    """Render every tile with whichever ``s2t`` is importable; save (P, S, E, TILE, TILE, 3)."""
    from s2t.face.rig import build_rig
    from s2t.style_a.cpu_renderer import CpuRenderer
    from s2t.style_a.photo import prepare_photo

    try:
        from s2t.style_a.art_presets import load_art_preset
        from s2t.style_a.stylizer import Stylizer
    except ImportError:  # a tree from before the art-style packages were split (``--before-ref``)
        from s2t.style_a.artstyle import Stylizer, load_art_preset

    rig = build_rig()
    tiles = []
    for image in photos().values():
        photo = prepare_photo(rig, image, 512)
        mouth = 0.35 * photo.landmarks[27:36].mean(0) + 0.65 * photo.landmarks[48:68].mean(0)  # nose to chin
        half = int(0.42 * np.ptp(photo.landmarks[:, 0]))
        eyes = photo.landmarks[36:48]
        eyes_half = int(0.62 * np.ptp(eyes[:, 0]))
        per_style = []
        for style in STYLES:
            stylizer = Stylizer(load_art_preset(style), 1.0) if style else None
            renderer = CpuRenderer(rig, photo, stylizer)
            row = []
            for label, values in EXPRESSIONS.items():
                w = np.zeros(rig.num_expressions)
                for name, value in values.items():
                    w[rig.expression_index(name)] = value
                frame = renderer.render(w, np.zeros(6))
                centre, r = (eyes.mean(0), eyes_half) if label.startswith("eyes") else (mouth, half)
                x0, y0 = np.clip((centre - r).astype(int), 0, 512 - 2 * r)
                tile = frame[y0 : y0 + 2 * r, x0 : x0 + 2 * r]
                row.append(cv2.resize(tile, (TILE, TILE), interpolation=cv2.INTER_AREA if 2 * r > TILE else cv2.INTER_CUBIC))
            per_style.append(row)
        tiles.append(per_style)
    np.save(path, np.array(tiles, np.uint8))


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(tile, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def sheet(before: np.ndarray, after: np.ndarray, names: list[str]) -> np.ndarray:
    rows = []
    header = np.full((22, TILE * len(EXPRESSIONS) + 130, 3), 255, np.uint8)
    for e, name in enumerate(EXPRESSIONS):
        cv2.putText(header, name, (130 + e * TILE + 6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    rows.append(header)
    for p, person in enumerate(names):
        for s, style in enumerate(STYLES):
            for label, tiles in (("before", before), ("after", after)):
                side = np.full((TILE, 130, 3), 255, np.uint8)
                for i, line in enumerate((person, style or "photo", label)):
                    cv2.putText(side, line, (4, 70 + 20 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
                rows.append(np.hstack([side] + list(tiles[p, s])))
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-ref", default="main")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "mouth_quality.png")
    parser.add_argument("--render", type=Path, help=argparse.SUPPRESS)  # internal: render tiles to this .npy
    args = parser.parse_args()
    if args.render:
        render_tiles(args.render)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = ["s2t"] + [p for p in ("presets",)  # art presets, before they became package data
                           if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{args.before_ref}:{p}"]).returncode == 0]
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before_ref, *paths],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        for tree, name in ((tmp, "before.npy"), (ROOT, "after.npy")):
            env = dict(os.environ, PYTHONPATH=str(tree))
            subprocess.run([sys.executable, __file__, "--render", str(tmp / name)], check=True, env=env, cwd=tree)
        before, after = np.load(tmp / "before.npy"), np.load(tmp / "after.npy")
    cv2.imwrite(str(args.out), sheet(before, after, list(photos()))[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
