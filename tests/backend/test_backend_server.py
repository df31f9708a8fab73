"""The backend over real sockets on loopback, served from a thread of the test process."""

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from PIL import Image
from skimage import data
from synthetic_jobs import ENDED, PRODUCED, expected_frame, talking_sequence

import s2t
from backend import protocol as p
from backend.client import BackendError, Client
from s2t.face import CoeffSequence


@pytest.fixture(scope="module")
def take():
    return talking_sequence(8)


def raw_socket(server) -> zmq.Socket:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(server.endpoint)
    return sock


def exchange(sock: zmq.Socket, frames: list, timeout: float = 2.0) -> p.Message:
    sock.send_multipart(frames)
    assert sock.poll(timeout * 1000), "no reply: the backend hung or dropped the message"
    return p.deserialize(sock.recv_multipart())


def test_hello_describes_the_backend_and_status_answers(start_server, connect):
    server = start_server()
    client = connect(server)
    assert client.server["protocol"] == list(p.PROTOCOL_VERSION)
    jobs = client.server["jobs"]
    assert jobs["fit"]["available"] and jobs["render"]["available"]
    assert jobs["coefficients"]["available"] and "Style-E" in jobs["coefficients"]["description"]
    renderers = jobs["render"]["renderers"]
    assert renderers["cpu"]["available"] and renderers["rig-preview"]["available"]
    assert not renderers["neural"]["available"] and "--style-a" in renderers["neural"]["reason"]
    assert "cel" in jobs["render"]["art_presets"]
    status = client.status()
    assert status["server"]["instance"] == client.server["instance"] and status["server"]["queued"] == 0


@pytest.mark.slow
def test_render_round_trip_streams_frames_and_keeps_them_on_disk(start_server, connect, take):
    server = start_server()
    client = connect(server)
    job = client.submit_render(take, size=64, frames=(2, 6))
    assert job.info["renderer"] == "rig-preview" and job.info["frames"] == 4 and "ignores" in job.info["renderer_note"]
    arrivals = []
    for message in client.stream(job):
        arrivals.append((message.type, time.monotonic()))
    assert job.state == "finished" and [t for t, _ in arrivals][-1] == "done"
    frame_times = [t for kind, t in arrivals if kind == "frame"]
    assert frame_times[0] < frame_times[-1] - 0.05  # streamed as produced, not all at the end
    assert sorted(job.frames) == [2, 3, 4, 5]
    images = {i: np.asarray(Image.open(io.BytesIO(png))) for i, png in job.frames.items()}
    assert all(image.shape == (64, 64, 3) for image in images.values())
    assert not np.array_equal(images[2], images[5])  # the face moves
    folder = server.config.jobs_dir / job.job_id / "outputs"
    assert sorted(f.read_bytes() for f in folder.glob("*-frame-image.png")) == sorted(job.frames.values())
    status = client.status(job.job_id)["job"]
    assert status["state"] == "finished" and status["frames"] == 4
    again = client.wait(client.fetch(job.job_id), timeout=5)
    assert again.state == "finished" and again.frames == job.frames


def test_fit_round_trip_returns_pose_identity_and_expression(start_server, connect):
    server = start_server()
    client = connect(server)
    photo = io.BytesIO()
    Image.fromarray(data.astronaut()).save(photo, format="PNG")
    job = client.wait(client.submit_fit(photo.getvalue()), timeout=30)
    assert job.state == "finished", job.error
    fit = job.coefficients
    assert fit["model_id"] == "s2t-arkit52" and fit["expression"].shape == (1, 52) and fit["pose"].shape == (1, 6)
    assert len(fit["metadata"]["identity"]) == 16 and fit["metadata"]["fit_rms_px"] < 10
    bad = client.wait(client.submit_fit(b"GIF89a but not really"), timeout=10)
    assert bad.state == "failed" and bad.error.code == p.BAD_INPUT and "the photo" in bad.error.message
    assert str(server.config.jobs_dir) not in bad.error.message  # server paths stay private


