from fractions import Fraction

import av
import numpy as np
import pytest
import soundfile as sf

from s2t.video import MAX_AUDIO_SECONDS, MediaError, VideoWriter, probe_audio, probe_video, read_frames


@pytest.fixture
def speech(tmp_path):
    path = tmp_path / "tone.wav"
    t = np.arange(int(16000 * 2.3)) / 16000
    sf.write(path, 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    return path


def _streams(path):
    with av.open(str(path)) as c:
        return {s.type: (s.frames, float(s.duration * s.time_base)) for s in c.streams}


def test_mp4_has_every_frame_and_the_audio_cut_to_the_video(tmp_path, speech):
    out = tmp_path / "talk.mp4"
    with VideoWriter(out, 25, 64, audio=speech) as writer:
        for i in range(50):
            writer.write(np.full((64, 64, 3), i * 4, np.uint8))
    streams = _streams(out)
    assert streams["video"] == (50, 2.0)
    assert streams["audio"][1] == pytest.approx(2.0, abs=0.03)
    assert not (tmp_path / "talk.partial.mp4").exists()


def test_short_audio_ends_early_and_frames_decode_back(tmp_path, speech):
    out = tmp_path / "long.mp4"
    with VideoWriter(out, 25, 64, audio=speech) as writer:
        for i in range(75):
            writer.write(np.full((64, 64, 3), 200, np.uint8))
    assert _streams(out)["audio"][1] == pytest.approx(2.3, abs=0.03)
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert abs(frame.mean() - 200) < 3


def test_interrupted_render_keeps_a_playable_partial_file(tmp_path):
    out = tmp_path / "cut.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(out, 25, 64) as writer:
            for _ in range(10):
                writer.write(np.zeros((64, 64, 3), np.uint8))
            raise KeyboardInterrupt
    assert not out.exists()
    assert _streams(tmp_path / "cut.partial.mp4")["video"][0] == 10


def test_bad_audio_and_outputs_are_refused_clearly(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        probe_audio(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(40))
    with pytest.raises(MediaError, match="junk.wav"):
        probe_audio(junk)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 16000)
    with pytest.raises(MediaError, match="empty|junk|cannot|no audio"):
        probe_audio(empty)
    with pytest.raises(MediaError, match="must be an .mp4"):
        VideoWriter(tmp_path / "x.avi", 25, 64)
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(MediaError, match="cannot write"):
        VideoWriter(blocked / "x.mp4", 25, 64)


def test_eleven_minutes_of_speech_is_streamed_not_loaded(tmp_path):
    long = tmp_path / "long.wav"
    with sf.SoundFile(long, "w", 16000, 1, subtype="PCM_16") as f:
        block = (0.1 * np.sin(np.arange(16000 * 60) * 0.05)).astype(np.float32)
        for _ in range(11):
            f.write(block)
    assert probe_audio(long).duration == pytest.approx(660.0)
    out = tmp_path / "short.mp4"
    with VideoWriter(out, 25, 64, audio=long) as writer:
        for _ in range(25):
            writer.write(np.zeros((64, 64, 3), np.uint8))
    assert _streams(out)["audio"][1] == pytest.approx(1.0, abs=0.03)  # only what the video needs was read


def test_audio_over_a_length_limit_is_refused_from_its_header_and_ffmpeg_errors_read_plainly(tmp_path):
    speech = tmp_path / "speech.wav"
    sf.write(speech, np.zeros(16000 * 3), 16000)
    assert probe_audio(speech, max_seconds=3.5).duration == pytest.approx(3.0)
    with pytest.raises(MediaError, match=r"the audio file '.*speech.wav' lasts 3.0 s; the limit is 2.0 s"):
        probe_audio(speech, max_seconds=2.0)
    with pytest.raises(MediaError, match="the speech lasts 3.0 s"):
        probe_audio(speech, max_seconds=2.0, label="the speech")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3" + bytes(100))
    with pytest.raises(MediaError) as info:
        probe_audio(junk, label="the audio")
    assert str(info.value) in ("cannot read the audio: Invalid data found when processing input (is it a sound file?)",
                               "the audio has no sound in it (no audio stream)")
    assert MAX_AUDIO_SECONDS == 1800.0


def _lossless(path, frames, fps):
    """A lossless H.264 video of ``frames`` at ``fps``, no audio."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        video.options = {"qp": "0", "preset": "ultrafast"}
        for i, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts, picture.time_base = i, Fraction(1, fps)
            container.mux(video.encode(picture))
        container.mux(video.encode())


@pytest.mark.parametrize("source_fps, count, expected", [(24, 24, 25), (50, 30, 15), (30, 36, 30), (15, 15, 25)])
def test_frames_are_resampled_to_25_fps_by_timestamps(tmp_path, source_fps, count, expected):
    _lossless(tmp_path / "ramp.mp4", [np.full((32, 48, 3), 7 * i, np.uint8) for i in range(count)], source_fps)
    out = list(read_frames(tmp_path / "ramp.mp4"))
    assert len(out) == expected and out[0].shape == (32, 48, 3)
    nearest = np.floor(np.arange(expected) * source_fps / 25 + 0.5).astype(int)  # ties go to the later frame
    assert [round(f.mean() / 7) for f in out] == nearest.tolist()
    assert next(read_frames(tmp_path / "ramp.mp4", max_side=24)).shape == (16, 24, 3)


def test_probe_video_reads_size_and_rate_and_refuses_sound_only_files(tmp_path, speech):
    _lossless(tmp_path / "clip.mp4", [np.zeros((32, 48, 3), np.uint8)] * 12, 30)
    info = probe_video(tmp_path / "clip.mp4")
    assert (info.width, info.height, info.fps, info.audio_offset) == (48, 32, 30.0, None)
    assert info.duration == pytest.approx(0.4, abs=0.04)
    with pytest.raises(MediaError, match="has no video stream"):
        probe_video(speech)
