"""What one job may ask for, and how the backend says no (issue 17): long audio, huge renders,
absurd coefficients, unused buffers, decompression bombs, a full disk, key permissions,
jobs an earlier backend left unfinished, and the stages a job reports."""

import errno
import json
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import zmq.auth
from synthetic_jobs import talking_sequence

import backend.store
from backend import protocol as p
from backend.client import BackendError
from backend.jobs import JobLimits
from backend.security import make_keys
from backend.server import _serve_parser, config_from_args
from backend.store import JobStore

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py


def wav_bytes(tmp_path: Path, seconds: float) -> bytes:
    path = tmp_path / "speech.wav"
    sf.write(path, 0.1 * np.sin(np.arange(int(16000 * seconds)) * 0.05), 16000)
    return path.read_bytes()


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG that claims ``width x height`` pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(4096)))


def job_folders(server) -> list[str]:
    return sorted(path.name for path in server.store.root.iterdir())


def test_speech_over_the_length_limit_is_refused_before_it_is_decoded(start_server, connect, tmp_path):
    client = connect(start_server(job_limits=JobLimits(max_audio_seconds=2.0)))
    job = client.wait(client.submit_coefficients(wav_bytes(tmp_path, 3.0), "calm"), timeout=30)
    assert job.state == "failed" and job.error.code == p.BAD_INPUT
    assert "the audio lasts 3.0 s; the limit is 2.0 s (--max-audio-minutes raises it)" in job.error.message
    assert [m.content["stage"] for m in job.messages if m.type == p.PROGRESS] == ["reading the audio"]
    garbage = client.wait(client.submit_coefficients(b"RIFF but not a sound", "calm"), timeout=30)
    assert garbage.error.code == p.BAD_INPUT
    assert garbage.error.message == ("cannot read the audio: Invalid data found when processing input "
                                     "(is it a sound file?)")


@pytest.mark.parametrize("value", [1e30, np.inf, np.nan, -2000.0])
def test_absurd_coefficients_are_bad_input_at_submit(start_server, connect, value):
    client = connect(start_server())
    take = talking_sequence(4)
    fields, buffers = p.pack_coefficients(take)
    buffers["pose"][2, 1] = value
    with pytest.raises(BackendError, match=r"pose must be finite numbers within \+-1000; frame 2") as info:
        client.submit("render", {"coefficients": fields}, buffers)
    assert info.value.code == p.BAD_INPUT


def test_renders_over_the_frame_and_disk_limits_and_unknown_buffers_are_refused_without_a_folder(start_server,
                                                                                                  connect):
    server = start_server(job_limits=JobLimits(max_frames=6, max_disk_bytes=1 << 20))
    client = connect(server)
    assert client.server["job_limits"] == {"max_audio_seconds": 1800.0, "max_frames": 6, "max_disk_bytes": 1 << 20}
    with pytest.raises(BackendError, match="8 frames asked for; this backend renders at most 6") as info:
        client.submit_render(talking_sequence(8))
    assert info.value.code == p.BAD_INPUT
    with pytest.raises(BackendError, match="4 frames at 1024 px would take about 12 MiB in the job folder; "
                                           "this backend allows 1 MiB") as info:
        client.submit_render(talking_sequence(4), size=1024, encoding="raw")
    assert info.value.code == p.BAD_INPUT
    fields, buffers = p.pack_coefficients(talking_sequence(2))
    with pytest.raises(BackendError, match="takes the buffers expression, pose, photo, art; not 'junk'") as info:
        client.submit("render", {"coefficients": fields}, {**buffers, "junk": bytes(1000)})
    assert info.value.code == p.BAD_INPUT
    assert job_folders(server) == []


