"""The video adapters on a talking video made here: the astronaut photo driven by known
jaw and head-turn curves (CPU renderer), 30 fps, with 44.1 kHz stereo audio."""

import json
import shutil
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
from skimage import data

from s2t.data.adapters import build_video_corpus, folder_clips, hdtf_clips, mead_clips, read_audio, read_labels
from s2t.data.corpus import CorpusIndex, write_wav
from s2t.face.rig import RIG_ID, build_rig
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.photo import prepare_photo

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py

SOURCE_FPS = 30
NUM_SOURCE_FRAMES = 36  # 1.2 s -> 30 frames at 25 fps
AUDIO_RATE = 44100
BURST = (0.6, 0.7)  # seconds of loud noise in the audio, to check its timing


def encode(path: Path, frames: list[np.ndarray] | None, fps: int, audio: np.ndarray | None = None) -> None:
    """A lossless H.264 video of ``frames`` and/or AAC audio ``(channels, samples)`` at 44.1 kHz."""
    with av.open(str(path), "w") as container:  # all streams exist before the first packet is written
        video = container.add_stream("libx264", rate=fps) if frames is not None else None
        sound = container.add_stream("aac", rate=AUDIO_RATE) if audio is not None else None
        if sound is not None:
            sound.layout = "stereo"
        if video is not None:
            video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
            video.options = {"qp": "0", "preset": "ultrafast"}
            for i, frame in enumerate(frames):
                picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
                picture.pts, picture.time_base = i, Fraction(1, fps)
                container.mux(video.encode(picture))
            container.mux(video.encode())
        if sound is not None:
            chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio, np.float32), format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts = AUDIO_RATE, 0
            container.mux(sound.encode(chunk))
            container.mux(sound.encode())


