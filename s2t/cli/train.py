"""``s2t train style-e|style-a``: the training loops."""

from __future__ import annotations

import sys
from pathlib import Path

from s2t.cli.common import UserError, load_sequence


def cmd_train_style_e(*, corpus: Path, out: Path, preset: str, steps: int, batch_size: int, lr: float,
                      eval_every: int, save_every: int, seed: int, device: str, resume: bool,
                      text_encoder: str | None) -> None:
    from dataclasses import replace

    from s2t.style_e.denoiser import PRESETS
    from s2t.text.encoders import load_text_encoder
    from s2t.training.style_e import TrainConfig, train_style_e

    encoder = load_text_encoder(text_encoder) if text_encoder else None
    config = PRESETS[preset] if encoder is None else replace(PRESETS[preset], text_encoder=encoder.name, text_dim=encoder.dim)
    train = TrainConfig(steps=steps, batch_size=batch_size, learning_rate=lr, eval_every=eval_every,
                        save_every=save_every, seed=seed)
    last = train_style_e(corpus, out, config, train, resume=resume, device=device, text_encoder=encoder)
    print(f"wrote {last}", file=sys.stderr)


def cmd_train_style_a(*, style_a: Path, out: Path, data: Path | None, photo: str | None, coeffs: list[str],
                      art_preset: str, corpus: Path | None, styled: Path | None, art: str | None, vgg: Path | None,
                      discriminator: Path | None, size: int, channel_multiplier: int, steps: int, batch_size: int,
                      lr: float, perceptual_weight: float, adv_weight: float, sample_every: int, save_every: int,
                      seed: int, device: str, resume: bool) -> None:
    from functools import partial

    from s2t.training.style_a import TrainStyleAConfig, train_from_folder
    from s2t.training.style_a_dataset import build_dataset

    if sum(x is not None for x in (data, photo, corpus)) != 1 or (corpus is None) != (styled is None):
        raise UserError("give the training data one way: --data DIR, --photo PHOTO [--coeffs ...], or --corpus DIR "
                        "--styled DIR")
    sequences = [load_sequence(c) for c in coeffs]
    train = TrainStyleAConfig(steps=steps, batch_size=batch_size, learning_rate=lr,
                              perceptual_weight=perceptual_weight, adv_weight=adv_weight, sample_every=sample_every,
                              save_every=save_every, seed=seed)
    dataset = partial(build_dataset, out / "data", data=data, photo=photo, sequences=sequences,
                      art_preset=art_preset, corpus=corpus, styled=styled)
    last = train_from_folder(style_a, out, dataset, train, art=art, vgg=vgg, discriminator=discriminator,
                             size=size, channel_multiplier=channel_multiplier, device=device, resume=resume)
    print(f"wrote {last}", file=sys.stderr)


def add_train(sub) -> None:
    train = sub.add_parser("train", help="train models").add_subparsers(dest="train_command", required=True,
                                                                        metavar="MODEL")
    p = train.add_parser("style-e", help="train Style-E on a corpus folder")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints, metrics.csv and curves.png")
    p.add_argument("--preset", default="small", choices=("small", "paper"))
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--text-encoder", help="override the preset's text encoder (a CLIP file, or 'minilm')")
    p.set_defaults(run=lambda a: cmd_train_style_e(corpus=a.corpus, out=a.out, preset=a.preset, steps=a.steps,
        batch_size=a.batch_size, lr=a.lr, eval_every=a.eval_every, save_every=a.save_every, seed=a.seed,
        device=a.device, resume=a.resume, text_encoder=a.text_encoder))

    p = train.add_parser("style-a", help="train Style-A's motion, content and refinement nets (docs/style-a.md)")
    p.add_argument("--style-a", type=Path, required=True, metavar="DIR",
                   help="folder with generator.pt and encoder.pt (DualStyleGAN release), optionally style_a.pt to "
                        "start from and exstyle_code.npy")
    p.add_argument("--out", type=Path, required=True, help="folder for style_a.pt, checkpoints/, samples/, metrics.csv")
    p.add_argument("--data", type=Path, help="a Style-A dataset folder built before (OUT/data of an earlier run)")
    p.add_argument("--photo", help="smoke run: build the data from this photo with the CPU renderer")
    p.add_argument("--coeffs", nargs="*", default=[], help="coefficient files driving --photo (default: samples)")
    p.add_argument("--art-preset", default="cel", help="CPU art preset of the --photo targets (default cel)")
    p.add_argument("--corpus", type=Path, help="a video corpus (s2t.data.adapters) to build the data from")
    p.add_argument("--styled", type=Path, help="your stylised copies of the corpus videos (e.g. VToonify's)")
    p.add_argument("--art", help="train on this style of exstyle_code.npy (default: the data's art picture)")
    p.add_argument("--vgg", type=Path, help="vgg19-dcbb9e9d.pth for the perceptual loss (without it: L2 + adversarial)")
    p.add_argument("--discriminator", type=Path, help="stylegan2-ffhq-config-f.pt to start the discriminator from")
    p.add_argument("--size", type=int, default=1024, help="generator resolution of a new model (default 1024)")
    p.add_argument("--channel-multiplier", type=int, default=2)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--perceptual-weight", type=float, default=0.1)
    p.add_argument("--adv-weight", type=float, default=0.05)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--save-every", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.set_defaults(run=lambda a: cmd_train_style_a(style_a=a.style_a, out=a.out, data=a.data, photo=a.photo,
        coeffs=a.coeffs, art_preset=a.art_preset, corpus=a.corpus, styled=a.styled, art=a.art, vgg=a.vgg,
        discriminator=a.discriminator, size=a.size, channel_multiplier=a.channel_multiplier, steps=a.steps,
        batch_size=a.batch_size, lr=a.lr, perceptual_weight=a.perceptual_weight, adv_weight=a.adv_weight,
        sample_every=a.sample_every, save_every=a.save_every, seed=a.seed, device=a.device, resume=a.resume))
