"""Scale-out benchmark: the same render jobs on the in-process engine and on the Ray engine.

    python bench/bench_scale_out.py [--jobs 8] [--frames 40] [--size 256] [--chunk 10] [--latency-runs 3]

Starts ``s2t-backend`` in its own process for each engine: worker threads (1 and 2 workers)
and Ray (1 and 2 actors, on a local Ray started with ``ray.init(num_cpus=2)``, no dashboard,
no usage reports). A client process submits ``--jobs`` render jobs at once (Style-A's CPU
renderer, the ``cel`` preset, the astronaut photo, PNG frames as Blender gets them) and
measures, after one warm-up job per engine (rig built, photo fitted on every actor):

- throughput: frames of all jobs / seconds from the first submit to the last ``done``;
- scaling: 2 actors against 1 (efficiency = fps2 / (2 fps1)), and against the threads;
- first-frame latency: submit to first frame of one job alone (median of ``--latency-runs``);
- CPU time per frame: the backend process alone (the front door, job folders, and with Ray
  the dispatch) and the whole process tree (with Ray: raylet, GCS and the actors too); the
  Ray path's overhead per frame is the tree's difference against the threads at one worker.

Prints markdown tables.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", RAY_USAGE_STATS_ENABLED="0")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from backend.client import Client  # noqa: E402
from backend.protocol import FRAME  # noqa: E402
from bench_backend import render_request, talking_sequence  # noqa: E402

LAUNCH = """
import sys
import ray
from backend.server import main
if "ray" in sys.argv:
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False,
             _node_ip_address="127.0.0.1")
try:
    main(sys.argv[1:])
finally:
    ray.shutdown()
"""


def tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds (user + system) of ``root`` alone and of ``root`` with all its descendants."""
    parents, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree = {root}
    grew = True
    while grew:
        members = {pid for pid, parent in parents.items() if parent in tree} | tree
        grew, tree = len(members) > len(tree), members
    return cpu.get(root, 0.0), sum(cpu.get(pid, 0.0) for pid in tree)


def run_jobs(client: Client, requests: list[tuple[dict, dict]]) -> tuple[float, list[float]]:
    """Submit all at once; seconds until all are done, and each job's submit-to-first-frame delay."""
    started = time.perf_counter()
    jobs = [client.submit("render", params, buffers) for params, buffers in requests]
    first = [None] * len(jobs)
    while not all(job.done for job in jobs):
        client.poll(0.05)
        for k, job in enumerate(jobs):
            if first[k] is None and any(m.type == FRAME for m in job.messages):
                first[k] = time.perf_counter() - started
    assert all(job.state == "finished" for job in jobs), [job.error for job in jobs]
    return time.perf_counter() - started, first


def measure(engine: str, workers: int, args, photo: bytes, scratch: Path) -> dict:
    command = [sys.executable, "-c", LAUNCH, "--bind", "tcp://127.0.0.1:*", "--jobs-dir", str(scratch / engine),
               "--workers", str(workers), "--engine", engine, "--chunk-frames", str(args.chunk)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        endpoint = server.stdout.readline().split()[3]
        sequence = talking_sequence(args.frames)
        request = render_request(sequence, photo, args.frames, args.size, "png")
        with Client(endpoint, dead_after=60.0) as client:
            client.connect(timeout=120)
            run_jobs(client, [request] * workers)  # warm-up: one job per worker builds its rig, fits the photo
            latency = [run_jobs(client, [request])[1][0] for _ in range(args.latency_runs)]
            head0, tree0 = tree_cpu(server.pid)
            seconds, _ = run_jobs(client, [request] * args.jobs)
            head1, tree1 = tree_cpu(server.pid)
        frames = args.jobs * args.frames
        return {"fps": frames / seconds, "seconds": seconds, "first_frame": float(np.median(latency)),
                "head_ms": 1000 * (head1 - head0) / frames, "tree_ms": 1000 * (tree1 - tree0) / frames}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--chunk", type=int, default=10, help="frames per chunk on the Ray engine")
    parser.add_argument("--latency-runs", type=int, default=3)
    args = parser.parse_args()

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    load = [os.getloadavg()[0]]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for engine, workers in (("threads", 1), ("ray", 1), ("threads", 2), ("ray", 2)):
            results[engine, workers] = measure(engine, workers, args, buffer.getvalue(), Path(scratch))
            load.append(os.getloadavg()[0])
            print(f"{engine} x{workers}: {results[engine, workers]}", file=sys.stderr, flush=True)

    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.jobs} jobs x {args.frames} frames at {args.size} px, PNG, chunks of {args.chunk}; "
          f"load average {min(load):.1f}-{max(load):.1f} during the run\n")
    print("| engine | workers | throughput | seconds | first frame (one job) | CPU/frame backend process | "
          "CPU/frame whole tree |")
    print("|---|---|---|---|---|---|---|")
    for (engine, workers), r in results.items():
        print(f"| {engine} | {workers} | {r['fps']:.1f} fps | {r['seconds']:.1f} | {1000 * r['first_frame']:.0f} ms | "
              f"{r['head_ms']:.1f} ms | {r['tree_ms']:.1f} ms |")
    ray1, ray2 = results["ray", 1], results["ray", 2]
    threads1, threads2 = results["threads", 1], results["threads", 2]
    print(f"\nRay scaling 1 -> 2 actors: x{ray2['fps'] / ray1['fps']:.2f} "
          f"(efficiency {ray2['fps'] / (2 * ray1['fps']):.0%}); threads 1 -> 2: x{threads2['fps'] / threads1['fps']:.2f}")
    print(f"Ray against threads: {ray1['fps'] / threads1['fps']:.0%} of the throughput with 1, "
          f"{ray2['fps'] / threads2['fps']:.0%} with 2")
    print(f"Ray path overhead per frame (whole tree, 1 worker): {ray1['tree_ms'] - threads1['tree_ms']:+.1f} ms CPU; "
          f"first frame {1000 * (ray1['first_frame'] - threads1['first_frame']):+.0f} ms")


if __name__ == "__main__":
    main()
