"""Backend benchmark: request latency, render throughput through the protocol, idle memory.

    python bench/bench_backend.py [--frames 40] [--sizes 256 512 1024] [--repeats 5] [--status 2000]

Starts ``python -m backend.server`` on a free loopback port (its own process, as in real
use) and measures from a client process:

- the round trip of a ``status_request`` (median and 99th percentile);
- frames per second a client receives from a ``render`` job (Style-A's CPU renderer, the
  ``cel`` art preset, the astronaut photo; PNG and raw frames), from the median interval
  between frames, against the renderer's own speed measured in this process on the same
  frames without the backend; the best of ``--repeats`` interleaved runs, since other work
  on the machine only ever slows a run;
- the CPU time per frame, first to last frame, of the renderer alone and of the whole
  backend process during the job (the difference is the protocol's work: PNG encoding,
  storing, serializing, forwarding, done on an output thread beside the renderer), and of
  the client; medians of the runs. CPU time barely moves when other work shares the machine;
- the delay from submit to the first frame, for a new photo (it is fitted first) and for one
  the backend has seen;
- the backend's resident memory when idle, before and after a job.

With ``--memory`` it measures instead what slow clients cost the backend (issue 17): its
peak resident memory (``VmHWM``, reset before each measure) while a client that heartbeats but
never reads is sent a ``render`` job of ``--frames`` raw frames at ``--sizes[0]`` px, and while
a reading client fetches that finished job four times at once. ``--backend-root DIR`` runs
the backend from another checkout, to compare with an older version::

    python bench/bench_backend.py --memory --frames 300 --sizes 512 [--backend-root /tmp/old]

Prints markdown tables.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# One BLAS thread in this process and in the backend: idle BLAS threads spin, which would
# count as CPU time of whoever happens to call numpy.
os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

import numpy as np  # noqa: E402
import zmq  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from backend.client import Client  # noqa: E402
from backend.jobs import JobContext, prepare_render, run_render  # noqa: E402
from backend import protocol  # noqa: E402
from backend.protocol import FRAME, pack_coefficients  # noqa: E402
from s2t.face import CoeffSequence  # noqa: E402
from s2t.face.rig import RIG_ID  # noqa: E402
from s2t.face.rig.blendshapes import ARKIT_52  # noqa: E402


def talking_sequence(frames: int) -> CoeffSequence:
    """Two seconds of talking-like motion: jaw at 4 Hz, a growing smile, a head turn."""
    t = np.arange(frames) / 25.0
    expression = np.zeros((frames, len(ARKIT_52)), np.float32)
    expression[:, ARKIT_52.index("jawOpen")] = 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    for name in ("mouthSmileLeft", "mouthSmileRight"):
        expression[:, ARKIT_52.index(name)] = np.minimum(1.0, t)
    pose = np.zeros((frames, 6), np.float32)
    pose[:, 1] = 0.2 * np.sin(2 * np.pi * 0.5 * t)
    return CoeffSequence(RIG_ID, 25.0, ARKIT_52, expression, pose, {"source": "bench"})


def render_request(sequence: CoeffSequence, photo: bytes, frames: int, size: int, encoding: str) -> tuple[dict, dict]:
    fields, buffers = pack_coefficients(sequence)
    params = {"coefficients": fields, "size": size, "frames": [0, frames], "renderer": "cpu", "art_preset": "cel",
              "encoding": encoding}
    return params, {**buffers, "photo": photo}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_frame(marks: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Frames per second from the median interval; then each CPU clock's seconds per frame."""
    marks = np.array(marks)
    rates = (marks[-1, 1:] - marks[0, 1:]) / (len(marks) - 1)
    return (1.0 / np.median(np.diff(marks[:, 0])), *rates)


def renderer_alone(sequence: CoeffSequence, photo: Path, frames: int, size: int) -> tuple[float, float]:
    """The renderer without the backend (the worker's own loop, raw frames): fps, CPU s/frame."""
    job, _ = prepare_render(*render_request(sequence, photo.read_bytes(), frames, size, "raw"))
    outputs = run_render(job, JobContext("bench", {"photo": photo}, "cpu", threading.Event()))
    return per_frame([(time.perf_counter(), time.process_time()) for m in outputs if m.type == FRAME])