def test_rig_job_sends_the_mesh_and_with_a_photo_its_shape_and_texture_coordinates(start_server, connect):
    client = connect(start_server())
    plain = client.wait(client.submit_rig(), timeout=60)
    assert plain.state == "finished", plain.error
    rig = next(m for m in plain.messages if m.type == p.RIG)
    vertices, basis = rig.buffers["vertices"], rig.buffers["expression_basis"]
    assert vertices.shape == (10845, 3) and basis.shape == (52, 10845, 3) and "uv" not in rig.buffers
    assert rig.content["channel_names"][:2] == ["eyeBlinkLeft", "eyeLookDownLeft"] and rig.content["units"] == "m"
    assert rig.buffers["triangles"].max() == 10844
    photo = io.BytesIO()
    Image.fromarray(data.astronaut()).save(photo, format="PNG")
    fitted = client.wait(client.submit_rig(photo.getvalue()), timeout=60)
    shaped = next(m for m in fitted.messages if m.type == p.RIG)
    uv = shaped.buffers["uv"]
    assert uv.shape == (10845, 2) and len(shaped.content["metadata"]["identity"]) == 16
    assert not np.allclose(shaped.buffers["vertices"], vertices)  # the astronaut's face shape is baked in
    # the face lies in the photo's upper middle (the astronaut's face is around x 0.35-0.5, y 0.15-0.4 from the top)
    face = uv[np.abs(vertices[:, 0]) < 0.03]
    assert 0.25 < np.median(face[:, 0]) < 0.6 and 0.55 < np.median(face[:, 1]) < 0.9


def test_unavailable_and_bad_requests_are_clear_errors(start_server, connect, take):
    client = connect(start_server())
    with pytest.raises(BackendError, match="neural renderer") as info:
        client.submit_render(take, renderer="neural")
    assert info.value.code == p.NOT_AVAILABLE
    for kwargs in ({"size": 5000}, {"frames": (3, 99)}, {"encoding": "jpeg"}, {"renderer": "magic"},
                   {"renderer": "cpu"}):  # the cpu renderer needs a photo
        with pytest.raises(BackendError) as info:
            client.submit_render(take, **kwargs)
        assert info.value.code == p.BAD_INPUT
    with pytest.raises(BackendError, match="runs fit, rig, render") as info:
        client.submit("teleport")
    with pytest.raises(BackendError, match="s2t-arkit52"):
        client.submit_render(take.__class__("bfm", 25, ("exp00",), np.zeros((2, 1)), np.zeros((2, 6))))
    for job_id in ("0" * 32, "..", "nope"):
        with pytest.raises(BackendError) as info:
            client.fetch(job_id)
        assert info.value.code == p.UNKNOWN_JOB
    assert client.status()["server"]["queued"] == 0


