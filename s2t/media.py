"""What every reader and writer of audio and video files shares: the error they raise for
input that cannot be used, and FFmpeg's reason in plain words.

It sits below the model packages (stdlib and PyAV only), so :mod:`s2t.audio` can decode speech
without importing the video writer, and :mod:`s2t.video`, the pipeline and the front ends
catch one error type whatever layer raised it.
"""

from __future__ import annotations

import av


class MediaError(ValueError):
    """Audio or video input that cannot be used, or an output that cannot be written."""


def ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    """FFmpeg's reason without its error number and file name ("Invalid data found when processing input")."""
    return getattr(exc, "strerror", None) or str(exc)


__all__ = ["MediaError", "ffmpeg_reason"]
