"""The ``s2t`` command. argparse lives here only; everything below takes plain arguments.

Exit codes: 0 success, 2 bad input (unreadable photo, no face, wrong file...), 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from s2t import __version__


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one ``s2t: error:`` line, like every other mistake."""

    def error(self, message: str):
        print(f"s2t: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _load_model(name: str):
    from s2t.face import load_face_model

    started = time.perf_counter()
    print(f"loading face model {name} ...", file=sys.stderr, end=" ", flush=True)
    model = load_face_model(name)
    print(f"{model.num_vertices} vertices, {model.num_expressions} channels ({time.perf_counter() - started:.1f} s)",
          file=sys.stderr)
    return model


def _writable(path: Path) -> Path:
    """``path`` once a file can be written there; commands check their outputs before any work."""
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name")
    _writable_folder(path.parent, what=str(path))
    return path


def _writable_folder(folder: Path, what: str | None = None) -> Path:
    """``folder`` (made if missing) once a file can be created in it: a real try, not permission bits."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except (FileExistsError, NotADirectoryError):  # a file where a folder should be
        blocker = next(a for a in (folder, *folder.parents) if a.exists() and not a.is_dir())
        raise UserError(f"cannot write {what or folder}: {blocker} is a file, not a folder") from None
    except OSError as exc:
        raise UserError(f"cannot write {what or folder}: {exc.strerror or exc}") from None
    return folder


def _emotion(emotion: str | None) -> str | None:
    """The emotion sentence by the rule every front end shares (``s2t.pipeline.emotion_text``)."""
    from s2t.pipeline import emotion_text

    return None if emotion is None else emotion_text(emotion)


def _check_audio(audio: str | None, max_minutes: float) -> None:
    """Refuse unreadable or overlong speech before anything slow."""
    from s2t.video import probe_audio

    if audio is not None:
        probe_audio(audio, max_seconds=max_minutes * 60)


def _partial_note(out: Path, since: float) -> str:
    """What a render interrupted after ``since`` (``time.time()``) left: the playable partial file, or nothing."""
    partial = out.with_name(out.stem + ".partial.mp4")
    if partial.is_file() and partial.stat().st_mtime >= since - 1:
        return f"the frames made so far are in {partial}"
    return "nothing was written (rendering had not started)"


def cmd_fit_face(image: str, model_name: str, overlay: Path | None, json_path: Path | None) -> None:
    from PIL import Image

    from s2t.face.detect import load_image
    from s2t.face.fit import fit_photo, render_fit_overlay

    photo = load_image(image)  # fail on a bad file before the model is built
    for path in (overlay, json_path):
        if path is not None:
            _writable(path)
    model = _load_model(model_name)
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
        _writable(json_path).write_text(text)
    else:
        print(text)
    if overlay:
        Image.fromarray(render_fit_overlay(photo, model, fit, landmarks)).save(_writable(overlay))
        print(f"wrote {overlay}", file=sys.stderr)


def cmd_rig_export(model_name: str, out: Path) -> None:
    import trimesh

    from s2t.face import CoeffSequence
    from s2t.face.coeffs import export_gltf

    suffix = out.suffix.lower()
    if suffix not in (".npz", ".obj", ".glb"):
        raise UserError(f"unsupported rig format {suffix!r}: use .glb (mesh + morph targets), .obj (neutral) or .npz")
    _writable(out)
    model = _load_model(model_name)
    if suffix == ".npz":
        model.save(out)
    elif suffix == ".obj":
        trimesh.Trimesh(model.vertices, model.triangles, process=False).export(out)
    else:
        rest = CoeffSequence(model.model_id, 25.0, model.expression_names,
                             np.zeros((1, model.num_expressions)), np.zeros((1, 6)), {"source": "rig export"})
        export_gltf(rest, model, out)
    print(f"wrote {out}", file=sys.stderr)


def cmd_rig_sheet(model_name: str, out: Path) -> None:
    from PIL import Image

    from s2t.face.preview import blendshape_sheet

    _writable(out)
    model = _load_model(model_name)
    Image.fromarray(blendshape_sheet(model)).save(_writable(out))
    print(f"wrote {out}", file=sys.stderr)


def cmd_coeffs_info(path: str) -> None:
    seq = _load_sequence(path)
    peak = np.abs(seq.expression).max(0)
    busiest = np.argsort(peak)[::-1][:8]
    print(f"{path}: model {seq.model_id}, {seq.num_frames} frames at {seq.fps:g} fps ({seq.duration:.2f} s), "
          f"{len(seq.channel_names)} channels")
    print("most active channels: " + ", ".join(f"{seq.channel_names[k]}={peak[k]:.2f}" for k in busiest))
    print("metadata: " + json.dumps(seq.metadata)[:400])


def cmd_coeffs_export(path: str, model_name: str, out: Path) -> None:
    from s2t.face.coeffs import export_gltf, export_obj_sequence

    seq = _load_sequence(path)
    if out.suffix.lower() == ".glb":
        _writable(out)
    elif out.suffix == "":
        _writable_folder(out)
    model = _load_model(model_name)
    if "identity" in seq.metadata and model.num_identity == len(seq.metadata["identity"]):
        model = model.with_identity(np.asarray(seq.metadata["identity"]))
    if out.suffix.lower() == ".glb":
        export_gltf(seq, model, _writable(out))
    elif out.suffix == "":
        export_obj_sequence(seq, model, out)
    else:
        raise UserError("export to a .glb file or to a folder (one OBJ per frame)")
    print(f"wrote {out}", file=sys.stderr)


def cmd_coeffs_convert(path: str, source_name: str, target_name: str, out: Path) -> None:
    from s2t.face.convert import convert_sequence

    seq = _load_sequence(path)
    _writable(out)
    source, target = _load_model(source_name), _load_model(target_name)
    converted = convert_sequence(seq, source, target)
    if out.suffix.lower() == ".mat":
        converted.to_sadtalker_mat(_writable(out))
    else:
        converted.save(_writable(out))
    print(f"wrote {out} ({converted.num_frames} frames, {target.model_id})", file=sys.stderr)


def cmd_generate(image: str, out: Path, audio: str | None, emotion: str | None, coeffs_path: str | None,
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
    _writable(out)  # fail on an output that cannot be written, a bad photo or audio, before anything slow
    photo = load_image(image)
    _check_audio(audio, max_audio_minutes)
    if (emotion_track is not None or variants != 1) and coeffs_path:
        raise UserError("--emotion-track and --variants drive Style-E; they do not apply to --coeffs")
    coeffs = _load_sequence(coeffs_path) if coeffs_path else None
    if coeffs is None:
        emotion = _emotion_or_track(emotion, emotion_track, emotion_blend)
    takes = _take_paths(out, seed, variants)
    if backend is not None:
        for take_seed, take_out in takes.items():
            _generate_on_backend(backend, curve_keys, image, take_out, audio, emotion, coeffs,
                                 None if art == "none" else art, strength, size, take_seed, emotion_strength,
                                 renderer or "auto")
        return
    begun, take_out = time.time(), out
    try:
        chosen = _resolve_art(art, strength)
        style_a = _style_a(renderer, style_a, device)
        (style_a or CpuStyleA()).check(chosen)  # art it cannot draw fails before Style-E and the photo fit
        style_e = None
        if coeffs is None:
            from s2t.style_e.checkpoint import load_style_e

            style_e = load_style_e(checkpoint)
        model = _load_model("s2t-arkit52")
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
        raise KeyboardInterrupt(_partial_note(take_out, begun)) from None


def _generate_on_backend(endpoint: str, curve_keys: Path | None, image: str, out: Path, audio: str | None,
                         emotion, coeffs, art: str | None, strength: float, size: int, seed: int,
                         emotion_strength: float, renderer: str) -> None:
    from s2t.remote import RemoteError, generate_remote

    if coeffs is None and (audio is None or emotion is None):
        raise UserError("give --audio and --emotion (Style-E makes the motion) or --coeffs")
    _art_strength(strength, "--art-strength")
    started, begun = time.perf_counter(), time.time()
    try:
        written = generate_remote(endpoint, image, out, audio=audio, emotion=emotion, coeffs=coeffs,
                                  art=art, art_strength=strength, size=size, seed=seed,
                                  emotion_strength=emotion_strength, curve_keys=curve_keys, renderer=renderer)
    except RemoteError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_partial_note(out, begun)) from None
    print(f"wrote {written} in {time.perf_counter() - started:.1f} s (rendered by {endpoint})", file=sys.stderr)


def cmd_batch(shots_csv: Path, backend: str, curve_keys: Path | None, strength: float, seed: int, quiet: bool) -> None:
    from tqdm import tqdm

    from s2t.batch import read_shots, run_batch, write_results

    shots = read_shots(shots_csv)  # every row checked before the first shot starts
    _art_strength(strength, "--strength")
    results = []

    def report(result) -> None:
        results.append(result)
        note = f": {result.message}" if result.status == "failed" else ""
        tqdm.write(f"{result.status:7s} {result.shot.output} ({result.seconds:.1f} s){note}", file=sys.stderr)

    results_path = shots_csv.with_name(shots_csv.stem + ".results.csv")
    try:
        run_batch(shots, backend, curve_keys=curve_keys, strength=strength, seed=seed, show_progress=not quiet,
                  report=report)
    finally:
        write_results(results, results_path)
    counts = {status: sum(r.status == status for r in results) for status in ("done", "skipped", "failed")}
    print(f"batch: {counts['done']} done, {counts['skipped']} skipped (finished before), {counts['failed']} failed; "
          f"results in {results_path}", file=sys.stderr)
    if counts["failed"]:
        raise UserError(f"{counts['failed']} of {len(shots)} shots failed (see {results_path}); run the same command "
                        "again to retry them, finished shots are skipped")


def _style_a(renderer: str | None, style_a: Path | None, device: str):
    """Style-A's neural implementation when asked for (or when --style-a is given); None for the CPU one."""
    if renderer == "cpu" or (renderer is None and style_a is None):
        return None
    if style_a is None:
        raise UserError("--renderer neural needs --style-a DIR (a folder with generator.pt, encoder.pt and style_a.pt)")
    from s2t.style_a.neural.renderer import NeuralStyleA

    return NeuralStyleA(style_a, device)


def _art_strength(strength: float, option: str) -> float:
    """``strength`` checked against the one art-strength range, as an error naming ``option``."""
    from s2t.style_a.art import check_art_strength

    try:
        return check_art_strength(strength, option)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _resolve_art(art: str | None, strength: float):
    """``--art`` and ``--art-strength`` as the pipeline's :class:`~s2t.style_a.art.Art`."""
    from s2t.style_a.art import resolve_art

    _art_strength(strength, "--art-strength")
    return resolve_art(art, strength)


def cmd_corpus_synth(out: Path, hours: float, seed: int, workers: int | None, augment: bool, quiet: bool) -> None:
    from s2t.data import EngineUnavailable, build_synthetic_corpus

    if hours <= 0:
        raise UserError(f"--hours must be positive, got {hours}")
    try:
        summary = build_synthetic_corpus(out_dir=out, hours=hours, seed=seed, workers=workers,
                                         progress=not quiet, augment=augment)
    except EngineUnavailable as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(summary, indent=2))


