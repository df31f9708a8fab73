"""Synthetic corpus benchmark: build throughput, corpus statistics, timing and curve checks.

    python bench/bench_corpus.py [--hours 0.05] [--workers 2] [--out DIR] [--plot docs/corpus_curves.png]

Builds a corpus (in a temporary folder unless --out), times it and a resume over it, then
measures: what the corpus holds (engines, voices, speakers, emotions x levels, sentences);
how well phone timings line up with the audio's energy edges per engine (raw engine timings,
after closure refinement, and shifted +-40 ms as a control; pocketsphinx forced alignment
for comparison when it is installed); and whether the curves behave like speech (jaw on open
vowels, sealed lips on p/b/m, rounding on u/w, blink rate and length, head motion size and
its tie to loudness, how well emotions can be told apart from the coefficients).
Prints markdown.
"""

from __future__ import annotations

import argparse
import platform
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from s2t.data import CorpusIndex, build_synthetic_corpus
from s2t.data.emotion import EMOTIONS
from s2t.data.phonemes import boundary_errors, normalize_phones, refine_closures
from s2t.data.sentences import load_sentences
from s2t.data.tts import ARPABET_TO_IPA, SAMPLE_RATE, VoiceSpec, available_engines, synthesize
from s2t.face.facs import OPENFACE_AUS, aus_from_blendshapes
from s2t.face.motion import frame_loudness

