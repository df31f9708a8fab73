"""What every job kind is made of: its errors, its context while running, the limits of one job, and the
:class:`JobKind` record the server's registry holds."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.protocol import BAD_INPUT, Message
from s2t.face.detect import FaceImageError
from s2t.audio import FPS
from s2t.video import MAX_AUDIO_SECONDS, MediaError


class JobError(Exception):
    """A job that cannot run or finish; ``code`` is a protocol error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class JobContext:
    """What a running job may use: its saved inputs, its device and its cancel flag."""

    job_id: str
    inputs: dict[str, Path]
    device: str
    cancel: threading.Event

    @property
    def cancelled(self) -> bool:
        """Long steps inside one yield may check this to stop early."""
        return self.cancel.is_set()


@dataclass(frozen=True)
class JobLimits:
    """What one job may ask for (``s2t-backend --max-audio-minutes``, ``--max-job-frames``, ``--max-job-gb``)."""

    max_audio_seconds: float = MAX_AUDIO_SECONDS
    max_frames: int = int(MAX_AUDIO_SECONDS * FPS)  # a render of the longest speech
    max_disk_bytes: int = 20 << 30


@dataclass(frozen=True)
class JobKind:
    """One kind of job; ``unavailable`` (a reason) marks kinds this backend cannot run yet.

    ``buffers`` names the buffers the kind takes (``None``: any); a request with others is
    refused rather than stored unused.
    """

    name: str
    description: str
    prepare: Callable[[dict, dict], tuple[Any, dict]] | None = None
    run: Callable[[Any, JobContext], Iterator[Message]] | None = None
    unavailable: str | None = None
    extra_info: dict | None = None
    buffers: tuple[str, ...] | None = None

    def info(self) -> dict:
        """How ``hello_reply`` describes this kind."""
        info = {"description": self.description, "available": self.unavailable is None, **(self.extra_info or {})}
        if self.unavailable:
            info["reason"] = self.unavailable
        return info


def user_file_error(exc: FaceImageError | MediaError, path: Path, what: str) -> JobError:
    """The error for a file the user sent, naming it as they know it, not by the server's path."""
    return JobError(BAD_INPUT, str(exc).replace(repr(str(path)), what).replace(str(path), what))