def cmd_corpus_from_video(source: Path, out: Path, layout: str, workers: int, max_clips: int | None,
                          quiet: bool) -> None:
    from s2t.data.adapters import build_video_corpus

    if max_clips is not None and max_clips < 1:
        raise UserError(f"--max-clips must be at least 1, got {max_clips}")
    summary = build_video_corpus(source, out, layout=layout, workers=workers, progress=not quiet, max_clips=max_clips)
    print(json.dumps(summary, indent=2))


def cmd_corpus_annotate(corpus: Path, encoder: str, seed: int, export: Path | None, resume: bool, quiet: bool) -> None:
    import torch

    from s2t.data.annotate import annotate_corpus, export_annotations

    torch.set_num_threads(1)  # small batches: on a shared 2-core machine 1 thread ran 8x faster than 2
    summary = annotate_corpus(corpus, encoder=encoder, seed=seed, progress=not quiet, resume=resume)
    if export:
        summary["exported"] = export_annotations(corpus, _writable(export))
    print(json.dumps(summary, indent=2))


def cmd_train_style_e(corpus: Path, out: Path, preset: str, steps: int, batch_size: int, lr: float,
                      eval_every: int, save_every: int, seed: int, device: str, resume: bool,
                      text_encoder: str | None) -> None:
    from dataclasses import replace

    from s2t.style_e.denoiser import PRESETS
    from s2t.style_e.train import TrainConfig, train_style_e
    from s2t.text.encoders import load_text_encoder

    encoder = load_text_encoder(text_encoder) if text_encoder else None
    config = PRESETS[preset] if encoder is None else replace(PRESETS[preset], text_encoder=encoder.name, text_dim=encoder.dim)
    train = TrainConfig(steps=steps, batch_size=batch_size, learning_rate=lr, eval_every=eval_every,
                        save_every=save_every, seed=seed)
    last = train_style_e(corpus, out, config, train, resume=resume, device=device, text_encoder=encoder)
    print(f"wrote {last}", file=sys.stderr)


