"""Face fitting benchmark: landmark detection and model fitting on the astronaut photo.

    python bench/bench_fit.py [--runs 10] [--out docs/fit_astronaut.png]

Measures, with the embedded rig: dlib landmark detection time and fit time on
``skimage.data.astronaut()`` (median of ``--runs``), the fit's landmark RMS error in pixels
on that photo, and the errors of a fit to landmarks projected from known coefficients.
Prints a markdown table and writes the overlay figure (whole photo | face zoomed).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from s2t.face import Camera, FaceModel, apply_pose
from s2t.face.detect import Landmarks68, detect_landmarks
from s2t.face.fit import FaceFit, fit_landmarks, render_fit_overlay
from s2t.face.rig import build_rig

KNOWN_POSE = np.array([np.radians(-10.0), np.radians(20.0), np.radians(5.0), 0.01, -0.02, -0.4])
KNOWN_EXPRESSION = {"jawOpen": 0.3, "mouthSmileLeft": 0.5, "mouthSmileRight": 0.4, "browInnerUp": 0.4, "eyeBlinkLeft": 0.2}


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def known_case(model: FaceModel, camera: Camera) -> tuple[FaceFit, dict[str, float]]:
    """Fit landmarks projected from known pose, identity and expression; report the errors."""
    identity = np.random.default_rng(0).normal(0.0, 0.5, model.num_identity)
    expression = np.zeros(model.num_expressions)
    for name, value in KNOWN_EXPRESSION.items():
        if name in model.expression_names:
            expression[model.expression_index(name)] = value
    points = camera.project(apply_pose(model.landmarks(expression, identity), KNOWN_POSE))
    fit = fit_landmarks(model, points, camera)
    errors = {
        "rms_px": fit.rms_px,
        "angle_deg": float(np.degrees(np.abs(fit.pose[:3] - KNOWN_POSE[:3]).max())),
        "txy_mm": float(1000 * np.abs(fit.pose[3:5] - KNOWN_POSE[3:5]).max()),
        "tz_mm": float(1000 * abs(fit.pose[5] - KNOWN_POSE[5])),
        "expression_mae": float(np.abs(fit.expression - expression).mean()),
    }
    return fit, errors


def zoomed_overlay(image: np.ndarray, model: FaceModel, fit: FaceFit, landmarks: Landmarks68, zoom: int = 4) -> np.ndarray:
    """The overlay rendered at ``zoom`` times the resolution, cropped around the face."""
    height, width = image.shape[:2]
    big = np.asarray(Image.fromarray(image).resize((width * zoom, height * zoom), Image.Resampling.LANCZOS))
    cam = fit.camera
    camera = dataclasses.replace(cam, focal=cam.focal * zoom, cx=cam.cx * zoom, cy=cam.cy * zoom)
    overlay = render_fit_overlay(big, model, dataclasses.replace(fit, camera=camera), landmarks.points * zoom)
    left, top, right, bottom = landmarks.box
    cx, cy, half = (left + right) / 2, (top + bottom) / 2, 0.8 * (right - left)
    box = [int(np.clip(v * zoom, 0, limit * zoom)) for v, limit in
           ((cx - half, width), (cy - half, height), (cx + half, width), (cy + half, height))]
    return overlay[box[1] : box[3], box[0] : box[2]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("docs/fit_astronaut.png"))
    args = parser.parse_args()

    start = time.perf_counter()
    model = build_rig()
    build_s = time.perf_counter() - start
    image = data.astronaut()
    height, width = image.shape[:2]
    camera = Camera.for_image(width, height)

    detect_landmarks(image)  # loads dlib's predictor once
    detect_s = median_seconds(lambda: detect_landmarks(image), args.runs)
    landmarks = detect_landmarks(image)
    fit_s = median_seconds(lambda: fit_landmarks(model, landmarks.points, camera), args.runs)
    fit = fit_landmarks(model, landmarks.points, camera)
    _, known = known_case(model, camera)

    print(f"model {model.model_id}: {model.num_vertices} vertices, {model.num_expressions} expressions, "
          f"{model.num_identity} identity modes (built in {build_s:.1f} s); {platform.processor() or platform.machine()}")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| landmark detection, astronaut 512x512 (median of {args.runs}) | {1000 * detect_s:.0f} ms |")
    print(f"| fit pose+identity+expression, astronaut (median of {args.runs}) | {1000 * fit_s:.0f} ms |")
    print(f"| fit RMS error, astronaut (face box {landmarks.face_size:.0f} px) | {fit.rms_px:.2f} px |")
    print(f"| fit RMS error, known coefficients (noise-free) | {known['rms_px']:.3f} px |")
    print(f"| known case: max angle error | {known['angle_deg']:.2f} deg |")
    print(f"| known case: tx/ty error, tz error | {known['txy_mm']:.1f} mm, {known['tz_mm']:.1f} mm |")
    print(f"| known case: mean abs expression error | {known['expression_mae']:.3f} |")
    print()
    angles = ", ".join(f"{v:.1f}" for v in np.degrees(fit.pose[:3]))
    top = ", ".join(f"{model.expression_names[i]} {fit.expression[i]:.2f}" for i in np.argsort(-fit.expression)[:5])
    print(f"astronaut: pitch/yaw/roll {angles} deg, t {np.round(fit.pose[3:], 3).tolist()}; strongest: {top}")

    whole = render_fit_overlay(image, model, fit, landmarks)
    face = Image.fromarray(zoomed_overlay(image, model, fit, landmarks)).resize((height, height), Image.Resampling.LANCZOS)
    figure = np.hstack([whole, np.asarray(face)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(figure).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
