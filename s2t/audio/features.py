"""Speech features as SadTalker (and Wav2Lip before it) compute them: 80-bin log-mel, and a
16-mel-frame window per video frame.

The numbers follow SadTalker's ``src/utils/hparams.py`` and ``src/utils/audio.py``: 16 kHz,
pre-emphasis 0.97, STFT with n_fft = win = 800 and hop 200 (12.5 ms, so 80 mel frames a
second), Hann window, centred frames with zero padding (librosa >= 0.9's default, the
version SadTalker pins), magnitude (not power) into Slaney-style mel filters over
55-7600 Hz, ``20 log10(max(1e-5, mel)) - 20`` dB, then mapped from [-100, 0] dB to [-4, 4]
and clipped. Computed here with numpy alone, so an audio encoder trained on SadTalker's
features (or SadTalker's own) sees the same input without librosa installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from scipy.signal import lfilter

from s2t.media import MediaError, ffmpeg_reason

SAMPLE_RATE = 16000
FPS = 25.0
N_FFT = 800
HOP = 200
NUM_MELS = 80
FMIN, FMAX = 55.0, 7600.0
PREEMPHASIS = 0.97
MIN_LEVEL_DB, REF_LEVEL_DB = -100.0, 20.0
MAX_ABS_VALUE = 4.0
WINDOW_MEL_FRAMES = 16
"""Mel frames per video frame's window: 16 x 12.5 ms = 200 ms of speech."""


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Any audio file FFmpeg reads, as mono float32 ``(N,)`` at ``sample_rate``.

    Channels are averaged, as ``librosa.load`` (SadTalker's loader) does; FFmpeg's own
    stereo-to-mono mix would be 3 dB louder.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"audio file {str(path)!r} does not exist")
    resampler = av.AudioResampler(format="fltp", rate=sample_rate)  # keeps the channel layout
    chunks = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError(f"{str(path)!r} has no audio stream")
            for frame in container.decode(container.streams.audio[0]):
                frame.pts = None
                chunks += [f.to_ndarray().mean(0) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().mean(0) for f in resampler.resample(None)]
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot decode {str(path)!r}: {ffmpeg_reason(exc)} (is it a sound file?)") from None
    audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if len(audio) == 0:
        raise MediaError(f"audio {str(path)!r} is empty (0 samples)")
    return audio


def num_video_frames(num_samples: int, sample_rate: int = SAMPLE_RATE, fps: float = FPS) -> int:
    """Video frames that cover ``num_samples`` of audio: the last partial frame counts."""
    return max(1, int(np.ceil(num_samples * fps / sample_rate - 1e-9)))


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear (3 mels per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    linear = hz * 3.0 / 200.0
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((mel - 15.0) * np.log(6.4) / 27.0), mel * 200.0 / 3.0)


@lru_cache(maxsize=4)
def mel_filters(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, num_mels: int = NUM_MELS,
                fmin: float = FMIN, fmax: float = FMAX) -> np.ndarray:  # fmt: skip
    """Triangular filters ``(num_mels, n_fft // 2 + 1)``, each scaled to unit area (Slaney norm),
    as ``librosa.filters.mel`` makes them by default."""
    fft_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), num_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    weights.flags.writeable = False
    return weights


