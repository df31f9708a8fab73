"""`s2t generate-coeffs` / `s2t generate` with an emotion track and variants (embedded checkpoint)."""

import re

import numpy as np
import pytest
import soundfile

from s2t.cli import main
from s2t.face import CoeffSequence


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    t = np.arange(int(3.0 * 16000)) / 16000
    audio = 0.3 * np.clip(np.sin(2 * np.pi * 3.2 * t), 0, None) * np.sin(2 * np.pi * 170 * t)
    path = tmp_path_factory.mktemp("audio") / "speech.wav"
    soundfile.write(path, audio.astype(np.float32), 16000)
    return path


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_generate_coeffs_with_an_emotion_track(tmp_path, speech, capsys):
    track = tmp_path / "track.tsv"
    track.write_text("0\tHe talks calmly.\n1.5\tHe is furious, shouting.\t1.5\n")
    code, err = run(capsys, "generate-coeffs", "--audio", str(speech), "--emotion-track", str(track),
                    "--emotion-blend", "0.4", "-o", str(tmp_path / "turn.npz"))  # fmt: skip
    assert code == 0, err
    take = CoeffSequence.load(tmp_path / "turn.npz")
    assert take.num_frames == 75
    assert take.metadata["emotion_track"] == [{"start": 0.0, "text": "He talks calmly."},
                                              {"start": 1.5, "text": "He is furious, shouting.", "strength": 1.5}]
    assert take.metadata["emotion_blend"] == 0.4


@pytest.mark.parametrize("content, extra, message", [
    ("0\tcalm\n2\tangry\n1\tsad\n", [], "cues must be in time order"),
    ("0\tcalm\n3.5\tangry\n", [], r"cue 2 starts at 3.5 s, after the audio ends \(3.00 s\)"),
    ("0\t \n", [], "has no emotion text"),
    ("0\tcalm\n", ["--emotion", "calm"], "give the emotion as --emotion TEXT or as --emotion-track FILE"),
    ("0\tcalm\n", ["--variants", "0"], "--variants must be 1 to 16"),
])  # fmt: skip
def test_bad_tracks_exit_2_with_one_line(tmp_path, speech, capsys, content, extra, message):
    track = tmp_path / "track.tsv"
    track.write_text(content)
    out = tmp_path / "out.npz"
    code, err = run(capsys, "generate-coeffs", "--audio", str(speech), "--emotion-track", str(track), *extra,
                    "-o", str(out))  # fmt: skip
    assert code == 2
    assert err.startswith("s2t: error: ") and len(err.strip().splitlines()) == 1
    assert re.search(message, err), err
    assert not out.exists()


@pytest.mark.slow
def test_variants_are_separate_takes(tmp_path, capsys):
    from s2t.data.samples import sample_speech

    speech, _ = sample_speech()
    code, err = run(capsys, "generate-coeffs", "--audio", str(speech), "--emotion", "He is happy.", "--seed", "5",
                    "--variants", "3", "-o", str(tmp_path / "line.npz"))  # fmt: skip
    assert code == 0, err
    takes = [CoeffSequence.load(tmp_path / f"line_take{i}_seed{4 + i}.npz") for i in (1, 2, 3)]
    assert not (tmp_path / "line.npz").exists()
    assert [t.metadata["seed"] for t in takes] == [5, 6, 7]
    assert not np.allclose(takes[0].pose, takes[1].pose) and not np.allclose(takes[1].pose, takes[2].pose)
    jaw = np.stack([t.channel("jawOpen") for t in takes])
    assert np.corrcoef(jaw).min() > 0.8  # the same speech: the jaw moves alike in every take


def test_generate_refuses_track_options_it_cannot_honour(tmp_path, speech, capsys):
    from PIL import Image

    from s2t.data.samples import sample_photo

    photo = tmp_path / "photo.png"
    Image.fromarray(sample_photo()).save(photo)
    track = tmp_path / "track.tsv"
    track.write_text("0\tcalm\n")
    out = tmp_path / "out.mp4"
    code, err = run(capsys, "generate", "--image", str(photo), "--coeffs", str(track), "--emotion-track",
                    str(track), "-o", str(out))  # fmt: skip
    assert code == 2 and "do not apply to --coeffs" in err
    code, err = run(capsys, "generate", "--image", str(photo), "--audio", str(speech), "--emotion-track",
                    str(track), "--emotion", "calm", "-o", str(out))  # fmt: skip
    assert code == 2 and "one of them" in err