def test_a_disk_too_full_for_the_job_is_no_space_and_leaves_no_folder(start_server, connect, monkeypatch):
    server = start_server(disk_reserve=1 << 62)
    client = connect(server)
    with pytest.raises(BackendError, match="disk has .* free and keeps") as info:
        client.submit_render(talking_sequence(2))
    assert info.value.code == p.NO_SPACE
    server.config.disk_reserve = 0

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backend.store, "_write_buffer", full)  # the disk fills while the inputs are saved
    with pytest.raises(BackendError, match="disk is full") as info:
        client.submit_render(talking_sequence(2))
    assert info.value.code == p.NO_SPACE and job_folders(server) == []
    monkeypatch.setattr(backend.store.JobStore, "write_output", full)  # ... or while the job stores its frames
    job = client.wait(client.submit("count", {"frames": 3}), timeout=10)
    assert job.state == "failed" and job.error.code == p.NO_SPACE and "disk is full" in job.error.message


@pytest.mark.slow
def test_a_decompression_bomb_photo_is_refused_before_decoding(start_server, connect):
    client = connect(start_server())
    job = client.wait(client.submit_fit(png_header(12000, 12000)), timeout=30)
    assert job.state == "failed" and job.error.code == p.BAD_INPUT
    assert "the photo is 12000x12000 pixels; only JPEG photos over 40 megapixels can be read" in job.error.message


def test_jobs_an_earlier_backend_left_unfinished_are_recorded_interrupted_and_pruned(tmp_path, start_server, connect):
    store = JobStore(tmp_path / "jobs")
    running, old = "a" * 32, "b" * 32
    store.create(running, {"kind": "count", "state": "running"}, {})
    store.create(old, {"kind": "count", "state": "queued"}, {})
    week_ago = os.path.getmtime(store.root / old / "job.json") - 8 * 86400
    for path in (store.root / old / "job.json", store.root / old / "outputs"):
        os.utime(path, (week_ago, week_ago))
    client = connect(start_server(keep_days=7))
    manifest = json.loads((store.root / running / "job.json").read_text())
    assert manifest["state"] == "interrupted" and manifest["error"]["code"] == p.INTERRUPTED
    assert client.cancel(running)["state"] == "interrupted" == client.status(running)["job"]["state"]
    assert not (store.root / old).exists()  # unfinished for 8 days: deleted like any old job


def test_keys_are_private_from_the_start_even_under_umask_000(tmp_path, monkeypatch):
    created_modes = []
    create = zmq.auth.create_certificates

    def spy(folder, name):
        public, secret = create(folder, name)
        created_modes.append(stat.S_IMODE(os.stat(secret).st_mode))
        return public, secret

    monkeypatch.setattr(zmq.auth, "create_certificates", spy)
    old = os.umask(0)
    try:
        paths = make_keys(tmp_path / "keys")
    finally:
        os.umask(old)
    assert created_modes == [0o600, 0o600]
    assert stat.S_IMODE(paths["authorized"].stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE(paths["server_public"].stat().st_mode) == 0o644


def test_the_rig_job_reports_its_stages(start_server, connect):
    client = connect(start_server())
    rig = client.wait(client.submit_rig(), timeout=60)
    stages = [(m.content["stage"], m.content["done"], m.content["total"]) for m in rig.messages if m.type == p.PROGRESS]
    assert rig.state == "finished" and stages == [("loading the face model", 0, 1)]


def test_the_command_takes_the_job_limits(tmp_path):
    args = _serve_parser().parse_args(["--max-audio-minutes", "5", "--max-job-frames", "100", "--max-job-gb", "0.5"])
    assert config_from_args(args).job_limits == JobLimits(300.0, 100, 1 << 29)
    assert config_from_args(_serve_parser().parse_args([])).job_limits == JobLimits(1800.0, 45000, 20 << 30)


def test_a_decoding_error_reads_plainly(tmp_path):
    from backend.jobs.base import user_file_error
    from s2t.audio import load_audio
    from s2t.video import MediaError

    path = tmp_path / "inputs" / "audio.wav"
    path.parent.mkdir()
    path.write_bytes(np.random.default_rng(0).bytes(4000))  # not a sound file
    with pytest.raises(MediaError) as info:
        load_audio(path)
    assert "Errno" not in str(info.value)
    assert user_file_error(info.value, path, "the audio").message == \
        "cannot decode the audio: Invalid data found when processing input (is it a sound file?)"