TIMING_VOICES = [VoiceSpec("espeak-ng", "en-us+m3"), VoiceSpec("espeak-ng", "en-gb-x-rp+f2", 0.85, 1.2),
                 VoiceSpec("espeak-ng", "en-029+klatt", 1.15), VoiceSpec("flite", "kal16"), VoiceSpec("flite", "awb"),
                 VoiceSpec("flite", "rms", 1.15), VoiceSpec("flite", "slt", 0.85)]  # fmt: skip


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def pocketsphinx_phones(audio: np.ndarray, text: str):
    """Forced alignment with pocketsphinx's bundled en-us model; None if it fails."""
    from pocketsphinx import Decoder

    from s2t.data.tts import Phone

    data = (np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes()
    decoder = Decoder(samprate=SAMPLE_RATE, bestpath=False, loglevel="FATAL")
    decoder.set_align_text(" ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split()))
    try:
        for _ in range(2):  # word alignment, then phone alignment within it
            decoder.start_utt()
            decoder.process_raw(data, full_utt=True)
            decoder.end_utt()
            if _ == 0:
                decoder.set_alignment()
    except RuntimeError:
        return None
    rate = decoder.config["frate"]
    return tuple(Phone(ARPABET_TO_IPA.get(p.name.lower(), ""), p.start / rate, (p.start + p.duration) / rate)
                 for word in decoder.get_alignment() for p in word)  # fmt: skip


def timing_report(num_sentences: int) -> str:
    engines = available_engines()
    try:
        import pocketsphinx  # noqa: F401

        have_sphinx = True
    except ImportError:
        have_sphinx = False
    sentences = [s.text for s in load_sentences()[:num_sentences]]
    rows = []
    for voice in TIMING_VOICES:
        if voice.engine not in engines:
            continue
        errors: dict[str, list] = {k: [] for k in ("raw", "refined", "-40 ms", "+40 ms", "sphinx")}
        sphinx_fail, sphinx_time = 0, 0.0
        for text in sentences:
            utterance = synthesize(text, voice)
            raw = normalize_phones(utterance.phones)
            refined = refine_closures(utterance.audio, SAMPLE_RATE, raw)
            errors["raw"].append(boundary_errors(utterance.audio, SAMPLE_RATE, raw))
            errors["refined"].append(boundary_errors(utterance.audio, SAMPLE_RATE, refined))
            errors["-40 ms"].append(boundary_errors(utterance.audio, SAMPLE_RATE, refined, -0.04))
            errors["+40 ms"].append(boundary_errors(utterance.audio, SAMPLE_RATE, refined, 0.04))
            if have_sphinx:
                started = time.perf_counter()
                aligned = pocketsphinx_phones(utterance.audio, text)
                sphinx_time += time.perf_counter() - started
                if aligned is None:
                    sphinx_fail += 1
                else:
                    errors["sphinx"].append(boundary_errors(utterance.audio, SAMPLE_RATE, normalize_phones(aligned)))
        row = [f"{voice.engine} {voice.voice} x{voice.rate}", len(np.concatenate(errors["refined"]))]
        for key in ("raw", "refined", "-40 ms", "+40 ms") + (("sphinx",) if have_sphinx else ()):
            e = np.concatenate(errors[key]) * 1000 if errors[key] else np.array([np.nan])
            row.append(f"{np.median(e):.1f} / {np.mean(e < 20):.0%}")
        if have_sphinx:
            row.append(f"{sphinx_fail}/{len(sentences)}, {sphinx_time / len(sentences):.2f} s")
        rows.append(row)
    header = ["voice", "boundaries", "engine timings", "+ closure refinement", "shifted -40 ms", "shifted +40 ms"]
    if have_sphinx:
        header += ["pocketsphinx alignment", "sphinx failures, time/sentence"]
    return table(header, rows)


def curve_report(corpus: CorpusIndex) -> str:
    open_vowels, bilabial, rounded = {"ɑ", "æ", "a", "ʌ"}, {"p", "b", "m"}, {"u", "w"}
    jaw = {"open": [], "bilabial": [], "other": []}
    gap, pucker = {"bilabial": [], "vowel": []}, {"rounded": [], "other": []}
    smooth, lo, hi = [], 1.0, 0.0
    blinks, blink_lengths, minutes, pose_deg, corr = 0, [], 0.0, [], []
    for record in corpus:
        clip = corpus.load(record.index)
        seq = clip.coeffs
        names = seq.channel_names
        e = seq.expression
        lo, hi = min(lo, float(e.min())), max(hi, float(e.max()))
        mouth = [names.index(n) for n in names if n.startswith(("mouth", "jaw"))]
        smooth.append(np.abs(np.diff(e[:, mouth], 2, axis=0)).mean())
        for symbol, start, end in clip.phones:
            frame = min(seq.num_frames - 1, int(round((start + end) / 2 * seq.fps)))
            j, c = seq.channel("jawOpen")[frame], seq.channel("mouthClose")[frame]
            jaw["open" if symbol in open_vowels else "bilabial" if symbol in bilabial else "other"].append(j)
            if symbol in bilabial or symbol in open_vowels:
                gap["bilabial" if symbol in bilabial else "vowel"].append(j - c)
            pucker["rounded" if symbol in rounded else "other"].append(seq.channel("mouthPucker")[frame])
        lids = seq.channel("eyeBlinkLeft") - np.median(seq.channel("eyeBlinkLeft"))
        blinks += len(seq.metadata["blinks"])
        minutes += seq.duration / 60
        runs = np.diff(np.concatenate([[0], (lids > 0.05).astype(int), [0]]))
        blink_lengths += list((np.nonzero(runs == -1)[0] - np.nonzero(runs == 1)[0]) / seq.fps * 1000)
        pose_deg.append(np.degrees(seq.pose[:, :3]))
        loud = frame_loudness(clip.audio, clip.sample_rate, seq.num_frames, seq.fps)
        corr.append(np.corrcoef(seq.pose[:, 0], loud)[0, 1])
    pose = np.concatenate(pose_deg)
    rows = [
        ["jawOpen at open vowels (ɑ æ a ʌ) / other phones / p b m", f"{np.mean(jaw['open']):.2f} / {np.mean(jaw['other']):.2f} / {np.mean(jaw['bilabial']):.2f}"],
        ["lip gap jawOpen - mouthClose at p b m / at open vowels", f"{np.mean(gap['bilabial']):.3f} / {np.mean(gap['vowel']):.3f}"],
        ["mouthPucker at u w / other phones", f"{np.mean(pucker['rounded']):.2f} / {np.mean(pucker['other']):.2f}"],
        ["mouth channels: mean abs 2nd difference a frame", f"{np.mean(smooth):.4f}"],
        ["all channels: min / max", f"{lo:.3f} / {hi:.3f}"],
        ["blinks a minute", f"{blinks / minutes:.1f}"],
        ["blink length (lid > 0.05), median [p10, p90]", f"{np.median(blink_lengths):.0f} ms [{np.percentile(blink_lengths, 10):.0f}, {np.percentile(blink_lengths, 90):.0f}]"],
        ["head pitch / yaw / roll std (deg)", " / ".join(f"{s:.2f}" for s in pose.std(0))],
        ["head max abs angle (deg)", f"{np.abs(pose).max():.2f}"],
        ["corr(head pitch, loudness) per clip, median", f"{np.median(corr):.2f}"],
    ]  # fmt: skip
    return table(["check", "value"], rows)


def emotion_report(corpus: CorpusIndex) -> str:
    """Leave-one-out nearest-centroid emotion recognition from each clip's mean OpenFace AUs."""
    features, labels, levels = [], [], []
    for record in corpus:
        seq = corpus.load(record.index).coeffs
        features.append(aus_from_blendshapes(seq.expression.mean(0), seq.channel_names, OPENFACE_AUS))
        labels.append(record.emotion)
        levels.append(record.level)
    features, labels, levels = np.array(features), np.array(labels), np.array(levels)
    rows = []
    for min_level in (1, 2, 3):
        keep = (levels >= min_level) | (labels == "neutral")
        x, y = features[keep], labels[keep]
        correct = 0
        for i in range(len(x)):
            others = np.arange(len(x)) != i
            centroids = {e: x[others & (y == e)].mean(0) for e in EMOTIONS if np.any(others & (y == e))}
            correct += min(centroids, key=lambda e: np.linalg.norm(x[i] - centroids[e])) == y[i]
        rows.append([f">= {min_level}", len(x), f"{correct / len(x):.0%}"])
    return table(["clips with level (neutral always)", "clips", "nearest-centroid accuracy (chance 12.5%)"], rows)


def corpus_stats(corpus: CorpusIndex) -> str:
    records = list(corpus)
    engines = Counter(r.engine for r in records)
    voices = {(r.engine, r.voice) for r in records}
    espeak_accents = {r.voice.split("+")[0] for r in records if r.engine == "espeak-ng"}
    sentences = Counter(r.sentence_id for r in records)
    words = [w for r in records for w in re.findall(r"[a-z']+", r.text.lower())]
    durations = np.array([r.duration for r in records])
    augment = Counter(k for r in records for k in (corpus.load(r.index).coeffs.metadata["augmentation"] or {}) if k != "level_dbfs")
    grid = Counter((r.emotion, r.level) for r in records)
    rows = [
        ["clips / hours", f"{len(records)} / {durations.sum() / 3600:.3f}"],
        ["clip length mean [min, max]", f"{durations.mean():.2f} s [{durations.min():.2f}, {durations.max():.2f}]"],
        ["clips per engine", ", ".join(f"{k} {v}" for k, v in sorted(engines.items()))],
        ["distinct voices (engine, voice+variant)", f"{len(voices)} (espeak accents: {len(espeak_accents)})"],
        ["speakers", len({r.speaker for r in records})],
        ["distinct sentences / clips", f"{len(sentences)} / {len(records)} (sources: {dict(Counter(s.split('/')[0] for s in sentences))})"],
        ["words spoken / distinct words", f"{len(words)} / {len(set(words))}"],
        ["augmentations used (share of clips)", ", ".join(f"{k} {v / len(records):.0%}" for k, v in sorted(augment.items()))],
    ]  # fmt: skip
    out = table(["statistic", "value"], rows)
    out += "\n\n" + table(["emotion"] + [f"level {lv}" for lv in (1, 2, 3)],
                          [[e] + [grid.get((e, lv), 0) for lv in (1, 2, 3)] for e in EMOTIONS])  # fmt: skip
    return out


def plot(corpus: CorpusIndex, indices: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [("mouth", ["jawOpen", "mouthClose", "mouthPressLeft", "mouthRollLower", "mouthFunnel", "mouthPucker", "mouthStretchLeft"]),
              ("emotion + blinks", ["eyeBlinkLeft", "eyeWideLeft", "eyeSquintLeft", "browInnerUp", "browDownLeft", "mouthSmileLeft",
                                    "mouthFrownLeft", "noseSneerLeft", "mouthUpperUpLeft", "mouthLowerDownLeft"])]  # fmt: skip
    fig, axes = plt.subplots(4, len(indices), figsize=(8 * len(indices), 11), squeeze=False)
    for column, index in enumerate(indices):
        clip = corpus.load(index)
        seq, r = clip.coeffs, clip.record
        t = np.arange(seq.num_frames) / seq.fps
        ax = axes[0, column]
        ax.plot(np.arange(len(clip.audio)) / clip.sample_rate, clip.audio, lw=0.3, color="0.5")
        top = np.abs(clip.audio).max()
        for symbol, start, end in clip.phones:
            ax.axvline(start, color="k", lw=0.3)
            ax.text((start + end) / 2, 0.85 * top, symbol or "_", ha="center", fontsize=8)
        ax.set_title(f"{r.clip_id} {r.engine} {r.voice} | {r.emotion} L{r.level}\n{r.text}", fontsize=9)
        for row, (title, names) in enumerate(groups, 1):
            for name in names:
                axes[row, column].plot(t, seq.channel(name), ".-" if row == 1 else "-", ms=3, label=name)
            axes[row, column].set_ylim(0, 1)
            axes[row, column].set_ylabel(title)
            axes[row, column].legend(fontsize=6, ncol=2, loc="upper right")
        ax = axes[3, column]
        ax.plot(t, np.degrees(seq.pose[:, :3]), label=["pitch", "yaw", "roll"])
        ax.set_ylabel("head (deg)")
        ax.legend(fontsize=6, loc="upper left")
        loud = ax.twinx()
        loud.plot(t, frame_loudness(clip.audio, clip.sample_rate, seq.num_frames, seq.fps), color="0.6", lw=0.7)
        loud.set_ylabel("loudness (dB)")
        ax.set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="corpus folder (default: a temporary one)")
    parser.add_argument("--timing-sentences", type=int, default=40)
    parser.add_argument("--plot", type=Path, help="write example curves to this PNG")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "corpus"
        summary = build_synthetic_corpus(out, args.hours, args.seed, workers=args.workers, progress=False)
        started = time.perf_counter()
        resumed = build_synthetic_corpus(out, args.hours, args.seed, workers=args.workers, progress=False)
        resume_seconds = time.perf_counter() - started
        corpus = CorpusIndex(out)
        print(f"## Synthetic corpus ({platform.processor() or platform.machine()}, {args.workers} workers, engines: "
              f"{', '.join(f'{k} {v}' for k, v in summary['engines'].items())})\n")  # fmt: skip
        print(table(["build", "value"], [
            ["corpus built", f"{summary['seconds']:.0f} s of audio, {summary['clips']} clips"],
            ["wall time", f"{summary['wall_seconds']:.1f} s"],
            ["throughput", f"{summary['throughput']:.1f} s of corpus per wall second"],
            ["resume of the finished corpus", f"{resumed['new_clips']} new clips, {resume_seconds:.2f} s"],
        ]))  # fmt: skip
        print("\n" + corpus_stats(corpus))
        print("\n### Phone timings vs energy edges (median error ms / share within 20 ms)\n")
        print(timing_report(args.timing_sentences))
        print("\n### Curves\n")
        print(curve_report(corpus))
        print("\n### Emotions from coefficients\n")
        print(emotion_report(corpus))
        if args.plot:
            plot(corpus, [0, 1, 2], args.plot)


if __name__ == "__main__":
    main()