def cmd_train_style_a(style_a: Path, out: Path, data: Path | None, photo: str | None, coeffs: list[str],
                      art_preset: str, corpus: Path | None, styled: Path | None, art: str | None, vgg: Path | None,
                      discriminator: Path | None, size: int, channel_multiplier: int, steps: int, batch_size: int,
                      lr: float, perceptual_weight: float, adv_weight: float, sample_every: int, save_every: int,
                      seed: int, device: str, resume: bool) -> None:
    from functools import partial

    from s2t.style_a.neural.dataset import build_dataset
    from s2t.style_a.neural.train import TrainStyleAConfig, train_from_folder

    if sum(x is not None for x in (data, photo, corpus)) != 1 or (corpus is None) != (styled is None):
        raise UserError("give the training data one way: --data DIR, --photo PHOTO [--coeffs ...], or --corpus DIR "
                        "--styled DIR")
    sequences = [_load_sequence(c) for c in coeffs]
    train = TrainStyleAConfig(steps=steps, batch_size=batch_size, lr=lr, perceptual_weight=perceptual_weight,
                              adv_weight=adv_weight, sample_every=sample_every, save_every=save_every, seed=seed)
    dataset = partial(build_dataset, out / "data", data=data, photo=photo, sequences=sequences,
                      art_preset=art_preset, corpus=corpus, styled=styled)
    last = train_from_folder(style_a, out, dataset, train, art=art, vgg=vgg, discriminator=discriminator,
                             size=size, channel_multiplier=channel_multiplier, device=device, resume=resume)
    print(f"wrote {last}", file=sys.stderr)


