"""Worker threads: run queued jobs and turn what they yield into stored, forwarded messages.

Each worker (one per GPU, or CPU threads) has an output thread. The worker runs a job's
generator and checks the cancel flag after every yield; it hands each message to a shared
pool of encoder threads (PNG compression of a 1024x1024 frame takes ~50 ms, about as long
as the CPU renderer takes to draw it) and puts the pending result in its outbox. The output
thread takes them in order, writes each into the job's folder, records final states, and
passes the serialized message to the server's I/O thread over an ``inproc`` PUSH socket.
Encoding and disk writes thus overlap the rendering of the next frames (zlib and file I/O
release the GIL), and the bounded outbox holds a fast renderer back.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import zmq

from backend.jobs import JobContext, JobError, JobKind, encode_frame
from backend.protocol import (CANCELLED, DONE, ERROR, FRAME, INTERNAL, NO_SPACE, PROGRESS, Message, error_message,
                              make_message, serialize)
from backend.store import FINAL_STATES, JobStore, disk_full

log = logging.getLogger("s2t.backend")


@dataclass(eq=False)
class LiveJob:
    """A queued or running job. ``subscribers``, ``delivered`` and ``frames`` belong to the
    server's I/O thread; ``state`` and ``seq`` to the worker and its output thread."""

    job_id: str
    kind: JobKind
    request_id: str | None
    job_input: object
    inputs: dict[str, Path]
    subscribers: set[bytes]
    cancel: threading.Event = field(default_factory=threading.Event)
    cancel_reason: str = ""
    state: str = "queued"
    seq: int = 0  # the next stored output's number
    delivered: int = 0  # stored outputs forwarded to clients so far (their seq < delivered)
    frames: int = 0


class WorkerPool:
    """``count`` workers taking jobs from one queue; ``device`` ``cuda`` gives worker k ``cuda:k``.

    Each message handed to ``events_endpoint`` is ``[control, *message frames]`` where
    ``control`` is JSON ``{"job", "seq", "type", "final"}``.
    """

    def __init__(self, context: zmq.Context, events_endpoint: str, store: JobStore, count: int, device: str,
                 encoders: int = min(4, os.cpu_count() or 1)):
        self.context, self.events_endpoint, self.store = context, events_endpoint, store
        self.queue: queue.Queue[LiveJob | None] = queue.Queue()
        self.encoders = ThreadPoolExecutor(encoders, thread_name_prefix="s2t-encode")
        self.threads = [
            threading.Thread(target=self._work, args=(device if device == "cpu" else f"{device}:{k}",),
                             name=f"s2t-worker-{k}", daemon=True)
            for k in range(count)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Let each worker finish its current job (cancel it first), then exit."""
        for _ in self.threads:
            self.queue.put(None)

    def close(self) -> None:
        """Release the encoder threads, once the workers are done (or abandoned)."""
        self.encoders.shutdown(wait=False)

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def _work(self, device: str) -> None:
        outbox: queue.Queue[tuple[LiveJob, Future, str | None] | None] = queue.Queue(maxsize=8)
        writer = threading.Thread(target=self._write, args=(outbox,), name=f"{threading.current_thread().name}-out",
                                  daemon=True)
        writer.start()
        try:
            while (job := self.queue.get()) is not None:
                self._run(job, device, outbox)
        finally:
            outbox.put(None)
            writer.join()

    def _run(self, job: LiveJob, device: str, outbox: queue.Queue) -> None:
        frames, started = 0, time.monotonic()

        def put(message: Message, final_state: str | None = None) -> None:
            outbox.put((job, self.encoders.submit(encode_frame, message), final_state))

        def cancelled() -> None:
            put(make_message(CANCELLED, {"reason": job.cancel_reason, "frames": frames}), "cancelled")
            log.info("job %s cancelled (%s)", job.job_id, job.cancel_reason)

        if job.cancel.is_set():
            return cancelled()
        try:
            job.state = "running"
            self.store.update(job.job_id, state="running", started=time.time(), device=device)
            outputs = job.kind.run(job.job_input, JobContext(job.job_id, job.inputs, device, job.cancel))
            for message in outputs:
                put(message)
                frames += message.type == FRAME
                if job.cancel.is_set():
                    outputs.close()
                    return cancelled()
        except JobError as exc:
            put(error_message(exc.code, exc.message), "failed")
            return
        except Exception as exc:
            if disk_full(exc):
                log.error("job %s (%s): the disk is full: %s", job.job_id, job.kind.name, exc)
                put(error_message(NO_SPACE, f"the backend's disk is full; the job stopped: {exc.strerror}"), "failed")
                return
            log.exception("job %s (%s) failed", job.job_id, job.kind.name)
            put(error_message(INTERNAL, f"the {job.kind.name} job failed: {type(exc).__name__}: {exc}"), "failed")
            return
        seconds = time.monotonic() - started
        put(make_message(DONE, {"state": "finished", "frames": frames, "seconds": seconds}), "finished")
        log.info("job %s (%s) finished: %d frames in %.2f s", job.job_id, job.kind.name, frames, seconds)

    def _write(self, outbox: queue.Queue) -> None:
        push = self.context.socket(zmq.PUSH)
        push.connect(self.events_endpoint)
        try:
            while (item := outbox.get()) is not None:
                job, encoded, final_state = item
                if job.state in FINAL_STATES:
                    continue  # storing an earlier output failed; the worker is stopping the job
                try:
                    self._emit(push, job, encoded.result(), final_state)
                except Exception as exc:  # the job folder cannot be written: say so, unstored, and stop the job
                    full = disk_full(exc)
                    if full:
                        log.error("job %s: the disk is full: %s", job.job_id, exc)
                    else:
                        log.exception("job %s: cannot store its output", job.job_id)
                    job.cancel_reason = "its output could not be stored"
                    job.cancel.set()
                    error = (error_message(NO_SPACE, f"the backend's disk is full; the job stopped: {exc.strerror}")
                             if full else
                             error_message(INTERNAL, f"the backend could not store this job's output: {exc}"))
                    self._emit(push, job, error, "failed", store=False)
        finally:
            push.close(linger=-1)

    def _emit(self, push: zmq.Socket, job: LiveJob, message: Message, final_state: str | None,
              store: bool = True) -> None:
        """Store one output (progress is not stored), record a final state, hand it on."""
        stored = store and message.type != PROGRESS
        content = {**message.content, "seq": job.seq} if stored else message.content
        message = replace(message, content=content, job_id=job.job_id, request_id=job.request_id)
        wire = serialize(message)
        if stored:
            self.store.write_output(job.job_id, job.seq, message.type, bytes(wire[0]), message.buffers)
        if final_state:
            if store:
                error = {k: content[k] for k in ("code", "message")} if message.type == ERROR else None
                self.store.update(job.job_id, state=final_state, finished=time.time(), error=error)
            job.state = final_state
        control = {"job": job.job_id, "seq": job.seq if stored else None, "type": message.type,
                   "final": final_state is not None}
        push.send_multipart([json.dumps(control).encode(), *wire], copy=False)
        job.seq += stored
