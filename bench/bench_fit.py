"""Face fitting benchmark: dlib's 68 points against MediaPipe's 478-point mesh, timings and accuracy.

    python bench/bench_fit.py [--runs 10] [--out docs/fit_astronaut.png]

Measures, with the embedded rig:

- detection and fit times on ``skimage.data.astronaut()`` (median of ``--runs``);
- the fit to landmarks projected from known coefficients (noise-free);
- **renders of the rig** at known pose, identity and expression (painted skin, lips, brows,
  eyes and teeth; the truth is the rig itself): each detector's error and its fit's error
  against the true 68 landmarks and the true inner-lip, eyelid and jaw curves;
- **photos** (the astronaut at 1/2, 1 and 2 times its size, turned by -20 and +20 degrees,
  with glasses drawn on; matplotlib's Grace Hopper portrait, who wears glasses): each fit's landmark RMS against
  its own detector's 68 points, and both fits measured against MediaPipe's contours.

Prints markdown tables and writes the overlay figure: the astronaut (top) and Grace Hopper
(bottom) fitted through MediaPipe (whole photo), then the face zoomed, fitted through dlib and
through MediaPipe. Without MediaPipe installed, only the dlib columns and panels are filled.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from pathlib import Path

import matplotlib.cbook
import numpy as np
from PIL import Image, ImageDraw
from skimage import data

from s2t.face import Camera, FaceModel, apply_pose
from s2t.face.contours import model_curves
from s2t.face.detect import FaceImageError, Landmarks68, detect_face, detect_landmarks
from s2t.face.fit import FaceFit, contour_errors_px, fit_face, fit_landmarks, render_fit_overlay
from s2t.face.mediapipe_mesh import mediapipe_unavailable, mesh_contours
from s2t.face.preview import region_face_colors
from s2t.face.rig import build_rig

KNOWN_POSE = np.array([np.radians(-10.0), np.radians(20.0), np.radians(5.0), 0.01, -0.02, -0.4])
KNOWN_EXPRESSION = {"jawOpen": 0.3, "mouthSmileLeft": 0.5, "mouthSmileRight": 0.4, "browInnerUp": 0.4, "eyeBlinkLeft": 0.2}
RENDERS = {  # name: (pitch, yaw, roll in degrees, expression)
    "frontal, slight smile": ((0, 0, 0), {"mouthSmileLeft": 0.3, "mouthSmileRight": 0.3}),
    "yaw 20, jaw open, smile": ((-5, 20, 3), {"jawOpen": 0.3, "mouthSmileLeft": 0.4, "mouthSmileRight": 0.3}),
    "pitch -10, roll 10, blink, oo": ((-10, -10, 10), {"eyeBlinkLeft": 0.6, "jawOpen": 0.15, "mouthFunnel": 0.5, "mouthPucker": 0.4}),
}
CURVE_GROUPS = {"lips": ("lips_inner_upper", "lips_inner_lower"),
                "lids": ("eye_right_upper", "eye_right_lower", "eye_left_upper", "eye_left_lower"), "jaw": ("jaw",)}
LIGHT = np.array([0.3, 0.4, 0.87])


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def expression_vector(model: FaceModel, values: dict[str, float]) -> np.ndarray:
    expression = np.zeros(model.num_expressions)
    for name, value in values.items():
        expression[model.expression_index(name)] = value
    return expression


def known_case(model: FaceModel, camera: Camera) -> dict[str, float]:
    """Fit landmarks projected from known pose, identity and expression; report the errors."""
    identity = np.random.default_rng(0).normal(0.0, 0.5, model.num_identity)
    expression = expression_vector(model, KNOWN_EXPRESSION)
    points = camera.project(apply_pose(model.landmarks(expression, identity), KNOWN_POSE))
    fit = fit_landmarks(model, points, camera)
    return {
        "rms_px": fit.rms_px,
        "angle_deg": float(np.degrees(np.abs(fit.pose[:3] - KNOWN_POSE[:3]).max())),
        "txy_mm": float(1000 * np.abs(fit.pose[3:5] - KNOWN_POSE[3:5]).max()),
        "tz_mm": float(1000 * abs(fit.pose[5] - KNOWN_POSE[5])),
        "expression_mae": float(np.abs(fit.expression - expression).mean()),
    }


def paint_colours(model: FaceModel) -> np.ndarray:
    """Per-triangle colours: the preview's skin, eyes, teeth and mouth, plus red lips on either
    side of the mouth slit (thinning toward the corners) and dark
    brows along the brow landmarks, so that detectors see a face and the lips' inner edge is
    where the rig's is."""
    tris = model.triangles
    colours = region_face_colors(tris, model.regions)
    centre = model.vertices[tris].mean(1)
    skin = np.zeros(len(model.vertices), bool)
    skin[model.regions["skin"]] = True
    front_skin = skin[tris].all(1) & (centre[:, 2] > 0)
    slit = model.vertices[model.regions["mouth_upper_edge"]]
    corner = np.abs(slit[:, 0]).max()
    across = np.clip(1.0 - (centre[:, 0] / corner) ** 2, 0.0, 1.0) ** 0.5
    offset = np.where(np.abs(centre[:, 0]) < corner, centre[:, 1] - np.interp(centre[:, 0], slit[:, 0], slit[:, 1]), 1.0)
    for region, sign, thickness in (("above_mouth", 1.0, 0.009), ("below_mouth", -1.0, 0.010)):
        side = np.zeros(len(model.vertices), bool)
        side[model.regions[region]] = True
        lip = front_skin & side[tris].all(1) & (sign * offset > -0.0005) & (sign * offset < thickness * across + 0.001)
        colours[lip] = (178, 92, 92)
    marks = model.vertices[model.landmark_indices]
    for brow in (marks[17:22, :2], marks[22:27, :2]):
        distance = np.min(np.linalg.norm(centre[:, None, :2] - brow[None], axis=2), 1)
        colours[(distance < 0.0065) & front_skin & (centre[:, 1] > 0.01)] = (92, 66, 50)
    return colours