def delivered(client: Client, pid: int, sequence: CoeffSequence, photo: bytes, frames: int, size: int,
              encoding: str) -> tuple[float, ...]:
    """Through the backend: fps at the client, backend and client CPU s/frame, seconds to the first frame."""
    submitted = time.perf_counter()
    job = client.submit("render", *render_request(sequence, photo, frames, size, encoding))
    marks = [(time.perf_counter(), cpu_seconds(pid), time.process_time())
             for message in client.stream(job) if message.type == FRAME]
    assert job.state == "finished" and len(marks) == frames, job.error
    return (*per_frame(marks), marks[0][0] - submitted)


def peak_since_reset(pid: int, reset: bool = False) -> float:
    """The process's peak resident memory (MiB) since the last reset; ``reset`` starts counting anew."""
    if reset:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


class SlowClient:
    """A DEALER that reads only when told to (with a one-message receive queue by default)."""

    def __init__(self, endpoint: str, receive_queue: int = 1):
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.RCVHWM, receive_queue)
        self.socket.setsockopt(zmq.RCVBUF, 65536)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)

    def send(self, msg_type: str, content: dict | None = None, buffers: dict | None = None,
             job_id: str | None = None) -> None:
        message = protocol.make_message(msg_type, content, buffers, job_id=job_id, request_id=protocol.new_id())
        self.socket.send_multipart(protocol.serialize(message))

    def receive(self) -> protocol.Message:
        assert self.socket.poll(30_000), "no message in 30 s"
        return protocol.deserialize(self.socket.recv_multipart())

    def drain_job(self, job_id: str, streams: int = 1) -> int:
        """Read until ``streams`` final messages of the job came (heartbeating); the frames received."""
        frames, beat = 0, time.monotonic()
        while streams:
            if time.monotonic() - beat > 0.5:
                self.send(protocol.HEARTBEAT)
                beat = time.monotonic()
            message = self.receive()
            if message.job_id == job_id:
                frames += message.type == FRAME
                streams -= message.type in protocol.FINAL_TYPES
        return frames


