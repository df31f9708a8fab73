import sys
from pathlib import Path

import pytest

from backend.client import Client
from backend.jobs import default_kinds
from backend.server import Server, ServerConfig

sys.path.insert(0, str(Path(__file__).parent))
import synthetic_jobs  # noqa: E402

HEARTBEAT = 0.1


@pytest.fixture
def start_server(tmp_path):
    """Start a backend on a free loopback port, in a thread, with the synthetic ``count`` job kind."""
    servers = []

    def start(**options) -> Server:
        config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=HEARTBEAT,
                              client_timeout=options.pop("client_timeout", 2.0), **options)
        server = Server(config, {**default_kinds(limits=config.job_limits), **synthetic_jobs.KINDS}).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def connect():
    """Connected clients, closed at the end of the test."""
    clients = []

    def make(server: Server, **options) -> Client:
        client = Client(server.endpoint, dead_after=options.pop("dead_after", 2.0), **options)
        client.connect()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()

