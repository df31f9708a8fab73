"""One backend job of the add-on, driven from a ``bpy.app.timers`` callback (no bpy here).

Blender's UI runs on one thread, so nothing here blocks: :class:`BackendJob`'s first
:meth:`~BackendJob.poll` sends hello and the submission back to back (ZeroMQ queues them until
the connection is up), and each poll handles only what has already arrived (``Client.poll(0)``). Frames
are written to disk the moment they arrive, so a crash or a cancel keeps what was made.
The caller (the add-on's timer) turns the returned :class:`Update` into Blender state.
"""

from __future__ import annotations

import os
import re
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq

from backend.client import BackendError, BackendGone, Client, Job
from backend.protocol import CANCEL_REQUEST, COEFFICIENTS, FRAME, PROGRESS, RIG, STATUS_REQUEST, Message

from . import core


@dataclass
class Update:
    """What one poll brought: the UI applies it and redraws."""

    stage: str | None = None
    progress: float | None = None
    takes: list[core.Take] = field(default_factory=list)  # a job with variants sends several
    rig: core.Rig | None = None
    rig_metadata: dict = field(default_factory=dict)
    frames: list[tuple[int, Path]] = field(default_factory=list)
    finished: bool = False
    cancelled: bool = False
    error: str | None = None

    @property
    def ended(self) -> bool:
        return self.finished or self.cancelled or self.error is not None


_TCP = re.compile(r"tcp://(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d{1,5})")


def endpoint_problem(address: str) -> str:
    """Why ``address`` is not a backend address the add-on can connect to ("" when it is).

    pyzmq answers a malformed one with a bare ``ZMQError: Invalid argument``; this says what to write.
    """
    address = address.strip()
    match = _TCP.fullmatch(address)
    if match and 0 < int(match.group(2)) < 65536:
        return ""
    if address.startswith("ipc://") and len(address) > len("ipc://"):
        return ""
    hint = f" (did you mean tcp://{address}?)" if "://" not in address and ":" in address else ""
    return (f"the backend address {address!r} is not a ZeroMQ address{hint}; write it as tcp://HOST:PORT, "
            "e.g. tcp://127.0.0.1:5599, in the add-on's preferences")


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file, from its header (the frames arrive as PNG)."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def frame_path(folder: Path, index: int) -> Path:
    """Frame ``index`` (0-based) of a render: ``000001.png`` ... (Blender numbers image sequences from 1)."""
    return folder / f"{index + 1:06d}.png"


