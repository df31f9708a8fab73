"""Audio augmentation, so models trained on the corpus do not learn one engine's clean timbre.

:func:`sample_augmentation` draws a JSON-able parameter dict (stored with each clip);
:func:`apply_augmentation` is a pure function of the audio and that dict (noise and room
responses come from seeds inside it), so a clip's augmentation can be reproduced or redone
on the clean audio. Nothing shifts the audio in time: reverberation keeps the direct path at
lag 0 and the output keeps the input's length, so phone timings stay valid.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, sosfilt, butter

NOISE_COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0}  # power spectrum ~ 1 / f^exponent


def sample_augmentation(rng: np.random.Generator) -> dict:
    """Random settings: EQ (60%), band limits (25%), room reverb (50%), noise (70%), and a level."""
    params: dict = {"level_dbfs": round(float(rng.uniform(-32.0, -18.0)), 2)}
    if rng.random() < 0.6:
        params["eq"] = [{"freq": round(float(np.exp(rng.uniform(np.log(120), np.log(6000)))), 1),
                         "gain_db": round(float(rng.uniform(-8.0, 8.0)), 2),
                         "q": round(float(rng.uniform(0.5, 2.0)), 2)} for _ in range(int(rng.integers(1, 4)))]  # fmt: skip
    if rng.random() < 0.25:
        params["band"] = [round(float(rng.uniform(60.0, 300.0)), 1), round(float(rng.uniform(3400.0, 7600.0)), 1)]
    if rng.random() < 0.5:
        params["reverb"] = {"rt60": round(float(rng.uniform(0.15, 0.8)), 3), "drr_db": round(float(rng.uniform(0.0, 15.0)), 2),
                            "seed": int(rng.integers(2**31))}  # fmt: skip
    if rng.random() < 0.7:
        params["noise"] = {"colour": str(rng.choice(list(NOISE_COLOURS))), "snr_db": round(float(rng.uniform(10.0, 40.0)), 2),
                           "hum_hz": float(rng.choice([0.0, 50.0, 60.0], p=[0.8, 0.1, 0.1])), "seed": int(rng.integers(2**31))}  # fmt: skip
    return params


def _peaking(freq: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """RBJ audio-EQ-cookbook peaking biquad as one second-order section."""
    a, w = 10 ** (gain_db / 40), 2 * np.pi * freq / sr
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w), 1 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[None, :]


def room_response(rt60: float, drr_db: float, sr: int, seed: int) -> np.ndarray:
    """A synthetic room impulse response: the direct path (1 at lag 0), then exponentially decaying
    noise (60 dB down after ``rt60``) after a 2-8 ms gap, at ``drr_db`` below the direct sound."""
    rng = np.random.default_rng(seed)
    gap = int(sr * rng.uniform(0.002, 0.008))
    n = int(sr * rt60)
    tail = rng.normal(0.0, 1.0, n) * np.exp(-6.9 * np.arange(n) / n)
    tail *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(tail**2))
    return np.concatenate([[1.0], np.zeros(gap), tail])


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    freqs = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    noise = np.fft.irfft(spectrum / freqs ** (NOISE_COLOURS[colour] / 2), n)
    return noise / max(noise.std(), 1e-12)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


def apply_augmentation(audio: np.ndarray, sr: int, params: dict) -> np.ndarray:
    """The augmented audio, same length, float32, peaks kept within 0.98 (by scaling, not clipping)."""
    x = audio.astype(np.float64)
    for band in params.get("eq", []):
        x = sosfilt(_peaking(band["freq"], band["gain_db"], band["q"], sr), x)
    if "band" in params:
        low, high = params["band"]
        x = sosfilt(butter(4, [low, min(high, 0.45 * sr)], btype="band", fs=sr, output="sos"), x)
    if "reverb" in params:
        r = params["reverb"]
        x = fftconvolve(x, room_response(r["rt60"], r["drr_db"], sr, r["seed"]))[: len(x)]
    if "noise" in params:
        n = params["noise"]
        rng = np.random.default_rng(n["seed"])
        noise = coloured_noise(len(x), n["colour"], rng)
        if n["hum_hz"]:
            t = np.arange(len(x)) / sr
            noise += sum(np.sin(2 * np.pi * n["hum_hz"] * h * t + rng.uniform(0, 2 * np.pi)) / h for h in (1, 2, 3))
        speech_rms = _rms(x[np.abs(x) > 0.05 * np.abs(x).max()]) if np.any(x) else 1.0  # level of the speech, not the pauses
        x = x + noise / _rms(noise) * speech_rms * 10 ** (-n["snr_db"] / 20)
    x *= 10 ** (params["level_dbfs"] / 20) / _rms(x)
    peak = np.abs(x).max()
    if peak > 0.98:
        x *= 0.98 / peak
    return x.astype(np.float32)
