"""Offline speech synthesis with per-phone timings from the engines themselves.

Two engines from Debian packages are used:

- **espeak-ng** (formant synthesis; many accents and voice variants), called in-process
  through ``libespeak-ng.so.1`` with ctypes: with ``espeakINITIALIZE_PHONEME_EVENTS`` the
  library reports every phone, in IPA, with the sample at which it starts.
- **flite** (CMU diphone and clustergen voices kal16, awb, rms, slt), run as a command:
  ``-psdur`` prints every segment with its end time.

Both timings come from the synthesiser, so they are exact up to how each engine marks
boundaries; :func:`s2t.data.phonemes.refine_closures` moves espeak's stop boundaries (it
marks the burst, not the closure) onto the audio. Measured against energy onsets in
``bench/bench_corpus.py``; pocketsphinx forced alignment was tried as well and was slower and
less reliable on synthetic voices (it failed on a quarter of espeak sentences).

Audio comes back as float32 mono at 16 kHz.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

SAMPLE_RATE = 16000


class EngineUnavailable(RuntimeError):
    """The TTS engine is not installed (the message says which Debian package provides it)."""


@dataclass(frozen=True)
class Phone:
    """One phone: its symbol (IPA, or "" for a pause) and its interval in seconds."""

    symbol: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class VoiceSpec:
    """An engine voice and how it is driven.

    ``rate`` is the speaking-rate factor (1 = the engine's default) and ``pitch`` the factor on
    the voice's mean F0 (1 = default; flite's ``rms`` voice ignores it); ``range`` is espeak's
    intonation range (0-100, default 50; unused by flite).
    """

    engine: str
    voice: str
    rate: float = 1.0
    pitch: float = 1.0
    range: int = 50


@dataclass(frozen=True)
class Utterance:
    audio: np.ndarray  # (N,) float32 in [-1, 1] at SAMPLE_RATE
    phones: tuple[Phone, ...]
    voice: VoiceSpec

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return audio.astype(np.float32)
    ratio = Fraction(SAMPLE_RATE, rate)
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(np.float32)


def _phones_from_starts(starts: list[tuple[float, str]], duration: float) -> tuple[Phone, ...]:
    """Phones from (start, symbol) events: each lasts until the next one starts."""
    phones = []
    for i, (start, symbol) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else duration
        if end > start:
            phones.append(Phone(symbol, round(start, 5), round(end, 5)))
    return tuple(phones)


# -- espeak-ng -------------------------------------------------------------------------------

ESPEAK_ACCENTS = ("en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3")
_ESPEAK_DEFAULT_WPM, _ESPEAK_DEFAULT_PITCH = 175, 50
_EVENT_END, _EVENT_PHONEME = 0, 7
_RATE, _PITCH, _RANGE = 1, 3, 4
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x0001, 0x0002, 0x8000


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` of speak_lib.h."""

    _fields_ = [
        ("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
        ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p), ("id", _EventId),
    ]  # fmt: skip


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakEngine:
    """espeak-ng through its C library (process-global: one instance a process; POSIX only, it forks)."""

    name = "espeak-ng"

    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng")
        if path is None:
            raise EngineUnavailable("espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
        lib = ctypes.CDLL(path)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]  # fmt: skip
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        options = _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT
        self.rate = lib.espeak_Initialize(2, 0, None, options)  # 2: AUDIO_OUTPUT_SYNCHRONOUS
        if self.rate <= 0:
            raise EngineUnavailable("espeak-ng failed to initialise (is espeak-ng-data installed?)")
        self.version = lib.espeak_Info(None).decode()
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _SynthCallback(self._on_synth)  # kept referenced while the library holds it
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, num_samples: int, events) -> int:
        if wav and num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        i = 0
        while events[i].type != _EVENT_END:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                self._events.append((event.sample, event.id.string.decode("utf-8", "replace")))
            i += 1
        return 0

    def voices(self) -> list[str]:
        return [f"{accent}+{variant}" for accent in ESPEAK_ACCENTS for variant in ESPEAK_VARIANTS]

    def synthesize(self, text: str, voice: VoiceSpec) -> Utterance:
        """Synthesise in a forked child, so every utterance starts from the freshly initialised
        library: espeak-ng carries state (oscillator phases, noise) from one utterance to the
        next, which would make a clip depend on what the process spoke before it."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: speak once, send the result, exit without running Python cleanup
            status = 1
            try:
                os.close(read_end)
                header, audio = self._synthesize_here(text, voice)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(json.dumps(header).encode() + b"\n" + audio.tobytes())
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or b"\n" not in data:
            raise RuntimeError(f"espeak-ng failed on {text!r} with voice {voice.voice!r} (child status {status})")
        line, audio_bytes = data.split(b"\n", 1)
        header = json.loads(line)
        if "error" in header:
            raise ValueError(header["error"])
        audio = np.frombuffer(audio_bytes, np.int16).astype(np.float32) / 32768.0
        starts = [(sample / self.rate, symbol) for sample, symbol in header["events"]]
        return Utterance(_resample(audio, self.rate), _phones_from_starts(starts, len(audio) / self.rate), voice)

    def _synthesize_here(self, text: str, voice: VoiceSpec) -> tuple[dict, np.ndarray]:
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.voice.encode()) != 0:
            return {"error": f"espeak-ng has no voice {voice.voice!r}"}, np.zeros(0, np.int16)
        lib.espeak_SetParameter(_RATE, round(_ESPEAK_DEFAULT_WPM * voice.rate), 0)
        lib.espeak_SetParameter(_PITCH, int(np.clip(round(_ESPEAK_DEFAULT_PITCH * voice.pitch), 0, 99)), 0)
        lib.espeak_SetParameter(_RANGE, int(voice.range), 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
        lib.espeak_Synchronize()
        if not self._chunks:
            return {"error": f"espeak-ng produced no audio for {text!r}"}, np.zeros(0, np.int16)
        return {"events": self._events}, np.concatenate(self._chunks).astype(np.int16)


# -- flite -----------------------------------------------------------------------------------

FLITE_VOICES = ("kal16", "awb", "rms", "slt")
_FLITE_F0 = {"kal16": 100.0, "awb": 125.0, "slt": 170.0}  # Hz: int_f0_target_mean; rms has no F0 control
ARPABET_TO_IPA = {
    "aa": "ɑ", "ae": "æ", "ah": "ʌ", "ao": "ɔ", "aw": "aʊ", "ax": "ə", "ay": "aɪ", "eh": "ɛ", "er": "ɚ", "ey": "eɪ",
    "ih": "ɪ", "iy": "i", "ow": "oʊ", "oy": "ɔɪ", "uh": "ʊ", "uw": "u", "b": "b", "ch": "tʃ", "d": "d", "dh": "ð",
    "dx": "ɾ", "f": "f", "g": "ɡ", "hh": "h", "jh": "dʒ", "k": "k", "l": "l", "m": "m", "n": "n", "ng": "ŋ", "p": "p",
    "r": "ɹ", "s": "s", "sh": "ʃ", "t": "t", "th": "θ", "v": "v", "w": "w", "y": "j", "z": "z", "zh": "ʒ", "pau": "",
}  # fmt: skip


class FliteEngine:
    name = "flite"

    def __init__(self) -> None:
        self.binary = shutil.which("flite")
        if self.binary is None:
            raise EngineUnavailable("flite is not installed (Debian/Ubuntu: apt-get install flite)")
        listed = subprocess.run([self.binary, "-lv"], capture_output=True, text=True, check=True).stdout
        self._voices = [v for v in FLITE_VOICES if v in listed.split()]
        printed = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        self.version = printed.split("version:")[-1].split()[0] if "version:" in printed else printed.strip()

    def voices(self) -> list[str]:
        return list(self._voices)

    def synthesize(self, text: str, voice: VoiceSpec) -> Utterance:
        if voice.voice not in self._voices:
            raise ValueError(f"flite has no voice {voice.voice!r}; it has {self._voices}")
        command = [self.binary, "-voice", voice.voice, "-psdur", "--setf", f"duration_stretch={1.0 / voice.rate:.4f}"]
        if voice.voice in _FLITE_F0:
            command += ["--setf", f"int_f0_target_mean={_FLITE_F0[voice.voice] * voice.pitch:.1f}"]
        with tempfile.TemporaryDirectory() as tmp:
            wav_path = Path(tmp) / "speech.wav"
            printed = subprocess.run(command + ["-t", text, "-o", str(wav_path)], capture_output=True, text=True, check=True).stdout
            with wave.open(str(wav_path)) as f:
                rate = f.getframerate()
                audio = np.frombuffer(f.readframes(f.getnframes()), np.int16).astype(np.float32) / 32768.0
        starts, start = [], 0.0
        for token in printed.split():
            symbol, end = token.rsplit(":", 1)
            starts.append((start, ARPABET_TO_IPA.get(symbol, symbol)))
            start = float(end)
        return Utterance(_resample(audio, rate), _phones_from_starts(starts, len(audio) / rate), voice)


ENGINES = {"espeak-ng": EspeakEngine, "flite": FliteEngine}


@lru_cache(maxsize=None)
def get_engine(name: str) -> EspeakEngine | FliteEngine:
    """The engine ``name``, created once per process; raises :class:`EngineUnavailable`."""
    if name not in ENGINES:
        raise KeyError(f"unknown TTS engine {name!r}; known: {sorted(ENGINES)}")
    return ENGINES[name]()


def available_engines() -> dict[str, str]:
    """Installed engines and their versions, e.g. ``{"espeak-ng": "1.51", "flite": "..."}``."""
    found = {}
    for name in ENGINES:
        try:
            found[name] = get_engine(name).version
        except EngineUnavailable:
            pass
    return found


def synthesize(text: str, voice: VoiceSpec) -> Utterance:
    return get_engine(voice.engine).synthesize(text, voice)