def memory_under_slow_clients(args, photo: bytes) -> None:
    """Peak backend memory for a client that never reads, and for four fetches of a long job."""
    sequence = talking_sequence(args.frames)
    size = args.sizes[0]
    root = args.backend_root or ROOT
    env = {**os.environ, "PYTHONPATH": str(root)}
    with tempfile.TemporaryDirectory() as scratch:
        server = subprocess.Popen([sys.executable, "-m", "backend.server", "--bind", "tcp://127.0.0.1:*",
                                   "--jobs-dir", str(Path(scratch) / "jobs")], cwd=root, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            endpoint = server.stdout.readline().split()[3]
            with Client(endpoint) as observer:
                observer.connect(timeout=30)
                warm = observer.wait(observer.submit("render", *render_request(sequence, photo, 2, size, "raw")),
                                     timeout=120)  # rig built, photo fitted: what follows is the frames' cost
                assert warm.state == "finished", warm.error
                time.sleep(1.0)
                stalled = SlowClient(endpoint)
                stalled.send(protocol.HELLO_REQUEST)
                before = rss_mib(server.pid)
                peak_since_reset(server.pid, reset=True)
                params, buffers = render_request(sequence, photo, args.frames, size, "raw")
                stalled.send(protocol.SUBMIT_REQUEST, {"kind": "render", "params": params}, buffers)
                while (reply := stalled.receive()).type != protocol.SUBMIT_REPLY:
                    pass
                job_id, started = reply.job_id, time.perf_counter()
                while observer.status(job_id)["job"]["state"] in ("queued", "running"):
                    stalled.send(protocol.HEARTBEAT)  # alive, but never reading
                    time.sleep(0.2)
                seconds = time.perf_counter() - started
                time.sleep(1.0)
                stalled_peak, stalled_after = peak_since_reset(server.pid), rss_mib(server.pid)
                received = stalled.drain_job(job_id)
                fetcher = SlowClient(endpoint, receive_queue=1000)  # ZeroMQ's default: a normal, reading client
                fetcher.send(protocol.HELLO_REQUEST)
                fetch_before = rss_mib(server.pid)
                peak_since_reset(server.pid, reset=True)
                for _ in range(4):
                    fetcher.send(protocol.FETCH_REQUEST, job_id=job_id)
                fetched = fetcher.drain_job(job_id, streams=4)
                fetch_peak = peak_since_reset(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    load = os.getloadavg()
    frame_mib = size * size * 3 / 2**20
    print(f"Backend from {root}; {args.frames} raw {size} px frames ({args.frames * frame_mib:.0f} MiB), rendered in "
          f"{seconds:.1f} s; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.\n")
    print("| measure | resident before | peak | growth |\n|---|---|---|---|")
    print(f"| client heartbeating, never reading, during the job | {before:.0f} MiB | {stalled_peak:.0f} MiB | "
          f"{stalled_peak - before:+.0f} MiB (after: {stalled_after:.0f} MiB) |")
    print(f"| four fetches of the finished job at once | {fetch_before:.0f} MiB | {fetch_peak:.0f} MiB | "
          f"{fetch_peak - fetch_before:+.0f} MiB |")
    print(f"\nThe stalled client then read {received} frames; the fetches delivered {fetched} (4 x {args.frames}).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--status", type=int, default=2000, help="status requests to time")
    parser.add_argument("--memory", action="store_true", help="measure the backend's memory under slow clients")
    parser.add_argument("--backend-root", type=Path, help="run the backend from this checkout (--memory)")
    args = parser.parse_args()
    if args.memory:
        buffer = io.BytesIO()
        Image.fromarray(data.astronaut()).save(buffer, format="PNG")
        memory_under_slow_clients(args, buffer.getvalue())
        return

    sequence = talking_sequence(args.frames)
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    photo = buffer.getvalue()
    with tempfile.TemporaryDirectory() as scratch:
        photo_path = Path(scratch) / "photo.png"
        photo_path.write_bytes(photo)
        server = subprocess.Popen([sys.executable, "-m", "backend.server", "--bind", "tcp://127.0.0.1:*",
                                   "--jobs-dir", str(Path(scratch) / "jobs")], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        try:
            endpoint = server.stdout.readline().split()[3]
            with Client(endpoint) as client:
                client.connect(timeout=30)
                time.sleep(1.0)
                idle_mib = rss_mib(server.pid)
                latencies = []
                for _ in range(args.status):
                    started = time.perf_counter()
                    client.status()
                    latencies.append(time.perf_counter() - started)
                rows, first_new = [], {}
                for size in args.sizes:
                    first_new[size] = delivered(client, server.pid, sequence, photo, 3, size, "png")[-1]
                    runs = []
                    for _ in range(args.repeats):
                        runs.append((*renderer_alone(sequence, photo_path, args.frames, size),
                                     *delivered(client, server.pid, sequence, photo, args.frames, size, "png"),
                                     *delivered(client, server.pid, sequence, photo, args.frames, size, "raw")))
                    rows.append((size, np.max(runs, axis=0), np.median(runs, axis=0)))
                time.sleep(1.0)
                busy_mib = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(30)

    latencies_ms = 1000 * np.array(latencies)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
          f"{platform.python_version()}; backend and client in separate processes on loopback.\n")
    print("| measure | value |\n|---|---|")
    print(f"| status_request round trip, median / p99 ({args.status} requests) | "
          f"{np.median(latencies_ms):.3f} ms / {np.percentile(latencies_ms, 99):.3f} ms |")
    print(f"| backend resident memory, idle after start | {idle_mib:.0f} MiB |")
    print(f"| backend resident memory, idle after the render jobs (rig, fitted photos cached) | {busy_mib:.0f} MiB |")
    print("\n| size | renderer alone | delivered, PNG | delivered, raw | throughput cost, PNG / raw "
          "| first frame: new photo / seen photo |")
    print("|---|---|---|---|---|---|")
    for size, best, median in rows:
        alone, png, raw = best[0], best[2], best[6]
        print(f"| {size}x{size} | {alone:.2f} fps | {png:.2f} fps | {raw:.2f} fps | "
              f"{100 * (1 - png / alone):.1f} % / {100 * (1 - raw / alone):.1f} % | "
              f"{1000 * first_new[size]:.0f} ms / {1000 * median[5]:.0f} ms |")
    print("\n| size | renderer CPU / frame | backend CPU / frame, PNG / raw | CPU cost, PNG / raw "
          "| client CPU / frame, PNG / raw |")
    print("|---|---|---|---|---|")
    for size, _, (_, cpu, _, png_cpu, png_client, _, _, raw_cpu, raw_client, _) in rows:
        print(f"| {size}x{size} | {1000 * cpu:.1f} ms | {1000 * png_cpu:.1f} ms / {1000 * raw_cpu:.1f} ms | "
              f"{100 * (png_cpu / cpu - 1):.1f} % / {100 * (raw_cpu / cpu - 1):.1f} % | "
              f"{1000 * png_client:.2f} ms / {1000 * raw_client:.2f} ms |")


if __name__ == "__main__":
    main()
