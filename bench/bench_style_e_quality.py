"""Style-E quality on held-out clips: lip sync, M-LMD / F-LMD, emotion accuracy, ablations, speed.

    python bench/bench_style_e_quality.py --train-corpus /tmp/train/corpus \\
        [--checkpoint default] [--hours 0.1] [--seed 101] [--threads 1] \\
        [--work /tmp/s2t_style_e_quality] [--csv bench/style_e_quality.csv] [--plot docs/style_e_quality.png]

``--next-level`` measures instead what issue #19 asks of Style-E beyond lip sync, on the
unseen-voices set (:mod:`s2t.eval.expressiveness`): emotion accuracy and key-channel
activation for label, paraphrased and mild sentences, where the text encoder places the mild
ones, head motion, variant diversity against lip sync, an emotion change within a take, and
speed. No regressor is trained for it. ``--languages`` measures lip sync per language
(:func:`languages_table`: the sentences of ``s2t/data/texts/multilingual.tsv``, which no
training corpus holds; each row says whether the corpus speaks that language).

``--train-corpus`` is the corpus the checkpoint was trained on (the embedded default: seed 0,
0.4 h; if the folder does not exist it is rebuilt there with ``--train-seed`` and
``--train-hours``, which is deterministic). It supplies the voices and sentences to hold
out, the emotion classifier's training data and the regressor baseline's corpus. The
regressor (trained with the checkpoint's own step budget and settings, one thread, a few
minutes) is kept in ``--work`` and reused by later runs. Metrics are defined in
:mod:`s2t.eval.quality`. Prints markdown; writes one CSV row per (set, variant) and a
figure (lip gap of two held-out clips, confusion matrices).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from s2t.data import CorpusIndex, build_synthetic_corpus
from s2t.data.emotion import EMOTIONS
from s2t.eval.expressiveness import (MILD_SENTENCES, head_motion, key_activation, key_channels, text_neighbours,
                                     transition_sharpness, variant_diversity)  # fmt: skip
from s2t.eval.quality import (PARAPHRASES, UNSEEN_ESPEAK_VARIANTS, EmotionClassifier, Exposure, accuracy,
                              clip_features, confusion, evaluate, ground_truth, held_out_recipes, lip_gap, overlap,
                              paraphrase, render_held_out)  # fmt: skip
from s2t.face.coeffs import CoeffSequence
from s2t.face.rig import build_rig
from s2t.style_e import load_style_e
from s2t.style_e.checkpoint import model_from_checkpoint, read_checkpoint, resolve_checkpoint, save_checkpoint
from s2t.style_e.emotion_track import parse_emotion_track
from s2t.style_e.label_texts import emotion_texts
from s2t.training.style_e import TrainConfig
from s2t.training.style_e_regressor import StyleERegressor, train_regressor
from s2t.training.style_e_windows import load_corpus_clips, read_annotations

COLUMNS = ["set", "variant", "clips", "jaw_r", "lip_r", "undefined_r", "m_lmd_mm", "f_lmd_mm", "closure_frames",
           "closure_recall", "emotion_acc", "s_per_10s"]  # fmt: skip


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def training_corpus(path: Path, seed: int, hours: float) -> CorpusIndex:
    if not (path / "corpus.json").exists():
        print(f"rebuilding the training corpus in {path} (seed {seed}, {hours} h)")
        build_synthetic_corpus(path, hours, seed=seed, workers=1, progress=False)
    return CorpusIndex(path)


def training_texts(corpus: CorpusIndex) -> set[str]:
    annotations = read_annotations(corpus.root)
    return {t for r in corpus for t in (annotations.get(r.clip_id) or emotion_texts(r.emotion, r.level))}


def fit_classifier(corpus: CorpusIndex) -> EmotionClassifier:
    features = [clip_features(CoeffSequence.load(r.coeffs_path).expression) for r in corpus]
    return EmotionClassifier().fit(np.stack(features), [r.emotion for r in corpus])


def regressor_for(checkpoint: dict, style_e, corpus: CorpusIndex, work: Path, steps: int | None) -> StyleERegressor:
    """The regression baseline with the checkpoint's step budget and settings (cached in ``work``)."""
    settings = {**checkpoint["train_config"], "steps": steps or checkpoint["step"]}
    path = work / f"regressor_{settings['steps']}.pt"
    if path.exists():
        saved = read_checkpoint(path)
        if saved.get("objective") == "regression" and saved.get("train_config") == settings:
            return StyleERegressor(model_from_checkpoint(saved, path), style_e.text_encoder)
    clips = load_corpus_clips(corpus.root, style_e.config, progress=False)
    started = time.perf_counter()
    model, history = train_regressor(clips, style_e.model, style_e.text_encoder, TrainConfig(**settings))
    minutes = (time.perf_counter() - started) / 60
    print(f"regressor: {settings['steps']} steps in {minutes:.1f} min on {torch.get_num_threads()} thread(s)")
    work.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, model, objective="regression", train_config=settings, history=history, minutes=minutes)
    return StyleERegressor(model, style_e.text_encoder)


