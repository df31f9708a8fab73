"""The add-on's bpy-free job plumbing against a real backend: what the timer callback sees."""

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from backend.client import Client
from backend.jobs import default_kinds
from backend.protocol import pack_coefficients
from backend.server import Server, ServerConfig
from blender_addon.job_display import JobProgress, RedrawPacer, Shown, chars_per_line, wrap
from blender_addon.local_backend import LocalBackend, LocalBackendError
from blender_addon.session import BackendJob, Update, endpoint_problem, png_size, remove_stale_frames
from s2t.face import CoeffSequence
from s2t.face.rig.blendshapes import ARKIT_52

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path_factory.mktemp("jobs"), heartbeat_interval=0.2)
    server = Server(config, default_kinds()).start()
    yield server
    server.stop()


def follow(job: BackendJob, limit: float = 60.0) -> list[Update]:
    """Poll as the timer would until the job ends; every update."""
    updates, deadline = [], time.monotonic() + limit
    while not (updates and updates[-1].ended):
        assert time.monotonic() < deadline, "the job did not end"
        updates.append(job.poll())
        time.sleep(0.01)
    return updates


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_render_frames_land_on_disk_in_order_within_the_time_budget(server, tmp_path):
    expression = np.zeros((20, len(ARKIT_52)), np.float32)
    expression[:, ARKIT_52.index("jawOpen")] = np.linspace(0, 0.8, 20)
    fields, buffers = pack_coefficients(CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, expression,
                                                      np.zeros((20, 6), np.float32), {}))
    params = {"coefficients": fields, "size": 64, "renderer": "rig-preview", "encoding": "png"}
    job = BackendJob(server.endpoint, "render", params, buffers, frames_dir=tmp_path / "take", total_frames=20,
                     budget=0.0)
    updates = [job.poll()]  # the first poll submits
    time.sleep(1.0)  # let every frame arrive before the next poll, as after a busy UI
    updates += follow(job)
    written = [index for update in updates for index, _ in update.frames]
    assert written == list(range(20)) and max(len(u.frames) for u in updates) == 1  # a zero budget: one a poll
    assert sorted(p.name for p in (tmp_path / "take").iterdir()) == [f"{i:06d}.png" for i in range(1, 21)]
    assert updates[-1].finished and updates[-1].progress == 1.0
    assert any(u.stage == "rendering frame 10/20" for u in updates)
    assert remove_stale_frames(tmp_path / "take", keep=12) == 8


def test_rig_job_gives_a_rig_with_photo_uvs(server):
    updates = follow(BackendJob(server.endpoint, "rig", {}, {"photo": photo_bytes()}))
    rig = next(u.rig for u in updates if u.rig is not None)
    assert rig.shape_keys.shape == (52, 10845, 3) and rig.uv.shape == (10845, 2)
    assert np.allclose(rig.vertices[:, 1], rig.shape_keys[0][:, 1], atol=0.05)  # Blender axes: -y forward
    assert len(next(u.rig_metadata for u in updates if u.rig is not None)["identity"]) == 16


def test_a_refused_job_and_a_missing_backend_are_errors_not_hangs(server):
    refused = follow(BackendJob(server.endpoint, "render", {"size": 99999}, {}))
    assert "coefficient fields" in refused[-1].error and "bad_input" in refused[-1].error
    missing = follow(BackendJob(free_endpoint(), "rig", {}, {}, connect_timeout=0.3), limit=5)
    assert "no backend answers" in missing[-1].error


def test_cancel_before_and_after_the_backend_accepted(server):
    early = BackendJob(server.endpoint, "rig", {}, {})
    early.cancel()
    assert early.poll().cancelled
    expression = np.zeros((400, 52), np.float32)
    fields, buffers = pack_coefficients(CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, expression,
                                                      np.zeros((400, 6), np.float32), {}))
    late = BackendJob(server.endpoint, "render", {"coefficients": fields, "size": 64, "renderer": "rig-preview"},
                      buffers)
    while late.job is None or late.job.job_id is None:
        late.poll()
    late.cancel()
    assert follow(late)[-1].cancelled


def free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.slow
def test_local_backend_starts_answers_and_stops(tmp_path):
    endpoint = free_endpoint()
    local = LocalBackend(f"{sys.executable} -m backend.server --jobs-dir {tmp_path / 'jobs'}", endpoint)
    local.start()
    try:
        with Client(endpoint) as client:
            assert client.connect(timeout=60)["server"].startswith("s2t-backend")
        local.check()
    finally:
        local.stop()
    assert not local.running()


