"""MP4 output with the speech muxed in, written as frames arrive (PyAV bundles FFmpeg).

The file is written as ``NAME.partial.mp4`` and renamed to ``NAME.mp4`` only when the last
frame is in, so an interrupted render leaves a playable partial file that never passes for
a finished one. Audio is decoded, resampled and encoded in step with the video, so an hour
of speech never sits in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

AUDIO_RATE = 48000
MAX_AUDIO_SECONDS = 30 * 60.0
"""The longest speech a job takes by default (``--max-audio-minutes`` in ``s2t`` and ``s2t-backend``)."""


class MediaError(ValueError):
    """Audio or video input that cannot be used, or an output that cannot be written."""


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    sample_rate: int
    channels: int


def ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    """FFmpeg's reason without its error number and file name ("Invalid data found when processing input")."""
    return getattr(exc, "strerror", None) or str(exc)


def probe_audio(path: str | Path, *, max_seconds: float | None = None, label: str | None = None) -> AudioInfo:
    """Duration and format of an audio file, with clear errors for unusable ones.

    Reads the container's header (decoding only formats that state no duration), so a
    recording longer than ``max_seconds`` is refused before anything holds its samples.
    ``label`` names the file in messages (default: its path).
    """
    path = Path(path)
    label = label or f"the audio file {str(path)!r}"
    if not path.is_file():
        raise MediaError(f"{label} does not exist")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError(f"{label} has no sound in it (no audio stream)")
            stream = container.streams.audio[0]
            duration = _stream_duration(container, stream)
            rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read {label}: {ffmpeg_reason(exc)} (is it a sound file?)") from None
    if not duration or duration <= 0:
        raise MediaError(f"{label} is empty (0 seconds)")
    if max_seconds is not None and duration > max_seconds:
        raise MediaError(f"{label} lasts {_duration(duration)}; the limit is {_duration(max_seconds)} "
                         "(--max-audio-minutes raises it)")
    return AudioInfo(duration, rate, channels)


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} minutes"


def _stream_duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    # Some formats carry no duration: count the samples (decodes once, frame by frame).
    samples = sum(frame.samples for frame in container.decode(stream))
    return samples / stream.codec_context.sample_rate


def _audio_frames(path: Path) -> Iterator[av.AudioFrame]:
    """The file's audio resampled to 48 kHz stereo planar float, streamed frame by frame."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            frame.pts = None
            yield from resampler.resample(frame)
        yield from resampler.resample(None)


class VideoWriter:
    """``with VideoWriter(path, fps, size, audio=...) as out: out.write(frame)``.

    Frames are RGB uint8 ``(size, size, 3)``. The audio track is cut to the video's length.
    Leaving the block with an exception keeps ``NAME.partial.mp4`` (closed and playable).
    """

    def __init__(self, path: str | Path, fps: float, size: int, audio: str | Path | None = None, crf: int = 18) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise MediaError(f"output must be an .mp4 file, got {str(self.path)!r}")
        self.partial = self.path.with_name(self.path.stem + ".partial.mp4")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.container = av.open(str(self.partial), mode="w")
        except OSError as exc:
            raise MediaError(f"cannot write {str(self.path)!r}: {exc.strerror or exc}") from None
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot write {str(self.path)!r}: {ffmpeg_reason(exc)}") from None
        self.fps = Fraction(fps).limit_denominator(1001)
        self.video = self.container.add_stream("libx264", rate=self.fps)
        self.video.width = self.video.height = size
        self.video.pix_fmt = "yuv420p"
        self.video.options = {"crf": str(crf), "preset": "veryfast"}
        self.frames = 0
        self.audio_source = _audio_frames(Path(audio)) if audio is not None else None
        self.audio = self.container.add_stream("aac", rate=AUDIO_RATE) if audio is not None else None
        if self.audio is not None:
            self.audio.layout = "stereo"
        self.fifo = av.AudioFifo()  # hands the encoder frames of exactly the size it wants
        self.audio_written = 0  # samples

    def write(self, frame: np.ndarray) -> None:
        image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame, dtype=np.uint8), format="rgb24")
        image.pts = self.frames
        image.time_base = 1 / self.fps
        self.container.mux(self.video.encode(image))
        self.frames += 1
        self._write_audio_until(self.frames / self.fps)

    def _write_audio_until(self, seconds: float, final: bool = False) -> None:
        """Encode audio up to ``seconds`` (whole encoder frames; the remainder too if ``final``)."""
        if self.audio is None:
            return
        target = int(round(seconds * AUDIO_RATE))
        size = self.audio.codec_context.frame_size or 1024
        while self.audio_written < target:
            want = min(size, target - self.audio_written)
            if want < size and not final:
                return
            while self.fifo.samples < want:
                frame = next(self.audio_source, None)
                if frame is None:
                    break
                self.fifo.write(frame)
            frame = self.fifo.read(min(want, self.fifo.samples), partial=True) if self.fifo.samples else None
            if frame is None:
                return  # the speech ended before the video: silence after it
            frame.pts = self.audio_written
            frame.time_base = Fraction(1, AUDIO_RATE)
            self.container.mux(self.audio.encode(frame))
            self.audio_written += frame.samples

    def close(self, complete: bool = True) -> Path:
        """Flush and close; rename to the final name when ``complete``. Returns the file written."""
        self.container.mux(self.video.encode())
        self._write_audio_until(self.frames / self.fps, final=True)
        if self.audio is not None:
            self.container.mux(self.audio.encode())
        self.container.close()
        if complete:
            self.partial.replace(self.path)
            return self.path
        return self.partial

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(complete=exc_type is None)

