"""The Ray engine: ``s2t-backend --engine ray`` runs the jobs on Ray actors instead of threads.

The ZeroMQ front door, the job folders and the worker pool stay as they are
(:mod:`backend.server`, :mod:`backend.workers`): each job kind's ``run`` is swapped for a
dispatcher that sends the work to :class:`JobActor` s and yields their outputs, so storing,
streaming, ``fetch``, cancel and heartbeats behave exactly as with the in-process engine, and
every request is checked by the same ``prepare`` before anything reaches Ray.

- An actor holds one device (``num_gpus=1`` on a GPU cluster, else ``num_cpus=1``) and keeps
  its models loaded across jobs: the face rig is built when it starts, Style-E and the neural
  Style-A load on the first job that needs them and stay cached in the actor's process.
- A render is cut into chunks of ``chunk_frames`` consecutive frames
  (:func:`backend.jobs.render_chunks`); up to one chunk per actor is in flight per job, each
  on the least busy actor, and every chunk is a Ray streaming generator. The dispatcher reads
  the chunks in order, so frames reach the client in order, the first long before the last.
- An actor that dies mid-chunk is restarted by Ray (``max_restarts``) and its chunk retried
  (``max_task_retries``); Ray's streaming generators skip the frames already delivered, so
  the job ends with the same frames. A cancel cancels every chunk of the job in flight.
- A Ray cluster that cannot be reached any more fails the job with ``engine_unavailable``;
  the front door, on its own thread, keeps answering. Ray's driver would end the whole
  process a minute after losing the head (``gcs_rpc_server_reconnect_timeout_s``); the backend
  must outlive its cluster, so that limit is lifted and the engine watches the head itself.

Frames are PNG-compressed on the actors, by a few threads beside the renderer as the worker
threads do it (a GPU draws a 1024 px frame faster than one core compresses it), so the work
spreads with the actors and only compressed frames cross the network.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from backend.jobs import JobContext, JobError, JobKind, RenderInput, encode_frame, face_model, progress, render_chunks
from backend.protocol import ENGINE_UNAVAILABLE, FRAME, INTERNAL, PROGRESS, Message

RESTARTS = 4
"""How often Ray restarts a dead actor, and retries the chunk it was running, before the job fails."""
ENCODERS = 4
"""PNG encoder threads per actor; up to twice as many frames wait for them, in order."""
HEAD_CHECK_SECONDS = 1.0
"""How often, at most, a waiting dispatcher checks that the Ray head still accepts connections."""


class EngineError(Exception):
    """The Ray engine cannot start: Ray missing, cluster unreachable, no GPU for ``--device cuda``."""


@dataclass(frozen=True)
class RayOptions:
    """How the backend uses Ray. ``address`` None starts a Ray on this machine (``num_cpus`` of
    its cores, all by default); ``auto`` joins the cluster started with ``ray start`` here;
    ``ray://head:10001`` connects to a remote cluster with Ray Client."""

    address: str | None = None
    actors: int = 1
    device: str = "cpu"
    chunk_frames: int = 25
    num_cpus: int | None = None


class JobActor:
    """One Ray actor: runs jobs (or chunks of renders) with the models its process keeps loaded.

    Its inputs arrive as bytes (a job folder lives on the backend's disk, which another node
    cannot read) and are written to a scratch folder of the actor for the job's functions.
    """

    def __init__(self, kinds: dict[str, JobKind], device: str):
        self.kinds, self.device = kinds, device
        self.encoders = ThreadPoolExecutor(ENCODERS, thread_name_prefix="s2t-encode")
        self.scratch = Path(tempfile.mkdtemp(prefix="s2t-ray-actor-"))
        self.chunks_started = self.frames = 0
        self.busy = False
        face_model()  # every job kind needs the rig: build it once, now

    def run(self, job_id: str, kind: str, job_input: object,
            inputs: dict[str, tuple[str, bytes]]) -> Iterator[Message]:
        """Yield the job's outputs, frames PNG-compressed here; stops early when Ray cancels it.
        ``inputs`` maps each input's name to its file suffix and bytes."""
        import ray

        self.busy, self.chunks_started = True, self.chunks_started + 1
        folder = Path(tempfile.mkdtemp(prefix=f"{job_id}-", dir=self.scratch))
        try:
            paths = {}
            for name, (suffix, data) in inputs.items():
                paths[name] = folder / f"{name}{suffix}"
                paths[name].write_bytes(data)
            context = JobContext(job_id, paths, self.device, threading.Event())
            encoding: deque = deque()  # messages being compressed, in order
            for message in self.kinds[kind].run(job_input, context):
                if ray.get_runtime_context().is_canceled():
                    return
                self.frames += message.type == FRAME
                encoding.append(self.encoders.submit(encode_frame, message))
                while len(encoding) > 2 * ENCODERS or (encoding and encoding[0].done()):
                    yield encoding.popleft().result()
            while encoding:
                yield encoding.popleft().result()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self.busy = False

    def stats(self) -> dict:
        """What this actor did, answered even while it runs a chunk (its own concurrency group)."""
        return {"pid": os.getpid(), "busy": self.busy, "chunks_started": self.chunks_started, "frames": self.frames}