def test_local_backend_problems_are_explained(tmp_path):
    with pytest.raises(LocalBackendError, match="no-such-s2t-backend"):
        LocalBackend("no-such-s2t-backend", free_endpoint()).start()
    broken = LocalBackend(f"{sys.executable} -c \"import sys; print('bad settings'); sys.exit(3)\"", free_endpoint())
    broken.start()
    broken.process.wait(10)
    with pytest.raises(LocalBackendError, match="code 3: bad settings"):
        broken.check()


def test_a_malformed_backend_address_is_one_line_saying_what_to_write(tmp_path):
    assert endpoint_problem("tcp://127.0.0.1:5599") == "" and endpoint_problem("tcp://gpu-box:5599") == ""
    assert endpoint_problem("ipc:///tmp/s2t.sock") == "" and endpoint_problem("tcp://[::1]:5599") == ""
    for bad in ("localhost:5599", "tcp://localhost", "tcp://localhost:99999", "http://gpu-box:5599", ""):
        assert "write it as tcp://HOST:PORT" in endpoint_problem(bad), bad
    with pytest.raises(ValueError) as refused:
        BackendJob("localhost:5599", "rig", {}, {})
    message = str(refused.value)
    assert "\n" not in message and "did you mean tcp://localhost:5599?" in message
    with pytest.raises(LocalBackendError, match="did you mean tcp://localhost:5599"):
        LocalBackend("s2t-backend", "localhost:5599")


def test_nothing_reaches_the_backend_before_the_first_poll(server):
    job = BackendJob(server.endpoint, "rig", {}, {})
    assert job.client is None and job.job is None  # a caller can still hold it back
    job.cancel()
    assert job.poll().cancelled


SLOW_TO_STOP = ("import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: (time.sleep({delay}), "
                "sys.exit(0))); print('up', flush=True); time.sleep(60)")


def python_command(code: str) -> str:
    return f"{sys.executable} -c \"{code}\""


def start_until_up(backend: LocalBackend, log: Path, limit: float = 10.0) -> None:
    """Start a stand-in backend logging to ``log`` and wait for its 'up' line: by then its
    SIGTERM handler is installed, however slowly Python starts on a loaded machine."""
    backend.log_path = log
    backend.start()
    deadline = time.monotonic() + limit
    while backend.log_tail() != "up":
        assert time.monotonic() < deadline, f"the stand-in backend never came up: {backend.log_tail()}"
        time.sleep(0.01)


@pytest.mark.slow
def test_replacing_the_local_backend_never_waits_for_the_old_one(tmp_path):
    """The preferences' command changed: the old backend (1.5 s to exit) is asked to stop and the
    new one launches once the address is free, with no call blocking (it froze Blender 3.7 s)."""
    endpoint = free_endpoint()
    old = LocalBackend(python_command(SLOW_TO_STOP.format(delay=1.5)), endpoint)
    start_until_up(old, tmp_path / "old.log")
    started = time.monotonic()
    old.stop()
    new = LocalBackend(python_command(SLOW_TO_STOP.format(delay=0)), endpoint, replaces=old)
    new.start()
    assert time.monotonic() - started < 0.3
    assert new.pending() and not new.running()  # the old one still holds the address
    waited = 0
    while new.pending():
        waited += 1
        assert time.monotonic() - started < 4, "the new backend never started"
        time.sleep(0.05)
    assert waited > 10 and new.running()  # launched from pending(), about 1.5 s later
    assert 1.2 < time.monotonic() - started < 4
    new.stop_and_wait()
    assert not new.running() and new.previous.poll() is not None


