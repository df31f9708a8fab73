"""What the add-on's panel shows while jobs run on a cold backend, and for how long.

    python bench/bench_addon_stages.py

Starts ``python -m backend.server`` on a free loopback port (a fresh process: nothing
imported, no model loaded, as after "Start a Local Backend"), then follows a Build Face Rig
(with the astronaut photo) and a Generate Animation (2 s of the sample speech) through the
add-on's own plumbing (``blender_addon.session.BackendJob`` polled every 30 ms, as the
Blender timer does, and ``job_display.JobProgress``), and prints, per job, each stage the
panel showed and how long it lasted. Prints a markdown table.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile
from PIL import Image
from skimage import data

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from blender_addon.job_display import JobProgress  # noqa: E402
from blender_addon.session import BackendJob  # noqa: E402


def free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def follow(job: BackendJob, first_stage: str) -> list[tuple[str, float]]:
    """(stage, seconds shown) for each stage, polling as the add-on's timer does."""
    started = time.monotonic()
    display = JobProgress(first_stage, started)
    stages: list[tuple[str, float]] = [(first_stage, started)]
    while True:
        update = job.poll()
        now = time.monotonic()
        if update.error:
            raise SystemExit(f"the job failed: {update.error}")
        if update.stage == "connecting" and stages[-1][0] == first_stage:
            update.stage = first_stage
        display.apply(update.stage, update.progress, now)
        stage = display.stage.split(" frame ")[0]
        if stage != stages[-1][0]:
            stages.append((stage, now))
        if update.ended:
            stages.append(("done", now))
            return [(name, round(stages[i + 1][1] - at, 1)) for i, (name, at) in enumerate(stages[:-1])]
        time.sleep(0.03)


def main() -> None:
    endpoint = free_endpoint()
    folder = Path(tempfile.mkdtemp(prefix="s2t-stages-"))
    photo = io.BytesIO()
    Image.fromarray(data.astronaut()).save(photo, format="PNG")
    speech, rate = soundfile.read(REPO / "s2t" / "assets" / "samples" / "speech.wav")
    audio = io.BytesIO()
    soundfile.write(audio, speech[: 2 * rate], rate, format="WAV")
    server = subprocess.Popen([sys.executable, "-m", "backend.server", "--bind", endpoint, "--jobs-dir",
                               str(folder / "jobs")], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rig = follow(BackendJob(endpoint, "rig", {}, {"photo": photo.getvalue()}, connect_timeout=120),
                     "starting the local backend")
        generate = follow(BackendJob(endpoint, "coefficients", {"text": "She is happy.", "seed": 0},
                                     {"audio": audio.getvalue(), "photo": photo.getvalue()}, connect_timeout=30),
                          "connecting")
    finally:
        server.terminate()
        server.wait(30)
    print("| job | stages the panel showed (seconds each) | total |\n|---|---|---|")
    for label, stages in (("Build Face Rig (cold backend)", rig), ("Generate Animation (next)", generate)):
        shown = ", ".join(f"{name} {seconds:g} s" for name, seconds in stages)
        print(f"| {label} | {shown} | {sum(s for _, s in stages):.1f} s |")


if __name__ == "__main__":
    main()
