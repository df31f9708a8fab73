"""``s2t batch SHOTS.csv --backend tcp://…``: many shots on a backend, one progress bar, resumable.

One CSV row per shot, with the columns ``photo``, ``audio``, ``emotion``, ``output`` and,
optionally, ``art`` (a preset name or a picture; empty: none) and ``size`` (default 512).
Relative paths are taken from the CSV's folder. Every row is checked before the first shot
starts, so a typo in row 40 does not surface an hour in.

Each shot is the ``s2t generate --backend`` job itself (:func:`backend.remote.generate_remote`),
so a batch renders exactly what the single command would. This module talks to the backend
only through :mod:`backend.remote`, the one bridge from ``s2t`` to the backend's client.

A shot is finished when its output exists: the MP4 writer names an unfinished take
``NAME.partial.mp4``. Re-running the same command skips finished shots, so after an
interruption or a failed shot only what is left is rendered. The outcome of every shot is
printed and written to ``SHOTS.results.csv``.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend.remote import RemoteError, generate_remote

REQUIRED = ("photo", "audio", "emotion", "output")
OPTIONAL = ("art", "size")


class BatchError(ValueError):
    """A shot list that cannot be run (one line for the user)."""


@dataclass(frozen=True)
class Shot:
    row: int  # the CSV line, for messages
    photo: Path
    audio: Path
    emotion: str
    art: str | None
    size: int
    output: Path


@dataclass(frozen=True)
class ShotResult:
    shot: Shot
    status: str  # "done", "skipped" (finished by an earlier run) or "failed"
    seconds: float
    message: str


def read_shots(path: str | Path) -> list[Shot]:
    """The shots of a CSV file, every row checked (files exist, size in range, outputs distinct)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
            columns = set(rows[0]) if rows else set()
    except OSError as exc:
        raise BatchError(f"cannot read the shot list {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BatchError(f"{path} is not a CSV file: {exc}") from None
    if not rows:
        raise BatchError(f"{path} has no shots (a header row {','.join(REQUIRED + OPTIONAL)} and one row per shot)")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise BatchError(f"{path} lacks the column(s) {', '.join(missing)}; "
                         f"columns: {', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}")
    shots, outputs = [], {}
    for line, row in enumerate(rows, start=2):
        shot = _shot(path.parent, line, row, where=f"{path.name} line {line}")
        if shot.output in outputs:
            raise BatchError(f"{path.name} lines {outputs[shot.output]} and {line} write the same output {shot.output}")
        outputs[shot.output] = line
        shots.append(shot)
    return shots


def _shot(folder: Path, line: int, row: dict, where: str) -> Shot:
    def file(column: str) -> Path:
        value = (row.get(column) or "").strip()
        if not value:
            raise BatchError(f"{where}: the {column} is empty")
        found = folder / Path(value).expanduser()
        if not found.is_file():
            raise BatchError(f"{where}: no {column} file {found}")
        return found

    emotion = (row.get("emotion") or "").strip()
    if not emotion:
        raise BatchError(f"{where}: the emotion is empty (a sentence, e.g. 'She grins, delighted')")
    size_text = (row.get("size") or "").strip() or "512"
    if not size_text.isdigit() or not 16 <= int(size_text) <= 1024:
        raise BatchError(f"{where}: size must be a whole number of pixels from 16 to 1024, got {size_text!r}")
    output = (row.get("output") or "").strip()
    if not output.lower().endswith(".mp4"):
        raise BatchError(f"{where}: the output must be an .mp4 file, got {output!r}")
    art = (row.get("art") or "").strip() or None
    return Shot(line, file("photo"), file("audio"), emotion, art, int(size_text), folder / Path(output).expanduser())


def run_batch(shots: list[Shot], endpoint: str, *, curve_keys: str | Path | None = None, strength: float = 1.0,
              seed: int = 0, show_progress: bool = True,
              report: Callable[[ShotResult], None] | None = None) -> list[ShotResult]:
    """Render every unfinished shot on the backend at ``endpoint``, in order; a failed shot is
    reported and the batch goes on. One progress bar counts shots, each advancing with its frames."""
    from tqdm import tqdm

    results: list[ShotResult] = []
    bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total_fmt} shots [{elapsed}<{remaining}]"
    with tqdm(total=len(shots), desc="batch", bar_format=bar_format, disable=not show_progress) as bar:
        for number, shot in enumerate(shots):
            started = time.perf_counter()
            if shot.output.exists():
                result = ShotResult(shot, "skipped", 0.0, "finished by an earlier run")
            else:
                def advance(done: int, total: int, number: int = number) -> None:
                    bar.n = number + done / max(total, 1)
                    bar.refresh()

                shot.output.parent.mkdir(parents=True, exist_ok=True)
                try:
                    generate_remote(endpoint, shot.photo, shot.output, audio=str(shot.audio), emotion=shot.emotion,
                                    art=shot.art, art_strength=strength, size=shot.size, seed=seed,
                                    curve_keys=curve_keys, progress=advance, log=lambda text: None)
                    result = ShotResult(shot, "done", time.perf_counter() - started, "")
                except RemoteError as exc:
                    result = ShotResult(shot, "failed", time.perf_counter() - started, str(exc))
            results.append(result)
            bar.n = number + 1
            bar.refresh()
            if report is not None:
                report(result)
    return results


def write_results(results: list[ShotResult], path: str | Path) -> Path:
    """The outcome of each shot as CSV: line, output, status, seconds, message."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["line", "output", "status", "seconds", "message"])
        for result in results:
            writer.writerow([result.shot.row, result.shot.output, result.status, f"{result.seconds:.1f}",
                             result.message])
    return Path(path)


__all__ = ["BatchError", "Shot", "ShotResult", "read_shots", "run_batch", "write_results"]