def stft_magnitude(audio: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """``|STFT|`` as ``(frames, n_fft // 2 + 1)``: periodic Hann window of ``n_fft``, frames
    centred on ``t * hop`` with ``n_fft // 2`` zeros padded at both ends."""
    padded = np.pad(np.asarray(audio, np.float64), n_fft // 2)
    count = 1 + (len(padded) - n_fft) // hop
    return _framed_magnitude(padded, count, n_fft, hop)


def _framed_magnitude(padded: np.ndarray, count: int, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """``|rfft|`` of the ``count`` Hann-windowed frames ``padded[k * hop : k * hop + n_fft]``."""
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:count]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    return np.abs(np.fft.rfft(frames * window, axis=1))


def num_mel_frames(num_samples: int) -> int:
    """Rows of :func:`melspectrogram` for ``num_samples`` samples: ``1 + N // 200``."""
    return 1 + num_samples // HOP


def mel_rows(audio: np.ndarray, first: int, stop: int, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Rows ``first .. stop - 1`` of ``melspectrogram(audio)``, identical to them, computed
    from the few thousand samples they cover only: memory follows ``stop - first``, not the
    audio's length (pre-emphasis needs one sample before the slice, each STFT frame
    ``N_FFT / 2`` samples either side of its centre, zeros beyond the ends)."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"SadTalker's mel features are defined at {SAMPLE_RATE} Hz, got {sample_rate} Hz; "
                         "resample first (load_audio does)")
    total = num_mel_frames(len(audio))
    if not 0 <= first < stop <= total:
        raise ValueError(f"mel rows [{first}, {stop}) are outside the spectrogram's {total} rows")
    half = N_FFT // 2
    begin = first * HOP - half  # sample under the first frame's first window position
    end = (stop - 1) * HOP + half  # one past the last frame's last
    low, high = max(begin, 0), min(end, len(audio))
    context = 1 if low > 0 else 0  # x[n - 1] for the pre-emphasis of the slice's first sample
    emphasised = lfilter([1.0, -PREEMPHASIS], [1.0], np.asarray(audio[low - context : high], np.float64))[context:]
    segment = np.zeros(end - begin)
    segment[low - begin : high - begin] = emphasised
    mel = _framed_magnitude(segment, stop - first) @ mel_filters().T
    db = 20.0 * np.log10(np.maximum(mel, 1e-5)) - REF_LEVEL_DB
    scaled = 2.0 * MAX_ABS_VALUE * (db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS_VALUE
    return np.clip(scaled, -MAX_ABS_VALUE, MAX_ABS_VALUE).astype(np.float32)


def melspectrogram(audio: np.ndarray, sample_rate: int = SAMPLE_RATE, block: int = 4096) -> np.ndarray:
    """Normalised log-mel ``(M, 80)`` in [-4, 4], ``M = 1 + N // 200`` frames for ``N`` samples.

    Row ``m`` describes the 50 ms of speech centred on ``m * 12.5`` ms. Computed ``block``
    rows at a time (:func:`mel_rows`), so the float64 STFT frames, ten times the result's
    size, never exist for the whole audio at once.
    """
    total = num_mel_frames(len(audio))
    return np.concatenate([mel_rows(audio, first, min(first + block, total), sample_rate)
                           for first in range(0, total, block)])  # fmt: skip


def mel_window_rows(frames: np.ndarray, num_mel_frames: int, fps: float = FPS,
                    mel_fps: float = SAMPLE_RATE / HOP) -> np.ndarray:  # fmt: skip
    """Mel row indices ``(len(frames), 16)`` of each video frame's window.

    SadTalker's rule (``src/generate_batch.py``): video frame ``i``'s window starts at mel row
    ``int(80 * (i - 2) / 25)``, two frames (80 ms) early, and spans 16 rows (200 ms); rows
    outside the spectrogram are clamped to its first or last row. So frames past the end of
    the audio (padding) repeat the last row.
    """
    starts = np.trunc(mel_fps * ((np.asarray(frames, np.float64) - 2) / fps)).astype(np.int64)
    return np.clip(starts[:, None] + np.arange(WINDOW_MEL_FRAMES), 0, num_mel_frames - 1)


def frame_mel_windows(mel: np.ndarray, num_frames: int, start: int = 0, fps: float = FPS) -> np.ndarray:
    """Per-video-frame windows ``(num_frames, 80, 16)`` (mel bins x time, SadTalker's layout)
    for frames ``start .. start + num_frames - 1`` of the spectrogram ``mel`` ``(M, 80)``."""
    rows = mel_window_rows(np.arange(start, start + num_frames), len(mel), fps)
    return np.ascontiguousarray(np.asarray(mel)[rows].transpose(0, 2, 1))


def iter_frame_mel_windows(audio: np.ndarray, num_frames: int, chunk: int = 512,
                           fps: float = FPS) -> Iterator[np.ndarray]:  # fmt: skip
    """``frame_mel_windows(melspectrogram(audio), num_frames)`` in pieces of ``chunk`` frames,
    each computed from the audio it covers alone (:func:`mel_rows`): the same values, with
    memory bounded by ``chunk`` whatever the audio's length."""
    total = num_mel_frames(len(audio))
    for start in range(0, num_frames, chunk):
        rows = mel_window_rows(np.arange(start, min(start + chunk, num_frames)), total, fps)
        first, stop = int(rows.min()), int(rows.max()) + 1
        mel = mel_rows(audio, first, stop)
        yield np.ascontiguousarray(mel[rows - first].transpose(0, 2, 1))


__all__ = [
    "FPS", "NUM_MELS", "SAMPLE_RATE", "WINDOW_MEL_FRAMES", "frame_mel_windows", "iter_frame_mel_windows", "load_audio",
    "mel_filters", "mel_rows", "mel_window_rows", "melspectrogram", "num_mel_frames", "num_video_frames",
    "stft_magnitude",
]  # fmt: skip
