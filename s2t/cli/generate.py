"""``s2t demo``, ``s2t generate`` and ``s2t generate-coeffs``: the talking-head job, through
:class:`s2t.pipeline.TalkingHeadPipeline` here or on an ``s2t-backend``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from s2t.cli.common import (
    UserError, add_art_strength_option, add_max_audio_option, add_track_options, art_choice, check_audio,
    check_strength, emotion_or_track, emotion_sentence, load_model, load_sequence, partial_note, take_paths,
    writable, writable_folder,
)


def cmd_demo(*, out_dir: Path, image: str | None, emotion: str, emotion_strength: float, art: str | None,
             strength: float, size: int) -> None:
    from s2t.demo import run_demo

    writable_folder(out_dir)
    emotion = emotion_sentence(emotion)
    if image is not None:
        from s2t.face.detect import load_image

        load_image(image)  # fail on a bad photo before anything slow
    from s2t.style_a.cpu_renderer import CpuStyleA

    CpuStyleA().check(art_choice(art, strength))  # a bad --art or --art-strength before anything slow
    model = load_model("s2t-arkit52")
    started = time.perf_counter()
    paths = run_demo(model, out_dir, image, emotion=emotion, art=art, strength=strength, size=size,
                     emotion_strength=emotion_strength)
    print(f"demo finished in {time.perf_counter() - started:.1f} s:", file=sys.stderr)
    for kind, path in paths.items():
        print(f"  {kind:8s} {path}")


def cmd_generate(*, image: str, out: Path, audio: str | None, emotion: str | None, coeffs_path: str | None,
                 art: str | None, strength: float, size: int, seed: int, emotion_strength: float,
                 checkpoint: str, backend: str | None = None, curve_keys: Path | None = None,
                 renderer: str | None = None, style_a: Path | None = None, device: str = "cpu",
                 max_audio_minutes: float = 30.0, emotion_track: Path | None = None, emotion_blend: float = 0.5,
                 variants: int = 1) -> None:
    from s2t.face.detect import load_image
    from s2t.pipeline import TalkingHeadPipeline
    from s2t.style_a.cpu_renderer import CpuStyleA

    if out.suffix.lower() != ".mp4":
        raise UserError(f"the output must be an .mp4 file, got {out}")
    writable(out)  # fail on an output that cannot be written, a bad photo or audio, before anything slow
    photo = load_image(image)
    check_audio(audio, max_audio_minutes)
    if (emotion_track is not None or variants != 1) and coeffs_path:
        raise UserError("--emotion-track and --variants drive Style-E; they do not apply to --coeffs")
    coeffs = load_sequence(coeffs_path) if coeffs_path else None
    if coeffs is None:
        emotion = emotion_or_track(emotion, emotion_track, emotion_blend)
    takes = take_paths(out, seed, variants)
    if backend is not None:
        for take_seed, take_out in takes.items():
            _generate_on_backend(backend, curve_keys, image, take_out, audio, emotion, coeffs,
                                 None if art == "none" else art, strength, size, take_seed, emotion_strength,
                                 renderer or "auto")
        return
    begun, take_out = time.time(), out
    try:
        chosen = art_choice(art, strength)
        style_a = _style_a(renderer, style_a, device)
        (style_a or CpuStyleA()).check(chosen)  # art it cannot draw fails before Style-E and the photo fit
        style_e = None
        if coeffs is None:
            from s2t.style_e.checkpoint import load_style_e

            style_e = load_style_e(checkpoint)
        model = load_model("s2t-arkit52")
        pipeline = TalkingHeadPipeline(model, style_e, style_a)
        if len(takes) > 1:
            from s2t.style_a.photo import prepare_photo

            photo = prepare_photo(model, photo, size)  # fitted once for every take
        for take_seed, take_out in takes.items():
            begun, started = time.time(), time.perf_counter()
            written = pipeline(photo, take_out, audio=audio, emotion=emotion, coeffs=coeffs, art=chosen,
                               size=size, seed=take_seed, emotion_strength=emotion_strength,
                               max_audio_seconds=max_audio_minutes * 60)
            print(f"wrote {written} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(partial_note(take_out, begun)) from None


def _generate_on_backend(endpoint: str, curve_keys: Path | None, image: str, out: Path, audio: str | None,
                         emotion, coeffs, art: str | None, strength: float, size: int, seed: int,
                         emotion_strength: float, renderer: str) -> None:
    from backend.remote import RemoteError, generate_remote

    if coeffs is None and (audio is None or emotion is None):
        raise UserError("give --audio and --emotion (Style-E makes the motion) or --coeffs")
    check_strength(strength, "--art-strength")
    started, begun = time.perf_counter(), time.time()
    try:
        written = generate_remote(endpoint, image, out, audio=audio, emotion=emotion, coeffs=coeffs,
                                  art=art, art_strength=strength, size=size, seed=seed,
                                  emotion_strength=emotion_strength, curve_keys=curve_keys, renderer=renderer)
    except RemoteError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        raise KeyboardInterrupt(partial_note(out, begun)) from None
    print(f"wrote {written} in {time.perf_counter() - started:.1f} s (rendered by {endpoint})", file=sys.stderr)


def _style_a(renderer: str | None, style_a: Path | None, device: str):
    """Style-A's neural implementation when asked for (or when --style-a is given); None for the CPU one."""
    if renderer == "cpu" or (renderer is None and style_a is None):
        return None
    if style_a is None:
        raise UserError("--renderer neural needs --style-a DIR (a folder with generator.pt, encoder.pt and style_a.pt)")
    from s2t.style_a.neural.renderer import NeuralStyleA

    return NeuralStyleA(style_a, device)


