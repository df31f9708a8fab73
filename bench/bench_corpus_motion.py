"""Head motion of the synthetic corpus against what studies of talking people report; multilingual clips.

    python bench/bench_corpus_motion.py [--clips 40] [--languages en] [--seed 0] [--corpus DIR] [--plot PNG]

Builds ``--clips`` clips (in a temporary folder), or reads the first ``--clips`` of an existing
``--corpus`` (read only), and measures each clip's head rotation: std and range per axis (the
issue's figures), its tie to loudness (Munhall et al. 2004: head motion correlates with the
voice's amplitude), in which band of the loudness envelope it follows the voice (1-2 Hz for
head and face, 3-4 Hz for the mouth: PLOS Comput. Biol., doi:10.1371/journal.pcbi.1010273),
where the nods peak against the stressed syllables (on them on average: Alexanderson, House
& Beskow, AVSP 2013) and how the pitch power spreads over frequency. With ``--plot`` it draws
the first clip of each language (audio, phones, mouth curves) to check the lips follow the
phones. Prints markdown; the build rate goes into the retrain recipe's time estimate.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.signal import periodogram

from s2t.data import CorpusIndex, build_synthetic_corpus
from s2t.face.motion import bandpass, frame_loudness, stressed_syllables

BANDS = ((0.0, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 12.5))  # Hz


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def clip_motion(clip) -> dict:
    """One clip's head-motion figures (degrees, Hz, ms)."""
    seq = clip.coeffs
    degrees = np.degrees(seq.pose[:, :3].astype(np.float64))
    loudness = frame_loudness(clip.audio, clip.sample_rate, seq.num_frames, seq.fps)
    speech = np.clip(loudness, np.percentile(loudness, 95) - 30.0, None)
    pitch = degrees[:, 0]
    speed = np.linalg.norm(np.diff(degrees, axis=0), axis=1) * seq.fps
    lags = []
    for frame, _ in stressed_syllables(loudness, seq.fps):
        window = int(0.3 * seq.fps)
        if window <= frame < len(pitch) - window:
            lags.append((np.argmax(pitch[frame - window : frame + window + 1]) - window) / seq.fps * 1000)
    freqs, power = periodogram(pitch - pitch.mean(), fs=seq.fps)
    return {
        "std": degrees.std(0), "range": np.ptp(degrees, 0),
        "r_loudness": np.corrcoef(pitch, speech)[0, 1],
        "r_speed": np.corrcoef(speed, np.abs(np.diff(speech)))[0, 1],
        "r_band_1_2": np.corrcoef(pitch, bandpass(speech, seq.fps, 1.0, 2.0))[0, 1],
        "r_band_3_4": np.corrcoef(pitch, bandpass(speech, seq.fps, 3.0, 4.0))[0, 1],
        "lags": lags, "nods_per_s": len(stressed_syllables(loudness, seq.fps)) / seq.duration,
        "bands": np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in BANDS]) / max(power[1:].sum(), 1e-12),
    }  # fmt: skip


def motion_report(corpus: CorpusIndex, count: int) -> str:
    figures = [clip_motion(corpus.load(i)) for i in range(min(count, len(corpus)))]
    std, span = np.mean([f["std"] for f in figures], 0), np.mean([f["range"] for f in figures], 0)
    lags = np.concatenate([f["lags"] for f in figures]) if any(f["lags"] for f in figures) else np.array([np.nan])
    bands = np.mean([f["bands"] for f in figures], 0)
    seconds = np.mean([corpus.records[i].duration for i in range(len(figures))])
    rows = [
        ["clips, mean length", f"{len(figures)}, {seconds:.1f} s", ""],
        ["rotation std pitch / yaw / roll (deg, within a clip)", " / ".join(f"{v:.2f}" for v in std),
         "no per-axis figure found (docs/corpus.md); issue: Style-E's 0.6-1.2 reads as stiff"],
        ["rotation range pitch / yaw / roll (deg)", " / ".join(f"{v:.1f}" for v in span), "issue: Style-E's 2-5 reads as stiff"],
        ["corr(pitch, loudness), median", f"{np.median([f['r_loudness'] for f in figures]):.2f}",
         "> 0: head motion follows amplitude (Munhall et al. 2004)"],
        ["corr(pitch, loudness 1-2 Hz band) / (3-4 Hz band), median",
         f"{np.median([f['r_band_1_2'] for f in figures]):.2f} / {np.median([f['r_band_3_4'] for f in figures]):.2f}",
         "head follows the 1-2 Hz band, the mouth 3-4 Hz (PLOS Comput. Biol. pcbi.1010273)"],
        ["corr(angular speed, loudness change), median", f"{np.median([f['r_speed'] for f in figures]):.2f}",
         "sharp movements at loudness peaks (Hadar et al., PubMed 6209950)"],
        ["stressed-syllable peaks a second", f"{np.mean([f['nods_per_s'] for f in figures]):.2f}", ""],
        ["nod peak - syllable peak, median [p25, p75] (ms)",
         f"{np.nanmedian(lags):.0f} [{np.nanpercentile(lags, 25):.0f}, {np.nanpercentile(lags, 75):.0f}]",
         "aligned on average (Alexanderson et al., AVSP 2013)"],
        ["pitch power < 0.5 / 0.5-1 / 1-2 / 2-4 / > 4 Hz", " / ".join(f"{100 * b:.0f}%" for b in bands),
         "sway below 0.5 Hz, phrase motion 1-2 Hz"],
    ]  # fmt: skip
    return table(["figure", "corpus", "published reference"], rows)


