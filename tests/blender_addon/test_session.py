"""The add-on's bpy-free job plumbing against a real backend: what the timer callback sees."""

import io
import socket
import sys
import time

import numpy as np
import pytest
from PIL import Image
from skimage import data

from backend.client import Client
from backend.jobs import default_kinds
from backend.protocol import pack_coefficients
from backend.server import Server, ServerConfig
from blender_addon.local_backend import LocalBackend, LocalBackendError
from blender_addon.session import BackendJob, Update, remove_stale_frames
from s2t.face import CoeffSequence
from s2t.face.rig.blendshapes import ARKIT_52


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


def test_render_frames_land_on_disk_in_order_within_the_time_budget(server, tmp_path):
    expression = np.zeros((20, len(ARKIT_52)), np.float32)
    expression[:, ARKIT_52.index("jawOpen")] = np.linspace(0, 0.8, 20)
    fields, buffers = pack_coefficients(CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, expression,
                                                      np.zeros((20, 6), np.float32), {}))
    params = {"coefficients": fields, "size": 64, "renderer": "rig-preview", "encoding": "png"}
    job = BackendJob(server.endpoint, "render", params, buffers, frames_dir=tmp_path / "take", total_frames=20,
                     budget=0.0)
    time.sleep(1.0)  # let every frame arrive before the first poll, as after a busy UI
    updates = follow(job)
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
    while late.job.job_id is None:
        late.poll()
    late.cancel()
    assert follow(late)[-1].cancelled


def free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


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