def cmd_generate_coeffs(*, audio: str, emotion: str | None, image: str | None, checkpoint: str, strength: float,
                        seed: int, steps: int, text_encoder: str | None, device: str, out: Path,
                        max_audio_minutes: float = 30.0, emotion_track: Path | None = None,
                        emotion_blend: float = 0.5, variants: int = 1) -> None:  # fmt: skip
    from s2t.audio import SAMPLE_RATE, load_audio
    from s2t.style_e.checkpoint import load_style_e
    from s2t.style_e.conditioning import identity_from_photo

    outputs = take_paths(out, seed, variants)
    for path in outputs.values():
        writable(path)  # fail on an output that cannot be written, bad audio or emotion, before the model loads
    check_audio(audio, max_audio_minutes)
    emotion = emotion_or_track(emotion, emotion_track, emotion_blend)
    samples = load_audio(audio)
    if not isinstance(emotion, str):
        emotion.check_duration(len(samples) / SAMPLE_RATE)  # before loading anything slow
    style_e = load_style_e(checkpoint, device, text_encoder=text_encoder, num_inference_steps=steps)
    identity = identity_from_photo(image) if image else None
    takes = style_e.variants(samples, emotion, list(outputs), strength, identity, metadata={"audio": str(audio)})
    for take, path in zip(takes, outputs.values()):
        take.save(path)
        print(f"wrote {path} ({take.num_frames} frames, seed {take.metadata['seed']})", file=sys.stderr)


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the main job on the built-in samples")
    p.add_argument("-o", "--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument("--image", help="a photo instead of the sample astronaut")
    p.add_argument("--emotion", default="She is joyful, pulling up the lip corners.", help="emotion sentence")
    p.add_argument("--emotion-strength", type=float, default=1.0, help="0 neutral, 1 as trained, >1 exaggerated")
    p.add_argument("--art", default="cel", help="art preset or picture, or 'none' (default: cel)")
    add_art_strength_option(p, 0.8)
    p.add_argument("--size", type=int, default=512, choices=(256, 512, 1024))
    p.set_defaults(run=lambda a: cmd_demo(out_dir=a.out, image=a.image, emotion=a.emotion,
        emotion_strength=a.emotion_strength, art=a.art, strength=a.art_strength, size=a.size))



def add_generate(sub) -> None:
    p = sub.add_parser("generate", help="photo + audio + emotion text + art picture -> stylized MP4")
    p.add_argument("--image", required=True, help="identity photo")
    p.add_argument("--audio", help="speech (wav, mp3, m4a, ...): drives Style-E and is muxed into the MP4")
    p.add_argument("--emotion", help='emotion text, e.g. "She is joyful, pulling up the lip corners"')
    p.add_argument("--coeffs", help="render these coefficients (.npz or SadTalker .mat) instead of running Style-E")
    p.add_argument("--art", help="art-style picture, a preset name, or 'none' (default: none)")
    add_art_strength_option(p, 1.0)
    p.add_argument("--size", type=int, default=512, choices=(256, 512, 1024))
    p.add_argument("--emotion-strength", type=float, default=1.0,
                   help="0 neutral talking, 1 as trained (default), >1 exaggerated")
    p.add_argument("--checkpoint", default="default", help="Style-E checkpoint: 'default' (embedded) or a path")
    p.add_argument("--seed", type=int, default=0)
    add_max_audio_option(p)
    p.add_argument("--backend", metavar="ENDPOINT",
                   help="run the job on an s2t-backend, e.g. tcp://gpu-box:5599 (default: in this process)")
    p.add_argument("--curve-keys", type=Path, metavar="DIR",
                   help="folder with server.key and client.key_secret from `s2t-backend keys` (remote backends)")
    p.add_argument("-o", "--out", type=Path, required=True, help="output .mp4")
    p.add_argument("--renderer", choices=("cpu", "neural"),
                   help="Style-A renderer (default: neural with --style-a, else cpu)")
    p.add_argument("--style-a", type=Path, metavar="DIR",
                   help="neural Style-A folder: generator.pt, encoder.pt, style_a.pt (+ exstyle_code.npy); --art is "
                        "then a picture or a style of exstyle_code.npy (default: the style trained on)")
    p.add_argument("--device", default="cpu", help="device of the neural renderer (cpu, cuda)")
    add_track_options(p)
    p.set_defaults(run=lambda a: cmd_generate(image=a.image, out=a.out, audio=a.audio, emotion=a.emotion,
        coeffs_path=a.coeffs, art=a.art, strength=a.art_strength, size=a.size, seed=a.seed,
        emotion_strength=a.emotion_strength, checkpoint=a.checkpoint, backend=a.backend, curve_keys=a.curve_keys,
        renderer=a.renderer, style_a=a.style_a, device=a.device, max_audio_minutes=a.max_audio_minutes,
        emotion_track=a.emotion_track, emotion_blend=a.emotion_blend, variants=a.variants))



def add_generate_coeffs(sub) -> None:
    p = sub.add_parser("generate-coeffs", help="Style-E: speech + emotion text -> coefficient file")
    p.add_argument("--audio", required=True)
    p.add_argument("--emotion", help='e.g. "He is joyful, pulling up the lip corners" (or --emotion-track)')
    add_track_options(p)
    p.add_argument("--image", help="identity photo (its fitted face shape conditions the motion)")
    p.add_argument("--checkpoint", default="default", help="Style-E checkpoint: 'default' or a path")
    p.add_argument("--emotion-strength", type=float, default=1.0,
                   help="0 neutral talking, 1 as trained (default), >1 exaggerated")
    p.add_argument("--strength", dest="emotion_strength", type=float, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # the old name
    p.add_argument("--seed", type=int, default=0)
    add_max_audio_option(p)
    p.add_argument("--steps", type=int, default=5, help="DDIM steps (default 5)")
    p.add_argument("--text-encoder", help="CLIP ViT-B-32.pt path, or 'minilm' (default: the checkpoint's)")
    p.add_argument("--device", default="cpu")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.set_defaults(run=lambda a: cmd_generate_coeffs(audio=a.audio, emotion=a.emotion, image=a.image,
        checkpoint=a.checkpoint, strength=a.emotion_strength, seed=a.seed, steps=a.steps, text_encoder=a.text_encoder,
        device=a.device, out=a.out, max_audio_minutes=a.max_audio_minutes, emotion_track=a.emotion_track,
        emotion_blend=a.emotion_blend, variants=a.variants))
