"""Failures over real loopback sockets: killed clients, killed and restarted backends, CURVE, binds."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backend import protocol as p
from backend.client import BackendGone, Client
from backend.security import ConfigError, check_bind, is_loopback
from backend.server import Server, ServerConfig, main

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "backend")])}

SERVER = """
import sys
from backend.jobs import default_kinds
from backend.server import Server, ServerConfig
import synthetic_jobs
config = ServerConfig(bind=sys.argv[1], jobs_dir=sys.argv[2], heartbeat_interval=0.1, client_timeout=2.0)
server = Server(config, {**default_kinds(), **synthetic_jobs.KINDS})
print(server.endpoint, flush=True)
server.serve_forever()
"""

CLIENT = """
import sys
from backend.client import Client
client = Client(sys.argv[1])
client.connect()
job = client.submit("count", {"frames": 100000, "delay": 0.01})
print(job.job_id, flush=True)
while True:
    client.poll(0.1)
"""


def spawn(code: str, *args: str) -> tuple[subprocess.Popen, str]:
    """Start a Python subprocess and read the first line it prints."""
    process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=ENV, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = process.stdout.readline().strip()
    assert line, process.stderr.read() if process.poll() is not None else "no output"
    return process, line


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process.stdout.close()
    process.stderr.close()


@pytest.mark.slow
def test_a_killed_client_gets_its_job_cancelled_and_the_backend_stays_healthy(start_server, connect):
    server = start_server(client_timeout=0.5)
    observer = connect(server)
    process, job_id = spawn(CLIENT, server.endpoint)
    try:
        while observer.status(job_id)["job"]["frames"] < 2:
            time.sleep(0.02)
    finally:
        kill(process)
    killed_at = time.monotonic()
    while observer.status(job_id)["job"]["state"] == "running":
        assert time.monotonic() - killed_at < 3.0, "the vanished client's job was not cancelled"
        time.sleep(0.05)
    assert observer.status(job_id)["job"]["state"] == "cancelled"
    job = observer.wait(observer.fetch(job_id), timeout=5)
    assert job.state == "cancelled" and "stopped responding" in job.messages[-1].content["reason"]
    fresh = observer.wait(observer.submit("count", {"frames": 3}), timeout=5)
    assert fresh.state == "finished" and len(fresh.frames) == 3


@pytest.mark.slow
def test_a_killed_backend_is_noticed_and_a_restarted_one_gives_back_the_finished_frames(tmp_path):
    jobs_dir = str(tmp_path / "jobs")
    process, endpoint = spawn(SERVER, "tcp://127.0.0.1:*", jobs_dir)
    client = Client(endpoint, dead_after=1.0)
    try:
        client.connect()
        job = client.submit("count", {"frames": 400, "delay": 0.02, "seed": 5})
        while len(job.frames) < 3:
            client.poll(0.1)
        kill(process)
        killed_at = time.monotonic()
        with pytest.raises(BackendGone, match=job.job_id):
            while True:
                client.poll(0.1)
        assert time.monotonic() - killed_at < 2.5 and job.state == "lost"
        received = job.frames
        outputs = tmp_path / "jobs" / job.job_id / "outputs"
        on_disk = sorted(outputs.glob("*-frame-image.npy"))
        assert len(on_disk) >= len(received)
        for path in on_disk[: len(received)]:
            index = int(path.name[:6])  # frame k is output k here (the count job streams nothing else)
            assert np.array_equal(np.load(path), received[index])

        process, _ = spawn(SERVER, endpoint, jobs_dir)
        client.connect(timeout=10)
        assert client.status(job.job_id)["job"]["state"] == "interrupted"
        again = client.wait(client.fetch(job.job_id), timeout=10)
        assert again.state == "failed" and again.error.code == p.INTERRUPTED
        assert len(again.frames) == len(on_disk)
        assert all(np.array_equal(again.frames[i], frame) for i, frame in received.items())
        fresh = client.wait(client.submit("count", {"frames": 2}), timeout=10)
        assert fresh.state == "finished"
    finally:
        client.close()
        kill(process)


@pytest.mark.slow
def test_a_quickly_restarted_backend_is_noticed_by_its_instance(tmp_path):
    process, endpoint = spawn(SERVER, "tcp://127.0.0.1:*", str(tmp_path / "jobs"))
    client = Client(endpoint, dead_after=30.0)
    try:
        client.connect()
        kill(process)
        process, _ = spawn(SERVER, endpoint, str(tmp_path / "jobs"))
        deadline = time.monotonic() + 10
        with pytest.raises(BackendGone, match="restarted"):
            while time.monotonic() < deadline:
                client.poll(0.1)
    finally:
        client.close()
        kill(process)


@pytest.mark.parametrize("endpoint, loopback", [
    ("tcp://127.0.0.1:5599", True), ("tcp://127.3.2.1:1", True), ("tcp://localhost:5599", True),
    ("tcp://[::1]:5599", True), ("ipc:///tmp/s2t.sock", True), ("inproc://x", True),
    ("tcp://0.0.0.0:5599", False), ("tcp://*:5599", False), ("tcp://eth0:5599", False),
    ("tcp://192.168.1.10:5599", False), ("tcp://gpu-box.example:5599", False), ("udp://127.0.0.1:1", False),
])  # fmt: skip
def test_only_loopback_binds_go_without_curve(endpoint, loopback):
    assert is_loopback(endpoint) is loopback
    if loopback:
        check_bind(endpoint, curve=False)
    else:
        with pytest.raises(ConfigError, match="s2t-backend keys"):
            check_bind(endpoint, curve=False)
        check_bind(endpoint, curve=True)


def test_the_command_refuses_an_open_bind_without_keys(tmp_path, capsys):
    assert main(["--bind", "tcp://0.0.0.0:5599", "--jobs-dir", str(tmp_path)]) == 2
    assert "refusing to bind tcp://0.0.0.0:5599 without CURVE" in capsys.readouterr().err


@pytest.mark.slow
def test_curve_keys_encrypt_and_admit_only_authorized_clients(tmp_path, capsys):
    keys, strangers = tmp_path / "keys", tmp_path / "strangers"
    assert main(["keys", str(keys)]) == 0 and main(["keys", str(strangers)]) == 0
    assert "server.key_secret" in capsys.readouterr().out
    assert main(["keys", str(keys)]) == 2  # never overwrites keys
    assert oct((keys / "client.key_secret").stat().st_mode)[-3:] == "600"
    (strangers / "server.key").write_bytes((keys / "server.key").read_bytes())  # knows the server, not authorized

    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=0.1,
                          curve_keys=keys)
    server = Server(config).start()
    try:
        with Client(server.endpoint, curve_keys=keys) as client:
            assert client.connect()["instance"] == server.instance
        for options in ({}, {"curve_keys": strangers}):
            with Client(server.endpoint, **options) as client:
                with pytest.raises(BackendGone, match="no reply"):
                    client.connect(timeout=0.5)
    finally:
        server.stop()


def test_curve_keys_must_be_complete(tmp_path):
    (tmp_path / "keys").mkdir()
    with pytest.raises(ConfigError, match="authorized_clients"):
        Server(ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", curve_keys=tmp_path / "keys"))
