"""Emotion tracks: parsing, bad input, the per-frame blend, and a take whose emotion turns."""

import json

import numpy as np
import pytest
import torch

from s2t.style_e.checkpoint import load_style_e
from s2t.style_e.conditioning import EmotionSchedule, emotion_schedule
from s2t.style_e.emotion_track import EmotionCue, EmotionTrack, parse_emotion_track, read_emotion_track

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py

HAPPY, NEUTRAL = "a happy face", "a neutral face"


def test_reads_tsv_and_json(tmp_path):
    tsv = tmp_path / "track.tsv"
    tsv.write_text("start\ttext\tstrength\n# calm first\n0\tHe talks calmly.\n\n2.5\tHe is furious.\t1.5\n")
    track = read_emotion_track(tsv, blend=0.3)
    assert track == EmotionTrack((EmotionCue(0.0, "He talks calmly."), EmotionCue(2.5, "He is furious.", 1.5)), 0.3)
    js = tmp_path / "track.json"
    js.write_text(json.dumps(track.to_list()))
    assert read_emotion_track(js, blend=0.3) == track
    assert track.to_list() == [{"start": 0.0, "text": "He talks calmly."},
                               {"start": 2.5, "text": "He is furious.", "strength": 1.5}]  # fmt: skip


@pytest.mark.parametrize("content, message", [
    ("0\tcalm\n2\tangry\n1\tsad\n", "cue 3 starts at 1 s, not after cue 2 .2 s.: cues must be in time order"),
    ("0\tcalm\n0\tangry\n", "cue 2 starts at 0 s, not after cue 1"),
    ("0\tcalm\n1\t   \n", r"cue 2 \(at 1 s\) has no emotion text"),
    ("-1\tcalm\n", "cue 1: the start must be a time in seconds, 0 or more"),
    ("zero\tcalm\n", "line 1: the start and strength must be numbers"),
    ("0\tcalm\t9\n", "cue 1: the strength must be a number from 0 to 4"),
    ("0 calm\n", r"line 1: expected start<TAB>text\[<TAB>strength\], got 1 fields"),
    ("# nothing\n", "the emotion track has no cues"),
    ('[{"start": 0}]', "cue 1: expected"),
    ('[{"start": "0", "text": "calm"}]', "cue 1: start must be a number"),
    ('{"start": 0, "text": "calm"}', "must be a list of cues"),
    ('[{"start": 0, "text": "calm"', "not valid JSON"),
])  # fmt: skip
def test_bad_tracks_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "track.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        read_emotion_track(path)
    assert str(error.value).startswith(f"emotion track {str(path)!r}: ")


def test_other_bad_input(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_emotion_track(tmp_path / "missing.tsv")
    with pytest.raises(ValueError, match="blend must be 0 to 10 seconds"):
        parse_emotion_track([{"start": 0, "text": "calm"}], blend=-0.5)
    track = parse_emotion_track([{"start": 0, "text": "calm"}, {"start": 3.0, "text": "angry"}])
    track.check_duration(3.01)
    with pytest.raises(ValueError, match=r"cue 2 starts at 3 s, after the audio ends \(2.50 s\)"):
        track.check_duration(2.5)


def test_schedule_cross_fades_over_the_blend():
    embeddings = torch.eye(3)[:2]  # two orthogonal unit vectors
    track = parse_emotion_track([{"start": 0.0, "text": "a"}, {"start": 2.0, "text": "b", "strength": 2.0}], 0.4)
    schedule = emotion_schedule(track, embeddings, 1.0, fps=25)
    frames = torch.arange(100)
    weights = schedule.weights(frames)
    assert torch.allclose(weights.sum(1), torch.ones(100, dtype=weights.dtype))
    assert torch.all(weights[:45, 0] == 1) and torch.all(weights[55:, 1] == 1)  # 0.4 s around frame 50
    assert torch.all(torch.diff(weights[:, 1]) >= 0)  # monotonic, no overshoot
    assert weights[50, 1] == pytest.approx(0.5)
    text = schedule.text(frames)
    assert text.shape == (100, 3) and torch.allclose(text.norm(dim=-1), torch.ones(100))  # unit length throughout
    strength = schedule.strength(frames)
    assert strength[0] == 1.0 and strength[-1] == 2.0 and strength[50] == pytest.approx(1.5)
    hard = emotion_schedule(EmotionTrack(track.cues, 0.0), embeddings, 1.0, fps=25)
    assert hard.weights(frames)[49, 1] == 0 and hard.weights(frames)[50, 1] == 1
    one = EmotionSchedule.constant(embeddings[0], 0.7)
    assert one.text(frames).shape == (3,) and one.constant_strength == 0.7


@pytest.mark.slow
def test_a_turn_changes_the_emotion_and_keeps_the_jaw_on_the_audio(trained, tiny):
    """Neutral, then happy from 2 s: the smile rises across the transition only, and jawOpen
    follows the loudness in both halves as it does in a take of either emotion alone."""
    style_e = load_style_e(trained.path, text_encoder=tiny.text)
    audio, envelope = tiny.speech(4.0, 7)
    track = parse_emotion_track([{"start": 0.0, "text": NEUTRAL}, {"start": 2.0, "text": HAPPY}], blend=0.5)
    take = style_e.generate(audio, track, seed=0)
    assert take.metadata["emotion_track"] == track.to_list() and take.metadata["emotion_blend"] == 0.5
    smile, jaw = take.channel("mouthSmileLeft"), take.channel("jawOpen")
    before, after = smile[:40].mean(), smile[60:].mean()
    assert before < 0.25 and after > 0.55  # the transition spans frames 44-56
    cut = style_e.generate(audio, EmotionTrack(track.cues, blend=0.0), seed=0).channel("mouthSmileLeft")
    step, cut_step = np.abs(np.diff(smile))[44:56].max(), np.abs(np.diff(cut))[44:56].max()
    assert step < 0.25 * (after - before) and step < 0.5 * cut_step  # spread over frames, where a hard cut jumps
    for half in (slice(0, 50), slice(50, 100)):
        assert np.corrcoef(jaw[half], envelope[half])[0, 1] > 0.5
    alone = {text: style_e.generate(audio, text, seed=0).channel("jawOpen") for text in (NEUTRAL, HAPPY)}
    assert np.abs(jaw[:40] - alone[NEUTRAL][:40]).mean() < 0.05
    assert np.abs(jaw[60:] - alone[HAPPY][60:]).mean() < 0.05
    with pytest.raises(ValueError, match="after the audio ends"):
        style_e.generate(audio[:16000], track)
