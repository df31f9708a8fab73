"""The backend's memory stays bounded however clients read: peak RSS of a backend subprocess.

A client that heartbeats but never reads, and repeated fetches of a long job, used to keep
every frame in the backend's memory (issue 17); now each client costs at most
``SEND_QUEUE`` messages and replays are read from disk one message at a time.
"""

import time
from pathlib import Path

import pytest
import zmq

from backend import protocol as p
from backend.client import Client
from backend.delivery import Delivery
from test_backend_faults import kill, spawn

FRAMES, SIZE = 150, 512  # 118 MB of raw frames
FRAME_BYTES = SIZE * SIZE * 3
BOUND = 50 << 20  # the old backend grew by all 118 MB; SEND_QUEUE frames are 12.6 MB


def memory(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {key: int(fields[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}


def reset_peak(pid: int) -> int:
    """Start counting the peak RSS from now (Linux: clear_refs 5); returns the RSS now."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return memory(pid)["VmRSS"]


class RawClient:
    """A DEALER that sends what it is told and reads only when asked (a minimal receive queue)."""

    def __init__(self, endpoint: str):
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.RCVHWM, 1)
        self.socket.setsockopt(zmq.RCVBUF, 65536)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)

    def send(self, msg_type: str, content: dict | None = None, job_id: str | None = None) -> None:
        self.socket.send_multipart(p.serialize(p.make_message(msg_type, content, job_id=job_id,
                                                              request_id=p.new_id())))

    def receive(self, timeout: float = 10.0) -> p.Message:
        assert self.socket.poll(timeout * 1000), "no message within the timeout"
        return p.deserialize(self.socket.recv_multipart())

    def job_stream(self, job_id: str) -> list[p.Message]:
        """The job's stored messages as they arrive, up to its final one (replies skipped)."""
        messages, beat = [], time.monotonic()
        while True:
            if time.monotonic() - beat > 0.2:  # a backend forgets clients silent for its client_timeout
                self.send(p.HEARTBEAT)
                beat = time.monotonic()
            message = self.receive()
            if message.job_id == job_id and message.type in (p.FRAME, p.DONE, p.ERROR, p.CANCELLED):
                messages.append(message)
                if message.type in p.FINAL_TYPES:
                    return messages

    def close(self) -> None:
        self.socket.close(0)


def check_frames(messages: list[p.Message]) -> None:
    frames = [m for m in messages if m.type == p.FRAME]
    assert [m.content["index"] for m in frames] == list(range(FRAMES)) and messages[-1].type == p.DONE
    for m in frames[:: FRAMES // 7]:
        image = m.buffers["image"]
        assert image.shape == (SIZE, SIZE, 3) and image[0, 0, 0] == m.content["index"] % 256


@pytest.mark.slow
def test_a_client_that_never_reads_costs_the_backend_a_bounded_queue_then_gets_everything(tmp_path):
    process, endpoint = spawn(SERVER_WITH_LARGE_FRAMES, "tcp://127.0.0.1:*", str(tmp_path / "jobs"))
    stalled, observer = RawClient(endpoint), Client(endpoint)
    try:
        observer.connect()
        stalled.send(p.HELLO_REQUEST)
        before = reset_peak(process.pid)
        stalled.send(p.SUBMIT_REQUEST, {"kind": "large", "params": {"frames": FRAMES, "size": SIZE}})
        while (reply := stalled.receive()).type != p.SUBMIT_REPLY:  # the hello_reply comes first
            pass
        job_id = reply.job_id
        deadline = time.monotonic() + 60
        while observer.status(job_id)["job"]["state"] != "finished":  # heartbeats, never reading
            assert time.monotonic() < deadline, "the job did not finish"
            stalled.send(p.HEARTBEAT)
            time.sleep(0.1)
        growth = memory(process.pid)["VmHWM"] - before
        assert growth < BOUND, f"the backend grew by {growth / 2**20:.0f} MiB for a client that does not read"
        check_frames(stalled.job_stream(job_id))  # reading now: every frame, in order, from the queue and disk

        fetcher = RawClient(endpoint)
        try:
            fetcher.send(p.HELLO_REQUEST)
            before = reset_peak(process.pid)
            for _ in range(4):
                fetcher.send(p.FETCH_REQUEST, job_id=job_id)
            for _ in range(4):
                check_frames(fetcher.job_stream(job_id))
            growth = memory(process.pid)["VmHWM"] - before
            assert growth < BOUND, f"four fetches grew the backend by {growth / 2**20:.0f} MiB"
        finally:
            fetcher.close()
    finally:
        stalled.close()
        observer.close()
        kill(process)


SERVER_WITH_LARGE_FRAMES = """
import sys
from backend.server import Server, ServerConfig
import synthetic_jobs
config = ServerConfig(bind=sys.argv[1], jobs_dir=sys.argv[2], heartbeat_interval=0.1, client_timeout=2.0)
server = Server(config, synthetic_jobs.KINDS)
print(server.endpoint, flush=True)
server.serve_forever()
"""



@pytest.mark.slow
def test_a_client_that_falls_behind_mid_job_catches_up_from_disk_then_follows_live(start_server, monkeypatch):
    fed_from = []
    start_feed = Delivery.start_feed
    monkeypatch.setattr(Delivery, "start_feed", lambda self, *args, **kw: fed_from.append(args[2]) or
                        start_feed(self, *args, **kw))
    server = start_server()
    client = RawClient(server.endpoint)
    try:
        client.send(p.HELLO_REQUEST)
        client.send(p.SUBMIT_REQUEST, {"kind": "large", "params": {"frames": 60, "size": SIZE, "delay": 0.02}})
        deadline = time.monotonic() + 30
        while not fed_from:  # not reading while frames are made: the queue fills, the rest waits on disk
            assert time.monotonic() < deadline, "the client that does not read never fell behind"
            time.sleep(0.01)
        stream = client.job_stream(next(m for m in iter(client.receive, None) if m.type == p.SUBMIT_REPLY).job_id)
        assert [m.content["index"] for m in stream if m.type == p.FRAME] == list(range(60))
        assert stream[-1].type == p.DONE and [m.content["seq"] for m in stream] == list(range(61))
        assert fed_from and 0 < fed_from[0] < 60  # it did fall behind, and not from the start
    finally:
        client.close()