def stereo_track(seconds: float) -> np.ndarray:
    """440 Hz at 0.3 left / 0.1 right (0.2 mono), plus a noise burst in both channels."""
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    tone = np.sin(2 * np.pi * 440 * t)
    burst = np.where((t >= BURST[0]) & (t < BURST[1]), np.random.default_rng(0).normal(0, 0.5, len(t)), 0.0)
    return np.clip(np.stack([0.3 * tone + burst, 0.1 * tone + burst]), -1, 1)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> SimpleNamespace:
    folder = tmp_path_factory.mktemp("media")
    rig = build_rig()
    renderer = CpuRenderer(rig, prepare_photo(rig, data.astronaut(), 256))
    t = np.arange(NUM_SOURCE_FRAMES) / SOURCE_FPS
    jaw = 0.4 * (0.5 - 0.5 * np.cos(2 * np.pi * 1.7 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.4 * t))
    yaw = np.linspace(-0.15, 0.15, NUM_SOURCE_FRAMES)  # the head turns steadily, about 17 degrees
    frames = []
    for jaw_open, turn in zip(jaw, yaw):
        expression = np.zeros(rig.num_expressions)
        expression[rig.expression_index("jawOpen")] = jaw_open
        frames.append(renderer.render(expression, np.array([0.0, turn, 0, 0, 0, 0])))
    seconds = NUM_SOURCE_FRAMES / SOURCE_FPS
    audio = stereo_track(seconds)
    media = SimpleNamespace(jaw=jaw, yaw=yaw, **{name: folder / file for name, file in [
        ("talking", "talking.mp4"), ("silent", "silent.mp4"), ("audio", "talking.m4a"), ("noface", "noface.mp4"),
        ("broken", "broken.mp4")]})  # fmt: skip
    encode(media.talking, frames, SOURCE_FPS, audio)
    encode(media.silent, frames, SOURCE_FPS)
    encode(media.audio, None, SOURCE_FPS, audio)
    coffee = np.ascontiguousarray(data.coffee()[:256, :256])
    encode(media.noface, [coffee] * 18, SOURCE_FPS, stereo_track(0.6))
    media.broken.write_bytes(media.talking.read_bytes()[: media.talking.stat().st_size // 2])
    return media


def place(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)


def source_frame_of(k: np.ndarray, source_fps: float) -> np.ndarray:
    """The source frame nearest in time to 25 fps frame ``k`` (ties go to the later one)."""
    return np.floor(k * source_fps / 25 + 0.5).astype(int)


def test_audio_is_shifted_by_the_stream_offset_and_cut_to_the_video(tmp_path):
    click = np.zeros(16000, np.float32)
    click[4000] = 0.9
    write_wav(tmp_path / "click.wav", click, 16000)
    for offset, where in [(0.0, 4000), (0.1, 5600), (-0.1, 2400)]:
        audio = read_audio(tmp_path / "click.wav", num_frames=20, offset=offset)
        assert audio.dtype == np.float32 and len(audio) == 20 * 640
        assert abs(int(np.argmax(np.abs(audio))) - where) <= 1
    assert len(read_audio(tmp_path / "click.wav", num_frames=30)) == 30 * 640  # padded past its end


def test_layout_readers(tmp_path, media):
    mead = tmp_path / "MEAD"
    place(media.talking, mead / "M003/video/front/happy/level_2/001.mp4")
    place(media.silent, mead / "M003/video/front/angry/level_3/002.mp4")
    place(media.audio, mead / "M003/audio/angry/level_3/002.m4a")
    place(media.talking, mead / "M003/video/left_30/happy/level_2/001.mp4")  # another camera
    place(media.talking, mead / "W009/video/1/front/sad/level_1/005.mp4")  # an extra folder level
    clips = mead_clips(mead)
    assert [(c.speaker, c.emotion, c.level, c.sentence_id) for c in clips] == [
        ("M003", "angry", 3, "angry_002"), ("M003", "happy", 2, "happy_001"), ("W009", "sad", 1, "sad_005")]
    assert clips[0].audio == mead / "M003/audio/angry/level_3/002.m4a" and clips[1].audio is None
    assert [c.source for c in mead_clips(mead / "M003")] == [c.source for c in clips[:2]]  # one speaker's folder

    hdtf = tmp_path / "HDTF"
    place(media.talking, hdtf / "WDA_BarackObama_000.mp4")
    place(media.talking, hdtf / "part2/RD_Radio11_001.mp4")
    place(media.talking, hdtf / "notes.mp4")
    assert [(c.speaker, c.emotion, c.level) for c in hdtf_clips(hdtf)] == [
        ("WDA_BarackObama", "neutral", 1), ("RD_Radio11", "neutral", 1)]

    own = tmp_path / "own"
    place(media.talking, own / "alice/take1.mp4")
    place(media.talking, own / "bob.MOV")
    (own / "labels.csv").write_text("file,emotion,level\nalice/take1.mp4,Happy,3\n")
    labelled = [(c.speaker, c.emotion, c.level) for c in folder_clips(own)]
    assert labelled == [("alice", "happy", 3), ("bob", "neutral", 1)]
    (own / "labels.csv").unlink()
    (own / "labels.json").write_text(json.dumps({"bob.MOV": {"emotion": "sad", "level": 2}, "take1.mp4": "angry"}))
    assert read_labels(own) == {"bob.MOV": ("sad", 2), "take1.mp4": ("angry", 1)}
    (own / "labels.json").write_text(json.dumps({"bob.MOV": {"emotion": "sad", "level": 7}}))
    with pytest.raises(ValueError, match="level must be one of"):
        folder_clips(own)


@pytest.mark.slow
def test_mead_corpus_recovers_the_driving_curves(tmp_path, media):
    mead = tmp_path / "MEAD"
    place(media.talking, mead / "M003/video/front/happy/level_2/001.mp4")
    place(media.silent, mead / "M003/video/front/angry/level_3/002.mp4")
    place(media.audio, mead / "M003/audio/angry/level_3/002.m4a")
    summary = build_video_corpus(mead, tmp_path / "corpus", layout="mead", progress=False)
    assert summary["new_clips"] == 2 and summary["skipped"] == {} and summary["kind"] == "mead"
    assert summary["seconds"] == pytest.approx(2 * 1.2) and summary["new_seconds"] == summary["seconds"]

    corpus = CorpusIndex(tmp_path / "corpus")
    assert corpus.manifest["kind"] == "mead" and corpus.manifest["model_id"] == RIG_ID
    assert corpus.manifest["fps"] == 25 and corpus.manifest["sample_rate"] == 16000
    angry, happy = corpus.records
    assert (happy.speaker, happy.voice, happy.engine, happy.emotion, happy.level, happy.text) == \
        ("M003", "M003", "video", "happy", 2, "")  # fmt: skip
    assert happy.source == "M003/video/front/happy/level_2/001.mp4" and angry.sentence_id == "angry_002"
    assert happy.num_frames == 30 and happy.extra["interpolated_frames"] == 0

    clip = corpus.load(1)
    assert clip.sample_rate == 16000 and len(clip.audio) == 30 * 640
    t = np.arange(len(clip.audio)) / 16000
    steady = clip.audio[(t > 0.1) & (t < 0.5)]
    assert np.sqrt(np.mean(steady**2)) == pytest.approx(0.2 / np.sqrt(2), rel=0.1)  # stereo averaged
    onset = t[np.argmax((t > 0.3) & (np.abs(clip.audio) > 0.4))]
    assert onset == pytest.approx(BURST[0], abs=0.02)  # in sync with the video

    frames = source_frame_of(np.arange(30), SOURCE_FPS)
    jaw = clip.coeffs.channel("jawOpen")
    assert np.corrcoef(jaw, media.jaw[frames])[0, 1] > 0.9  # measured 0.97
    yaw = clip.coeffs.pose[:, 1]
    assert np.corrcoef(yaw, media.yaw[frames])[0, 1] > 0.95 and yaw[-1] - yaw[0] > 0.1  # turns the same way
    assert np.abs(np.median(clip.coeffs.pose[:, 3:], axis=0)).max() < 1e-6  # translation is head motion
    assert len(clip.coeffs.metadata["identity"]) == 16 and clip.coeffs.metadata["fit"]["rms_px_mean"] < 6

    separate = corpus.load(0)
    assert separate.coeffs.metadata["audio"]["file"] == "002.m4a"
    assert np.sqrt(np.mean(separate.audio[(t > 0.1) & (t < 0.5)] ** 2)) == pytest.approx(0.2 / np.sqrt(2), rel=0.1)


@pytest.mark.slow
def test_hdtf_corpus(tmp_path, media):
    place(media.talking, tmp_path / "HDTF/WDA_BarackObama_000.mp4")
    summary = build_video_corpus(tmp_path / "HDTF", tmp_path / "corpus", layout="hdtf", progress=False)
    corpus = CorpusIndex(tmp_path / "corpus")
    assert summary["new_clips"] == 1 and corpus.manifest["kind"] == "hdtf"
    record = corpus[0]
    assert (record.speaker, record.emotion, record.level, record.source) == \
        ("WDA_BarackObama", "neutral", 1, "WDA_BarackObama_000.mp4")  # fmt: skip


@pytest.mark.slow
def test_folder_corpus_skips_bad_clips_with_reasons_and_resumes(tmp_path, media):
    own = tmp_path / "own"
    place(media.talking, own / "alice/take1.mp4")
    place(media.noface, own / "coffee.mp4")
    place(media.broken, own / "broken.mp4")
    place(media.silent, own / "mute.mp4")
    (own / "labels.csv").write_text("alice/take1.mp4,surprised,3\n")
    out = tmp_path / "corpus"
    summary = build_video_corpus(own, out, layout="folder", progress=False)
    assert summary["new_clips"] == 1 and summary["kind"] == "video"
    reasons = summary["skipped"]
    assert set(reasons) == {"coffee.mp4", "broken.mp4", "mute.mp4"}
    assert "no face" in reasons["coffee.mp4"] and "cannot read video" in reasons["broken.mp4"]
    assert "no audio" in reasons["mute.mp4"]
    record = CorpusIndex(out)[0]
    assert (record.speaker, record.emotion, record.level) == ("alice", "surprised", 3)

    place(media.talking, own / "bob/take2.mp4")
    again = build_video_corpus(own, out, layout="folder", progress=False)
    assert again["new_clips"] == 1 and again["skipped"] == {} and again["skipped_before"] == 3
    assert [r.source for r in CorpusIndex(out)] == ["alice/take1.mp4", "bob/take2.mp4"]
    assert build_video_corpus(own, out, layout="folder", progress=False)["new_clips"] == 0
    with pytest.raises(ValueError, match="already holds 2 clips"):
        build_video_corpus(own, out, layout="folder", progress=False, resume=False)
    with pytest.raises(ValueError, match="built with"):
        build_video_corpus(own, out, layout="hdtf", progress=False)
