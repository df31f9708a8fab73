"""Video files in and out (PyAV bundles FFmpeg): probing and reading frames at the model's
frame rate, and MP4 output with the speech muxed in, written as frames arrive.

The output file is written as ``NAME.partial.mp4`` and renamed to ``NAME.mp4`` only when the last
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

from s2t.audio import FPS
from s2t.media import MediaError, ffmpeg_reason

AUDIO_RATE = 48000
MAX_AUDIO_SECONDS = 30 * 60.0
"""The longest speech a job takes by default (``--max-audio-minutes`` in ``s2t`` and ``s2t-backend``)."""


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    sample_rate: int
    channels: int


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


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float  # the source's frame rate
    duration: float | None  # seconds, when the container says
    audio_offset: float | None  # audio start minus video start (s); None without an audio track


def probe_video(path: str | Path) -> VideoInfo:
    """Size, rate, duration and audio offset of a video file; :class:`MediaError` if unusable."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(f"{str(path)!r} has no video stream")
            video = container.streams.video[0]
            rate = video.average_rate or video.guessed_rate or video.base_rate
            duration = float(video.duration * video.time_base) if video.duration and video.time_base else \
                (container.duration / av.time_base if container.duration else None)  # fmt: skip
            offset = None
            if container.streams.audio:
                audio = container.streams.audio[0]
                offset = _start_seconds(audio) - _start_seconds(video)
            width, height = video.codec_context.width, video.codec_context.height
            return VideoInfo(width, height, float(rate or FPS), duration, offset)
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read video {str(path)!r}: {exc}") from None


def _start_seconds(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0


def read_frames(path: str | Path, fps: float = FPS, max_side: int | None = None) -> Iterator[np.ndarray]:
    """The video's frames as RGB uint8 ``(H, W, 3)`` at ``fps``, by timestamps: output frame
    ``k`` (time ``k / fps`` after the first frame) is the source frame nearest in time; the
    clip lasts until the last source frame ends. Frames larger than ``max_side`` (when given)
    are downscaled by FFmpeg (area averaging). A source frame is converted once, however often
    it is shown (the same array is yielded again), and dropped frames are never converted."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        scale = 1.0 if max_side is None else min(1.0, max_side / max(width, height))
        size = {"width": max(2, round(width * scale)), "height": max(2, round(height * scale))}
        step = 1.0 / float(stream.average_rate or stream.guessed_rate or fps)  # a source frame's duration

        def convert(frame: av.VideoFrame) -> np.ndarray:
            return frame.to_ndarray(format="rgb24", interpolation="AREA", **size)

        previous, image, previous_time, start, k = None, None, 0.0, None, 0
        for count, frame in enumerate(container.decode(stream)):
            now = frame.time if frame.time is not None else count * step
            start = now if start is None else start
            now -= start
            while previous is not None and k / fps < (previous_time + now) / 2:
                image = convert(previous) if image is None else image
                yield image
                k += 1
            previous, image, previous_time = frame, None, now
        if previous is not None:
            image = convert(previous) if image is None else image
            for _ in range(k, max(1, round((previous_time + step) * fps))):
                yield image


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

