"""``s2t fit-face``, ``s2t rig export|sheet`` and ``s2t coeffs info|export|convert``: the face model
and coefficient files."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from s2t.cli.common import UserError, load_model, load_sequence, writable, writable_folder


def cmd_fit_face(*, image: str, model_name: str, overlay: Path | None, json_path: Path | None) -> None:
    from PIL import Image

    from s2t.face.detect import load_image
    from s2t.face.fit import fit_photo, render_fit_overlay

    photo = load_image(image)  # fail on a bad file before the model is built
    for path in (overlay, json_path):
        if path is not None:
            writable(path)
    model = load_model(model_name)
    started = time.perf_counter()
    fit, landmarks = fit_photo(model, photo)
    seconds = time.perf_counter() - started
    if landmarks.num_faces > 1:
        print(f"note: {landmarks.num_faces} faces found; fitted the largest", file=sys.stderr)
    result = {
        "image": image,
        "model_id": model.model_id,
        "pose": dict(zip(("pitch", "yaw", "roll", "tx", "ty", "tz"), fit.pose.round(5).tolist())),
        "identity": dict(zip(model.identity_names, fit.identity.round(4).tolist())),
        "expression": {n: round(float(v), 4) for n, v in zip(model.expression_names, fit.expression) if abs(v) > 1e-3},
        "rms_px": round(fit.rms_px, 3),
        "face_box": [round(float(b), 1) for b in landmarks.box],
        "seconds": round(seconds, 3),
    }
    text = json.dumps(result, indent=2)
    if json_path:
        writable(json_path).write_text(text)
    else:
        print(text)
    if overlay:
        Image.fromarray(render_fit_overlay(photo, model, fit, landmarks)).save(writable(overlay))
        print(f"wrote {overlay}", file=sys.stderr)


def cmd_rig_export(*, model_name: str, out: Path) -> None:
    import trimesh

    from s2t.audio import FPS
    from s2t.face import CoeffSequence
    from s2t.face.export import export_gltf

    suffix = out.suffix.lower()
    if suffix not in (".npz", ".obj", ".glb"):
        raise UserError(f"unsupported rig format {suffix!r}: use .glb (mesh + morph targets), .obj (neutral) or .npz")
    writable(out)
    model = load_model(model_name)
    if suffix == ".npz":
        model.save(out)
    elif suffix == ".obj":
        trimesh.Trimesh(model.vertices, model.triangles, process=False).export(out)
    else:
        rest = CoeffSequence(model.model_id, FPS, model.expression_names,
                             np.zeros((1, model.num_expressions)), np.zeros((1, 6)), {"source": "rig export"})
        export_gltf(rest, model, out)
    print(f"wrote {out}", file=sys.stderr)


def cmd_rig_sheet(*, model_name: str, out: Path) -> None:
    from PIL import Image

    from s2t.face.preview import blendshape_sheet

    writable(out)
    model = load_model(model_name)
    Image.fromarray(blendshape_sheet(model)).save(writable(out))
    print(f"wrote {out}", file=sys.stderr)


def cmd_coeffs_info(*, path: str) -> None:
    seq = load_sequence(path)
    peak = np.abs(seq.expression).max(0)
    busiest = np.argsort(peak)[::-1][:8]
    print(f"{path}: model {seq.model_id}, {seq.num_frames} frames at {seq.fps:g} fps ({seq.duration:.2f} s), "
          f"{len(seq.channel_names)} channels")
    print("most active channels: " + ", ".join(f"{seq.channel_names[k]}={peak[k]:.2f}" for k in busiest))
    print("metadata: " + json.dumps(seq.metadata)[:400])


def cmd_coeffs_export(*, path: str, model_name: str, out: Path) -> None:
    from s2t.face.export import export_gltf, export_obj_sequence

    seq = load_sequence(path)
    if out.suffix.lower() == ".glb":
        writable(out)
    elif out.suffix == "":
        writable_folder(out)
    model = load_model(model_name)
    if "identity" in seq.metadata and model.num_identity == len(seq.metadata["identity"]):
        model = model.with_identity(np.asarray(seq.metadata["identity"]))
    if out.suffix.lower() == ".glb":
        export_gltf(seq, model, writable(out))
    elif out.suffix == "":
        export_obj_sequence(seq, model, out)
    else:
        raise UserError("export to a .glb file or to a folder (one OBJ per frame)")
    print(f"wrote {out}", file=sys.stderr)


def cmd_coeffs_convert(*, path: str, source_name: str, target_name: str, out: Path) -> None:
    from s2t.face.convert import convert_sequence

    seq = load_sequence(path)
    writable(out)
    source, target = load_model(source_name), load_model(target_name)
    converted = convert_sequence(seq, source, target)
    if out.suffix.lower() == ".mat":
        converted.to_sadtalker_mat(writable(out))
    else:
        converted.save(writable(out))
    print(f"wrote {out} ({converted.num_frames} frames, {target.model_id})", file=sys.stderr)


def add_fit_face(sub) -> None:
    p = sub.add_parser("fit-face", help="detect a face in a photo and fit the face model to it")
    p.add_argument("image")
    p.add_argument("--model", default="s2t-arkit52", help="face model name or path (default: s2t-arkit52)")
    p.add_argument("-o", "--overlay", type=Path, help="write the fit drawn over the photo (PNG)")
    p.add_argument("--json", type=Path, help="write the fit as JSON here instead of printing it")
    p.set_defaults(run=lambda a: cmd_fit_face(image=a.image, model_name=a.model, overlay=a.overlay, json_path=a.json))



def add_rig(sub) -> None:
    rig = sub.add_parser("rig", help="the face rig: export it, draw its blendshapes").add_subparsers(
        dest="rig_command", required=True, metavar="ACTION")
    p = rig.add_parser("export", help="write the rig as .glb (morph targets), .obj or .npz")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="s2t-arkit52")
    p.set_defaults(run=lambda a: cmd_rig_export(model_name=a.model, out=a.out))
    p = rig.add_parser("sheet", help="contact sheet PNG of every blendshape")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="s2t-arkit52")
    p.set_defaults(run=lambda a: cmd_rig_sheet(model_name=a.model, out=a.out))



def add_coeffs(sub) -> None:
    coeffs = sub.add_parser("coeffs", help="coefficient files: inspect, export, convert").add_subparsers(
        dest="coeffs_command", required=True, metavar="ACTION")
    p = coeffs.add_parser("info", help="summarise a .npz or SadTalker .mat coefficient file")
    p.add_argument("file")
    p.set_defaults(run=lambda a: cmd_coeffs_info(path=a.file))
    p = coeffs.add_parser("export", help="animated mesh: a .glb, or a folder of OBJs")
    p.add_argument("file")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="s2t-arkit52", help="the file's face model (a path for the BFM)")
    p.set_defaults(run=lambda a: cmd_coeffs_export(path=a.file, model_name=a.model, out=a.out))
    p = coeffs.add_parser("convert", help="project coefficients onto another face model")
    p.add_argument("file")
    p.add_argument("--from-model", default="s2t-arkit52", help="the file's model (path to BFM_model_front.mat for SadTalker files)")
    p.add_argument("--to-model", default="s2t-arkit52")
    p.add_argument("-o", "--out", type=Path, required=True, help=".npz, or .mat for SadTalker")
    p.set_defaults(run=lambda a: cmd_coeffs_convert(path=a.file, source_name=a.from_model, target_name=a.to_model,
        out=a.out))