class RayEngine:
    """Starts (or joins) Ray, creates the actors and turns job kinds into Ray dispatchers."""

    def __init__(self, options: RayOptions, kinds: dict[str, JobKind]):
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray would otherwise report usage over the network
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", str(365 * 86400))  # see the module's notes
        try:
            import ray
        except ImportError:
            raise EngineError('the Ray engine needs Ray: pip install -e ".[ray]"') from None
        self.ray, self.options = ray, options
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            try:
                if options.address is None:  # a new Ray of our own, never one found running here
                    ray.init(address="local", num_cpus=options.num_cpus, include_dashboard=False,
                             configure_logging=False, _node_ip_address="127.0.0.1")
                else:
                    ray.init(address=options.address, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise EngineError(f"cannot reach the Ray cluster at {options.address}: {exc}") from None
        try:
            self.actors = self._start_actors(kinds)
        except BaseException:
            self.close()
            raise
        self._load = [0] * len(self.actors)  # chunks in flight per actor
        self._lock = threading.Lock()
        host, _, port = self._head_address().rpartition(":")
        self._head, self._head_checked, self._head_up = (host, int(port)), 0.0, True

    def _head_address(self) -> str:
        """``host:port`` to watch: the GCS, or with Ray Client the client server this process talks to."""
        if (self.options.address or "").startswith("ray://"):
            return self.options.address.removeprefix("ray://")
        return self.ray.get_runtime_context().gcs_address

    @property
    def dispatchers(self) -> int:
        """Jobs dispatched at once: two per actor, so one job's last chunk never leaves an actor idle."""
        return 2 * len(self.actors)

    def _start_actors(self, kinds: dict[str, JobKind]) -> list:
        ray = self.ray
        gpu = self.options.device.startswith("cuda")
        resources = ray.cluster_resources()
        if gpu and resources.get("GPU", 0) < 1:
            raise EngineError(f"--device cuda was asked but the Ray cluster ({self.options.address or 'local'}) has "
                              f"no GPUs (it has {resources.get('CPU', 0):g} CPUs); start it on GPU nodes or use "
                              "--device cpu")
        actor = ray.remote(num_gpus=1 if gpu else 0, num_cpus=0 if gpu else 1, max_restarts=RESTARTS,
                           max_task_retries=RESTARTS, concurrency_groups={"control": 1})(JobActor)
        handles = [actor.remote(kinds, "cuda" if gpu else "cpu")
                   for _ in range(max(1, self.options.actors))]
        ray.get([handle.stats.options(concurrency_group="control").remote() for handle in handles])
        return handles

    def stats(self) -> list[dict]:
        """Each actor's :meth:`JobActor.stats`."""
        return self.ray.get([a.stats.options(concurrency_group="control").remote() for a in self.actors])

    def wrap(self, kinds: dict[str, JobKind]) -> dict[str, JobKind]:
        """The same kinds (same checks, same descriptions) whose ``run`` dispatches to Ray."""
        return {name: replace(kind, run=partial(self.run_job, name)) if kind.run else kind
                for name, kind in kinds.items()}

    def close(self) -> None:
        """Stop the actors, and Ray itself if this engine started it (not a lost cluster: it would hang)."""
        if not self.head_reachable(force=True):
            return
        for handle in getattr(self, "actors", []):
            self.ray.kill(handle, no_restart=True)
        if self._started_ray:
            self.ray.shutdown()

    def head_reachable(self, force: bool = False) -> bool:
        """Whether the Ray head (its GCS port) still accepts connections; once lost, it stays lost
        for this engine: Ray's driver does not reconnect, so restart the backend."""
        if not hasattr(self, "_head"):
            return True  # still starting
        if self._head_up and (force or time.monotonic() - self._head_checked > HEAD_CHECK_SECONDS):
            try:
                socket.create_connection(self._head, timeout=2.0).close()
            except OSError:
                self._head_up = False
            self._head_checked = time.monotonic()
        return self._head_up

    def _unavailable(self, why: str) -> JobError:
        return JobError(ENGINE_UNAVAILABLE, f"the Ray cluster ({self.options.address or 'local'}) {why}; "
                                            "the backend needs a restart once it is back")

    # -- dispatching ------------------------------------------------------------------------------

    def _acquire(self) -> int:
        with self._lock:
            index = min(range(len(self._load)), key=self._load.__getitem__)
            self._load[index] += 1
            return index

    def _release(self, index: int) -> None:
        with self._lock:
            self._load[index] -= 1

    def run_job(self, kind: str, job_input: object, ctx: JobContext) -> Iterator[Message]:
        """The job's outputs in order, from its chunks running on the actors (a generator for a worker thread)."""
        ray = self.ray
        chunks = render_chunks(job_input, self.options.chunk_frames) if isinstance(job_input, RenderInput) \
            else [job_input]
        total = len(job_input.frames) if isinstance(job_input, RenderInput) else 0
        in_flight: deque[tuple[int, object]] = deque()  # (actor index, streaming generator), in chunk order
        submitted = 0
        if not self.head_reachable(force=True):
            raise self._unavailable(f"cannot be reached at {':'.join(map(str, self._head))}")
        try:
            inputs = ray.put({name: (path.suffix, path.read_bytes()) for name, path in ctx.inputs.items()})
            for number in range(len(chunks)):
                while submitted < min(number + len(self.actors), len(chunks)):
                    index = self._acquire()
                    stream = self.actors[index].run.options(num_returns="streaming").remote(
                        ctx.job_id, kind, chunks[submitted], inputs)
                    in_flight.append((index, stream))
                    submitted += 1
                index, stream = in_flight[0]
                for message in self._stream(stream, ctx):
                    if message.type != PROGRESS:
                        yield message
                    elif number == 0:  # the first chunk's stages stand for the job's (the others repeat them)
                        yield replace(message, content={**message.content, "total": total}) if total else message
                in_flight.popleft()
                self._release(index)
        except ray.exceptions.RayTaskError as exc:  # the job's own error, raised on the actor
            if isinstance(exc.cause, JobError):
                raise JobError(exc.cause.code, exc.cause.message) from None
            raise
        except ray.exceptions.RayActorError as exc:
            raise JobError(INTERNAL, f"a Ray actor running this job died {RESTARTS + 1} times: {exc}") from None
        except (ConnectionError, ray.exceptions.RaySystemError, ray.exceptions.RpcError) as exc:
            raise self._unavailable(f"cannot be reached: {type(exc).__name__}: {exc}") from None
        finally:
            for index, stream in in_flight:  # cancelled, failed or closed early: stop every chunk still running
                if self._head_up:  # (a lost cluster runs nothing any more, and would not answer)
                    ray.cancel(stream)
                self._release(index)

    def _stream(self, stream, ctx: JobContext) -> Iterator[Message]:
        """One chunk's messages as they come. While waiting, a cancel of the job is noticed within
        a quarter of a second: a ``progress`` message then lets the worker see it and close us."""
        ray = self.ray
        while True:
            ready, _ = ray.wait([stream], timeout=0.25)
            if ctx.cancelled:
                yield progress("cancelling")
                return
            if not ready:
                if not self.head_reachable():
                    raise self._unavailable(f"stopped answering at {':'.join(map(str, self._head))} during the job")
                continue
            try:
                ref = next(stream)
            except StopIteration:
                return
            yield ray.get(ref)
