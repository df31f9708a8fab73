"""The main job on built-in samples, as far as the project goes today.

Today: fit the face rig to a sample photo, then drive the fitted face through the eight MEAD
emotions (EMFACS prototypes) with blinks and the photo's head pose, and write the
coefficient file, an animated glTF, the fit overlay and a preview sheet. Style-E (speech and
text in, coefficients out) and the renderers replace the emotion tour as they land.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from s2t.face import CoeffSequence, FaceModel
from s2t.face.coeffs import export_gltf
from s2t.face.facs import EMOTION_PROTOTYPES, emotion_blendshapes
from s2t.face.fit import FaceFit, fit_photo, render_fit_overlay
from s2t.face.preview import contact_sheet, region_face_colors, render_mesh


def sample_photo() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain), shipped in its wheel."""
    from skimage import data

    return data.astronaut()


def emotion_tour(model: FaceModel, pose: np.ndarray, fps: float = 25.0, seconds_each: float = 1.6,
                 seed: int = 0) -> CoeffSequence:
    """Each emotion eases in, holds and eases out; blinks every 2-4 s; a slight head sway."""
    rng = np.random.default_rng(seed)
    emotions = list(EMOTION_PROTOTYPES)
    n_each = int(round(seconds_each * fps))
    envelope = np.sin(np.linspace(0, np.pi, n_each)) ** 2
    expression = np.concatenate([np.outer(envelope, emotion_blendshapes(e, 0.9, model.expression_names)) for e in emotions])
    t = np.arange(len(expression)) / fps
    blink = np.zeros(len(t))
    start = rng.uniform(0.5, 1.5)
    while start < t[-1]:
        blink = np.maximum(blink, np.exp(-(((t - start) / 0.06) ** 2)))
        start += rng.uniform(2.0, 4.0)
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        k = model.expression_index(name)
        expression[:, k] = np.maximum(expression[:, k], blink)
    poses = np.tile(pose, (len(t), 1))
    poses[:, 0] += 0.03 * np.sin(2 * np.pi * 0.23 * t)
    poses[:, 1] += 0.05 * np.sin(2 * np.pi * 0.17 * t + 1.0)
    metadata = {"source": "emotion tour (EMFACS prototypes)", "emotions": emotions, "seconds_each": seconds_each, "seed": seed}
    return CoeffSequence(model.model_id, fps, model.expression_names, expression, poses, metadata)


def emotion_sheet(model: FaceModel, seq: CoeffSequence, size: int = 240) -> np.ndarray:
    """The fitted face at the apex of each emotion of the tour."""
    colors = region_face_colors(model.triangles, model.regions)
    n_each = int(round(seq.metadata["seconds_each"] * seq.fps))
    images = []
    for k, _ in enumerate(seq.metadata["emotions"]):
        apex = k * n_each + n_each // 2
        verts = model.geometry(seq.expression[apex])
        images.append(render_mesh(verts, model.triangles, size, face_colors=colors, view=(0.25, 0.05),
                                  centre=np.array([0.0, -0.025, 0.06]), extent=0.095))
    return contact_sheet(images, seq.metadata["emotions"], columns=4)


def run_demo(model: FaceModel, out_dir: str | Path, image: str | Path | np.ndarray | None = None) -> dict[str, Path]:
    """Write fit overlay, coefficients, animated glTF and preview into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    photo = sample_photo() if image is None else image
    fit, landmarks = fit_photo(model, photo)
    person = model.with_identity(fit.identity)
    head_rotation = np.concatenate([fit.pose[:3], np.zeros(3)])  # the photo's camera distance means nothing to a rig
    seq = emotion_tour(person, head_rotation)
    seq = _with_fit_metadata(seq, fit, "skimage.data.astronaut" if image is None else str(image))
    paths = {
        "fit": out / "fit_overlay.png",
        "coeffs": out / "coeffs.npz",
        "gltf": out / "face.glb",
        "preview": out / "preview.png",
    }
    Image.fromarray(render_fit_overlay(photo, model, fit, landmarks)).save(paths["fit"])
    seq.save(paths["coeffs"])
    export_gltf(seq, person, paths["gltf"])
    Image.fromarray(emotion_sheet(person, seq)).save(paths["preview"])
    return paths


def _with_fit_metadata(seq: CoeffSequence, fit: FaceFit, source: str) -> CoeffSequence:
    meta = dict(seq.metadata, image=source, identity=fit.identity.tolist(), fit_rms_px=fit.rms_px)
    return CoeffSequence(seq.model_id, seq.fps, seq.channel_names, seq.expression, seq.pose, meta)
