"""``s2t batch SHOTS.csv --backend``: many shots on a real s2t-backend on loopback, resumable."""

import csv
import wave

import av
import numpy as np
import pytest
from PIL import Image
from skimage import data

from backend.jobs import default_kinds
from backend.server import Server, ServerConfig
from s2t.cli import main


@pytest.fixture
def backend(tmp_path):
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=0.2)
    server = Server(config, default_kinds()).start()
    yield server
    server.stop()


def _speech(path, seconds: float):
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    signal = np.sign(np.sin(2 * np.pi * 120 * t)) * np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * 0.3
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(rate)
        f.writeframes((signal * 32767).astype("<i2").tobytes())


@pytest.fixture
def shots(tmp_path):
    """Two shots with paths relative to the CSV; the second has no art."""
    Image.fromarray(data.astronaut()).save(tmp_path / "photo.png")
    _speech(tmp_path / "a.wav", 0.4)
    _speech(tmp_path / "b.wav", 0.6)
    path = tmp_path / "shots.csv"
    path.write_text("photo,audio,emotion,art,size,output\n"
                    "photo.png,a.wav,She is smiling happily.,cel,64,out/a.mp4\n"
                    "photo.png,b.wav,He looks sad.,,64,out/b.mp4\n")
    return path


def _frames(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _results(path) -> dict[str, str]:
    with open(path, newline="") as f:
        return {row["output"].rsplit("/", 1)[-1]: row["status"] for row in csv.DictReader(f)}


@pytest.mark.slow  # Style-E and two photo fits per shot: about 15 s on two idle cores
def test_batch_renders_every_shot_then_resumes_with_only_what_is_left(tmp_path, backend, shots, capsys):
    assert main(["batch", str(shots), "--backend", backend.endpoint, "--quiet"]) == 0
    a, b = tmp_path / "out" / "a.mp4", tmp_path / "out" / "b.mp4"
    assert (_frames(a), _frames(b)) == (10, 15)  # 0.4 s and 0.6 s at 25 fps
    assert _results(tmp_path / "shots.results.csv") == {"a.mp4": "done", "b.mp4": "done"}
    assert "2 done, 0 skipped" in capsys.readouterr().err

    b.unlink()  # as if the first run had been interrupted during shot b
    finished = a.stat().st_mtime_ns
    jobs_before = len(list((tmp_path / "jobs").iterdir()))
    assert main(["batch", str(shots), "--backend", backend.endpoint, "--quiet"]) == 0
    assert a.stat().st_mtime_ns == finished and _frames(b) == 15
    assert _results(tmp_path / "shots.results.csv") == {"a.mp4": "skipped", "b.mp4": "done"}
    assert len(list((tmp_path / "jobs").iterdir())) == jobs_before + 2  # only shot b ran again (coefficients, render)


@pytest.mark.slow
def test_a_failed_shot_is_reported_and_the_others_still_render(tmp_path, backend, shots, capsys):
    (tmp_path / "a.wav").write_bytes(b"RIFF but not a wav file")
    assert main(["batch", str(shots), "--backend", backend.endpoint, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "1 of 2 shots failed" in err and "Traceback" not in err
    assert _results(tmp_path / "shots.results.csv") == {"a.mp4": "failed", "b.mp4": "done"}
    assert not (tmp_path / "out" / "a.mp4").exists() and (tmp_path / "out" / "b.mp4").exists()


@pytest.mark.parametrize("text, expected", [
    ("photo,audio,output\nphoto.png,a.wav,x.mp4\n", "lacks the column(s) emotion"),
    ("photo,audio,emotion,output\nmissing.png,a.wav,calm,x.mp4\n", "line 2: no photo file"),
    ("photo,audio,emotion,size,output\nphoto.png,a.wav,calm,2048,x.mp4\n", "line 2: size must be"),
    ("photo,audio,emotion,output\nphoto.png,a.wav,calm,x.mp4\nphoto.png,a.wav,sad,x.mp4\n", "the same output"),
    ("photo,audio,emotion,output\nphoto.png,a.wav,calm,x.mov\n", "must be an .mp4"),
])
def test_a_bad_shot_list_is_one_line_before_anything_runs(tmp_path, shots, capsys, text, expected):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    assert main(["batch", str(bad), "--backend", "tcp://127.0.0.1:1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("s2t: error:") and expected in err and err.count("\n") == 1
    assert not (tmp_path / "bad.results.csv").exists()
