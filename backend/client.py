"""A small client for ``s2t-backend``: standard library, numpy and pyzmq only.

Used by the CLI (``s2t generate --backend tcp://...``) and by the Blender add-on. Nothing here
blocks unless asked to: :meth:`Client.poll` takes what has arrived, sends a heartbeat when
one is due and, with ``timeout=0``, returns at once, so the add-on can call it from a
``bpy.app.timers`` tick. :meth:`Client.wait` and :meth:`Client.stream` loop over ``poll``
for scripts.

A job's messages accumulate in :class:`Job` (``frames``, ``coefficients``, ``state``). If the
backend stops answering for ``dead_after`` seconds, or answers as a new instance (it was
restarted), ``poll`` marks the running jobs ``lost`` and raises :class:`BackendGone`; their
finished outputs are in the backend's job folders, and :meth:`Client.fetch` gets them again
by id once it is back (after :meth:`Client.connect`).

    client = Client("tcp://127.0.0.1:5599")
    client.connect()
    job = client.submit_render(sequence, size=512)
    for message in client.stream(job):
        if message.type == "frame": ...
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zmq

from backend.protocol import (CANCEL_REQUEST, CANCELLED, COEFFICIENTS, DEFAULT_ENDPOINT, DONE, ERROR, FETCH_REPLY,
                              FETCH_REQUEST, FRAME, HEARTBEAT, HELLO_REPLY, HELLO_REQUEST, JOB_STREAM_TYPES, PROGRESS, RIG,
                              STATUS_REQUEST, SUBMIT_REPLY, SUBMIT_REQUEST, TOO_LARGE, Limits, Message,
                              ProtocolError, deserialize, make_message, new_id, pack_coefficients, serialize,
                              unpack_coefficients)
from backend.security import curve_client

FINAL_STATES = ("finished", "cancelled", "failed", "lost")
_STREAM_ONLY = (PROGRESS, COEFFICIENTS, RIG, FRAME, DONE, CANCELLED)
"""Job messages that are never the reply to a request (an ``error`` can be either)."""


class BackendError(Exception):
    """The backend refused a request or failed a job; ``code`` is a protocol error code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message


class BackendGone(Exception):
    """The backend stopped answering, or was restarted, while this client was connected."""


@dataclass(eq=False)
class Job:
    """What a client knows about one job: everything it has received, in order."""

    kind: str
    job_id: str | None = None
    request_id: str | None = None
    state: str = "submitted"
    info: dict = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    error: Exception | None = None

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def frames(self) -> dict[int, bytes | np.ndarray]:
        """Frame index -> PNG bytes (or a read-only ``(H, W, 3)`` uint8 array for raw encoding)."""
        return {m.content["index"]: m.buffers["image"] for m in self.messages if m.type == FRAME}

    @property
    def coefficients(self) -> dict | None:
        """The last coefficient sequence received, as ``CoeffSequence(**job.coefficients)`` arguments."""
        found = [m for m in self.messages if m.type == COEFFICIENTS]
        return unpack_coefficients(found[-1].content, found[-1].buffers) if found else None

    @property
    def progress(self) -> dict | None:
        found = [m for m in self.messages if m.type == PROGRESS]
        return found[-1].content if found else None

    def _update(self, message: Message) -> None:
        self.messages.append(message)
        if message.type == DONE:
            self.state = "finished"
        elif message.type == CANCELLED:
            self.state = "cancelled"
        elif message.type == ERROR:
            self.state = "failed"
            self.error = BackendError(message.content.get("code", "?"), message.content.get("message", ""))
        else:
            self.state = "running"