def diffusion(style_e, steps: int = 5, strength: float = 1.0, text: str | None = None, seed_offset: int = 0):
    """A generator for :func:`evaluate`: the Style-E stage, optionally with a fixed text."""
    return lambda clip, asked, seed: style_e.generate(clip.audio, asked if text is None else text, seed + seed_offset,
                                                      strength, clip.identity, steps).expression  # fmt: skip


def speed(style_e, clips, threads: int) -> dict[int, float]:
    """Median wall time of 10 s of held-out speech -> coefficients (mel, text, audio encoder, DDIM)."""
    audio = np.concatenate([c.audio for c in clips])[: 10 * 16000]
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    times = {}
    for steps in (5, 50):
        style_e.generate(audio, "He is happy.", 0, 1.0, None, steps)  # warm-up
        runs = []
        for seed in range(3):
            started = time.perf_counter()
            style_e.generate(audio, "He is happy.", seed, 1.0, None, steps)
            runs.append(time.perf_counter() - started)
        times[steps] = float(np.median(runs))
    torch.set_num_threads(before)
    return times


def plot(path: Path, face, clips, style_e, regressor, confusions: dict[str, np.ndarray]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9), dpi=100)
    for ax, (number, clip) in zip(axes[0], [(i, c) for i, c in enumerate(clips) if c.emotion != "neutral"][:2]):
        text = emotion_texts(clip.emotion, clip.level)[1]
        curves = {"ground truth": clip.expression,
                  "Style-E (DDIM 5)": style_e.generate(clip.audio, text, number, 1.0, clip.identity, 5).expression,
                  "regressor": regressor.generate(clip.audio, text, clip.identity).expression}  # fmt: skip
        for label, expression in curves.items():
            gap = lip_gap(face.landmarks(expression, clip.identity)) * 1000
            ax.plot(np.arange(len(gap)) / 25, gap, label=label, lw=2 if label == "ground truth" else 1.2)
        ax.set(title=f"{clip.voice}, '{text}'", xlabel="s", ylabel="lip gap (mm)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    for ax, (title, matrix) in zip(axes[1], confusions.items()):
        ax.imshow(matrix, cmap="Blues")
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                    color="white" if count > matrix.max() / 2 else "black")
        ax.set(title=title, xlabel="classified as", ylabel="asked for", xticks=range(len(EMOTIONS)),
               yticks=range(len(EMOTIONS)), xticklabels=EMOTIONS, yticklabels=EMOTIONS)  # fmt: skip
        plt.setp(ax.get_xticklabels(), rotation=45, ha="right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def next_level(style_e, face, clips: list, classifier: EmotionClassifier, variants: int = 4) -> None:
    """Issue #19's measurements on held-out clips (module doc); prints markdown tables."""
    names = style_e.config.channel_names
    jaw = names.index("jawOpen")
    texts = {"label": lambda c, i: emotion_texts(c.emotion, c.level)[i % 3],
             "paraphrase": paraphrase,
             "mild": lambda c, i: MILD_SENTENCES[c.emotion][i % 3]}  # fmt: skip
    rows, takes = [], {}
    for kind, text_for in texts.items():
        features, keys, jaw_r, heads = [], [], [], []
        for number, clip in enumerate(clips):
            take = style_e.generate(clip.audio, text_for(clip, number), number, 1.0, clip.identity)
            takes[kind, number] = take
            features.append(clip_features(take.expression))
            keys.append(key_activation(take.expression, clip.emotion, names))
            jaw_r.append(np.corrcoef(take.expression[:, jaw], clip.expression[: take.num_frames, jaw])[0, 1])
            heads.append(head_motion(take.pose, clip.audio, take.fps))
        predicted = classifier.predict(np.stack(features))
        asked = [c.emotion for c in clips]
        rows.append([kind, len(clips), f"{accuracy(asked, predicted):.2f}", f"{np.nanmean(keys):.3f}",
                     f"{np.nanmean(jaw_r):.3f}"])  # fmt: skip
        if kind == "label":
            head_rows = heads
    truth_keys = np.nanmean([key_activation(c.expression, c.emotion, names) for c in clips])
    print("Emotion at strength 1 (unseen voices; key activation = mean of the emotion's key channels, "
          f"true curves {truth_keys:.3f}):\n")
    print(table(["texts", "clips", "emotion acc.", "key activation", "jawOpen r"], rows) + "\n")

    per_emotion = []
    for emotion in EMOTIONS:
        picked = [n for n, c in enumerate(clips) if c.emotion == emotion]
        if emotion == "neutral" or not picked:
            continue
        per_emotion.append([emotion, ", ".join(key_channels(emotion, names))]
                           + [f"{np.mean([key_activation(takes[k, n].expression, emotion, names) for n in picked]):.3f}"
                              for k in texts])  # fmt: skip
    print(table(["emotion", "key channels", *[f"{k} texts" for k in texts]], per_emotion) + "\n")

    sentences = [s for e in EMOTIONS for s in MILD_SENTENCES[e]]
    similarity, columns = text_neighbours(style_e.text_encoder, sentences)
    mild_rows = []
    probe = next(c for c in clips if c.seconds > 3)
    for (emotion, sentence), sims in zip([(e, s) for e in EMOTIONS for s in MILD_SENTENCES[e]], similarity):
        take = style_e.generate(probe.audio, sentence, 0, 1.0, probe.identity)
        mild_rows.append([emotion, sentence, columns[int(sims.argmax())], f"{sims[columns.index(emotion)]:.2f}",
                          f"{sims[columns.index('neutral')]:.2f}", f"{key_activation(take.expression, emotion, names):.3f}"
                          if emotion != "neutral" else "—"])  # fmt: skip
    print("Mild sentences: nearest label-sentence emotion in MiniLM space, cosine to the asked emotion's and to "
          f"neutral's label sentences, key activation on one held-out clip ({probe.seconds:.1f} s):\n")
    print(table(["asked", "sentence", "nearest", "cos asked", "cos neutral", "key activation"], mild_rows) + "\n")

    head = {k: np.mean([h[k] for h in head_rows]) for k in head_rows[0]}
    print("Head motion (label texts, mean over clips): " + ", ".join(f"{k} {v:.2f}" for k, v in head.items()) + "\n")

    diversity, take_r = [], []
    for number, clip in enumerate(clips[:12]):
        text = emotion_texts(clip.emotion, clip.level)[number % 3]
        seqs = style_e.variants(clip.audio, text, list(range(100, 100 + variants)), 1.0, clip.identity)
        diversity.append(variant_diversity([s.expression for s in seqs], [s.pose for s in seqs]))
        take_r += [np.corrcoef(s.expression[:, jaw], clip.expression[: s.num_frames, jaw])[0, 1] for s in seqs]
    print(f"Variants ({variants} seeds x {min(12, len(clips))} clips): expression RMS between takes "
          f"{np.mean([d['expression_rms'] for d in diversity]):.4f}, head rotation RMS between takes "
          f"{np.mean([d['rotation_rms_deg'] for d in diversity]):.2f} deg; jawOpen r of each take "
          f"{np.mean(take_r):.3f} (min {np.min(take_r):.3f}); the regressor's takes are identical (0, 0).\n")

    sharp, before, after, near_r, steady_r, whole_r = [], [], [], [], [], []
    for number, clip in enumerate([c for c in clips if c.emotion != "neutral" and c.seconds > 3][:16]):
        change = clip.seconds / 2
        track = parse_emotion_track([{"start": 0.0, "text": emotion_texts("neutral", 2)[1]},
                                     {"start": change, "text": emotion_texts(clip.emotion, clip.level)[1]}])  # fmt: skip
        take = style_e.generate(clip.audio, track, number, 1.0, clip.identity)
        frame, blend = int(change * take.fps), int(track.blend * take.fps)
        keys = [names.index(k) for k in key_channels(clip.emotion, names)]
        sharp.append(transition_sharpness(take.expression, keys, frame, blend))
        before.append(take.expression[: frame - blend, keys].mean())
        after.append(take.expression[frame + blend :, keys].mean())
        window = slice(max(0, frame - 2 * blend), frame + 2 * blend)
        true_jaw = clip.expression[: take.num_frames, jaw]
        near_r.append(np.corrcoef(take.expression[window, jaw], true_jaw[window])[0, 1])
        steady = style_e.generate(clip.audio, track.cues[1].text, number, 1.0, clip.identity).expression[:, jaw]
        steady_r.append(np.corrcoef(steady[window], true_jaw[window])[0, 1])  # the same frames, no change
        whole_r.append(np.corrcoef(take.expression[:, jaw], true_jaw)[0, 1])
    print(f"Emotion change at mid-clip, neutral -> the clip's emotion ({len(sharp)} clips, blend 0.5 s): key "
          f"activation before {np.mean(before):.3f} -> after {np.mean(after):.3f}; largest key-channel step near "
          f"the change / elsewhere {np.mean(sharp):.2f} (max {np.max(sharp):.2f}); jawOpen r within 1 s of the "
          f"change {np.nanmean(near_r):.3f}, same frames of takes without the change {np.nanmean(steady_r):.3f} "
          f"(whole takes {np.mean(whole_r):.3f}).\n")
    times = speed(style_e, clips, 1)
    print(f"Speed, 10 s of speech, 1 thread: DDIM 5 {times[5]:.2f} s (load {os.getloadavg()[0]:.1f}).")


def languages_table(style_e, face, exposure: Exposure, trained: set[str], seed: int = 103) -> None:
    """Lip sync per language: each sentence of ``load_multilingual`` (none of them in any
    training corpus) spoken by a held-out espeak-ng speaker switched to that language (variant
    kept), neutral, against the procedural performer's truth from the engine's phone timings;
    English held-out sentences of the same speakers as the reference. ``trained`` are the
    corpus's languages: the rows say which languages training heard. Prints a markdown table."""
    from dataclasses import replace

    from s2t.data.sentences import load_multilingual
    from s2t.data.synth import render_clip
    from s2t.eval.quality import clip_scores
    from s2t.face.motion import frame_loudness

    multilingual = load_multilingual()
    count = max(len(v) for v in multilingual.values())
    recipes = [replace(r, emotion="neutral", level=1) for r, _ in
               zip(held_out_recipes(seed, ("espeak-ng",), exposure, per_session=2), range(count))]  # fmt: skip
    rows = []
    for language, sentences in [("en", [r.sentence for r in recipes]), *multilingual.items()]:
        jaw_r, lip_r, m_lmd, loud_r = [], [], [], []
        for number, (recipe, sentence) in enumerate(zip(recipes, sentences)):
            if language != "en":
                voice = recipe.speaker.voice
                variant = voice.voice.split("+")[1] if "+" in voice.voice else ""
                speaker = replace(recipe.speaker, voice=replace(voice, voice=f"{language}+{variant}".rstrip("+")))
                recipe = replace(recipe, sentence=sentence, speaker=speaker)
            audio, truth = render_clip(recipe)
            identity = np.asarray(truth.metadata["identity"], np.float32)
            take = style_e.generate(audio, "He talks calmly with a neutral expression.", number, 1.0, identity)
            scores = clip_scores(face, identity, take.expression, truth.expression)
            jaw_r.append(scores.jaw_r), lip_r.append(scores.lip_r), m_lmd.append(scores.m_lmd)
            loudness = frame_loudness(audio, 16000, take.num_frames, take.fps)
            loud_r.append(np.corrcoef(take.channel("jawOpen"), loudness)[0, 1])
        rows.append([f"{language} ({'trained' if language in trained else 'held out'})", len(jaw_r), f"{np.nanmean(jaw_r):.3f}", f"{np.nanmean(lip_r):.3f}",
                     f"{np.mean(m_lmd):.2f}", f"{np.nanmean(loud_r):.3f}"])  # fmt: skip
    print(f"Lip sync per language (espeak-ng, held-out speakers and sentences, neutral; training languages: "
          f"{', '.join(sorted(trained))}):\n")
    print(table(["language", "clips", "jawOpen r", "lip-gap r", "M-LMD mm", "jawOpen-loudness r"], rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-corpus", type=Path, required=True)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--train-hours", type=float, default=0.4)
    parser.add_argument("--checkpoint", default="default")
    parser.add_argument("--hours", type=float, default=0.1, help="audio in each held-out set")
    parser.add_argument("--seed", type=int, default=101, help="held-out sets use this seed, +1 and +2")
    parser.add_argument("--regressor-steps", type=int, help="default: the checkpoint's own step count")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for everything but the speed test")
    parser.add_argument("--work", type=Path, default=Path("/tmp/s2t_style_e_quality"))
    parser.add_argument("--csv", type=Path, default=Path("bench/style_e_quality.csv"))
    parser.add_argument("--plot", type=Path, default=Path("docs/style_e_quality.png"))
    parser.add_argument("--next-level", action="store_true", help="issue #19's measurements only (module doc)")
    parser.add_argument("--languages", action="store_true", help="lip sync per language only (module doc)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    checkpoint = read_checkpoint(resolve_checkpoint(args.checkpoint))
    style_e = load_style_e(args.checkpoint)
    face = build_rig()
    corpus = training_corpus(args.train_corpus, args.train_seed, args.train_hours)
    exposure = Exposure.from_records(corpus.records)
    if args.languages:
        languages_table(style_e, face, exposure, set(corpus.manifest["settings"].get("languages", ["en"])))
        return
    unseen_paraphrases = not {t for texts in PARAPHRASES.values() for t in texts} & training_texts(corpus)
    print(f"# Style-E quality ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, {args.threads} thread(s))\n")
    print(f"Checkpoint {args.checkpoint} (step {checkpoint['step']}); training corpus {corpus.root}: "
          f"{len(corpus)} clips, {corpus.total_seconds / 3600:.2f} h, seed {corpus.manifest['settings']['seed']}, "
          f"{len(exposure.voices)} voices, {len(exposure.sentence_ids)} sentences. "
          f"Paraphrases absent from the training texts: {unseen_paraphrases}.\n")

    seconds = args.hours * 3600
    sets = {
        "espeak-ng, unseen voices": render_held_out(
            held_out_recipes(args.seed, ("espeak-ng",), exposure, per_session=2), seconds),
        "espeak-ng, unseen variant family": render_held_out(
            held_out_recipes(args.seed + 1, ("espeak-ng",), exposure, UNSEEN_ESPEAK_VARIANTS, 2), seconds),
        # flite has four voices and training used all of them: hold out sentences and speakers only
        "flite, training's 4 voices": render_held_out(
            held_out_recipes(args.seed + 2, ("flite",), Exposure(frozenset(), exposure.sentence_ids), per_session=2),
            seconds),
    } if not args.next_level else {
        "espeak-ng, unseen voices": render_held_out(
            held_out_recipes(args.seed, ("espeak-ng",), exposure, per_session=2), seconds)}  # fmt: skip
    rows = []
    for name, clips in sets.items():
        shared = overlap(clips, exposure)
        rows.append([name, len(clips), f"{sum(c.seconds for c in clips):.0f}", len({c.voice for c in clips}),
                     shared["voices"], shared["sentences"]])  # fmt: skip
    print(table(["held-out set", "clips", "seconds", "voices", "clips with a training voice",
                 "clips with a training sentence"], rows) + "\n")  # fmt: skip

    classifier = fit_classifier(corpus)
    if args.next_level:
        next_level(style_e, face, sets["espeak-ng, unseen voices"], classifier)
        return
    regressor = regressor_for(checkpoint, style_e, corpus, args.work, args.regressor_steps)
    main_set = next(iter(sets))
    clips = sets[main_set]

    def regress(clip, text, seed):
        return regressor.generate(clip.audio, text, clip.identity).expression

    variants = {
        "ground truth (ceiling)": lambda: ground_truth(clips, face, classifier),
        "Style-E, DDIM 5 (default)": lambda: evaluate(diffusion(style_e), clips, face, classifier),
        "DDIM 5, other seeds": lambda: evaluate(diffusion(style_e, seed_offset=1000), clips, face, classifier),
        "DDIM 20": lambda: evaluate(diffusion(style_e, 20), clips, face, classifier),
        "DDIM 50": lambda: evaluate(diffusion(style_e, 50), clips, face, classifier),
        "strength 0 (null text)": lambda: evaluate(diffusion(style_e, strength=0.0), clips, face, classifier),
        "empty text, strength 1": lambda: evaluate(diffusion(style_e, text=""), clips, face, classifier),
        "strength 2": lambda: evaluate(diffusion(style_e, strength=2.0), clips, face, classifier),
        "regressor (same MLP, L2)": lambda: evaluate(regress, clips, face, classifier),
        "paraphrased texts, DDIM 5": lambda: evaluate(diffusion(style_e), clips, face, classifier, paraphrase),
    }  # fmt: skip
    style_e.generate(clips[0].audio, "He is happy.")  # warm-up, so the first variant's time is not inflated
    results = {(main_set, name): run() for name, run in variants.items()}
    for name in list(sets)[1:]:
        results[(name, "ground truth (ceiling)")] = ground_truth(sets[name], face, classifier)
        results[(name, "Style-E, DDIM 5 (default)")] = evaluate(diffusion(style_e), sets[name], face, classifier)

    csv_rows = []
    for (set_name, variant), evaluation in results.items():
        summary = evaluation.summary()
        csv_rows.append({"set": set_name, "variant": variant, **summary})
    print(table(["set", "variant", "clips", "jawOpen r", "lip-gap r", "M-LMD mm", "F-LMD mm", "closure recall",
                 "emotion acc.", "s / 10 s audio"],
                [[r["set"], r["variant"], r["clips"], f"{r['jaw_r']:.3f}", f"{r['lip_r']:.3f}", f"{r['m_lmd_mm']:.2f}",
                  f"{r['f_lmd_mm']:.2f}", f"{r['closure_recall']:.2f}", f"{r['emotion_acc']:.2f}",
                  f"{r['s_per_10s']:.2f}"]
                 for r in csv_rows]) + "\n")  # fmt: skip

    recall_variants = ["ground truth (ceiling)", "Style-E, DDIM 5 (default)", "paraphrased texts, DDIM 5",
                       "strength 2", "regressor (same MLP, L2)"]  # fmt: skip
    recall_rows = []
    for emotion in EMOTIONS:
        row = [emotion]
        for variant in recall_variants:
            e = results[(main_set, variant)]
            picked = [p for a, p in zip(e.asked, e.predicted) if a == emotion]
            row.append(f"{accuracy([emotion] * len(picked), picked):.2f} ({len(picked)})" if picked else "—")
        recall_rows.append(row)
    print(f"Per-emotion accuracy on '{main_set}' (clips):\n")
    print(table(["emotion"] + recall_variants, recall_rows) + "\n")

    for threads in (1, 2):
        times = speed(style_e, clips, threads)
        print(f"Speed, 10 s of speech -> coefficients ({threads} thread(s), median of 3): DDIM 5 {times[5]:.2f} s, "
              f"DDIM 50 {times[50]:.2f} s (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n")
        for steps, value in times.items():
            csv_rows.append({"set": "10 s of speech", "variant": f"speed, DDIM {steps}, {threads} thread(s)",
                             "s_per_10s": value})  # fmt: skip

    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows([{k: r.get(k, "") for k in COLUMNS} for r in csv_rows])
    default, para = results[(main_set, "Style-E, DDIM 5 (default)")], results[(main_set, "paraphrased texts, DDIM 5")]
    plot(args.plot, face, clips, style_e, regressor,
         {"Style-E DDIM 5, training phrasing": confusion(default.asked, default.predicted),
          "Style-E DDIM 5, paraphrased texts": confusion(para.asked, para.predicted)})  # fmt: skip
    print(f"wrote {args.csv} and {args.plot}")


if __name__ == "__main__":
    main()
