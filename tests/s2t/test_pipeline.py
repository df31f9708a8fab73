import av
import numpy as np
import pytest
import soundfile as sf
from skimage import data

from s2t.face import CoeffSequence
from s2t.face.detect import FaceImageError
from s2t.face.rig import build_rig
from s2t.pipeline import StageUnavailable, TalkingHeadPipeline
from s2t.video import MediaError


@pytest.fixture(scope="module")
def pipeline():
    return TalkingHeadPipeline(build_rig())


@pytest.fixture
def coeffs():
    rig = build_rig()
    t = np.arange(20) / 25
    expression = np.zeros((20, rig.num_expressions))
    expression[:, rig.expression_index("jawOpen")] = 0.5 * (1 - np.cos(2 * np.pi * 3 * t)) / 2
    return CoeffSequence(rig.model_id, 25.0, rig.expression_names, expression, np.zeros((20, 6)))


@pytest.mark.slow
def test_generates_an_mp4_with_one_frame_per_coefficient_and_the_audio(tmp_path, pipeline, coeffs):
    audio = tmp_path / "speech.wav"
    sf.write(audio, 0.1 * np.random.default_rng(0).normal(size=16000), 16000)
    photo = data.astronaut()[40:400, 60:460]  # not square
    out = pipeline(photo, tmp_path / "talk.mp4", audio=audio, coeffs=coeffs, size=256, progress=False)
    with av.open(str(out)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        assert (video.frames, video.width, video.height) == (20, 256, 256)
        assert float(video.duration * video.time_base) == pytest.approx(0.8)
        assert float(sound.duration * sound.time_base) == pytest.approx(0.8, abs=0.03)


@pytest.mark.slow
def test_coefficients_at_another_frame_rate_are_resampled(tmp_path, pipeline, coeffs):
    slow = coeffs.resample(50.0)
    out = pipeline(data.astronaut(), tmp_path / "a.mp4", coeffs=slow, size=256, progress=False)
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 20


def test_bad_inputs_fail_before_any_output(tmp_path, pipeline, coeffs):
    out = tmp_path / "never.mp4"
    with pytest.raises(FaceImageError, match="no face"):
        pipeline(np.full((300, 300, 3), 128, np.uint8), out, coeffs=coeffs, size=256, progress=False)
    bad_audio = tmp_path / "bad.wav"
    bad_audio.write_bytes(b"definitely not audio")
    with pytest.raises(MediaError, match="bad.wav"):
        pipeline(data.astronaut(), out, audio=bad_audio, coeffs=coeffs, size=256, progress=False)
    with pytest.raises(ValueError, match="size must be one of"):
        pipeline(data.astronaut(), out, coeffs=coeffs, size=300, progress=False)
    with pytest.raises(StageUnavailable, match="Style-E"):
        pipeline.coefficients(bad_audio, "She is joyful")
    assert not out.exists() and not out.with_name("never.partial.mp4").exists()


def test_the_emotion_rule_and_the_audio_limit_apply_before_any_output(tmp_path, pipeline, coeffs):
    from s2t.pipeline import emotion_text

    assert emotion_text("  She is joyful. ") == "She is joyful."
    for bad in ("", "   ", "x" * 2001, None):
        with pytest.raises(ValueError, match="1 to 2000 characters"):
            emotion_text(bad)
    speech = tmp_path / "speech.wav"
    sf.write(speech, np.zeros(16000 * 2), 16000)
    out = tmp_path / "never.mp4"
    with pytest.raises(ValueError, match="the emotion must describe it in words"):
        pipeline(data.astronaut(), out, audio=speech, emotion=" \n ", size=256, progress=False)
    with pytest.raises(MediaError, match="lasts 2.0 s; the limit is 1.0 s"):
        pipeline(data.astronaut(), out, audio=speech, coeffs=coeffs, size=256, progress=False, max_audio_seconds=1.0)
    assert not out.exists() and not out.with_name("never.partial.mp4").exists()


def test_art_the_style_a_cannot_draw_is_refused_before_the_photo_is_read(pipeline, tmp_path):
    from s2t.style_a.art import resolve_art

    with pytest.raises(ValueError, match="'baroque' is neither a picture file nor a preset"):
        pipeline(tmp_path / "no-photo.png", tmp_path / "out.mp4", coeffs=None, art=resolve_art("baroque"), size=256)
    assert not (tmp_path / "out.mp4").exists()
