"""The main job on built-in samples: the product's whole path on a laptop.

Photo (scikit-image's astronaut) + speech (a shipped espeak-ng sample) + an emotion
sentence + an art preset -> Style-E (the embedded checkpoint) makes the coefficients -> the
CPU renderer makes stylised frames -> an MP4 with the sound, plus the coefficient file, the
animated rig as glTF and preview pictures.

``perform_sample`` is the procedural performer the corpus is made with (visemes from the
sample's phone timings); tests and docs use it as a reference for Style-E's output.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from s2t.data.corpus import read_wav
from s2t.data.synth import animate_speech
from s2t.data.tts import Phone
from s2t.face import CoeffSequence, FaceModel
from s2t.face.coeffs import export_gltf
from s2t.face.fit import render_fit_overlay
from s2t.face.preview import contact_sheet
from s2t.pipeline import TalkingHeadPipeline
from s2t.style_a.art import resolve_art
from s2t.style_a.photo import prepare_photo
from s2t.style_e.checkpoint import load_style_e

DEFAULT_EMOTION = "She is joyful, pulling up the lip corners."


def sample_photo() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins, NASA, public domain), shipped in its wheel."""
    from skimage import data

    return data.astronaut()


def sample_speech() -> tuple[Path, dict]:
    """The shipped speech sample (16 kHz WAV) and its record (text, voice, phone timings)."""
    folder = resources.files("s2t") / "assets" / "samples"
    return Path(str(folder / "speech.wav")), json.loads((folder / "speech.json").read_text())


def perform_sample(model: FaceModel, emotion: str = "happy", level: int = 2, seed: int = 0) -> CoeffSequence:
    """The rig performing the speech sample in ``emotion`` at ``level`` (1-3)."""
    wav, record = sample_speech()
    audio, _ = read_wav(wav)
    phones = tuple(Phone(s, a, b) for s, a, b in record["phones"])
    anim = animate_speech(audio, phones, emotion, level, np.random.default_rng(seed))
    metadata = {"source": "procedural performer (sample phone timings)", "text": record["text"],
                "emotion": emotion, "level": level, "seed": seed}
    return CoeffSequence(model.model_id, 25.0, model.expression_names, anim.expression, anim.pose, metadata)


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
    return contact_sheet(thumbs, [f"{i / 25:.1f} s" for i in picks], columns=4)
