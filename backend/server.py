"""``s2t-backend``: the ZeroMQ service that runs jobs for Blender and any other client.

One I/O thread owns the ROUTER socket: it answers requests at once (they never wait for a
job) and forwards what the workers produce, never holding more than a few messages for a
client that reads slowly (:mod:`backend.delivery`). Worker threads (one per GPU, or CPU threads) take
jobs from a queue; each worker's output thread encodes every output, writes it into the
job's folder (:mod:`backend.store`) and passes it to the I/O thread (:mod:`backend.workers`).
So a crash loses nothing already produced, and a client that reconnects can ``fetch`` a job
by id.

Liveness: clients send ``heartbeat`` every ``heartbeat_interval`` and the backend answers
each one (with its ``instance`` id, so a restarted backend is noticed). A client silent for
``client_timeout`` is forgotten, and jobs nobody is listening to any more are cancelled.

Security: binding anywhere but loopback needs CURVE keys (``s2t-backend keys DIR``); inputs
travel as bytes and are saved under server-chosen names; every frame has a size limit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import zmq

from backend.delivery import FULL, GONE, SEND_QUEUE, Delivery
from backend.engine_ray import EngineError, RayEngine, RayOptions
from backend.jobs import JobError, JobKind, JobLimits, default_kinds, disk_size, face_model
from backend.protocol import (BAD_INPUT, BUSY, CANCEL_REPLY, CANCEL_REQUEST, DEFAULT_ENDPOINT, FETCH_REPLY,
                              FETCH_REQUEST, FRAME, HEARTBEAT, HELLO_REPLY, HELLO_REQUEST, INTERNAL,
                              NO_SPACE, NOT_AVAILABLE, PROTOCOL_VERSION, REQUEST_TYPES, STATUS_REPLY, STATUS_REQUEST,
                              SUBMIT_REPLY, SUBMIT_REQUEST, UNKNOWN_JOB, UNKNOWN_TYPE, Limits, Message, ProtocolError,
                              deserialize, error_message, make_message, new_id, serialize)
from backend.security import ConfigError, check_bind, curve_server, make_keys
from backend.store import FINAL_STATES, JobStore, disk_full
from backend.workers import LiveJob, WorkerPool
from s2t import __version__

log = logging.getLogger("s2t.backend")


def default_jobs_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "s2t" / "backend-jobs"


@dataclass
class ServerConfig:
    """Everything ``s2t-backend`` can be told; times in seconds."""

    bind: str = DEFAULT_ENDPOINT
    workers: int = 1
    device: str = "cpu"
    jobs_dir: Path = field(default_factory=default_jobs_dir)
    heartbeat_interval: float = 1.0
    client_timeout: float = 10.0
    max_queued: int = 64
    limits: Limits = field(default_factory=Limits)
    curve_keys: Path | None = None
    style_e: str = "default"
    style_a: Path | None = None  # folder of the neural Style-A renderer; None: the CPU renderer only
    keep_days: float = 7.0  # finished job folders older than this are deleted (at start, then hourly)
    engine: str = "threads"  # "threads": worker threads here; "ray": Ray actors, ``workers`` of them (engine_ray)
    ray_address: str | None = None  # None: a Ray on this machine; "auto" or "ray://head:10001": a cluster
    ray_chunk_frames: int = 25  # the Ray engine renders long takes in chunks of this many frames
    job_limits: JobLimits = field(default_factory=JobLimits)  # audio length, frames and disk per job
    disk_reserve: int = 1 << 30  # a job whose estimated output would leave less free space is refused


class Server:
    """The backend. ``start()`` serves on a thread (tests); ``serve_forever()`` on this one."""

    def __init__(self, config: ServerConfig, kinds: dict[str, JobKind] | None = None):
        check_bind(config.bind, config.curve_keys is not None)
        self.config = config
        self.kinds = default_kinds(config.style_e, config.style_a, config.job_limits) if kinds is None else kinds
        self.store = JobStore(config.jobs_dir)
        self.instance = new_id()
        self.started = time.monotonic()
        self.context = zmq.Context()
        self._authenticator = None
        self.router = self.context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # sending to a vanished client raises instead of vanishing
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a client reconnecting with its identity takes it over
        # A full client queue answers EAGAIN (ROUTER_MANDATORY); the client then gets the rest from disk.
        self.router.setsockopt(zmq.SNDHWM, SEND_QUEUE)
        self.router.setsockopt(zmq.LINGER, 500)  # a stopping backend gets its last messages out, briefly
        # Frames up to twice the limit get a polite too_large reply; beyond, ZeroMQ drops the peer.
        limits = config.limits
        self.router.setsockopt(zmq.MAXMSGSIZE, 2 * max(limits.max_buffer_bytes, limits.max_header_bytes))
        self.events = self.context.socket(zmq.PULL)  # outputs from the workers
        events_endpoint = f"inproc://s2t-backend-events-{self.instance}"
        try:
            if config.curve_keys is not None:
                self._authenticator = curve_server(self.context, self.router, Path(config.curve_keys))
            self.router.bind(config.bind)
            self.events.bind(events_endpoint)
        except BaseException:
            self._close_sockets()
            self.context.term()
            raise
        self.engine = None
        if config.engine == "ray":  # same checks and job folders; the jobs' work runs on Ray actors
            try:
                self.engine = RayEngine(RayOptions(config.ray_address, config.workers, config.device,
                                                   config.ray_chunk_frames), self.kinds)
            except BaseException:
                self._close_sockets()
                self.context.term()
                raise
            self.kinds = self.engine.wrap(self.kinds)
        # with Ray, the pool's threads only dispatch to the actors (its job manifests say device "ray:k")
        count, device = (config.workers, config.device) if self.engine is None else (self.engine.dispatchers, "ray")
        self.workers = WorkerPool(self.context, events_endpoint, self.store, count, device)
        self.delivery = Delivery(self.router, self.store)
        self._live: dict[str, LiveJob] = {}
        self._clients: dict[bytes, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handlers = {
            HELLO_REQUEST: self._hello, SUBMIT_REQUEST: self._submit, CANCEL_REQUEST: self._cancel,
            STATUS_REQUEST: self._status, FETCH_REQUEST: self._fetch, HEARTBEAT: self._heartbeat,
        }  # fmt: skip

    @property
    def endpoint(self) -> str:
        """The address actually bound (``tcp://127.0.0.1:*`` picks a free port)."""
        return self.router.getsockopt_string(zmq.LAST_ENDPOINT)

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self.serve_forever, name="s2t-backend-io", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the loop to cancel the jobs, let the workers finish, and return (any thread, signal-safe)."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def serve_forever(self, shutdown_grace: float = 5.0) -> None:
        interrupted = self.store.mark_interrupted()
        if interrupted:
            log.info("%d job(s) left unfinished by an earlier backend are now marked interrupted", len(interrupted))
        self._prune_job_folders()
        self.workers.start()
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self.events, zmq.POLLIN)
        tick = min(self.config.heartbeat_interval, 0.1)
        next_check, next_prune, deadline, waiting = 0.0, time.monotonic() + 3600.0, None, False
        try:
            while True:
                ready = dict(poller.poll((0.005 if waiting else tick) * 1000))
                if self.events in ready:
                    self._drain(self.events, self._on_event, copy=False)
                if deadline is None:
                    if self.router in ready:
                        self._drain(self.router, self._on_request)
                    waiting = self.delivery.pump(self._live)
                    if time.monotonic() >= next_check:
                        self._expire_clients()
                        next_check = time.monotonic() + self.config.heartbeat_interval
                    if time.monotonic() >= next_prune:
                        self._prune_job_folders()
                        next_prune = time.monotonic() + 3600.0
                    if self._stop.is_set():
                        deadline = time.monotonic() + shutdown_grace
                        self._begin_shutdown()
                elif not self.workers.alive() or time.monotonic() > deadline:
                    self._drain(self.events, self._on_event, copy=False, limit=None)
                    break
        finally:
            self.workers.close()
            if self.engine is not None:
                self.engine.close()
            self._close_sockets()
            if not self.workers.alive():
                self.context.term()
            else:
                log.warning("a worker is still busy; leaving it behind")

    def _prune_job_folders(self) -> None:
        removed = self.store.prune(self.config.keep_days * 86400.0)
        if removed:
            log.info("deleted %d job folder(s) older than %g days from %s", len(removed), self.config.keep_days,
                     self.store.root)

    def _begin_shutdown(self) -> None:
        log.info("shutting down: cancelling %d job(s)", len(self._live))
        for job in self._live.values():
            job.cancel_reason = "the backend is shutting down"
            job.cancel.set()
        self.workers.stop()

    def _close_sockets(self) -> None:
        self.router.close()
        self.events.close(linger=0)
        if self._authenticator is not None:
            self._authenticator.stop()

    @staticmethod
    def _drain(sock: zmq.Socket, handle, copy: bool = True, limit: int | None = 64) -> None:
        """Handle what is waiting on ``sock`` (at most ``limit`` messages, so both sockets get turns).

        Worker outputs are taken with ``copy=False`` and forwarded as they are: a frame's
        megabytes are never copied in Python.
        """
        count = 0
        while limit is None or count < limit:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=copy)
            except zmq.Again:
                return
            handle(frames)
            count += 1

    # -- I/O thread: requests --------------------------------------------------------------------

    def _send(self, identity: bytes, frames: list) -> None:
        """A reply, heartbeat or request error: sent now, or queued while the client's queue is full."""
        self.delivery.reply(identity, frames)

    def _reply(self, identity: bytes, request: Message, msg_type: str, content: dict,
               job_id: str | None = None) -> None:
        reply = make_message(msg_type, {"status": "ok", **content}, job_id=job_id or request.job_id,
                             request_id=request.request_id)
        self._send(identity, serialize(reply))

    def _on_request(self, frames: list[bytes]) -> None:
        identity, frames = frames[0], frames[1:]
        self._clients[identity] = time.monotonic()
        request_id = job_id = None
        try:
            message = deserialize(frames, self.config.limits)
            request_id, job_id = message.request_id, message.job_id
            handler = self._handlers.get(message.type)
            if handler is None:
                raise ProtocolError(UNKNOWN_TYPE, f"unknown request type {message.type!r}; "
                                                  f"this backend handles {', '.join(REQUEST_TYPES)}")
            handler(identity, message)
        except (ProtocolError, JobError) as exc:
            request_id = getattr(exc, "request_id", None) or request_id
            self._send(identity, serialize(error_message(exc.code, exc.message, job_id=job_id, request_id=request_id)))
        except Exception as exc:
            log.exception("request failed")
            text = f"the backend failed on this request: {type(exc).__name__}: {exc}"
            self._send(identity, serialize(error_message(INTERNAL, text, job_id=job_id, request_id=request_id)))

    def _hello(self, identity: bytes, request: Message) -> None:
        self._reply(identity, request, HELLO_REPLY, {
            "server": f"s2t-backend {__version__}", "protocol": list(PROTOCOL_VERSION), "instance": self.instance,
            "heartbeat_interval": self.config.heartbeat_interval, "client_timeout": self.config.client_timeout,
            "limits": asdict(self.config.limits), "job_limits": asdict(self.config.job_limits),
            "workers": self.config.workers, "device": self.config.device,
            "jobs": {name: kind.info() for name, kind in self.kinds.items()},
        })  # fmt: skip

    def _heartbeat(self, identity: bytes, request: Message) -> None:
        reply = make_message(HEARTBEAT, {"instance": self.instance}, request_id=request.request_id)
        self._send(identity, serialize(reply))

    def _submit(self, identity: bytes, request: Message) -> None:
        name, params = request.content.get("kind"), request.content.get("params", {})
        kind = self.kinds.get(name) if isinstance(name, str) else None
        if kind is None:
            raise JobError(BAD_INPUT, f"unknown job kind {name!r}; this backend runs {', '.join(self.kinds)}")
        if kind.unavailable:
            raise JobError(NOT_AVAILABLE, kind.unavailable)
        if not isinstance(params, dict):
            raise JobError(BAD_INPUT, "params must be an object")
        unknown = [buffer for buffer in request.buffers if kind.buffers is not None and buffer not in kind.buffers]
        if unknown:
            raise JobError(BAD_INPUT, f"the {name} job takes the buffers {', '.join(kind.buffers)}; "
                                      f"not {', '.join(map(repr, unknown))}")
        if self.workers.queue.qsize() >= self.config.max_queued:
            raise JobError(BUSY, f"{self.workers.queue.qsize()} jobs are waiting already; try again later")
        job_input, info = kind.prepare(params, request.buffers)
        self._check_free_space(info.pop("disk_bytes", 0) + sum(len(v) if isinstance(v, bytes) else v.nbytes
                                                               for v in request.buffers.values()))
        job_id = new_id()
        try:
            inputs = self.store.create(job_id, {"kind": name, "params": params, "info": info, "state": "queued"},
                                       request.buffers)
        except OSError as exc:
            if not disk_full(exc):
                raise
            raise JobError(NO_SPACE, f"the backend's disk is full ({self.store.root}): {exc.strerror}") from None
        job = LiveJob(job_id, kind, request.request_id, job_input, inputs, subscribers={identity})
        self._live[job_id] = job
        self.workers.queue.put(job)
        log.info("job %s (%s) queued", job_id, name)
        content = {"job_id": job_id, "kind": name, "state": "queued", "queue_position": self.workers.queue.qsize()}
        self._reply(identity, request, SUBMIT_REPLY, {**content, **info}, job_id=job_id)

    def _check_free_space(self, needed: int) -> None:
        """Refuse a job whose inputs and estimated outputs would fill the jobs folder's disk."""
        free = shutil.disk_usage(self.store.root).free
        if needed > free - self.config.disk_reserve:
            raise JobError(NO_SPACE, f"this job needs about {disk_size(needed)} in the job folder; the backend's "
                                     f"disk has {disk_size(free)} free and keeps {disk_size(self.config.disk_reserve)} "
                                     "spare")

    def _job_id(self, request: Message) -> str:
        if request.job_id is None:
            raise JobError(BAD_INPUT, f"{request.type} needs a job_id in the header")
        return request.job_id

    def _cancel(self, identity: bytes, request: Message) -> None:
        job_id = self._job_id(request)
        job = self._live.get(job_id)
        if job is not None:
            job.cancel_reason = job.cancel_reason or "cancelled by a client"
            job.cancel.set()
            state = job.state
        else:
            manifest = self.store.manifest(job_id)
            if manifest is None:
                raise JobError(UNKNOWN_JOB, f"no job {job_id!r} on this backend")
            state = manifest["state"]
        self._reply(identity, request, CANCEL_REPLY, {"job_id": job_id, "state": state})

    def _status(self, identity: bytes, request: Message) -> None:
        running = sum(job.state == "running" for job in self._live.values())
        content = {"server": {"instance": self.instance, "uptime": time.monotonic() - self.started,
                              "workers": self.config.workers, "queued": self.workers.queue.qsize(), "running": running,
                              "clients": len(self._clients)}}
        if request.job_id is not None:
            content["job"] = self._job_status(request.job_id)
        self._reply(identity, request, STATUS_REPLY, content)

    def _job_status(self, job_id: str) -> dict:
        job = self._live.get(job_id)
        if job is not None:
            return {"job_id": job_id, "kind": job.kind.name, "state": job.state, "outputs": job.delivered,
                    "frames": job.frames}
        manifest = self.store.manifest(job_id)
        if manifest is None:
            raise JobError(UNKNOWN_JOB, f"no job {job_id!r} on this backend")
        state = manifest["state"] if manifest["state"] in FINAL_STATES else "interrupted"
        outputs = self.store.root / job_id / "outputs"
        return {"job_id": job_id, "kind": manifest["kind"], "state": state,
                "outputs": len(list(outputs.glob("[0-9]*-*.json"))), "frames": len(list(outputs.glob("*-frame.json"))),
                "error": manifest.get("error")}

    def _fetch(self, identity: bytes, request: Message) -> None:
        """Send a job's stored outputs again, then (if it is still running) the rest as produced.

        The stored outputs are read from disk one at a time as the client takes them
        (:class:`backend.delivery.Feed`); a job that a backend stop interrupted ends with an
        ``interrupted`` error.
        """
        job_id = self._job_id(request)
        job = self._live.get(job_id)
        if job is None and self.store.manifest(job_id) is None:
            raise JobError(UNKNOWN_JOB, f"no job {job_id!r} on this backend")
        replayed = job.delivered if job else self.store.count_outputs(job_id)
        status = self._job_status(job_id)
        self._reply(identity, request, FETCH_REPLY, {**status, "replayed": replayed}, job_id=job_id)
        self.delivery.start_feed(identity, job_id, 0, request.request_id)
        if job is not None:
            job.subscribers.add(identity)

    def _expire_clients(self) -> None:
        """Forget clients silent for ``client_timeout``; cancel jobs nobody listens to any more."""
        now = time.monotonic()
        for identity, seen in list(self._clients.items()):
            if now - seen <= self.config.client_timeout:
                continue
            del self._clients[identity]
            self.delivery.forget(identity)
            for job in self._live.values():
                job.subscribers.discard(identity)
                if not job.subscribers and not job.cancel.is_set():
                    log.info("job %s: its client stopped responding; cancelling", job.job_id)
                    job.cancel_reason = "the client stopped responding"
                    job.cancel.set()

    # -- I/O thread: worker events ---------------------------------------------------------------

    def _on_event(self, frames: list[zmq.Frame]) -> None:
        control = json.loads(frames[0].bytes)
        job = self._live.get(control["job"])
        if job is None:
            return
        for identity in list(job.subscribers):
            feeds = self.delivery.feeds(identity, job.job_id)
            if feeds:  # behind on this job: its feeds send the stored outputs in order
                if control["final"] and control["seq"] is None:
                    for feed in feeds:
                        feed.tail = frames[1:]  # an unstored final error, not on disk
                continue
            state = self.delivery.send(identity, frames[1:])
            if state == GONE:
                job.subscribers.discard(identity)
            elif state == FULL and (control["seq"] is not None or control["final"]):  # progress may be dropped
                tail = frames[1:] if control["seq"] is None else None
                self.delivery.start_feed(identity, job.job_id, job.delivered if tail else control["seq"],
                                         job.request_id, tail=tail)
        if control["seq"] is not None:
            job.delivered = control["seq"] + 1
        job.frames += control["type"] == FRAME
        if control["final"]:
            del self._live[job.job_id]

