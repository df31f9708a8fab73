"""What every ``s2t`` command shares: the one-line error, checks of arguments and outputs, option groups."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one ``s2t: error:`` line, like every other mistake."""

    def error(self, message: str):
        print(f"s2t: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def load_model(name: str):
    from s2t.face import load_face_model

    started = time.perf_counter()
    print(f"loading face model {name} ...", file=sys.stderr, end=" ", flush=True)
    model = load_face_model(name)
    print(f"{model.num_vertices} vertices, {model.num_expressions} channels ({time.perf_counter() - started:.1f} s)",
          file=sys.stderr)
    return model


def writable(path: Path) -> Path:
    """``path`` once a file can be written there; commands check their outputs before any work."""
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file name")
    writable_folder(path.parent, what=str(path))
    return path


def writable_folder(folder: Path, what: str | None = None) -> Path:
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


def emotion_sentence(emotion: str | None) -> str | None:
    """The emotion sentence by the rule every front end shares (``s2t.pipeline.emotion_text``)."""
    from s2t.pipeline import emotion_text

    return None if emotion is None else emotion_text(emotion)


def check_audio(audio: str | None, max_minutes: float) -> None:
    """Refuse unreadable or overlong speech before anything slow."""
    from s2t.video import probe_audio

    if audio is not None:
        probe_audio(audio, max_seconds=max_minutes * 60)


def partial_note(out: Path, since: float) -> str:
    """What a render interrupted after ``since`` (``time.time()``) left: the playable partial file, or nothing."""
    partial = out.with_name(out.stem + ".partial.mp4")
    if partial.is_file() and partial.stat().st_mtime >= since - 1:
        return f"the frames made so far are in {partial}"
    return "nothing was written (rendering had not started)"


def load_sequence(path: str):
    from s2t.face import CoeffSequence

    if path.lower().endswith(".mat"):
        return CoeffSequence.from_sadtalker_mat(path)
    return CoeffSequence.load(path)


def emotion_or_track(emotion: str | None, track: Path | None, blend: float):
    """The emotion sentence (by the rule every front end shares), or the track read from ``track``: exactly one."""
    if (emotion is None) == (track is None):
        raise UserError("give the emotion as --emotion TEXT or as --emotion-track FILE (one of them)")
    if track is None:
        return emotion_sentence(emotion)
    from s2t.style_e.emotion_track import read_emotion_track

    return read_emotion_track(track, blend)


def take_paths(out: Path, seed: int, variants: int) -> dict[int, Path]:
    """seed -> output file: ``out`` itself for one take, else ``<stem>_take<i>_seed<seed><suffix>``."""
    if not 1 <= variants <= 16:
        raise UserError(f"--variants must be 1 to 16, got {variants}")
    if variants == 1:
        return {seed: out}
    return {seed + i: out.with_name(f"{out.stem}_take{i + 1}_seed{seed + i}{out.suffix}") for i in range(variants)}


def check_strength(strength: float, option: str) -> float:
    """``strength`` checked against the one art-strength range, as an error naming ``option``."""
    from s2t.style_a.art import check_art_strength

    try:
        return check_art_strength(strength, option)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def art_choice(art: str | None, strength: float):
    """``--art`` and ``--art-strength`` as the pipeline's :class:`~s2t.style_a.art.Art`."""
    from s2t.style_a.art import resolve_art

    check_strength(strength, "--art-strength")
    return resolve_art(art, strength)


def add_art_strength_option(p: argparse.ArgumentParser, default: float) -> None:
    p.add_argument("--art-strength", type=float, default=default,
                   help=f"art-style strength, 0 (photo) to 1 (default {default:g})")
    p.add_argument("--strength", dest="art_strength", type=float, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # the old name


def add_max_audio_option(p: argparse.ArgumentParser) -> None:
    from s2t.video import MAX_AUDIO_SECONDS

    p.add_argument("--max-audio-minutes", type=float, default=MAX_AUDIO_SECONDS / 60,
                   help=f"refuse longer speech (default {MAX_AUDIO_SECONDS / 60:g})")


def add_track_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--emotion-track", type=Path, metavar="FILE",
                   help="an emotion that changes over time instead of --emotion: TSV lines 'start<TAB>text[<TAB>"
                        "strength]' or JSON [{\"start\": s, \"text\": ..., \"strength\": ...}] (docs/protocol.md)")
    p.add_argument("--emotion-blend", type=float, default=0.5, metavar="SECONDS",
                   help="cross-fade time of each emotion change in the track (default 0.5)")
    p.add_argument("--variants", type=int, default=1, metavar="N",
                   help="N takes with seeds seed..seed+N-1, written as <out>_take<i>_seed<seed> (default 1)")
