"""``s2t-backend --engine ray``: the same jobs and the same stream as the in-process engine, on a
local Ray with two actors (started once for the module: Ray and the actors' face rigs take
seconds), through real loopback sockets."""

import os
import signal
import socket
import sys
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason='the Ray engine needs Ray: pip install -e ".[ray]"')

from backend.client import BackendError, Client  # noqa: E402
from backend.engine_ray import EngineError, RayEngine, RayOptions  # noqa: E402
from backend.jobs import default_kinds, face_model  # noqa: E402
from backend.server import Server, ServerConfig, main  # noqa: E402
from synthetic_jobs import talking_sequence  # noqa: E402

pytestmark = pytest.mark.slow  # a local Ray cluster: about 10 s to start on two cores, paid once

FRAMES = 16
CHUNK = 4


@pytest.fixture(scope="session")
def local_ray():
    """A Ray on this machine for the session, without dashboard or usage reports; shut down at the end."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_server(local_ray, tmp_path_factory):
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path_factory.mktemp("ray-jobs"),
                          heartbeat_interval=0.1, client_timeout=5.0, workers=2, engine="ray",
                          ray_chunk_frames=CHUNK)
    server = Server(config).start()
    yield server
    server.stop(30)


@pytest.fixture(scope="module")
def reference_frames(tmp_path_factory):
    """The in-process engine's PNG frames for the test job."""
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path_factory.mktemp("thread-jobs"),
                          heartbeat_interval=0.1)
    server = Server(config, default_kinds()).start()
    try:
        with Client(server.endpoint) as client:
            client.connect()
            job = client.wait(client.submit_render(talking_sequence(FRAMES), size=48), timeout=60)
            assert job.state == "finished", job.error
            return [(m.content["index"], m.buffers["image"]) for m in job.messages if m.type == "frame"]
    finally:
        server.stop()


@pytest.fixture
def client(ray_server):
    with Client(ray_server.endpoint, dead_after=10.0) as client:
        client.connect()
        yield client


def _frames(job) -> list[tuple[int, bytes]]:
    return [(m.content["index"], m.buffers["image"]) for m in job.messages if m.type == "frame"]


def _idle(engine: RayEngine, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        stats = engine.stats()
        if not any(actor["busy"] for actor in stats):
            return stats
        assert time.monotonic() < deadline, f"actors still busy: {stats}"
        time.sleep(0.1)


def test_ray_frames_equal_the_in_process_engine_in_order_from_both_actors(ray_server, client, reference_frames):
    before = _idle(ray_server.engine)
    job = client.wait(client.submit_render(talking_sequence(FRAMES), size=48), timeout=120)
    assert job.state == "finished", job.error
    frames = _frames(job)
    assert [index for index, _ in frames] == list(range(FRAMES))  # in order, though chunks ran side by side
    assert frames == reference_frames  # the same PNG bytes as the worker threads make
    assert job.messages[-1].content["frames"] == FRAMES
    after = _idle(ray_server.engine)
    assert [a["chunks_started"] - b["chunks_started"] for a, b in zip(after, before)] == [2, 2]  # 4 chunks, 2 actors
    assert (ray_server.store.root / job.job_id / "outputs" / f"{FRAMES:06d}-done.json").is_file()  # stored as usual
    replay = client.wait(client.fetch(job.job_id), timeout=10)
    assert _frames(replay) == frames


def test_bad_input_is_refused_before_ray_as_in_process(client):
    with pytest.raises(BackendError) as refused:
        client.submit_render(talking_sequence(4), size=4096)
    assert refused.value.code == "bad_input" and "size" in str(refused.value)
    with pytest.raises(BackendError) as refused:
        client.submit_render(talking_sequence(4), renderer="cpu")
    assert refused.value.code == "bad_input" and "photo" in str(refused.value)


def test_a_killed_actor_process_is_restarted_and_the_job_keeps_every_frame(ray_server, client, reference_frames):
    engine = ray_server.engine
    _idle(engine)
    job = client.submit_render(talking_sequence(FRAMES), size=48)
    while not _frames(job):
        client.poll(0.05)
    victim = next(stats for stats in engine.stats() if stats["busy"])
    os.kill(victim["pid"], signal.SIGKILL)  # mid-chunk: its chunk has frames still to make
    client.wait(job, timeout=120)
    assert job.state == "finished", job.error
    assert _frames(job) == reference_frames
    assert victim["pid"] not in {stats["pid"] for stats in engine.stats()}  # Ray started a new actor process


def test_cancel_stops_every_chunk_of_the_job(ray_server, client):
    engine = ray_server.engine
    before = _idle(engine)
    job = client.submit_render(talking_sequence(400), size=48)
    deadline = time.monotonic() + 10
    while not (_frames(job) and all(stats["busy"] for stats in engine.stats())):  # a chunk of the job on each actor
        assert time.monotonic() < deadline, engine.stats()
        client.poll(0.05)
    client.cancel(job)
    client.wait(job, timeout=10)
    assert job.state == "cancelled"
    after = _idle(engine, timeout=3.0)  # both chunks stopped, not run to their end
    made = sum(a["frames"] - b["frames"] for a, b in zip(after, before))
    assert made < 4 * CHUNK
    assert sum(a["chunks_started"] - b["chunks_started"] for a, b in zip(after, before)) == 2


def test_other_job_kinds_run_whole_on_an_actor(client):
    job = client.wait(client.submit_rig(), timeout=60)
    assert job.state == "finished", job.error
    rig = next(m for m in job.messages if m.type == "rig")
    assert np.array_equal(rig.buffers["vertices"], face_model().vertices.astype(np.float32))


def test_cuda_on_a_ray_cluster_without_gpus_is_a_clear_error_at_start(local_ray, tmp_path, capsys):
    with pytest.raises(EngineError, match="no GPUs"):
        RayEngine(RayOptions(device="cuda"), default_kinds())
    code = main(["--bind", "tcp://127.0.0.1:*", "--jobs-dir", str(tmp_path), "--engine", "ray", "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("s2t-backend: --engine ray: --device cuda was asked") and "no GPUs" in err


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(EngineError, match=r'pip install -e "\.\[ray\]"'):
        RayEngine(RayOptions(), default_kinds())


def test_a_lost_ray_head_fails_jobs_with_engine_unavailable_and_the_front_door_answers(ray_server, client):
    engine = ray_server.engine
    head = engine._head
    with socket.socket() as closed:  # a port nothing listens on: the head as a dead cluster shows it
        closed.bind(("127.0.0.1", 0))
        engine._head, engine._head_checked = closed.getsockname(), 0.0
    try:
        job = client.wait(client.submit_render(talking_sequence(4), size=48), timeout=10)
        assert job.state == "failed" and job.error.code == "engine_unavailable"
        assert "cannot be reached" in job.error.message
        assert client.status()["server"]["running"] == 0  # the front door keeps answering
    finally:
        engine._head, engine._head_up = head, True