def plot_languages(corpus: CorpusIndex, path: Path) -> None:
    """The first clip of each language: audio with its phones, and the mouth curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    firsts = {}
    for record in corpus:
        firsts.setdefault(record.language, record.index)
    fig, axes = plt.subplots(2 * len(firsts), 1, figsize=(14, 3.6 * len(firsts)), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 1.4] * len(firsts)})  # fmt: skip
    for number, (language, index) in enumerate(firsts.items()):
        clip = corpus.load(index)
        seq = clip.coeffs
        ax = axes[2 * number, 0]
        ax.plot(np.arange(len(clip.audio)) / clip.sample_rate, clip.audio, lw=0.3, color="0.5")
        top = np.abs(clip.audio).max()
        for symbol, start, end in clip.phones:
            ax.axvline(start, color="k", lw=0.3)
            ax.text((start + end) / 2, 0.8 * top, symbol or "_", ha="center", fontsize=9)
        ax.set_title(f"{language}: {clip.record.voice}, {clip.record.emotion} | {clip.record.text}", fontsize=10)
        t = np.arange(seq.num_frames) / seq.fps
        curves = axes[2 * number + 1, 0]
        for name in ("jawOpen", "mouthClose", "mouthPucker", "mouthFunnel", "mouthRollLower"):
            curves.plot(t, seq.channel(name), ".-", ms=3, label=name)
        for symbol, start, end in clip.phones:
            curves.axvline(start, color="0.85", lw=0.5)
            curves.text((start + end) / 2, 0.93, symbol, ha="center", fontsize=8, color="0.4")
        curves.set_xlim(ax.get_xlim())
        curves.set_ylim(0, 1)
        curves.legend(fontsize=7, loc="upper right", ncol=5)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--languages", default="en", help="comma-separated (s2t corpus synth --languages)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--corpus", type=Path, help="measure this existing corpus instead of building one")
    parser.add_argument("--plot", type=Path, help="write each language's first clip (phones, mouth curves) here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.corpus
        if root is None:
            root = Path(tmp) / "corpus"
            languages = tuple(args.languages.split(","))
            hours = args.clips * 2.0 / 3600  # clips are ~3 s: build a little more, keep the first --clips
            started = time.perf_counter()
            summary = build_synthetic_corpus(root, hours, args.seed, workers=args.workers, progress=False,
                                             languages=languages)  # fmt: skip
            wall = time.perf_counter() - started
            while summary["clips"] < args.clips:
                hours *= 1.3
                summary = build_synthetic_corpus(root, hours, args.seed, workers=args.workers, progress=False,
                                                 languages=languages)  # fmt: skip
                wall += summary["wall_seconds"]
            print(f"Built {summary['clips']} clips ({summary['seconds']:.0f} s of speech, languages {languages}) "
                  f"in {wall:.1f} s wall with {args.workers} worker(s): {summary['seconds'] / wall:.1f} s of corpus "
                  f"a wall second on {platform.machine()} ({platform.processor() or 'cpu'}).\n")  # fmt: skip
        corpus = CorpusIndex(root)
        print(motion_report(corpus, args.clips))
        if args.plot:
            plot_languages(corpus, args.plot)
            print(f"\nwrote {args.plot}")


if __name__ == "__main__":
    main()