def test_an_old_backend_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    endpoint = free_endpoint()
    stubborn = LocalBackend(python_command("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                           "print('up', flush=True); time.sleep(60)"), endpoint, grace=0.5)
    start_until_up(stubborn, tmp_path / "stubborn.log")
    stubborn.stop()
    new = LocalBackend(python_command(SLOW_TO_STOP.format(delay=0)), endpoint, replaces=stubborn)
    new.start()
    started = time.monotonic()
    while new.pending():
        assert time.monotonic() - started < 3
        time.sleep(0.05)
    assert stubborn.previous.returncode == -9 and new.running()
    new.stop_and_wait()


def test_the_display_changes_only_when_what_it_shows_changes():
    """The poll timer redraws on a change of Shown: a job polled 100 times a second while nothing
    arrives, or while progress moves within a percent, must not redraw."""
    display = JobProgress("connecting", now=0.0)
    seen = {display.shown(t / 100) for t in range(100)}  # one second of polls while connecting
    assert seen == {Shown("connecting", 0.0, False)}
    assert display.shown(1.0).stage == "connecting (1 s)"  # a long stage counts seconds
    display.apply("loading Style-E", None, now=3.0)
    assert display.shown(3.5).stage == "loading Style-E" and display.shown(15.2).stage == "loading Style-E (12 s)"
    assert len({display.shown(3.0 + t / 100) for t in range(1000)}) == 10  # ten seconds: ten redraws, not 1000
    display.apply("rendering frame 1/300", 1 / 300, now=20.0)
    renders = []
    for done in range(1, 301):
        display.apply(None, done / 300, now=20.0 + done / 100)
        renders.append(display.shown(20.0 + done / 100))
    assert len(set(renders)) == 101  # 300 frames, 0-100: 101 whole percents
    assert renders[-1] == Shown("rendering frame 1/300", 1.0, True)  # a counted stage shows no seconds
    assert Shown("rendering frame 10/88", 0.11, True).line("Render Stylized") == \
        "Render Stylized - rendering frame 10/88 11%"
    assert Shown("loading Style-E (3 s)", 0.0, False).line("Generate Animation") == \
        "Generate Animation - loading Style-E (3 s)"


def test_long_messages_wrap_whole_and_never_run_past_the_line():
    error = ("the local backend exited with code 2: s2t-backend: cannot serve on tcp://127.0.0.1:5599: "
             "Address already in use | see /home/animator/projects/shot_042/a_rather_long_folder_name/log.txt")
    for width in (16, 30, 40, 60):
        lines = wrap(error, width)
        assert all(len(line) <= width for line in lines)
        assert "".join(lines).replace(" ", "") == error.replace(" ", "")  # nothing cut off
    assert wrap("two words", 40) == ["two words"] and wrap("", 40) == []
    assert chars_per_line(300) == 40 and chars_per_line(600, 2.0) == 40 and chars_per_line(50) == 16


def test_png_size_reads_the_header(tmp_path):
    Image.new("RGB", (512, 256)).save(tmp_path / "frame.png")
    assert png_size(tmp_path / "frame.png") == (512, 256)
    (tmp_path / "not.png").write_bytes(b"GIF89a" + bytes(30))
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(tmp_path / "not.png")


def test_enabling_without_numpy_says_what_to_install():
    """Debian's Blender runs the system Python, which may lack numpy: register() says what to install."""
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == sys.argv[1]:\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import blender_addon\n"
            "print(blender_addon.missing_requirement())\n")
    for module, expected in (("numpy", "sudo apt install python3-numpy"), ("zmq", "tools/build_addon.py")):
        result = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        assert expected in result.stdout, result
    result = subprocess.run([sys.executable, "-c", code, "nothing-blocked"], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stdout.strip() == ""


@pytest.mark.slow
def test_a_job_the_backend_dropped_while_blender_was_busy_fails_with_the_reason(tmp_path):
    """A backend cancels the jobs of a client silent for its client timeout and streams them no
    more; the add-on asks after a silence instead of showing the job running forever."""
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=0.2,
                          client_timeout=0.6)
    server = Server(config, default_kinds()).start()
    try:
        expression = np.zeros((2000, 52), np.float32)
        fields, buffers = pack_coefficients(CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, expression,
                                                          np.zeros((2000, 6), np.float32), {}))
        job = BackendJob(server.endpoint, "render", {"coefficients": fields, "size": 64, "renderer": "rig-preview"},
                         buffers, status_every=0.5)
        while job.job is None or job.job.job_id is None:
            job.poll()
            time.sleep(0.01)
        with Client(server.endpoint) as observer:  # Blender busy: no poll, no heartbeat, until the backend gives up
            observer.connect()
            deadline = time.monotonic() + 10
            while observer.status(job.job.job_id)["job"]["state"] in ("queued", "running"):
                assert time.monotonic() < deadline, "the backend never dropped the silent client's job"
                time.sleep(0.05)
        updates = follow(job, limit=10)
    finally:
        server.stop()
    assert "the backend stopped sending this job to Blender and it is cancelled there" in updates[-1].error


def test_redraws_are_spaced_by_what_they_cost():
    """Four redraws a second at most; when a redraw stalls the UI 2 s (software OpenGL on a
    loaded machine), at most one every 10 s, so redraws take no more than a fifth of its time."""
    fast, now = RedrawPacer(), 0.0
    redraws = 0
    for _ in range(100):  # 3 s of ticks 30 ms apart, something new to show on each
        fast.tick(now)
        if fast.due(now):
            fast.redrawn(now)
            redraws += 1
        now += 0.03 + 0.002  # a cheap redraw: the next tick is on time
    assert redraws == 13  # every 0.25 s (8 ticks)
    slow, now, redraws = RedrawPacer(), 0.0, 0
    while now < 60.0:
        slow.tick(now)
        if slow.due(now):
            slow.redrawn(now)
            redraws += 1
            now += 2.0  # the UI is stuck in the redraw
        now += 0.03
    assert slow.cost == pytest.approx(2.0) and 5 <= redraws <= 7
