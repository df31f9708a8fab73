"""The coefficients job's emotion_track parameter: checked at submit, honoured by the worker."""

from pathlib import Path
from types import SimpleNamespace

import pytest

import s2t
from backend.jobs import JobError, prepare_coefficients, run_coefficients
from backend.protocol import BAD_INPUT, COEFFICIENTS

SPEECH = Path(s2t.__file__).parent / "assets" / "samples" / "speech.wav"
TRACK = [{"start": 0, "text": "He talks calmly."}, {"start": 3.0, "text": "He is furious.", "strength": 1.5}]


def test_a_track_is_parsed_at_submit():
    job, _ = prepare_coefficients({"emotion_track": TRACK, "emotion_blend": 0.3}, {"audio": b"RIFF"})
    assert job.text == "He talks calmly." and job.track.blend == 0.3 and job.track.to_list()[1]["strength"] == 1.5


@pytest.mark.parametrize("params, message", [
    ({"emotion_track": "calm"}, "emotion_track: the emotion track must be a list"),
    ({"emotion_track": [{"start": 1, "text": "a"}, {"start": 0, "text": "b"}]}, "cues must be in time order"),
    ({"emotion_track": [{"start": 0, "text": ""}]}, "cue 1 .at 0 s. has no emotion text"),
    ({"emotion_track": TRACK, "emotion_blend": "half"}, "emotion_blend must be a number"),
])  # fmt: skip
def test_bad_tracks_are_refused_at_submit(params, message):
    with pytest.raises(JobError, match=message) as error:
        prepare_coefficients(params, {"audio": b"RIFF"})
    assert error.value.code == BAD_INPUT


@pytest.mark.slow
def test_the_worker_runs_the_track_and_checks_it_against_the_audio():
    job, _ = prepare_coefficients({"emotion_track": TRACK}, {"audio": b"RIFF"})
    ctx = SimpleNamespace(inputs={"audio": SPEECH}, device="cpu")
    *_, message = run_coefficients(job, ctx)
    assert message.type == COEFFICIENTS and message.content["metadata"]["emotion_track"][1]["start"] == 3.0
    late, _ = prepare_coefficients({"emotion_track": [*TRACK, {"start": 60, "text": "sad"}]}, {"audio": b"RIFF"})
    with pytest.raises(JobError, match="cue 3 starts at 60 s, after the audio ends"):
        list(run_coefficients(late, ctx))