class Client:
    """A DEALER socket to one backend, with heartbeats and per-job bookkeeping.

    ``curve_keys`` is a folder holding ``server.key`` (the backend's public key) and
    ``client.key_secret`` (this client's key pair), as ``s2t-backend keys`` makes them.
    Not thread-safe: use it from one thread (ZeroMQ sockets are single-threaded).
    """

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, *, curve_keys: str | Path | None = None,
                 name: str = "s2t-client", dead_after: float = 5.0, limits: Limits = Limits(),
                 context: zmq.Context | None = None):
        self.endpoint, self.name, self.dead_after, self.limits = endpoint, name, dead_after, limits
        self.curve = curve_keys is not None
        self.socket = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self.socket.setsockopt(zmq.IDENTITY, new_id().encode())  # stable across reconnects
        self.socket.setsockopt(zmq.LINGER, 0)
        if curve_keys is not None:
            curve_client(self.socket, Path(curve_keys).expanduser())
        self.socket.connect(endpoint)
        self.server: dict | None = None  # the hello_reply while connected
        self.heartbeat_interval = 1.0
        self.jobs: dict[str, Job] = {}
        self._waiting: set[str] = set()
        self._replies: dict[str, Message] = {}
        self._pending_jobs: dict[str, Job] = {}
        self._last_heartbeat = time.monotonic()
        self._unanswered_since: float | None = None  # the first heartbeat sent since the backend last spoke

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.socket.close(linger=0)

    # -- requests ------------------------------------------------------------------------------

    def connect(self, timeout: float = 5.0) -> dict:
        """Say hello (again, after a :class:`BackendGone`); returns the backend's description."""
        self.server = None
        self.call(HELLO_REQUEST, {"client": self.name}, timeout=timeout)
        return self.server

    def begin_connect(self) -> str:
        """Say hello without waiting (for callers that must not block, like Blender's UI);
        :meth:`reply` with the returned request id tells when the backend has answered."""
        self.server = None
        return self.begin(HELLO_REQUEST, {"client": self.name})

    def send(self, msg_type: str, content: dict | None = None, buffers: dict | None = None,
             job_id: str | None = None) -> str:
        """Send one request without waiting; returns its request id."""
        request_id = new_id()
        frames = serialize(make_message(msg_type, content, buffers, job_id=job_id, request_id=request_id))
        limit = self.server["limits"]["max_buffer_bytes"] if self.server else None
        for name, frame in zip(buffers or {}, frames[1:]):
            if limit is not None and frame.nbytes > limit:  # the backend would drop or refuse it
                raise BackendError(TOO_LARGE, f"buffer {name!r} has {frame.nbytes} bytes; the backend at "
                                              f"{self.endpoint} accepts at most {limit} per buffer")
        try:
            self.socket.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            raise BackendGone(f"cannot send to {self.endpoint}: its queue is full; is s2t-backend running?") from None
        return request_id

    def begin(self, msg_type: str, content: dict | None = None, buffers: dict | None = None,
              job_id: str | None = None) -> str:
        """Send a request whose reply :meth:`poll` will collect; returns its id for :meth:`reply`."""
        request_id = self.send(msg_type, content, buffers, job_id)
        self._waiting.add(request_id)
        return request_id

    def reply(self, request_id: str) -> Message | None:
        """The reply to a :meth:`begin` request once :meth:`poll` has received it, else ``None``.

        An ``error`` reply raises :class:`BackendError`; a ``hello_reply`` connects this client.
        """
        if request_id not in self._replies:
            return None
        self._pending_jobs.pop(request_id, None)
        reply = self._replies.pop(request_id)
        if reply.type == ERROR:
            raise BackendError(reply.content.get("code", "?"), reply.content.get("message", ""))
        if reply.type == HELLO_REPLY:
            self.server = reply.content
            self.heartbeat_interval = float(reply.content["heartbeat_interval"])
            self._unanswered_since = None
        return reply

    def call(self, msg_type: str, content: dict | None = None, buffers: dict | None = None, *,
             job_id: str | None = None, timeout: float = 5.0) -> Message:
        """Send a request and wait for its reply; an ``error`` reply raises :class:`BackendError`."""
        return self._await(self.begin(msg_type, content, buffers, job_id), msg_type, timeout)

    def _await(self, request_id: str, msg_type: str, timeout: float) -> Message:
        deadline = time.monotonic() + timeout
        while request_id not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._waiting.discard(request_id)
                self._pending_jobs.pop(request_id, None)
                hint = " (and do its CURVE keys match?)" if self.curve else ""
                raise BackendGone(f"no reply to {msg_type} from {self.endpoint} within {timeout:g} s; "
                                  f"is s2t-backend running there{hint}?")
            try:
                self.poll(min(remaining, self.heartbeat_interval))
            except BaseException:
                self._waiting.discard(request_id)
                self._pending_jobs.pop(request_id, None)
                raise
        return self.reply(request_id)

    def submit(self, kind: str, params: dict | None = None, buffers: dict | None = None, timeout: float = 5.0,
               wait: bool = True) -> Job:
        """Submit a job and wait until it is accepted (the reply is immediate; the job is not).

        With ``wait=False`` it returns at once; ``reply(job.request_id)`` tells when the backend
        accepted (``job.job_id`` is set then) or refused it.
        """
        job = Job(kind)
        job.request_id = self.begin(SUBMIT_REQUEST, {"kind": kind, "params": params or {}}, buffers)
        self._pending_jobs[job.request_id] = job
        if wait:
            self._await(job.request_id, SUBMIT_REQUEST, timeout)
        return job

    def submit_fit(self, photo: bytes, wait: bool = True) -> Job:
        """Fit the face rig to a photo (the bytes of an image file)."""
        return self.submit("fit", {}, {"photo": photo}, wait=wait)

    def submit_rig(self, photo: bytes | None = None, wait: bool = True) -> Job:
        """The face rig (mesh, shape keys); with a photo's bytes, shaped and UV-mapped after it."""
        return self.submit("rig", {}, {"photo": photo} if photo is not None else {}, wait=wait)

    def submit_render(self, coefficients, *, photo: bytes | None = None, art: bytes | None = None,
                      art_preset: str | None = None, art_strength: float = 1.0, size: int = 256,
                      frames: tuple[int, int] | None = None, renderer: str = "auto", encoding: str = "png",
                      wait: bool = True) -> Job:
        """Render a coefficient sequence (an ``s2t.face.CoeffSequence``, or keyframes edited in Blender).

        ``photo`` and ``art`` are the bytes of image files; ``art_preset`` names a preset instead
        of ``art``. ``frames`` is ``(start, stop)``; ``encoding`` is ``png`` (bytes) or ``raw`` (arrays).
        """
        fields, buffers = pack_coefficients(coefficients)
        buffers.update({k: v for k, v in (("photo", photo), ("art", art)) if v is not None})
        params = {"coefficients": fields, "size": size, "frames": list(frames) if frames else None,
                  "renderer": renderer, "art_preset": art_preset, "art_strength": art_strength,
                  "encoding": encoding}
        return self.submit("render", params, buffers, wait=wait)

    def submit_coefficients(self, audio: bytes, text: str, photo: bytes | None = None, *, seed: int = 0,
                            strength: float = 1.0, track: list[dict] | None = None, blend: float | None = None,
                            wait: bool = True) -> Job:
        """Style-E: speech (a sound file's bytes) + emotion text (+ the identity photo, whose face
        shape conditions the motion) -> a coefficient sequence. ``track`` (cues ``{"start",
        "text", "strength"?}``) makes the emotion change over time, cross-faded over ``blend`` s."""
        buffers = {"audio": audio} if photo is None else {"audio": audio, "photo": photo}
        params = {"text": text, "seed": seed, "strength": strength}
        if track is not None:
            params["emotion_track"] = track
        if blend is not None:
            params["emotion_blend"] = blend
        return self.submit("coefficients", params, buffers, wait=wait)

    def fetch(self, job_id: str, timeout: float = 5.0) -> Job:
        """Get a job's outputs again (after a reconnect or a backend restart); live jobs keep streaming."""
        job = Job("?")
        request_id = self.begin(FETCH_REQUEST, job_id=job_id)
        self._pending_jobs[request_id] = job
        self._await(request_id, FETCH_REQUEST, timeout)
        return job

    def cancel(self, job: Job | str, timeout: float = 5.0) -> dict:
        """Ask the backend to stop a job; it ends with a ``cancelled`` message within a frame."""
        job_id = job.job_id if isinstance(job, Job) else job
        return self.call(CANCEL_REQUEST, job_id=job_id, timeout=timeout).content

    def status(self, job_id: str | None = None, timeout: float = 5.0) -> dict:
        """The backend's load, and one job's state when ``job_id`` is given."""
        return self.call(STATUS_REQUEST, job_id=job_id, timeout=timeout).content

    # -- receiving -----------------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> list[Message]:
        """Handle what has arrived, waiting up to ``timeout`` seconds; returns the messages.

        Raises :class:`BackendGone` (once) when a connected backend has left a heartbeat
        unanswered for ``dead_after`` seconds (counted from the ping, so a client that was
        busy for a while does not blame the backend) or was restarted, and
        :class:`BackendError` for a message this client cannot read (a backend of another
        protocol version).
        """
        now = time.monotonic()
        if self.server is not None and now - self._last_heartbeat >= self.heartbeat_interval:
            self._last_heartbeat = now
            self._unanswered_since = self._unanswered_since or now
            try:
                self.socket.send_multipart(serialize(make_message(HEARTBEAT)), zmq.NOBLOCK)
            except zmq.Again:
                pass  # the backend is not taking messages; the silence check below will tell
        received = []
        if self.socket.poll(max(0.0, timeout) * 1000):
            while True:
                try:
                    frames = self.socket.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                received.append(self._handle(frames))
        silent = self._unanswered_since is not None and time.monotonic() - self._unanswered_since > self.dead_after
        if self.server is not None and silent:
            self._lose(f"the backend at {self.endpoint} has not answered for {self.dead_after:g} s")
        return received

    def _handle(self, frames: list[bytes]) -> Message:
        try:
            message = deserialize(frames, self.limits)
        except ProtocolError as exc:
            raise BackendError(exc.code, f"cannot read a message from {self.endpoint}: {exc.message}") from None
        self._unanswered_since = None
        if message.type == HEARTBEAT and self.server and message.content.get("instance") != self.server["instance"]:
            self._lose(f"the backend at {self.endpoint} was restarted")
        if message.request_id in self._waiting and message.type not in _STREAM_ONLY:
            self._waiting.discard(message.request_id)  # later messages with this id belong to the job
            self._replies[message.request_id] = message
            job = self._pending_jobs.pop(message.request_id, None)
            if job is not None and message.type in (SUBMIT_REPLY, FETCH_REPLY):
                job.job_id, job.info, job.kind = message.job_id, message.content, message.content["kind"]
                # a fetched job stays open until its replayed (or live) stream ends
                job.state = message.content["state"] if message.type == SUBMIT_REPLY else "fetching"
                self.jobs[job.job_id] = job
        elif message.job_id in self.jobs and message.type in JOB_STREAM_TYPES:
            self.jobs[message.job_id]._update(message)
        return message

    def _lose(self, why: str) -> None:
        lost = [job for job in self.jobs.values() if not job.done]
        error = BackendGone(f"{why}; " + (f"jobs {', '.join(j.job_id for j in lost)} were interrupted (their finished "
                                          "outputs are in the backend's job folders: fetch them by id once it is back)"
                                          if lost else "no jobs were running"))
        for job in lost:
            job.state, job.error = "lost", error
        self.server = None
        raise error

    def wait(self, job: Job, timeout: float | None = None) -> Job:
        """Poll until the job finishes, fails or is cancelled; returns it (see ``job.state``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not job.done:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {job.job_id} is still {job.state} after {timeout:g} s")
            self.poll(self.heartbeat_interval)
        return job

    def stream(self, job: Job) -> Iterator[Message]:
        """Yield the job's messages as they arrive (from the first), until its last one."""
        seen = 0
        while True:
            while seen < len(job.messages):
                seen += 1
                yield job.messages[seen - 1]
            if job.done:
                return
            self.poll(self.heartbeat_interval)


__all__ = ["BackendError", "BackendGone", "Client", "Job"]