class BackendJob:
    """Submit one job to ``endpoint`` and follow it with :meth:`poll` until it ends.

    ``frames_dir`` is where a render's frames go (PNG, as the backend encoded them) and
    ``total_frames`` how many it will send (for the progress bar). One :meth:`poll` handles
    messages for about ``budget`` seconds (at least one), so it stays short however many
    frames piled up while Blender was busy.
    ``connect_timeout`` is how long the backend may take to answer hello (longer while a
    local backend the add-on just started is still importing), counted from the first poll:
    nothing goes out before it, so the caller may hold a job back (while an old local
    backend still owns the address) without it reaching the wrong process.
    A malformed ``endpoint`` raises ``ValueError`` at once, with what to write instead.
    After ``status_every`` seconds without a message from an accepted job, the backend is
    asked how the job is: one that ended there without telling this client (a backend stops
    streaming to a client silent for its client timeout, e.g. while Blender was busy) fails
    with that reason instead of looking "running" forever.
    """

    def __init__(self, endpoint: str, kind: str, params: dict, buffers: dict, *, curve_keys: str | None = None,
                 frames_dir: Path | None = None, total_frames: int | None = None, connect_timeout: float = 5.0,
                 client_name: str = "blender", budget: float = 0.006, status_every: float = 5.0):
        problem = endpoint_problem(endpoint)
        if problem:
            raise ValueError(problem)
        self.kind, self.frames_dir, self.budget = kind, frames_dir, budget
        self.endpoint, self.curve_keys, self.client_name = endpoint.strip(), curve_keys or None, client_name
        self.request = (kind, params, buffers)
        self.connect_timeout, self.status_every = connect_timeout, status_every
        self.heard = 0.0  # when the job last sent something (or its status was asked)
        self.status_id: str | None = None
        self.client: Client | None = None
        self.job: Job | None = None
        self.seen = 0
        self.frames_written = 0
        self.total_frames = total_frames
        self.ended = False
        if frames_dir is not None:
            frames_dir.mkdir(parents=True, exist_ok=True)

    def poll(self) -> Update:
        """Handle what has arrived (never waits); after an update with ``ended`` the job is closed."""
        update = Update()
        if self.ended:  # cancelled before the backend accepted it
            update.cancelled = True
            return update
        try:
            self._poll(update)
        except (BackendError, BackendGone) as exc:
            update.error = str(exc)
        if update.ended:
            self.close()
        return update

    def _open(self) -> None:
        """Connect, say hello and submit, without waiting for either answer."""
        try:
            self.client = Client(self.endpoint, curve_keys=self.curve_keys, name=self.client_name)
        except zmq.ZMQError as exc:
            raise BackendGone(f"cannot connect to {self.endpoint}: {exc}") from None
        except (OSError, ValueError) as exc:  # the CURVE key files
            raise BackendGone(f"cannot use the CURVE keys in {self.curve_keys}: {exc}") from None
        self.connect_deadline = time.monotonic() + self.connect_timeout
        self.hello_id = self.client.begin_connect()
        kind, params, buffers = self.request
        self.job = self.client.submit(kind, params, buffers, wait=False)
        self.request = None  # the inputs are in ZeroMQ's hands now

    def _poll(self, update: Update) -> None:
        if self.client is None:
            self._open()
        self.client.poll(0)
        if self.client.server is None:
            if self.client.reply(self.hello_id) is None:
                if time.monotonic() > self.connect_deadline:
                    raise BackendGone(f"no backend answers at {self.endpoint}; start one (s2t-backend) or turn on "
                                      "'Start a local backend' in the add-on's preferences")
                update.stage = "connecting"
                return
        if self.job.job_id is None:
            self.client.reply(self.job.request_id)  # raises if the backend refused the job
            if self.job.job_id is None:
                update.stage = "submitting"
                return
            self.heard = time.monotonic()
        if self.seen < len(self.job.messages):
            self.heard = time.monotonic()
        elif not self.job.done:
            self._ask_when_silent()
        deadline = time.perf_counter() + self.budget
        while self.seen < len(self.job.messages):
            self._take(self.job.messages[self.seen], update)
            self.seen += 1
            if time.perf_counter() > deadline:
                break
        if self.seen < len(self.job.messages):
            return  # more next time: one poll stays short even after the UI was busy for a while
        if self.job.state == "finished":
            update.finished, update.progress = True, 1.0
        elif self.job.state == "cancelled":
            update.cancelled = True
        elif self.job.error is not None:
            update.error = str(self.job.error)

    def _ask_when_silent(self) -> None:
        """Ask the backend about a job silent for ``status_every`` s; raise if it ended there unseen."""
        if self.status_id is None:
            if time.monotonic() - self.heard > self.status_every:
                self.status_id = self.client.begin(STATUS_REQUEST, job_id=self.job.job_id)
            return
        reply = self.client.reply(self.status_id)
        if reply is None:
            return
        self.status_id, self.heard = None, time.monotonic()
        there = reply.content.get("job", {})
        if there.get("state") in ("finished", "cancelled", "failed", "interrupted") and not self.job.done:
            reason = f": {there['error']}" if there.get("error") else ""
            raise BackendGone(f"the backend stopped sending this job to Blender and it is {there['state']} there"
                              f"{reason}; Blender was busy for longer than the backend waits for a silent client "
                              "(s2t-backend --client-timeout). Run it again")

    def _take(self, message: Message, update: Update) -> None:
        if message.type == PROGRESS:
            content = message.content
            update.stage = content.get("stage")
            if content.get("total"):
                update.progress = content["done"] / content["total"]
        elif message.type == COEFFICIENTS:
            update.takes.append(core.take_from_message(message.content, message.buffers))
        elif message.type == RIG:
            update.rig = core.rig_from_message(message.content, message.buffers)
            update.rig_metadata = dict(message.content.get("metadata", {}))
        elif message.type == FRAME and self.frames_dir is not None:
            path = frame_path(self.frames_dir, message.content["index"])
            write_file(path, bytes(message.buffers["image"]))
            update.frames.append((message.content["index"], path))
            self.frames_written += 1
            if self.total_frames:
                update.stage = f"rendering frame {self.frames_written}/{self.total_frames}"
                update.progress = self.frames_written / self.total_frames

    def cancel(self) -> None:
        """Ask the backend to stop; the ``cancelled`` message arrives through :meth:`poll`."""
        if self.job is None or self.job.job_id is None:
            self.close()  # not accepted yet: drop it (the backend cancels the jobs of clients that vanish)
            return
        try:
            self.client.begin(CANCEL_REQUEST, job_id=self.job.job_id)
        except BackendGone:
            self.close()

    def close(self) -> None:
        if not self.ended:
            self.ended = True
            if self.client is not None:
                self.client.close()


def write_file(path: Path, data: bytes) -> None:
    """Write atomically, so Blender never loads half a frame."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def remove_stale_frames(folder: Path, keep: int) -> int:
    """Delete numbered frames past ``keep`` from an earlier, longer render of the same take."""
    removed = 0
    for path in folder.glob("[0-9]*.png"):
        if path.stem.isdigit() and int(path.stem) > keep:
            path.unlink()
            removed += 1
    return removed


__all__ = ["BackendJob", "Update", "endpoint_problem", "frame_path", "png_size", "remove_stale_frames", "write_file"]
