"""``s2t generate --backend tcp://…``: the same job as the local pipeline, run by an ``s2t-backend``.

Inputs travel as bytes (the backend never reads paths from the network); Style-E's
coefficients come back first, then the rendered frames stream into the MP4 as they arrive,
so a long take shows progress and an interruption keeps what was made
(``NAME.partial.mp4``, and the backend's job folder holds every finished frame).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import zmq

from backend.client import BackendError, BackendGone, Client, Job
from backend.protocol import FRAME, render_art
from s2t.face.coeffs import CoeffSequence
from s2t.video import VideoWriter


class RemoteError(RuntimeError):
    """The backend could not be reached, refused the job or failed it (a one-line message)."""


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RemoteError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _finish(client: Client, job: Job, on_message: Callable) -> Job:
    """Stream a job's messages to ``on_message`` until it ends; raise if it did not finish."""
    for message in client.stream(job):
        on_message(message)
    if job.state != "finished":
        raise RemoteError(f"the backend's {job.kind} job {job.job_id} ended {job.state}: {job.error}")
    return job


def remote_coefficients(client: Client, audio: str | Path, emotion, photo: bytes | None, *, seed: int = 0,
                        strength: float = 1.0, log=print) -> CoeffSequence:
    """Style-E on the backend: speech file + emotion text or track (an ``EmotionTrack``) (+ photo
    bytes) -> coefficients."""
    text, track, blend = emotion, None, None
    if not isinstance(emotion, str):
        text, blend = emotion.cues[0].text, emotion.blend
        track = [{"start": cue.start, "text": cue.text, **({} if cue.strength is None else {"strength": cue.strength})}
                 for cue in emotion.cues]
    job = client.submit_coefficients(_read(audio, "audio file"), text, photo, seed=seed, strength=strength,
                                     track=track, blend=blend)
    log(f"coefficients job {job.job_id} accepted")
    _finish(client, job, lambda m: None)
    if job.coefficients is None:
        raise RemoteError(f"the backend's coefficients job {job.job_id} finished without coefficients")
    return CoeffSequence(**job.coefficients)


def remote_render(client: Client, seq: CoeffSequence, photo: bytes, out: Path, *, audio: str | Path | None = None,
                  art: str | None = None, art_strength: float = 1.0, size: int = 512, renderer: str = "auto",
                  progress: Callable[[int, int], None] | None = None) -> Path:
    """Render ``seq`` on the backend and write the frames (and ``audio``) into ``out``.

    ``art`` is a preset name the backend knows or a picture file sent as bytes; ``renderer``
    is ``auto``, ``cpu`` or ``neural`` (a backend started with ``--style-a``).
    """
    from s2t.style_a.art_presets import list_art_presets

    preset = art if art in list_art_presets() else None
    params, buffers = render_art(preset, None if art is None or preset else _read(art, "art picture"), art_strength)
    job = client.submit_render(seq, photo=photo, art=buffers.get("art"), art_preset=params["art_preset"],
                               art_strength=params["art_strength"], size=size, encoding="raw",
                               renderer=renderer)
    total = seq.num_frames
    next_index = 0
    pending: dict[int, np.ndarray] = {}
    writer = VideoWriter(out, seq.fps, size, audio=audio)

    def take(message) -> None:
        nonlocal next_index
        if message.type != FRAME:
            return
        pending[message.content["index"]] = message.buffers["image"]
        while next_index in pending:  # frames are written in order even if a worker sends them out of order
            writer.write(np.asarray(pending.pop(next_index)))
            next_index += 1
            if progress is not None:
                progress(next_index, total)

    try:
        _finish(client, job, take)
    except KeyboardInterrupt:
        writer.close(complete=False)
        try:
            client.cancel(job)  # free the backend's worker; its job folder keeps the frames made so far
        except (BackendError, BackendGone):
            pass
        raise
    except BaseException:
        writer.close(complete=False)
        raise
    if next_index != total:
        writer.close(complete=False)
        raise RemoteError(f"the backend sent {next_index} of {total} frames for job {job.job_id}")
    return writer.close()


def generate_remote(endpoint: str, image: str | Path, out: Path, *, audio: str | None = None,
                    emotion=None, coeffs: CoeffSequence | None = None, art: str | None = None,
                    art_strength: float = 1.0, size: int = 512, seed: int = 0, emotion_strength: float = 1.0,
                    curve_keys: str | Path | None = None, renderer: str = "auto",
                    progress: Callable[[int, int], None] | None = None,
                    log: Callable[[str], None] | None = None) -> Path:
    """The whole ``s2t generate`` job on a backend (``emotion``: text or an ``EmotionTrack``);
    returns the MP4 written. Rendering shows a
    progress bar unless ``progress(done, total)`` is given; ``log`` takes the status lines."""
    from tqdm import tqdm

    photo = _read(image, "photo")
    log = log or (lambda text: print(f"backend: {text}", file=sys.stderr))
    try:
        client = Client(endpoint, curve_keys=curve_keys, name="s2t-cli")
    except OSError as exc:
        raise RemoteError(f"cannot load the CURVE keys in {curve_keys}: {exc} (make them with `s2t-backend keys`)") \
            from None
    except zmq.ZMQError as exc:
        raise RemoteError(f"cannot connect to {endpoint!r}: {exc}") from None
    try:
        with client:
            hello = client.connect()
            log(f"connected to {hello.get('server', 's2t-backend')} at {endpoint}")
            if coeffs is None:
                if audio is None or emotion is None:
                    raise RemoteError("give --audio and --emotion (or --coeffs) to generate")
                coeffs = remote_coefficients(client, audio, emotion, photo, seed=seed, strength=emotion_strength,
                                             log=log)
                log(f"received {coeffs.num_frames} frames of coefficients")
            if progress is not None:
                return remote_render(client, coeffs, photo, out, audio=audio, art=art, art_strength=art_strength,
                                     size=size, renderer=renderer, progress=progress)
            with tqdm(total=coeffs.num_frames, unit="frame", desc="rendering (backend)") as bar:
                return remote_render(client, coeffs, photo, out, audio=audio, art=art, art_strength=art_strength,
                                     size=size, renderer=renderer,
                                     progress=lambda done, total: bar.update(done - bar.n))
    except (BackendError, BackendGone, TimeoutError) as exc:
        raise RemoteError(str(exc)) from None


__all__ = ["RemoteError", "generate_remote", "remote_coefficients", "remote_render"]