def render_rig(model: FaceModel, colours: np.ndarray, pose: np.ndarray, identity: np.ndarray,
               expression: np.ndarray, camera: Camera, size: int, supersample: int = 2) -> np.ndarray:
    """The posed rig through ``camera``: Lambert-shaded triangles, far to near, on grey, and the
    lips' edges as a dark line (the crease a photo shows between closed lips)."""
    verts = apply_pose(model.geometry(expression, identity), pose)
    pixels = camera.project(verts)[model.triangles] * supersample
    corners = verts[model.triangles]
    edge1, edge2 = pixels[:, 1] - pixels[:, 0], pixels[:, 2] - pixels[:, 0]
    facing = edge1[:, 0] * edge2[:, 1] - edge2[:, 0] * edge1[:, 1] < 0  # y-down pixels flip the winding
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    shade = 0.3 + 0.7 * np.clip(normals @ (LIGHT / np.linalg.norm(LIGHT)), 0, 1)
    rgb = np.clip(colours * shade[:, None], 0, 255).astype(np.uint8)
    image = Image.new("RGB", (size * supersample,) * 2, (120, 128, 138))
    draw = ImageDraw.Draw(image)
    order = np.nonzero(facing)[0]
    for t in order[np.argsort(corners[order, :, 2].mean(1))]:
        draw.polygon([tuple(p) for p in pixels[t]], fill=tuple(int(c) for c in rgb[t]))
    for edge in ("mouth_upper_edge", "mouth_lower_edge"):
        line = camera.project(verts[model.regions[edge]]) * supersample
        draw.line([tuple(p) for p in line], fill=(105, 40, 45), width=2 * supersample)
    return np.asarray(image.resize((size, size), Image.Resampling.LANCZOS))


