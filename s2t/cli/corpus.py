"""``s2t corpus synth|from-video|annotate``: training corpora."""

from __future__ import annotations

import json
from pathlib import Path

from s2t.cli.common import UserError, writable


def _language_list(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(part.strip() for part in text.split(",") if part.strip())


def cmd_corpus_synth(*, out: Path, hours: float, seed: int, workers: int | None, augment: bool, quiet: bool,
                     languages: str = "en", held_out: str | None = None) -> None:  # fmt: skip
    from s2t.data import EngineUnavailable, build_synthetic_corpus
    from s2t.data.sentences import check_languages

    if hours <= 0:
        raise UserError(f"--hours must be positive, got {hours}")
    try:
        trained, kept_out = check_languages(_language_list(languages) or (), _language_list(held_out))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        summary = build_synthetic_corpus(out_dir=out, hours=hours, seed=seed, workers=workers,
                                         progress=not quiet, augment=augment, languages=trained, held_out=kept_out)
    except EngineUnavailable as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:  # a folder built with other settings
        raise UserError(str(exc)) from None
    print(json.dumps(summary, indent=2))


def cmd_corpus_from_video(*, source: Path, out: Path, layout: str, workers: int, max_clips: int | None,
                          quiet: bool) -> None:
    from s2t.data.adapters import build_video_corpus

    if max_clips is not None and max_clips < 1:
        raise UserError(f"--max-clips must be at least 1, got {max_clips}")
    summary = build_video_corpus(source, out, layout=layout, workers=workers, progress=not quiet, max_clips=max_clips)
    print(json.dumps(summary, indent=2))


def cmd_corpus_annotate(*, corpus: Path, encoder: str, seed: int, export: Path | None, resume: bool,
                        quiet: bool) -> None:
    import torch

    from s2t.data.annotate import annotate_corpus, export_annotations

    torch.set_num_threads(1)  # small batches: on a shared 2-core machine 1 thread ran 8x faster than 2
    summary = annotate_corpus(corpus, encoder=encoder, seed=seed, progress=not quiet, resume=resume)
    if export:
        summary["exported"] = export_annotations(corpus, writable(export))
    print(json.dumps(summary, indent=2))


def add_corpus(sub) -> None:
    corpus = sub.add_parser("corpus", help="training corpora").add_subparsers(
        dest="corpus_command", required=True, metavar="ACTION")
    p = corpus.add_parser("synth", help="build (or extend, or resume) the synthetic talking corpus")
    p.add_argument("-o", "--out", type=Path, required=True, help="corpus folder")
    p.add_argument("--hours", type=float, required=True, help="total length of speech to have in the folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, help="processes (default: all cores; 0 or 1: in this process)")
    p.add_argument("--no-augment", action="store_true", help="keep the clean TTS audio")
    p.add_argument("--languages", default="en",
                   help="comma-separated languages the clips speak, sessions taking turns; NAME:N gives a "
                        "language N sessions a turn (default en; others are espeak-ng voices: de,es,fr,it,pt,nl; "
                        "e.g. en:3,de,es)")
    p.add_argument("--held-out", help="comma-separated languages kept out of training for evaluation, written to "
                                      "the manifest (default: every evaluation language not in --languages)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_corpus_synth(out=a.out, hours=a.hours, seed=a.seed, workers=a.workers,
        augment=not a.no_augment, quiet=a.quiet, languages=a.languages, held_out=a.held_out))

    p = corpus.add_parser("from-video", help="build (or resume) a corpus from MEAD, HDTF or a folder of talking videos")
    p.add_argument("source", type=Path, help="the videos' folder")
    p.add_argument("--layout", choices=["mead", "hdtf", "folder"], required=True,
                   help="mead: <speaker>/video/front/<emotion>/level_<n>/NNN.mp4; hdtf: WRA_/RD_/WDA_*.mp4; "
                        "folder: any videos, emotions from labels.csv/labels.json")
    p.add_argument("-o", "--out", type=Path, required=True, help="corpus folder")
    p.add_argument("--workers", type=int, default=1, help="processes fitting clips (default 1)")
    p.add_argument("--max-clips", type=int, help="only the first N videos in path order (a larger N later extends)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_corpus_from_video(source=a.source, out=a.out, layout=a.layout, workers=a.workers,
        max_clips=a.max_clips, quiet=a.quiet))

    p = corpus.add_parser("annotate", help="write five emotion sentences for every clip (shard_*/annotations.jsonl)")
    p.add_argument("--corpus", type=Path, required=True, help="corpus folder")
    p.add_argument("--encoder", default="minilm",
                   help="ranking: 'minilm' (offline, default) or CLIP's ViT-B-32.pt path / 'clip-vit-b32' (the paper's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", type=Path, help="also write the paper-like {clip_id: [5 sentences]} JSON here")
    p.add_argument("--no-resume", action="store_true", help="annotate every clip again (default: skip annotated clips)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=lambda a: cmd_corpus_annotate(corpus=a.corpus, encoder=a.encoder, seed=a.seed, export=a.export,
        resume=not a.no_resume, quiet=a.quiet))
