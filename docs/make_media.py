"""Regenerate the pictures and the sample video in docs/: ``python docs/make_media.py``.

- docs/emotions_x_art.png: frames across the sample sentence for three emotions x two art presets.
- docs/sample.mp4: the demo (happy, cel) at 256 px with its sound.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from s2t.data.samples import perform_sample, sample_photo, sample_speech
from s2t.face.preview import contact_sheet
from s2t.face.rig import build_rig
from s2t.pipeline import TalkingHeadPipeline
from s2t.style_a.art import resolve_art
from s2t.style_a.art_presets import load_art_preset
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.photo import prepare_photo
from s2t.style_a.stylizer import Stylizer

HERE = Path(__file__).parent
EMOTIONS = ("happy", "sad", "surprised")
PRESETS = ("cel", "watercolour")
FRAMES = (40, 75, 110, 150)  # across the sentence (25 fps)


def main() -> None:
    model = build_rig()
    photo = prepare_photo(model, sample_photo(), 256)
    images, labels = [], []
    for preset in PRESETS:
        for emotion in EMOTIONS:
            seq = perform_sample(model, emotion)
            renderer = CpuRenderer(model, photo, Stylizer(load_art_preset(preset), 0.85))
            for t in FRAMES:
                images.append(renderer.render(seq.expression[t], seq.pose[t]))
                labels.append(f"{emotion} / {preset} / {t / 25:.1f} s")
    Image.fromarray(contact_sheet(images, labels, columns=len(FRAMES) * 2)).save(HERE / "emotions_x_art.png")
    speech, _ = sample_speech()
    TalkingHeadPipeline(model)(sample_photo(), HERE / "sample.mp4", audio=speech, coeffs=perform_sample(model, "happy"),
                               art=resolve_art("cel", 0.8), size=256, progress=False)


if __name__ == "__main__":
    main()
