"""Recreate the built-in speech sample: ``python s2t/assets/samples/make_samples.py``.

espeak-ng (GPL-3 program; its output speech is not a derived work and is ours to ship,
CC0) says two sentences; the phone timings come from the engine itself (see
s2t.data.tts) and are stored beside the audio so the demo can animate the sample with no
speech engine installed.
"""

import json
from pathlib import Path

import numpy as np

from s2t.data.corpus import write_wav
from s2t.data.phonemes import normalize_phones, refine_closures
from s2t.data.synth import SPEECH_LEVEL_DBFS, pad_with_silence
from s2t.data.tts import SAMPLE_RATE, VoiceSpec, synthesize

TEXT = ("Hello! I am a talking head from a single photograph. "
        "My feelings come from your words, and my looks come from a picture.")
VOICE = VoiceSpec("espeak-ng", "en-us+f3", rate=0.95, pitch=1.05, range=60)


def main() -> None:
    here = Path(__file__).parent
    utterance = synthesize(TEXT, VOICE)
    phones = refine_closures(utterance.audio, SAMPLE_RATE, normalize_phones(utterance.phones))
    audio, phones = pad_with_silence(utterance.audio, phones, 0.3, 0.4)
    audio = audio * 10 ** (SPEECH_LEVEL_DBFS / 20) / float(np.sqrt(np.mean(audio[np.abs(audio) > 1e-4] ** 2)))
    write_wav(here / "speech.wav", audio.astype(np.float32), SAMPLE_RATE)
    record = {"text": TEXT, "engine": VOICE.engine, "voice": VOICE.voice, "rate": VOICE.rate, "pitch": VOICE.pitch,
              "sample_rate": SAMPLE_RATE, "licence": "CC0-1.0", "phones": [[p.symbol, p.start, p.end] for p in phones]}
    (here / "speech.json").write_text(json.dumps(record, indent=1, ensure_ascii=False))
    print(f"{len(audio) / SAMPLE_RATE:.2f} s, {len(phones)} phones")


if __name__ == "__main__":
    main()
