import numpy as np

from s2t.audio import FPS, SAMPLE_RATE, load_audio, num_video_frames
from s2t.data.samples import perform_sample, sample_photo, sample_speech
from s2t.face.rig import build_rig


def test_the_samples_are_a_photo_and_speech_with_its_phone_timings():
    photo = sample_photo()
    assert photo.dtype == np.uint8 and photo.shape == (512, 512, 3)
    wav, record = sample_speech()
    audio = load_audio(wav)
    assert record["text"] and record["phones"]
    assert abs(record["phones"][-1][2] - len(audio) / SAMPLE_RATE) < 1e-3  # the timings cover the recording


def test_the_performer_speaks_the_sample_in_its_emotion():
    rig = build_rig()
    wav, record = sample_speech()
    happy, sad = perform_sample(rig, "happy", seed=1), perform_sample(rig, "sad", seed=1)
    assert happy.fps == FPS and happy.channel_names == rig.expression_names
    assert happy.num_frames == num_video_frames(len(load_audio(wav)))
    assert happy.metadata["text"] == record["text"] and happy.metadata["emotion"] == "happy"
    smile = [rig.expression_names.index(n) for n in ("mouthSmileLeft", "mouthSmileRight")]
    assert happy.expression[:, smile].mean() > sad.expression[:, smile].mean() + 0.1
    again = perform_sample(rig, "happy", seed=1)
    assert np.array_equal(again.expression, happy.expression) and np.array_equal(again.pose, happy.pose)