def cmd_generate_coeffs(audio: str, emotion: str | None, image: str | None, checkpoint: str, strength: float,
                        seed: int, steps: int, text_encoder: str | None, device: str, out: Path,
                        max_audio_minutes: float = 30.0, emotion_track: Path | None = None,
                        emotion_blend: float = 0.5, variants: int = 1) -> None:  # fmt: skip
    from s2t.audio import SAMPLE_RATE, load_audio
    from s2t.style_e.checkpoint import load_style_e
    from s2t.style_e.conditioning import identity_from_photo

    outputs = _take_paths(out, seed, variants)
    for path in outputs.values():
        _writable(path)  # fail on an output that cannot be written, bad audio or emotion, before the model loads
    _check_audio(audio, max_audio_minutes)
    emotion = _emotion_or_track(emotion, emotion_track, emotion_blend)
    samples = load_audio(audio)
    if not isinstance(emotion, str):
        emotion.check_duration(len(samples) / SAMPLE_RATE)  # before loading anything slow
    style_e = load_style_e(checkpoint, device, text_encoder=text_encoder, num_inference_steps=steps)
    identity = identity_from_photo(image) if image else None
    takes = style_e.variants(samples, emotion, list(outputs), strength, identity, metadata={"audio": str(audio)})
    for take, path in zip(takes, outputs.values()):
        take.save(path)
        print(f"wrote {path} ({take.num_frames} frames, seed {take.metadata['seed']})", file=sys.stderr)