@pytest.mark.slow
def test_eight_concurrent_clients_each_get_their_own_correct_outputs(start_server, take):
    server = start_server(workers=2)
    failures, results = [], {}

    def one_client(k: int) -> None:
        try:
            with Client(server.endpoint, dead_after=5) as client:
                client.connect()
                jobs = [client.submit("count", {"frames": 4, "delay": 0.005, "seed": 10 * k + j}) for j in range(3)]
                jobs.append(client.submit_render(take, size=32, frames=(k % 6, k % 6 + 2), encoding="raw"))
                for job in jobs:
                    client.wait(job, timeout=30)
                results[k] = jobs
        except Exception as exc:  # reported below, with the client's number
            failures.append((k, repr(exc)))

    threads = [threading.Thread(target=one_client, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    for k, jobs in results.items():
        for j, job in enumerate(jobs[:3]):
            assert job.state == "finished"
            frames = job.frames
            assert sorted(frames) == [0, 1, 2, 3]
            assert all(np.array_equal(frames[i], expected_frame(10 * k + j, i)) for i in frames)
        render = jobs[3]
        assert render.state == "finished" and sorted(render.frames) == [k % 6, k % 6 + 1]
        assert all(f.shape == (32, 32, 3) and f.dtype == np.uint8 for f in render.frames.values())
    # the same frame rendered for different clients is identical
    by_index = {}
    for jobs in results.values():
        for index, frame in jobs[3].frames.items():
            assert np.array_equal(by_index.setdefault(index, frame), frame)


def test_cancel_stops_a_running_job_within_a_frame(start_server, connect):
    client = connect(start_server())
    job = client.submit("count", {"frames": 500, "delay": 0.02})
    while len(job.frames) < 3:
        client.poll(0.1)
    cancelled_at = time.monotonic()
    assert client.cancel(job)["state"] == "running"
    client.wait(job, timeout=5)
    assert job.state == "cancelled" and time.monotonic() - cancelled_at < 1.0
    assert "cancelled by a client" in job.messages[-1].content["reason"]
    deadline = time.monotonic() + 5  # running on, the job would make its 500 frames in 10 s
    while job.job_id not in ENDED:  # the worker really stopped: it closed the job's generator
        assert time.monotonic() < deadline, "the cancelled job's generator never ended"
        time.sleep(0.01)
    assert PRODUCED[job.job_id] <= len(job.frames) + 1
    assert client.status(job.job_id)["job"]["state"] == "cancelled"


@pytest.mark.slow
def test_cancel_a_queued_job_before_it_runs(start_server, connect):
    client = connect(start_server(workers=1))
    busy = client.submit("count", {"frames": 20, "delay": 0.02})
    queued = client.submit("count", {"frames": 5})
    assert queued.info["queue_position"] >= 1
    client.cancel(queued)
    client.wait(queued, timeout=5)
    assert queued.state == "cancelled" and not queued.frames and queued.job_id not in PRODUCED
    client.cancel(busy)
    client.wait(busy, timeout=5)


def test_a_full_queue_answers_busy(start_server, connect):
    client = connect(start_server(workers=1, max_queued=1))
    running = client.submit("count", {"frames": 50, "delay": 0.02})
    while running.state != "running":
        client.poll(0.05)
    client.submit("count", {"frames": 1})
    with pytest.raises(BackendError) as info:
        client.submit("count", {"frames": 1})
    assert info.value.code == p.BUSY
    client.cancel(running)


def test_wrong_version_and_oversized_frames_get_error_replies(start_server, connect):
    server = start_server(limits=p.Limits(max_buffer_bytes=1 << 20))
    sock = raw_socket(server)
    old = p.serialize(p.Message("hello_request", request_id="r1", version=(p.PROTOCOL_VERSION[0] + 1, 0)))
    reply = exchange(sock, old)
    assert reply.type == p.ERROR and reply.content["code"] == p.VERSION_MISMATCH and reply.request_id == "r1"
    assert "update the client or the backend" in reply.content["message"]
    big = p.make_message("submit_request", {"kind": "fit"}, {"photo": b"x" * ((1 << 20) + 1)}, request_id="r2")
    reply = exchange(sock, p.serialize(big))
    assert reply.content["code"] == p.TOO_LARGE and reply.request_id == "r2"
    sock.close()
    client = connect(server)
    assert client.status()["server"]["instance"] == server.instance
    with pytest.raises(BackendError, match="accepts at most") as info:  # checked before sending
        client.submit_fit(b"x" * (3 << 20))
    assert info.value.code == p.TOO_LARGE


@pytest.mark.slow
def test_fuzzed_messages_all_get_answers_and_the_backend_keeps_working(start_server, connect, take):
    """A bounded loop of random and half-valid messages; each must be answered within 2 s."""
    import json
    import random

    rng = random.Random(1234)
    server = start_server(limits=p.Limits(max_buffer_bytes=1 << 16, max_buffers=4))
    sock = raw_socket(server)
    types = [*p.REQUEST_TYPES, "frame", "done", "", "x" * 70, "submit_request"]

    def random_json():
        return rng.choice([None, True, -1, 2**70, 1.5, "s", "../../etc/passwd", [1, "a"], {"k": [None]}, {}])

    def random_descriptor(buffer: bytes) -> dict:
        array = rng.choice([{}, {"dtype": "<f4", "shape": [len(buffer) // 4]}, {"dtype": "<f4", "shape": [9]}])
        return {"name": rng.choice(["photo", "expression", "pose", "a b"]), "nbytes": len(buffer), **array}

    def fuzz_message() -> list[bytes]:
        choice = rng.randrange(6)
        if choice == 0:  # noise
            return [rng.randbytes(rng.randrange(0, 200)) for _ in range(rng.randrange(1, 4))]
        if choice == 1:  # JSON, but not a header
            return [json.dumps(random_json()).encode()]
        header = {"version": list(p.PROTOCOL_VERSION), "type": rng.choice(types),
                  "request_id": f"f{rng.randrange(9999)}",
                  "job_id": rng.choice([None, "0" * 32, "..", "x" * 80]),
                  "content": {"kind": rng.choice(["fit", "render", "coefficients", "count", "nope", 3]),
                              "params": rng.choice([{}, [], {"size": random_json(), "frames": random_json(),
                                                             "coefficients": random_json()}])}}
        buffers = [rng.randbytes(rng.randrange(0, 64)) for _ in range(rng.randrange(0, 3))]
        header["buffers"] = [random_descriptor(b) for b in buffers]
        if choice == 3:  # a wrong version
            header["version"] = rng.choice([[0, 1], [2, 0], "1", None])
        if choice == 4:  # truncated: drop a frame
            buffers = buffers[:-1] or [b"extra"]
        if choice == 5 and rng.random() < 0.3:  # oversized
            buffers.append(b"\0" * ((1 << 16) + 1))
        return [json.dumps(header).encode(), *buffers]

    started = time.monotonic()
    for _ in range(300):
        reply = exchange(sock, fuzz_message())
        assert reply.type in (p.ERROR, p.HEARTBEAT, p.HELLO_REPLY, p.STATUS_REPLY, p.SUBMIT_REPLY)
    assert time.monotonic() - started < 20
    sock.close()
    client = connect(server)
    job = client.wait(client.submit_render(take, size=32, frames=(0, 2)), timeout=20)
    assert job.state == "finished" and len(job.frames) == 2


def png_bytes(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.slow
def test_cpu_renderer_round_trip_with_an_art_preset_and_an_art_picture(start_server, connect, take):
    client = connect(start_server())
    photo = png_bytes(data.astronaut())
    for options in ({"art_preset": "velvet"}, {"art_strength": 2}, {"art_preset": "cel", "art": photo}):
        with pytest.raises(BackendError, match="art_") as info:
            client.submit_render(take, photo=photo, **options)
        assert info.value.code == p.BAD_INPUT
    preset = client.submit_render(take, photo=photo, art_preset="cel", size=64, frames=(0, 3))
    picture = client.submit_render(take, photo=photo, art=png_bytes(data.coffee()), art_strength=0.7, size=64,
                                   frames=(3, 5))
    for job, indices in ((preset, [0, 1, 2]), (picture, [3, 4])):
        client.wait(job, timeout=60)
        assert job.state == "finished", job.error
        assert job.info["renderer"] == "cpu" and sorted(job.frames) == indices
        images = [np.asarray(Image.open(io.BytesIO(png))) for png in job.frames.values()]
        assert all(image.shape == (64, 64, 3) for image in images) and all(image.std() > 10 for image in images)
        assert all(m.content["renderer"] == "cpu" for m in job.messages if m.type == "frame")
    bad = client.wait(client.submit_render(take, size=64, frames=(0, 1), photo=b"not an image at all"), timeout=20)
    assert bad.state == "failed" and bad.error.code == p.BAD_INPUT and "the photo" in bad.error.message


def test_stopping_the_backend_cancels_running_jobs_and_says_so(start_server, connect):
    server = start_server()
    client = connect(server)
    job = client.submit("count", {"frames": 500, "delay": 0.02})
    while not job.frames:
        client.poll(0.05)
    server.stop()
    assert not server._thread.is_alive()
    client.wait(job, timeout=5)
    assert job.state == "cancelled" and "shutting down" in job.messages[-1].content["reason"]


@pytest.mark.slow
def test_a_client_busy_for_a_while_does_not_blame_the_backend(start_server, connect):
    client = connect(start_server(), dead_after=0.5)
    time.sleep(0.8)  # e.g. Blender busy writing keyframes: no polls, no heartbeats
    for _ in range(6):
        client.poll(0.1)
    assert client.status()["server"]["running"] == 0


@pytest.mark.slow
def test_style_e_coefficients_then_a_render_of_them(start_server, connect):
    """The product's path: speech + emotion text + photo -> coefficients -> stylised frames."""
    client = connect(start_server())
    speech = (Path(s2t.__file__).parent / "assets" / "samples" / "speech.wav").read_bytes()
    photo = png_bytes(data.astronaut())
    for params, buffers in (({"text": "joy"}, {"audio": b""}), ({"text": " "}, {"audio": speech}),
                            ({"text": "joy", "strength": -1}, {"audio": speech})):
        with pytest.raises(BackendError) as info:
            client.submit("coefficients", params, buffers)
        assert info.value.code == p.BAD_INPUT
    job = client.wait(client.submit_coefficients(speech, "He is joyful, pulling up the lip corners", photo, seed=3),
                      timeout=60)
    assert job.state == "finished", job.error
    take = job.coefficients
    assert take["model_id"] == "s2t-arkit52" and take["fps"] == 25 and take["expression"].shape[1] == 52
    assert 150 < len(take["expression"]) < 250  # the sample is 7.9 s of speech
    assert take["expression"][:, take["channel_names"].index("jawOpen")].std() > 0.02  # the jaw moves
    assert take["metadata"]["emotion"].startswith("He is joyful") and len(take["metadata"]["identity"]) == 16
    assert take["metadata"]["audio"] == "sent to the backend"
    frames = client.wait(client.submit_render(CoeffSequence(**take), photo=photo, art_preset="comic", size=64,
                                              frames=(40, 42)), timeout=60)
    assert frames.state == "finished" and sorted(frames.frames) == [40, 41]
    bad = client.wait(client.submit_coefficients(b"RIFF but not a sound", "calm"), timeout=30)
    assert bad.state == "failed" and bad.error.code == p.BAD_INPUT and "the audio" in bad.error.message
