"""The backend's neural renderer with a random-weight Style-A folder at 128 px (served from a thread)."""

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data
from synthetic_jobs import talking_sequence

from backend import protocol as p
from backend.client import BackendError
from backend.jobs import default_kinds
from backend.server import Server, ServerConfig, main
from s2t.face.rig import RIG_ID
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_a.neural.random_weights import tiny_config, write_random_style_a


@pytest.fixture(scope="module")
def style_a(tmp_path_factory):
    folder = tmp_path_factory.mktemp("style_a")
    write_random_style_a(folder, tiny_config(), model_id=RIG_ID, channel_names=ARKIT_52)
    return folder


def png_bytes(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def test_neural_is_listed_only_with_a_style_a_folder(style_a):
    assert not default_kinds()["render"].info()["renderers"]["neural"]["available"]
    assert "--style-a" in default_kinds()["render"].info()["renderers"]["neural"]["reason"]
    assert default_kinds(style_a=style_a)["render"].info()["renderers"]["neural"]["available"]


def test_a_style_a_folder_with_missing_files_stops_the_start(tmp_path, capsys):
    (tmp_path / "style_a.pt").write_bytes(b"")
    assert main(["--bind", "tcp://127.0.0.1:*", "--jobs-dir", str(tmp_path / "jobs"), "--style-a", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "generator.pt" in error and "encoder.pt" in error


@pytest.mark.slow
def test_neural_render_streams_two_frames(style_a, tmp_path, connect):
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=0.1,
                          client_timeout=5.0, style_a=style_a)
    server = Server(config).start()
    try:
        client = connect(server)
        assert client.server["jobs"]["render"]["renderers"]["neural"]["available"]
        photo = png_bytes(data.astronaut())
        with pytest.raises(BackendError, match="art picture") as info:
            client.submit_render(talking_sequence(4), photo=photo, art_preset="cel", renderer="neural")
        assert info.value.code == p.BAD_INPUT
        job = client.wait(client.submit_render(talking_sequence(4), photo=photo, renderer="neural", size=64,
                                               frames=(1, 3)), timeout=60)
        assert job.state == "finished", job.error
        assert job.info["renderer"] == "neural" and sorted(job.frames) == [1, 2]
        images = [np.asarray(Image.open(io.BytesIO(png))) for png in job.frames.values()]
        assert all(image.shape == (64, 64, 3) for image in images)
        assert all(m.content["renderer"] == "neural" for m in job.messages if m.type == "frame")
    finally:
        server.stop()