def _emotion_or_track(emotion: str | None, track: Path | None, blend: float):
    """The emotion sentence (by the rule every front end shares), or the track read from ``track``: exactly one."""
    if (emotion is None) == (track is None):
        raise UserError("give the emotion as --emotion TEXT or as --emotion-track FILE (one of them)")
    if track is None:
        return _emotion(emotion)
    from s2t.style_e.emotion_track import read_emotion_track

    return read_emotion_track(track, blend)


def _take_paths(out: Path, seed: int, variants: int) -> dict[int, Path]:
    """seed -> output file: ``out`` itself for one take, else ``<stem>_take<i>_seed<seed><suffix>``."""
    if not 1 <= variants <= 16:
        raise UserError(f"--variants must be 1 to 16, got {variants}")
    if variants == 1:
        return {seed: out}
    return {seed + i: out.with_name(f"{out.stem}_take{i + 1}_seed{seed + i}{out.suffix}") for i in range(variants)}


def cmd_demo(out_dir: Path, image: str | None, emotion: str, emotion_strength: float, art: str | None,
             strength: float, size: int) -> None:
    from s2t.demo import run_demo

    _writable_folder(out_dir)
    emotion = _emotion(emotion)
    if image is not None:
        from s2t.face.detect import load_image

        load_image(image)  # fail on a bad photo before anything slow
    from s2t.style_a.cpu_renderer import CpuStyleA

    CpuStyleA().check(_resolve_art(art, strength))  # a bad --art or --art-strength before anything slow
    model = _load_model("s2t-arkit52")
    started = time.perf_counter()
    paths = run_demo(model, out_dir, image, emotion=emotion, art=art, strength=strength, size=size,
                     emotion_strength=emotion_strength)
    print(f"demo finished in {time.perf_counter() - started:.1f} s:", file=sys.stderr)
    for kind, path in paths.items():
        print(f"  {kind:8s} {path}")


def _load_sequence(path: str):
    from s2t.face import CoeffSequence

    if path.lower().endswith(".mat"):
        return CoeffSequence.from_sadtalker_mat(path)
    return CoeffSequence.load(path)


