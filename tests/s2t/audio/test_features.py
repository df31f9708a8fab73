import wave

import numpy as np
import pytest
from scipy.signal import lfilter

from s2t.audio.features import (
    frame_mel_windows, iter_frame_mel_windows, load_audio, mel_filters, mel_rows, mel_window_rows, melspectrogram,
    num_video_frames, stft_magnitude,
)  # fmt: skip
from s2t.media import MediaError


def speechlike(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None)
    tone = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 900 * t)
    return (0.3 * envelope * tone + 0.01 * rng.normal(size=len(t))).astype(np.float32)


def write_wav(path, audio: np.ndarray, rate: int, channels: int = 1) -> None:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.repeat(pcm, channels).tobytes())


def test_melspectrogram_shape_and_range():
    audio = speechlike(2.0)
    mel = melspectrogram(audio)
    assert mel.shape == (1 + len(audio) // 200, 80)
    assert mel.dtype == np.float32
    assert mel.min() >= -4.0 and mel.max() <= 4.0
    assert np.all(melspectrogram(np.zeros(3200, np.float32)) == -4.0)  # silence sits at the floor
    # the 180 Hz voice shows in the low bins while it sounds, and not in the pauses
    loud, quiet = mel[7, :10].max(), mel[20, :10].max()  # t = 1/12 s (envelope peak) vs 0.25 s (pause)
    assert loud > quiet + 2.0


def whole_spectrogram(audio: np.ndarray) -> np.ndarray:
    """The spectrogram in one piece, as :func:`melspectrogram` computed it before it streamed."""
    mel = stft_magnitude(lfilter([1.0, -0.97], [1.0], audio.astype(np.float64))) @ mel_filters().T
    db = 20.0 * np.log10(np.maximum(mel, 1e-5)) - 20.0
    return np.clip(8.0 * (db + 100.0) / 100.0 - 4.0, -4, 4).astype(np.float32)


@pytest.mark.parametrize("samples", [1, 199, 200, 201, 1000, 48_037])
def test_mel_in_pieces_is_identical_to_one_piece(samples):
    audio = speechlike(4.0, seed=samples)[:samples]
    whole = whole_spectrogram(audio)
    assert np.array_equal(melspectrogram(audio), whole)
    assert np.array_equal(melspectrogram(audio, block=7), whole)  # pieces of 7 rows: every boundary case
    assert np.array_equal(mel_rows(audio, len(whole) - 1, len(whole)), whole[-1:])
    frames = num_video_frames(samples) + 5  # and a few padding frames past the end
    pieces = list(iter_frame_mel_windows(audio, frames, chunk=3))
    assert [len(p) for p in pieces[:-1]] == [3] * (len(pieces) - 1)
    assert np.array_equal(np.concatenate(pieces), frame_mel_windows(whole, frames))
    with pytest.raises(ValueError, match="outside the spectrogram"):
        mel_rows(audio, 0, len(whole) + 1)


def test_mel_rejects_other_rates():
    with pytest.raises(ValueError, match="16000"):
        melspectrogram(np.zeros(100), sample_rate=22050)


def test_stft_frames_are_centred():
    impulse = np.zeros(4000)
    impulse[2000] = 1.0  # at frame 10's centre (10 * 200)
    magnitude = stft_magnitude(impulse)
    assert magnitude.shape == (21, 401)
    assert np.argmax(magnitude.sum(1)) == 10


def test_matches_librosa_as_sadtalker_calls_it():
    librosa = pytest.importorskip("librosa")
    from scipy.signal import lfilter

    audio = speechlike(1.5, seed=3)
    stft = librosa.stft(y=lfilter([1, -0.97], [1], audio), n_fft=800, hop_length=200, win_length=800)
    basis = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    db = 20 * np.log10(np.maximum(1e-5, basis @ np.abs(stft))) - 20
    reference = np.clip(8 * ((db + 100) / 100) - 4, -4, 4).T
    assert np.abs(mel_filters() - basis).max() < 1e-6
    assert np.abs(melspectrogram(audio) - reference).max() < 1e-4


def test_frame_windows_follow_sadtalkers_rule():
    mel = np.random.default_rng(0).normal(size=(90, 80)).astype(np.float32)
    windows = frame_mel_windows(mel, 30)
    assert windows.shape == (30, 80, 16)
    for i in range(30):  # SadTalker's loop in src/generate_batch.py, written out
        start = int(80.0 * ((i - 2) / 25.0))
        rows = [min(max(r, 0), len(mel) - 1) for r in range(start, start + 16)]
        np.testing.assert_array_equal(windows[i], mel[rows].T)
    np.testing.assert_array_equal(frame_mel_windows(mel, 5, start=7), windows[7:12])
    assert mel_window_rows(np.array([100]), 90).tolist() == [[89] * 16]  # past the end: the last row


def test_num_video_frames():
    assert num_video_frames(16000) == 25
    assert num_video_frames(16001) == 26
    assert num_video_frames(640 * 3 - 1) == 3
    assert num_video_frames(1) == 1


def test_load_audio_resamples_to_16k_mono(tmp_path):
    rate = 44100
    t = np.arange(rate) / rate
    path = tmp_path / "tone.wav"
    write_wav(path, 0.5 * np.sin(2 * np.pi * 440 * t), rate, channels=2)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 16000) <= 32
    spectrum = np.abs(np.fft.rfft(audio[1000:15000]))
    assert abs(np.argmax(spectrum) * 16000 / 14000 - 440) < 3
    assert 0.45 < np.abs(audio).max() < 0.55


def test_load_audio_errors(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        load_audio(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 10)
    with pytest.raises(MediaError):
        load_audio(junk)
