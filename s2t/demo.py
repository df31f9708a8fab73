"""The main job on built-in samples: the product's whole path on a laptop.

Photo (scikit-image's astronaut) + speech (a shipped espeak-ng sample) + an emotion
sentence + an art preset -> Style-E (the embedded checkpoint) makes the coefficients -> the
CPU renderer makes stylised frames -> an MP4 with the sound, plus the coefficient file, the
animated rig as glTF and preview pictures. The samples themselves are in
:mod:`s2t.data.samples`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from s2t.audio import FPS
from s2t.data.samples import sample_photo, sample_speech
from s2t.face import FaceModel
from s2t.face.export import export_gltf
from s2t.face.fit import render_fit_overlay
from s2t.face.preview import contact_sheet
from s2t.pipeline import TalkingHeadPipeline
from s2t.style_a.art import resolve_art
from s2t.style_a.photo import prepare_photo
from s2t.style_e.checkpoint import load_style_e

DEFAULT_EMOTION = "She is joyful, pulling up the lip corners."


def run_demo(model: FaceModel, out_dir: str | Path, image: str | Path | np.ndarray | None = None,
             emotion: str = DEFAULT_EMOTION, art: str | None = "cel", strength: float = 0.8, size: int = 512,
             emotion_strength: float = 1.0, seed: int = 0) -> dict[str, Path]:
    """Write the MP4, coefficients, animated glTF, fit overlay and preview into ``out_dir``;
    ``art`` and ``strength`` as :func:`s2t.style_a.art.resolve_art` takes them."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    photo = sample_photo() if image is None else image
    paths = {name: out / file for name, file in (("video", "demo.mp4"), ("coeffs", "coeffs.npz"), ("gltf", "face.glb"),
                                                 ("fit", "fit_overlay.png"), ("preview", "preview.png"))}
    prepared = prepare_photo(model, photo, size)
    speech, _ = sample_speech()
    style_e = load_style_e("default")
    seq = style_e(str(speech), emotion, seed=seed, strength=emotion_strength, identity=prepared.fit.identity)
    seq.save(paths["coeffs"])
    TalkingHeadPipeline(model)(prepared, paths["video"], audio=speech, coeffs=seq, art=resolve_art(art, strength),
                               size=size)

    Image.fromarray(render_fit_overlay(prepared.image, model, prepared.fit, prepared.landmarks)).save(paths["fit"])
    export_gltf(seq, model.with_identity(prepared.fit.identity), paths["gltf"])
    Image.fromarray(preview_frames(paths["video"])).save(paths["preview"])
    return paths


def preview_frames(video: Path, count: int = 8, size: int = 192) -> np.ndarray:
    """A contact sheet of ``count`` frames spread over a video."""
    import av

    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, count + 2)[1:-1].round().astype(int)
    thumbs = [np.asarray(Image.fromarray(frames[i]).resize((size, size), Image.Resampling.LANCZOS)) for i in picks]
    return contact_sheet(thumbs, [f"{i / FPS:.1f} s" for i in picks], columns=4)