def _art_strength_option(p: argparse.ArgumentParser, default: float) -> None:
    p.add_argument("--art-strength", type=float, default=default,
                   help=f"art-style strength, 0 (photo) to 1 (default {default:g})")
    p.add_argument("--strength", dest="art_strength", type=float, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # the old name


def _max_audio_option(p: argparse.ArgumentParser) -> None:
    from s2t.video import MAX_AUDIO_SECONDS

    p.add_argument("--max-audio-minutes", type=float, default=MAX_AUDIO_SECONDS / 60,
                   help=f"refuse longer speech (default {MAX_AUDIO_SECONDS / 60:g})")


def _add_track_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--emotion-track", type=Path, metavar="FILE",
                   help="an emotion that changes over time instead of --emotion: TSV lines 'start<TAB>text[<TAB>"
                        "strength]' or JSON [{\"start\": s, \"text\": ..., \"strength\": ...}] (docs/protocol.md)")
    p.add_argument("--emotion-blend", type=float, default=0.5, metavar="SECONDS",
                   help="cross-fade time of each emotion change in the track (default 0.5)")
    p.add_argument("--variants", type=int, default=1, metavar="N",
                   help="N takes with seeds seed..seed+N-1, written as <out>_take<i>_seed<seed> (default 1)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="s2t", description="Style2Talker: talking heads with text-driven emotion "
                                     "and picture-driven art style.")
    parser.add_argument("--version", action="version", version=f"s2t {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the main job on the built-in samples")
    p.add_argument("-o", "--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument("--image", help="a photo instead of the sample astronaut")
    p.add_argument("--emotion", default="She is joyful, pulling up the lip corners.", help="emotion sentence")
    p.add_argument("--emotion-strength", type=float, default=1.0, help="0 neutral, 1 as trained, >1 exaggerated")
    p.add_argument("--art", default="cel", help="art preset or picture, or 'none' (default: cel)")
    _art_strength_option(p, 0.8)
    p.add_argument("--size", type=int, default=512, choices=(256, 512, 1024))
    p.set_defaults(run=lambda a: cmd_demo(a.out, a.image, a.emotion, a.emotion_strength, a.art, a.art_strength,
                                          a.size))

    p = sub.add_parser("generate", help="photo + audio + emotion text + art picture -> stylized MP4")
    p.add_argument("--image", required=True, help="identity photo")
    p.add_argument("--audio", help="speech (wav, mp3, m4a, ...): drives Style-E and is muxed into the MP4")
    p.add_argument("--emotion", help='emotion text, e.g. "She is joyful, pulling up the lip corners"')
    p.add_argument("--coeffs", help="render these coefficients (.npz or SadTalker .mat) instead of running Style-E")
    p.add_argument("--art", help="art-style picture, a preset name, or 'none' (default: none)")
    _art_strength_option(p, 1.0)
    p.add_argument("--size", type=int, default=512, choices=(256, 512, 1024))
    p.add_argument("--emotion-strength", type=float, default=1.0,
                   help="0 neutral talking, 1 as trained (default), >1 exaggerated")
    p.add_argument("--checkpoint", default="default", help="Style-E checkpoint: 'default' (embedded) or a path")
    p.add_argument("--seed", type=int, default=0)
    _max_audio_option(p)
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
    _add_track_options(p)
    p.set_defaults(run=lambda a: cmd_generate(a.image, a.out, a.audio, a.emotion, a.coeffs, a.art, a.art_strength,
                                              a.size, a.seed, a.emotion_strength, a.checkpoint, a.backend,
                                              a.curve_keys, a.renderer, a.style_a, a.device, a.max_audio_minutes,
                                              a.emotion_track, a.emotion_blend, a.variants))

    p = sub.add_parser("batch", help="render many shots (a CSV, one row per shot) on an s2t-backend; resumable")
    p.add_argument("shots", type=Path, help="CSV with columns photo, audio, emotion, output (.mp4) and optionally "
                   "art, size; paths relative to the CSV")
    p.add_argument("--backend", required=True, metavar="ENDPOINT", help="the s2t-backend, e.g. tcp://gpu-box:5599")
    p.add_argument("--curve-keys", type=Path, metavar="DIR", help="folder with server.key and client.key_secret")
    p.add_argument("--strength", type=float, default=1.0, help="art-style strength, 0 (photo) to 1 (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_batch(a.shots, a.backend, a.curve_keys, a.strength, a.seed, a.quiet))

    p = sub.add_parser("fit-face", help="detect a face in a photo and fit the face model to it")
    p.add_argument("image")
    p.add_argument("--model", default="s2t-arkit52", help="face model name or path (default: s2t-arkit52)")
    p.add_argument("-o", "--overlay", type=Path, help="write the fit drawn over the photo (PNG)")
    p.add_argument("--json", type=Path, help="write the fit as JSON here instead of printing it")
    p.set_defaults(run=lambda a: cmd_fit_face(a.image, a.model, a.overlay, a.json))

    corpus = sub.add_parser("corpus", help="training corpora").add_subparsers(
        dest="corpus_command", required=True, metavar="ACTION")
    p = corpus.add_parser("synth", help="build (or extend, or resume) the synthetic talking corpus")
    p.add_argument("-o", "--out", type=Path, required=True, help="corpus folder")
    p.add_argument("--hours", type=float, required=True, help="total length of speech to have in the folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, help="processes (default: all cores; 0 or 1: in this process)")
    p.add_argument("--no-augment", action="store_true", help="keep the clean TTS audio")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_corpus_synth(a.out, a.hours, a.seed, a.workers, not a.no_augment, a.quiet))

    p = corpus.add_parser("from-video", help="build (or resume) a corpus from MEAD, HDTF or a folder of talking videos")
    p.add_argument("source", type=Path, help="the videos' folder")
    p.add_argument("--layout", choices=["mead", "hdtf", "folder"], required=True,
                   help="mead: <speaker>/video/front/<emotion>/level_<n>/NNN.mp4; hdtf: WRA_/RD_/WDA_*.mp4; "
                        "folder: any videos, emotions from labels.csv/labels.json")
    p.add_argument("-o", "--out", type=Path, required=True, help="corpus folder")
    p.add_argument("--workers", type=int, default=1, help="processes fitting clips (default 1)")
    p.add_argument("--max-clips", type=int, help="only the first N videos in path order (a larger N later extends)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_corpus_from_video(a.source, a.out, a.layout, a.workers, a.max_clips, a.quiet))

    p = corpus.add_parser("annotate", help="write five emotion sentences for every clip (shard_*/annotations.jsonl)")
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    p.add_argument("--encoder", default="minilm",
                   help="ranking: 'minilm' (offline, default) or CLIP's ViT-B-32.pt path / 'clip-vit-b32' (the paper's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", type=Path, help="also write the paper-like {clip_id: [5 sentences]} JSON here")
    p.add_argument("--no-resume", action="store_true", help="annotate every clip again (default: skip annotated clips)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_corpus_annotate(a.corpus, a.encoder, a.seed, a.export, not a.no_resume, a.quiet))

    p = sub.add_parser("generate-coeffs", help="Style-E: speech + emotion text -> coefficient file")
    p.add_argument("--audio", required=True)
    p.add_argument("--emotion", help='e.g. "He is joyful, pulling up the lip corners" (or --emotion-track)')
    _add_track_options(p)
    p.add_argument("--image", help="identity photo (its fitted face shape conditions the motion)")
    p.add_argument("--checkpoint", default="default", help="Style-E checkpoint: 'default' or a path")
    p.add_argument("--emotion-strength", type=float, default=1.0,
                   help="0 neutral talking, 1 as trained (default), >1 exaggerated")
    p.add_argument("--strength", dest="emotion_strength", type=float, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # the old name
    p.add_argument("--seed", type=int, default=0)
    _max_audio_option(p)
    p.add_argument("--steps", type=int, default=5, help="DDIM steps (default 5)")
    p.add_argument("--text-encoder", help="CLIP ViT-B-32.pt path, or 'minilm' (default: the checkpoint's)")
    p.add_argument("--device", default="cpu")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.set_defaults(run=lambda a: cmd_generate_coeffs(a.audio, a.emotion, a.image, a.checkpoint, a.emotion_strength,
                                                     a.seed, a.steps, a.text_encoder, a.device, a.out,
                                                     a.max_audio_minutes, a.emotion_track, a.emotion_blend,
                                                     a.variants))

    train = sub.add_parser("train", help="train models").add_subparsers(dest="train_command", required=True,
                                                                        metavar="MODEL")
    p = train.add_parser("style-e", help="train Style-E on a corpus folder")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints, metrics.csv and curves.png")
    p.add_argument("--preset", default="small", choices=("small", "paper"))
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--text-encoder", help="override the preset's text encoder (a CLIP file, or 'minilm')")
    p.set_defaults(run=lambda a: cmd_train_style_e(a.corpus, a.out, a.preset, a.steps, a.batch_size, a.lr, a.eval_every,
                                                   a.save_every, a.seed, a.device, a.resume, a.text_encoder))

    p = train.add_parser("style-a", help="train Style-A's motion, content and refinement nets (docs/style-a.md)")
    p.add_argument("--style-a", type=Path, required=True, metavar="DIR",
                   help="folder with generator.pt and encoder.pt (DualStyleGAN release), optionally style_a.pt to "
                        "start from and exstyle_code.npy")
    p.add_argument("--out", type=Path, required=True, help="folder for style_a.pt, checkpoints/, samples/, log.csv")
    p.add_argument("--data", type=Path, help="a Style-A dataset folder built before (OUT/data of an earlier run)")
    p.add_argument("--photo", help="smoke run: build the data from this photo with the CPU renderer")
    p.add_argument("--coeffs", nargs="*", default=[], help="coefficient files driving --photo (default: samples)")
    p.add_argument("--art-preset", default="cel", help="CPU art preset of the --photo targets (default cel)")
    p.add_argument("--corpus", type=Path, help="a video corpus (s2t.data.adapters) to build the data from")
    p.add_argument("--styled", type=Path, help="your stylised copies of the corpus videos (e.g. VToonify's)")
    p.add_argument("--art", help="train on this style of exstyle_code.npy (default: the data's art picture)")
    p.add_argument("--vgg", type=Path, help="vgg19-dcbb9e9d.pth for the perceptual loss (without it: L2 + adversarial)")
    p.add_argument("--discriminator", type=Path, help="stylegan2-ffhq-config-f.pt to start the discriminator from")
    p.add_argument("--size", type=int, default=1024, help="generator resolution of a new model (default 1024)")
    p.add_argument("--channel-multiplier", type=int, default=2)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--perceptual-weight", type=float, default=0.1)
    p.add_argument("--adv-weight", type=float, default=0.05)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--save-every", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.set_defaults(run=lambda a: cmd_train_style_a(
        a.style_a, a.out, a.data, a.photo, a.coeffs, a.art_preset, a.corpus, a.styled, a.art, a.vgg, a.discriminator,
        a.size, a.channel_multiplier, a.steps, a.batch_size, a.lr, a.perceptual_weight, a.adv_weight,
        a.sample_every, a.save_every, a.seed, a.device, a.resume))

    rig = sub.add_parser("rig", help="the face rig: export it, draw its blendshapes").add_subparsers(
        dest="rig_command", required=True, metavar="ACTION")
    p = rig.add_parser("export", help="write the rig as .glb (morph targets), .obj or .npz")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="s2t-arkit52")
    p.set_defaults(run=lambda a: cmd_rig_export(a.model, a.out))
    p = rig.add_parser("sheet", help="contact sheet PNG of every blendshape")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="s2t-arkit52")
    p.set_defaults(run=lambda a: cmd_rig_sheet(a.model, a.out))

    coeffs = sub.add_parser("coeffs", help="coefficient files: inspect, export, convert").add_subparsers(
        dest="coeffs_command", required=True, metavar="ACTION")
    p = coeffs.add_parser("info", help="summarise a .npz or SadTalker .mat coefficient file")
    p.add_argument("file")
    p.set_defaults(run=lambda a: cmd_coeffs_info(a.file))
    p = coeffs.add_parser("export", help="animated mesh: a .glb, or a folder of OBJs")
    p.add_argument("file")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--model", default="s2t-arkit52", help="the file's face model (a path for the BFM)")
    p.set_defaults(run=lambda a: cmd_coeffs_export(a.file, a.model, a.out))
    p = coeffs.add_parser("convert", help="project coefficients onto another face model")
    p.add_argument("file")
    p.add_argument("--from-model", default="s2t-arkit52", help="the file's model (path to BFM_model_front.mat for SadTalker files)")
    p.add_argument("--to-model", default="s2t-arkit52")
    p.add_argument("-o", "--out", type=Path, required=True, help=".npz, or .mat for SadTalker")
    p.set_defaults(run=lambda a: cmd_coeffs_convert(a.file, a.from_model, a.to_model, a.out))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from s2t.face.detect import FaceImageError
    from s2t.pipeline import StageUnavailable

    try:
        args.run(args)
    except (UserError, FaceImageError, StageUnavailable, FileNotFoundError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"s2t: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # the disk filled up, a file vanished: the system's words, no traceback
        print(f"s2t: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("s2t: interrupted" + (f"; {exc}" if str(exc) else ""), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