# -- command line -------------------------------------------------------------------------------


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2t-backend",
        description="Serve Style2Talker jobs over ZeroMQ. `s2t-backend keys DIR` makes CURVE keys.",
    )
    parser.add_argument("--bind", default=DEFAULT_ENDPOINT, help=f"ZeroMQ endpoint (default {DEFAULT_ENDPOINT}); "
                        "anything but loopback needs --curve-keys")
    parser.add_argument("--workers", type=int, default=1, help="worker threads: one per GPU, or CPU threads")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (worker k then uses cuda:k)")
    parser.add_argument("--jobs-dir", type=Path, default=default_jobs_dir(), help="where job folders go")
    parser.add_argument("--curve-keys", type=Path, help="folder from `s2t-backend keys`: encrypt and "
                        "accept only clients whose public key is in its authorized_clients/")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat interval clients should use (s)")
    parser.add_argument("--client-timeout", type=float, default=10.0,
                        help="forget a client silent this long and cancel jobs nobody listens to (s)")
    parser.add_argument("--max-frame-mb", type=float, default=64.0, help="size limit of one message frame (MiB)")
    parser.add_argument("--max-queued", type=int, default=64, help="refuse new jobs beyond this many waiting")
    parser.add_argument("--style-e", default="default", help="Style-E checkpoint: `default` (embedded) or a .pt path")
    parser.add_argument("--style-a", type=Path, metavar="DIR", help="Style-A folder (generator.pt, encoder.pt, "
                        "style_a.pt, optional exstyle_code.npy): makes the neural renderer available")
    parser.add_argument("--keep-days", type=float, default=7.0,
                        help="delete finished job folders older than this many days (default 7)")
    parser.add_argument("--preload", action="store_true", help="build the face rig before serving")
    parser.add_argument("--engine", choices=("threads", "ray"), default="threads",
                        help="run jobs on worker threads here (default), or on Ray actors (--workers of them; "
                             "see docs/scale-out.md)")
    parser.add_argument("--ray-address", help="with --engine ray: `auto` (the cluster of `ray start` here) or "
                        "ray://head:10001 (default: start a Ray on this machine)")
    parser.add_argument("--chunk-frames", type=int, default=25, help="with --engine ray: frames per render chunk")
    limits = JobLimits()
    parser.add_argument("--max-audio-minutes", type=float, default=limits.max_audio_seconds / 60,
                        help=f"refuse speech longer than this (default {limits.max_audio_seconds / 60:g})")
    parser.add_argument("--max-job-frames", type=int, default=limits.max_frames,
                        help=f"refuse renders of more frames (default {limits.max_frames})")
    parser.add_argument("--max-job-gb", type=float, default=limits.max_disk_bytes / 2**30,
                        help=f"refuse renders whose frames would take more disk (GiB, default "
                             f"{limits.max_disk_bytes / 2**30:g})")
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The configuration the command line asks for."""
    return ServerConfig(
        bind=args.bind, workers=max(1, args.workers), device=args.device, jobs_dir=args.jobs_dir,
        heartbeat_interval=args.heartbeat, client_timeout=args.client_timeout, max_queued=args.max_queued,
        limits=Limits(max_buffer_bytes=int(args.max_frame_mb * (1 << 20))), curve_keys=args.curve_keys,
        style_e=args.style_e, style_a=args.style_a, keep_days=args.keep_days,
        job_limits=JobLimits(args.max_audio_minutes * 60, args.max_job_frames, int(args.max_job_gb * 2**30)),
        engine=args.engine, ray_address=args.ray_address, ray_chunk_frames=max(1, args.chunk_frames),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["keys"]:
        keys = argparse.ArgumentParser(prog="s2t-backend keys",
                                       description="Make CURVE keys for a server and a client.")
        keys.add_argument("folder", type=Path)
        try:
            paths = make_keys(keys.parse_args(argv[1:]).folder)
        except ConfigError as exc:
            print(f"s2t-backend: {exc}", file=sys.stderr)
            return 2
        print(f"server (keep on the backend): {paths['server_secret']} and {paths['authorized']}/\n"
              f"client (copy to the workstation): {paths['server_public']} and {paths['client_secret']}")
        return 0
    args = _serve_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = config_from_args(args)
    try:
        server = Server(config)
    except (ConfigError, zmq.ZMQError) as exc:
        print(f"s2t-backend: cannot serve on {args.bind}: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"s2t-backend: --style-a: {exc}", file=sys.stderr)
        return 2
    except EngineError as exc:
        print(f"s2t-backend: --engine ray: {exc}", file=sys.stderr)
        return 2
    if args.preload:
        face_model()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.request_stop())
    print(f"s2t-backend listening on {server.endpoint} (jobs in {config.jobs_dir}, {config.workers} worker(s) "
          f"on {config.device}{', CURVE' if config.curve_keys else ''})", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