def dense_polylines(curves: dict[str, np.ndarray], per_curve: int = 60) -> dict[str, np.ndarray]:
    """Curves resampled finely by arc length, so distances to them are distances to the curve."""
    out = {}
    for name, line in curves.items():
        if len(line) == 1:
            out[name] = line
            continue
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))])
        u = np.linspace(0.0, arc[-1], per_curve)
        out[name] = np.stack([np.interp(u, arc, line[:, 0]), np.interp(u, arc, line[:, 1])], 1)
    return out


def rms(values) -> float:
    values = np.concatenate([np.ravel(v) for v in values]) if isinstance(values, (list, tuple)) else np.ravel(values)
    return float(np.sqrt(np.mean(values**2))) if len(values) else float("nan")


def group_rms(errors: dict[str, np.ndarray]) -> dict[str, float]:
    return {group: rms([errors[n] for n in names if n in errors]) for group, names in CURVE_GROUPS.items()}


def detections(image: np.ndarray) -> dict[str, Landmarks68 | None]:
    """Both detectors on one image; None where one finds no face."""
    found = {}
    for name, detect in (("dlib", detect_landmarks), ("mediapipe", detect_face)):
        try:
            result = detect(image)
        except FaceImageError:
            result = None
        found[name] = result if result is None or result.detector == name else None
    return found


def render_cases(model: FaceModel) -> list[str]:
    """Rows of the ground-truth table: each render, each detector."""
    colours = paint_colours(model)
    camera = Camera.for_image(512, 512)
    rng = np.random.default_rng(7)
    rows = []
    for name, (angles, values) in RENDERS.items():
        pose = np.concatenate([np.radians(angles), [0.0, -0.01, -0.1]])
        identity = rng.normal(0.0, 0.5, model.num_identity)
        expression = expression_vector(model, values)
        image = render_rig(model, colours, pose, identity, expression, camera, 512)
        pixels = camera.project(apply_pose(model.geometry(expression, identity), pose))
        truth68 = pixels[model.landmark_indices]
        truth_curves = dense_polylines({k: pixels[ids] for k, ids in model_curves(model).items()})
        ocular = np.linalg.norm(truth68[36:42].mean(0) - truth68[42:48].mean(0))
        for detector, found in detections(image).items():
            if found is None:
                rows.append(f"| {name} | {detector} | no face found | | | | | |")
                continue
            fit = fit_face(model, found, camera)
            detected = rms(np.linalg.norm(found.points - truth68, axis=1))
            fitted = rms(np.linalg.norm(fit.project_landmarks(model) - truth68, axis=1))
            curves = group_rms(contour_errors_px(model, fit, truth_curves))
            rows.append(f"| {name} | {detector} | {detected:.2f} px ({100 * detected / ocular:.1f} %) | "
                        f"{fitted:.2f} px | {curves['lips']:.2f} | {curves['lids']:.2f} | {curves['jaw']:.2f} | "
                        f"{rms(np.abs(fit.expression - expression)):.3f} |")
    return rows


