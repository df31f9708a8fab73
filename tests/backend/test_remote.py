"""``s2t generate --backend``: the CLI job run by a real s2t-backend on loopback."""

import json
import wave

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from skimage import data

from backend.jobs import default_kinds
from backend.server import Server, ServerConfig
from s2t.cli import main
from s2t.face import CoeffSequence
from s2t.face.rig.blendshapes import ARKIT_52


@pytest.fixture
def backend(tmp_path):
    config = ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=0.2)
    server = Server(config, default_kinds()).start()
    yield server
    server.stop()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def _speech_like(path, seconds: float = 1.2, rate: int = 16000):
    """Syllable-rate amplitude-modulated buzz: enough for Style-E to open and close the jaw."""
    t = np.arange(int(seconds * rate)) / rate
    signal = np.sign(np.sin(2 * np.pi * 120 * t)) * np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * 0.3
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(rate)
        f.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


def _video_frames(path) -> tuple[int, int, bool]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return sum(1 for _ in container.decode(video)), video.width, bool(container.streams.audio)


@pytest.mark.slow
def test_generate_on_backend_writes_the_take(tmp_path, backend, photo, capsys):
    audio = _speech_like(tmp_path / "speech.wav")
    out = tmp_path / "take.mp4"
    assert main(["generate", "--backend", backend.endpoint, "--image", str(photo), "--audio", str(audio),
                 "--emotion", "She is smiling happily.", "--art", "cel", "--size", "256", "-o", str(out)]) == 0
    frames, width, has_audio = _video_frames(out)
    assert frames == 30 and width == 256 and has_audio  # 1.2 s at 25 fps, the speech muxed in
    assert "rendered by" in capsys.readouterr().err
    job_folders = [p for p in (tmp_path / "jobs").iterdir() if p.is_dir()]
    assert len(job_folders) == 2  # the coefficients job and the render job both kept their outputs


@pytest.mark.slow
def test_an_emotion_track_travels_to_the_backend(tmp_path, backend, photo):
    audio = _speech_like(tmp_path / "speech.wav")
    track = tmp_path / "track.tsv"
    track.write_text("0\tHe is calm.\n0.6\tShe turns angry, frowning.\t1.5\n")
    out = tmp_path / "turn.mp4"
    assert main(["generate", "--backend", backend.endpoint, "--image", str(photo), "--audio", str(audio),
                 "--emotion-track", str(track), "--emotion-blend", "0.3", "--art", "none", "--size", "256",
                 "-o", str(out)]) == 0
    assert _video_frames(out)[0] == 30
    manifests = [json.loads(p.read_text()) for p in (tmp_path / "jobs").glob("*/job.json")]
    params = next(m["params"] for m in manifests if m["kind"] == "coefficients")
    assert params["emotion_track"] == [{"start": 0.0, "text": "He is calm."},
                                       {"start": 0.6, "text": "She turns angry, frowning.", "strength": 1.5}]
    assert params["emotion_blend"] == 0.3 and params["text"] == "He is calm."


@pytest.mark.slow
def test_variants_on_the_backend_are_takes_of_their_own_seeds(tmp_path, backend, photo):
    audio = _speech_like(tmp_path / "speech.wav")
    out = tmp_path / "line.mp4"
    assert main(["generate", "--backend", backend.endpoint, "--image", str(photo), "--audio", str(audio),
                 "--emotion", "calm", "--variants", "2", "--seed", "7", "--art", "none", "--size", "256",
                 "-o", str(out)]) == 0
    assert [_video_frames(tmp_path / f"line_take{i}_seed{s}.mp4")[0] for i, s in ((1, 7), (2, 8))] == [30, 30]
    manifests = [json.loads(p.read_text()) for p in (tmp_path / "jobs").glob("*/job.json")]
    assert sorted(m["params"]["seed"] for m in manifests if m["kind"] == "coefficients") == [7, 8]


@pytest.mark.slow
def test_generate_on_backend_renders_given_coefficients_in_order(tmp_path, backend, photo):
    t = np.linspace(0, 1, 12)
    expression = np.zeros((12, len(ARKIT_52)), np.float32)
    expression[:, ARKIT_52.index("jawOpen")] = 0.7 * np.sin(np.pi * t)
    seq = CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, expression, np.zeros((12, 6), np.float32), {})
    seq.save(tmp_path / "edited.npz")
    out = tmp_path / "edited.mp4"
    assert main(["generate", "--backend", backend.endpoint, "--image", str(photo), "--coeffs",
                 str(tmp_path / "edited.npz"), "--size", "256", "-o", str(out)]) == 0
    with av.open(str(out)) as container:
        images = [f.to_ndarray(format="rgb24").astype(float) for f in container.decode(video=0)]
    assert len(images) == 12
    change = [np.abs(images[i] - images[0]).mean() for i in range(12)]
    assert int(np.argmax(change)) in (5, 6)  # the widest-open mouth is in the middle: frames arrived in order


def test_generate_on_backend_errors_are_one_line_exit_2(tmp_path, backend, photo, capsys):
    out = tmp_path / "x.mp4"
    not_audio = tmp_path / "noise.wav"
    not_audio.write_bytes(b"RIFF but not really a wav file")
    code = main(["generate", "--backend", backend.endpoint, "--image", str(photo), "--audio", str(not_audio),
                 "--emotion", "calm", "-o", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "audio" in err.lower() and "Traceback" not in err
    speech = tmp_path / "speech.wav"
    sf.write(speech, np.zeros(8000), 16000)
    code = main(["generate", "--backend", backend.endpoint, "--image", str(photo), "--audio", str(speech),
                 "--emotion", "calm", "--curve-keys", str(tmp_path / "no-keys"), "-o", str(out)])
    assert code == 2 and "s2t-backend keys" in capsys.readouterr().err
    assert not out.exists()


def test_generate_on_backend_passes_the_renderer_choice(tmp_path, backend, photo, capsys):
    seq = CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, np.zeros((3, len(ARKIT_52)), np.float32),
                        np.zeros((3, 6), np.float32), {})
    seq.save(tmp_path / "take.npz")
    code = main(["generate", "--backend", backend.endpoint, "--renderer", "neural", "--image", str(photo), "--coeffs",
                 str(tmp_path / "take.npz"), "-o", str(tmp_path / "x.mp4")])
    assert code == 2 and "--style-a" in capsys.readouterr().err  # this backend has no Style-A checkpoint