def glasses(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The photo with dark glasses frames drawn around the eyes (from 68 landmarks)."""
    out = Image.fromarray(image)
    draw = ImageDraw.Draw(out)
    width = max(2, round(np.linalg.norm(points[36] - points[45]) / 22))
    lenses = []
    for eye in (points[36:42], points[42:48]):
        centre = eye.mean(0)
        half = np.array([0.95, 0.75]) * (np.ptp(eye[:, 0]) * 0.5 + width * 2)
        box = [*(centre - half - [0, -half[1] * 0.15]), *(centre + half + [0, half[1] * 0.35])]
        draw.ellipse(box, outline=(25, 22, 20), width=width)
        lenses.append(box)
    draw.line([(lenses[0][2], (lenses[0][1] + lenses[0][3]) / 2 - width), (lenses[1][0], (lenses[1][1] + lenses[1][3]) / 2 - width)],
              fill=(25, 22, 20), width=width)
    return np.asarray(out)


def turned(image: np.ndarray, degrees: float) -> np.ndarray:
    return np.asarray(Image.fromarray(image).rotate(degrees, Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)))


def scaled(image: np.ndarray, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((round(width * factor), round(height * factor)), Image.Resampling.LANCZOS))


def grace_hopper() -> np.ndarray:
    """Matplotlib's sample portrait (512x600, glasses), cropped to its top 512x512."""
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        return np.asarray(Image.open(file).convert("RGB"))[:512]


def photo_cases(model: FaceModel) -> list[str]:
    """Rows of the photo table: each fit against its own 68 points and against MediaPipe's contours."""
    astronaut = data.astronaut()
    hopper = grace_hopper()
    photos = {
        "astronaut 512": astronaut,
        "astronaut at 1/2 (256)": scaled(astronaut, 0.5),
        "astronaut at 2x (1024)": scaled(astronaut, 2.0),
        "astronaut turned -20 deg": turned(astronaut, -20),
        "astronaut turned +20 deg": turned(astronaut, 20),
        "astronaut with drawn glasses": glasses(astronaut, detect_landmarks(astronaut).points),
        "Grace Hopper, glasses (matplotlib sample)": hopper,
    }
    rows = []
    for name, image in photos.items():
        camera = Camera.for_image(image.shape[1], image.shape[0])
        found = detections(image)
        contours = None if found["mediapipe"] is None else mesh_contours(found["mediapipe"].mesh)
        cells = [name]
        for detector in ("dlib", "mediapipe"):
            if found[detector] is None:
                cells += ["no face", "", "", ""]
                continue
            marks = found[detector]
            fit = fit_face(model, marks, camera)
            ocular = np.linalg.norm(marks.points[36:42].mean(0) - marks.points[42:48].mean(0))
            curves = group_rms(contour_errors_px(model, fit, contours)) if contours else None
            cells += [f"{fit.rms_px:.2f} px ({100 * fit.rms_px / ocular:.1f} %)"]
            cells += [f"{curves[g]:.2f}" if curves else "" for g in CURVE_GROUPS]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def zoomed_overlay(image: np.ndarray, model: FaceModel, fit: FaceFit, landmarks: Landmarks68, box, zoom: int = 4) -> np.ndarray:
    """The overlay rendered at ``zoom`` times the resolution, cropped around ``box``: the mesh
    faint, the fitted curves (inner lips, lids, jaw) as red lines, MediaPipe's contour points
    as cyan rings, detected / fitted landmarks green / red."""
    height, width = image.shape[:2]
    big = np.asarray(Image.fromarray(image).resize((width * zoom, height * zoom), Image.Resampling.LANCZOS))
    cam = fit.camera
    camera = dataclasses.replace(cam, focal=cam.focal * zoom, cx=cam.cx * zoom, cy=cam.cy * zoom)
    zoomed_fit = dataclasses.replace(fit, camera=camera)
    overlay = Image.fromarray(render_fit_overlay(big, model, zoomed_fit, landmarks.points * zoom, opacity=0.2))
    draw = ImageDraw.Draw(overlay)
    pixels = camera.project(zoomed_fit.camera_vertices(model))
    for name, ids in model_curves(model).items():
        if len(ids) > 1:
            draw.line([tuple(p) for p in pixels[ids]], fill=(255, 60, 60), width=2)
    if landmarks.mesh is not None:
        for points in mesh_contours(landmarks.mesh).values():
            for x, y in points * zoom:
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=(0, 230, 255), width=2)
    left, top, right, bottom = box
    cx, cy, half = (left + right) / 2, (top + bottom) / 2 + 0.05 * (bottom - top), 0.62 * (right - left)
    crop = [int(np.clip(v * zoom, 0, limit * zoom)) for v, limit in
            ((cx - half, width), (cy - half, height), (cx + half, width), (cy + half, height))]
    return np.asarray(overlay)[crop[1] : crop[3], crop[0] : crop[2]]


def caption(image: np.ndarray, text: str) -> np.ndarray:
    out = Image.fromarray(image)
    draw = ImageDraw.Draw(out)
    draw.rectangle([0, 0, 8 + 6 * len(text), 16], fill=(0, 0, 0))
    draw.text((4, 3), text, fill=(255, 255, 255))
    return np.asarray(out)


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
    missing = mediapipe_unavailable()

    found = {"dlib": detect_landmarks(image)}
    times = {"dlib detection": median_seconds(lambda: detect_landmarks(image), args.runs)}
    times["dlib fit (68 points)"] = median_seconds(lambda: fit_face(model, found["dlib"], camera), args.runs)
    if missing is None:
        found["mediapipe"] = detect_face(image)
        times["MediaPipe detection (478 points)"] = median_seconds(lambda: detect_face(image), args.runs)
        times["MediaPipe fit (68 points + contours)"] = median_seconds(lambda: fit_face(model, found["mediapipe"], camera), args.runs)
    fits = {name: fit_face(model, marks, camera) for name, marks in found.items()}
    known = known_case(model, camera)

    print(f"model {model.model_id}: {model.num_vertices} vertices, {model.num_expressions} expressions, "
          f"{model.num_identity} identity modes (built in {build_s:.1f} s); {platform.processor() or platform.machine()}; "
          f"MediaPipe: {missing or 'installed'}")
    print()
    print("| measure (astronaut 512x512, median of %d) | value |" % args.runs)
    print("|---|---|")
    for what, seconds in times.items():
        print(f"| {what} | {1000 * seconds:.0f} ms |")
    for name, fit in fits.items():
        extra = f", contours {fit.contour_rms_px:.2f} px" if fit.contour_rms_px is not None else ""
        print(f"| {name} fit RMS against its own 68 points | {fit.rms_px:.2f} px{extra} |")
    print(f"| fit RMS error, known coefficients (noise-free) | {known['rms_px']:.3f} px |")
    print(f"| known case: max angle error | {known['angle_deg']:.2f} deg |")
    print(f"| known case: tx/ty error, tz error | {known['txy_mm']:.1f} mm, {known['tz_mm']:.1f} mm |")
    print(f"| known case: mean abs expression error | {known['expression_mae']:.3f} |")
    print()
    print("Renders of the rig (truth known): detected 68 points against the true ones (and in % of the")
    print("inter-ocular distance), the fit's 68 points, the fit's curves against the true inner lips, lids, jaw")
    print("(RMS px), and the RMS expression error.")
    print()
    print("| render | detector | detected 68 | fitted 68 | inner lips | lids | jaw | expression |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(render_cases(model)))
    print()
    print("Photos: each fit's RMS against its own detector's 68 points (in % of the inter-ocular distance),")
    print("and the fitted curves' RMS distance (px) to MediaPipe's contours: inner lips, lids, jaw.")
    print()
    print("| photo | dlib fit | lips | lids | jaw | MediaPipe fit | lips | lids | jaw |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(photo_cases(model)))
    print()
    for name, fit in fits.items():
        angles = ", ".join(f"{v:.1f}" for v in np.degrees(fit.pose[:3]))
        top = ", ".join(f"{model.expression_names[i]} {fit.expression[i]:.2f}" for i in np.argsort(-fit.expression)[:5])
        print(f"astronaut, {name}: pitch/yaw/roll {angles} deg; strongest: {top}")

    rows = []
    for photo, zoom in ((image, 4), (grace_hopper(), 2)):
        found = detections(photo)
        found = {name: marks for name, marks in found.items() if marks is not None}
        camera = Camera.for_image(photo.shape[1], photo.shape[0])
        fitted = {name: fit_face(model, marks, camera) for name, marks in found.items()}
        best = "mediapipe" if "mediapipe" in fitted else "dlib"
        panels = [caption(render_fit_overlay(photo, model, fitted[best], found[best]), f"{best} fit")]
        for name in fitted:
            face = Image.fromarray(zoomed_overlay(photo, model, fitted[name], found[name], found["dlib"].box, zoom))
            panels.append(caption(np.asarray(face.resize((512, 512), Image.Resampling.LANCZOS)), f"{name}: face at {zoom}x"))
        rows.append(np.hstack(panels))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
