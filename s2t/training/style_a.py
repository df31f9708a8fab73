"""Training Style-A (paper, "Style-A", Eq. 3 and 4): Gm, Ec and R learn, Es and G stay frozen.

Each step takes one clip of a :class:`~s2t.training.style_a_dataset.StyleADataset` and
``batch_size`` random frames of it: the identity frame is prepared once (Es and G's frozen
half are cached per clip, Ec and Gm's image encoder run with gradients), every frame is
rendered from its centred coefficient window, and the loss is::

    L = ||y - ŷ||² + perceptual_weight · Lprec(y, ŷ) + adv_weight · softplus(-D(ŷ))

with Lprec the VGG19 L1 feature loss (λ = 0.1 in the paper) and D the StyleGAN2
discriminator trained alongside with the logistic loss of Eq. 4 and a lazy R1 penalty
(:mod:`s2t.style_a.neural.losses`). The
paper does not give the adversarial weight; 0.05 keeps it a small correction next to the
reconstruction terms (VToonify, whose outputs are the paper's targets, weighs its own
adversarial term similarly low). Without VGG weights, training runs with L2 + adversarial
and warns.

Output folder::

    <out>/metrics.csv              step, losses, seconds
    <out>/samples/step_0000500.png identity | targets over predictions, every sample_every steps
    <out>/checkpoints/step_*.pt    Style-A weights + optimiser, discriminator and random state
    <out>/style_a.pt               the latest trainable weights alone (what renderers load)

``resume=True`` continues from the newest ``checkpoints/step_*.pt``. Checkpoint discovery
and the metrics log are :mod:`s2t.training.common`, shared with Style-E's loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from s2t.style_a.neural.checkpoint import (ENCODER_FILE, EXSTYLE_FILES, GENERATOR_FILE, STYLE_A_FILE,
                                           load_exstyle_code, read_style_a, require_files, save_style_a,
                                           style_a_config)
from s2t.style_a.neural.checkpoints import load_discriminator, load_dualstylegan
from s2t.style_a.neural.dualstylegan import DualStyleGANConfig
from s2t.style_a.neural.losses import discriminator_logistic_loss, generator_adversarial_loss, r1_penalty
from s2t.style_a.neural.model import StyleANetwork, StyleAConfig
from s2t.style_a.neural.motion import MotionConfig, centred_windows
from s2t.style_a.neural.renderer import image_to_tensor, tensor_to_images
from s2t.style_a.neural.psp_checkpoint import load_psp_encoder
from s2t.style_a.neural.stylegan2 import Discriminator
from s2t.style_a.neural.vgg import PerceptualLoss, VGG19Features, load_vgg19_features
from s2t.training.common import METRICS_FILE, MetricsLog, checkpoint_name, latest_checkpoint
from s2t.training.style_a_dataset import StyleADataset, read_rgb

log = logging.getLogger(__name__)
LOG_FIELDS = ("step", "loss", "l2", "perceptual", "adv_g", "d_loss", "r1", "seconds")
CHECKPOINT_FOLDER, CHECKPOINT_PREFIX = "checkpoints", "step_"
LEGACY_LOG_FILE = "log.csv"
"""The metrics log's name in run folders written before the loops shared ``metrics.csv``."""
SAMPLE_FRAMES = 4


@dataclass(frozen=True)
class TrainStyleAConfig:
    """Optimisation settings (the network's own settings live in ``StyleAConfig``)."""

    steps: int = 20000
    batch_size: int = 4
    learning_rate: float = 1e-4
    d_learning_rate: float = 1e-4
    perceptual_weight: float = 0.1
    adv_weight: float = 0.05
    r1_weight: float = 10.0
    r1_every: int = 16
    log_every: int = 10
    sample_every: int = 500
    save_every: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps and batch_size must be positive, got {self.steps}, {self.batch_size}")
        if self.adv_weight > 0 and self.batch_size > 4 and self.batch_size % 4:
            raise ValueError(f"the discriminator's minibatch-stddev groups of 4 need batch_size <= 4 or a "
                             f"multiple of 4, got {self.batch_size}")


class StyleATrainer:
    """Holds the model, optimisers, discriminator and per-clip caches; :meth:`step` is one update."""

    def __init__(self, model: StyleANetwork, data: StyleADataset, art_code: torch.Tensor, config: TrainStyleAConfig,
                 vgg: VGG19Features | None = None, discriminator: Discriminator | None = None,
                 device: str | torch.device = "cpu") -> None:
        if data.size != model.config.size:
            log.info("dataset frames are %d px, the model's %d px: frames are resized", data.size, model.config.size)
        expected = model.config.coeff_dim
        if data.clips[0].coefficients.shape[1] != expected:
            raise ValueError(f"the dataset has {data.clips[0].coefficients.shape[1]} coefficients per frame, "
                             f"the model reads {expected}")
        self.device = torch.device(device)
        self.model = model.to(self.device).train()
        self.data, self.config = data, config
        self.art_code = art_code.to(self.device)
        self.optimizer = torch.optim.Adam(model.trainable_parameters(), lr=config.learning_rate, betas=(0.5, 0.99))
        if vgg is None and config.perceptual_weight > 0:
            log.warning("no VGG19 weights given: training with L2 + adversarial losses only, without the paper's "
                        "perceptual loss (pass the path of vgg19-dcbb9e9d.pth to add it)")
        self.perceptual = PerceptualLoss(vgg).to(self.device) if vgg is not None and config.perceptual_weight > 0 \
            else None  # fmt: skip
        self.discriminator = self.d_optimizer = None
        if config.adv_weight > 0:
            if discriminator is None:
                with torch.random.fork_rng(devices=[]):  # the same start for the same seed
                    torch.manual_seed(config.seed)
                    discriminator = Discriminator(model.config.generator.discriminator_config())
            self.discriminator = discriminator
            self.discriminator.to(self.device).train().requires_grad_(True)
            self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.d_learning_rate, betas=(0.5, 0.99))
        self.rng = torch.Generator().manual_seed(config.seed)  # which clips and frames each step takes
        self.step_count = 0
        self._frozen: dict[int, tuple[torch.Tensor, ...]] = {}
        self._windows = [centred_windows(torch.from_numpy(c.coefficients), model.config.window) for c in data.clips]

    # -- data ----------------------------------------------------------------------------------

    def _identity(self, clip: int) -> torch.Tensor:
        return image_to_tensor(self.data.identity(clip), self.model.config.size, self.device)

    def _frozen_codes(self, clip: int) -> tuple[torch.Tensor, ...]:
        """Es and G's frozen half, computed once per clip and kept in host memory (8 MB at 1024)."""
        if clip not in self._frozen:
            codes = self.model.frozen_codes(self._identity(clip), self.art_code)
            self._frozen[clip] = tuple(c.cpu() for c in codes)
        return tuple(c.to(self.device) for c in self._frozen[clip])

    def _targets(self, clip: int, frames: list[int]) -> torch.Tensor:
        size = self.model.config.size
        return torch.cat([image_to_tensor(self.data.target(clip, t), size, self.device) for t in frames])

    def predict(self, clip: int, frames: list[int]) -> torch.Tensor:
        """Rendered frames (B, 3, size, size) of ``clip`` (with gradients when enabled)."""
        state = self.model.prepare(self._identity(clip), frozen=self._frozen_codes(clip))
        return self.model.render(state, self._windows[clip][frames].to(self.device))

    def _batch(self) -> tuple[int, list[int]]:
        clip = int(torch.randint(len(self.data), (1,), generator=self.rng))
        count = self.data.clips[clip].num_frames
        frames = torch.randint(count, (self.config.batch_size,), generator=self.rng).tolist()
        return clip, frames

    # -- one update ----------------------------------------------------------------------------

    def step(self) -> dict[str, float]:
        """One generator update (and one discriminator update); returns the logged values."""
        clip, frames = self._batch()
        target = self._targets(clip, frames)
        prediction = self.predict(clip, frames)
        values = {"l2": F.mse_loss(prediction, target)}
        loss = values["l2"]
        if self.perceptual is not None:
            values["perceptual"] = self.perceptual(prediction, target)
            loss = loss + self.config.perceptual_weight * values["perceptual"]
        if self.discriminator is not None:
            self.discriminator.requires_grad_(False)
            values["adv_g"] = generator_adversarial_loss(self.discriminator, prediction)
            loss = loss + self.config.adv_weight * values["adv_g"]
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        values["loss"] = loss
        if self.discriminator is not None:
            values.update(self._discriminator_step(prediction.detach(), target))
        self.step_count += 1
        return {k: float(v.detach()) for k, v in values.items()}

    def _discriminator_step(self, fake: torch.Tensor, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logistic loss of Eq. 4, plus the R1 penalty every ``r1_every`` steps (lazy regularisation)."""
        d = self.discriminator.requires_grad_(True)
        d_loss = discriminator_logistic_loss(d, fake, real)
        values = {"d_loss": d_loss}
        if self.config.r1_weight > 0 and (self.step_count + 1) % self.config.r1_every == 0:
            values["r1"] = r1_penalty(d, real)
            d_loss = d_loss + self.config.r1_weight / 2 * self.config.r1_every * values["r1"]
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()
        return values

    # -- samples and state ---------------------------------------------------------------------

    @torch.no_grad()
    def sample_grid(self, clip: int = 0) -> np.ndarray:
        """RGB uint8 grid: the identity frame, then evenly spaced target frames over predictions."""
        count = self.data.clips[clip].num_frames
        frames = sorted({int(t) for t in np.linspace(0, count - 1, min(SAMPLE_FRAMES, count))})
        self.model.eval()
        predicted = tensor_to_images(self.predict(clip, frames))
        self.model.train()
        size = self.model.config.size
        targets = tensor_to_images(self._targets(clip, frames))
        identity = tensor_to_images(self._identity(clip))[0]
        top = np.concatenate([identity, *targets], axis=1)
        bottom = np.concatenate([np.zeros((size, size, 3), np.uint8), *predicted], axis=1)
        return np.concatenate([top, bottom], axis=0)

    def training_state(self) -> dict:
        state = {"optimizer": self.optimizer.state_dict(), "rng": self.rng.get_state(),
                 "config": asdict(self.config)}  # fmt: skip
        if self.discriminator is not None:
            state["discriminator"] = self.discriminator.state_dict()
            state["d_optimizer"] = self.d_optimizer.state_dict()
        return state

    def load_training_state(self, checkpoint: dict) -> None:
        self.model.load_trainable_state(checkpoint)
        training = checkpoint["training"]
        self.optimizer.load_state_dict(training["optimizer"])
        self.rng.set_state(training["rng"])
        if self.discriminator is not None and "discriminator" in training:
            self.discriminator.load_state_dict(training["discriminator"])
            self.d_optimizer.load_state_dict(training["d_optimizer"])
        self.step_count = int(checkpoint["step"])


def latest_style_a_checkpoint(out: str | Path) -> Path | None:
    """The newest training checkpoint of a run folder (``checkpoints/step_*.pt``), or None."""
    return latest_checkpoint(Path(out) / CHECKPOINT_FOLDER, CHECKPOINT_PREFIX)


def _write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def train_style_a(trainer: StyleATrainer, out: str | Path, *, model_id: str, channel_names: list[str],
                  resume: bool = False) -> Path:
    """Run ``trainer`` to ``config.steps``, logging, sampling and checkpointing into ``out``; returns ``style_a.pt``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = trainer.config
    previous = latest_style_a_checkpoint(out) if resume else None
    if previous is not None:
        trainer.load_training_state(read_style_a(previous))
        log.info("resumed from %s (step %d)", previous, trainer.step_count)
        if (out / LEGACY_LOG_FILE).is_file() and not (out / METRICS_FILE).exists():
            (out / LEGACY_LOG_FILE).rename(out / METRICS_FILE)
    facts = {"model_id": model_id, "channel_names": channel_names, "art_code": trainer.art_code}

    def save(step: int) -> None:
        save_style_a(out / CHECKPOINT_FOLDER / checkpoint_name(CHECKPOINT_PREFIX, step), trainer.model, step=step,
                     training=trainer.training_state(), **facts)
        save_style_a(out / "style_a.pt", trainer.model, step=step, **facts)

    metrics = MetricsLog(out / METRICS_FILE, LOG_FIELDS, resume_step=trainer.step_count)
    started = time.perf_counter()
    while trainer.step_count < config.steps:
        values = trainer.step()
        step = trainer.step_count
        if step % config.log_every == 0 or step == config.steps:
            metrics.append({"step": step, "seconds": round(time.perf_counter() - started, 2),
                            **{k: round(values.get(k, float("nan")), 6) for k in LOG_FIELDS[1:-1]}})
        if step % config.sample_every == 0 or step == config.steps:
            _write_png(out / "samples" / f"step_{step:07d}.png", trainer.sample_grid())
        if step % config.save_every == 0 or step == config.steps:
            save(step)
    return out / "style_a.pt"


def setup_training(data: StyleADataset, out: str | Path, generator: str | Path, encoder: str | Path,
                   config: StyleAConfig, train: TrainStyleAConfig, *, art: str | None = None,
                   exstyle: str | Path | None = None, vgg: str | Path | None = None,
                   discriminator: str | Path | None = None, init: str | Path | None = None,
                   device: str = "cpu", resume: bool = False) -> StyleATrainer:
    """A trainer from files: the frozen ``generator.pt`` / ``encoder.pt``, optional VGG19 and
    discriminator weights (``stylegan2-ffhq-config-f.pt``'s ``d``; random init otherwise).

    ``init``: a ``style_a.pt`` to start from (its config and weights replace ``config``).
    Resuming takes config and weights from the newest checkpoint in ``out`` instead.
    The art style trained on: style ``art`` of ``exstyle`` (an ``exstyle_code.npy``), else
    the code stored in that checkpoint, else the dataset's art picture encoded by pSp.
    """
    previous = latest_style_a_checkpoint(out) if resume else None
    source = previous if previous is not None else init
    checkpoint = read_style_a(source) if source is not None else None
    if checkpoint is not None:
        config = style_a_config(checkpoint, source)
    g = load_dualstylegan(generator, device=device, config=config.generator)
    with torch.random.fork_rng(devices=[]):  # the same initial weights for the same seed
        torch.manual_seed(train.seed)
        model = StyleANetwork(config, g, load_psp_encoder(encoder, device)).to(device)
    if checkpoint is not None:
        model.load_trainable_state(checkpoint)
    if art is not None and exstyle is not None:
        art_code = load_exstyle_code(exstyle, art)
    elif checkpoint is not None and checkpoint.get("art_code") is not None:
        art_code = checkpoint["art_code"]
    elif data.art_path is not None:
        art_code = model.encode_art(image_to_tensor(read_rgb(data.art_path), config.size, device))
    else:
        raise ValueError("no art style to train on: give a style of an exstyle_code.npy, or a dataset with art.png")
    d = None
    if discriminator is not None and train.adv_weight > 0:
        d = load_discriminator(discriminator, device=device, config=config.generator.discriminator_config())
    features = load_vgg19_features(vgg, device) if vgg is not None else None
    return StyleATrainer(model, data, art_code, train, features, d, device)


def train_from_folder(style_a: str | Path, out: str | Path, dataset: Callable[[int], StyleADataset],
                      train: TrainStyleAConfig, *, art: str | None = None, vgg: str | Path | None = None,
                      discriminator: str | Path | None = None, size: int = 1024, channel_multiplier: int = 2,
                      device: str = "cpu", resume: bool = False) -> Path:
    """``s2t train style-a``: train with the files of a Style-A folder (``generator.pt``,
    ``encoder.pt``; ``style_a.pt`` to start from and ``exstyle_code.npy`` when present).

    ``dataset(size)`` gives the data at the model's resolution; a new model is
    ``size`` px with ``channel_multiplier`` and reads the data's coefficients.
    """
    folder = Path(style_a)
    require_files({GENERATOR_FILE: folder / GENERATOR_FILE, ENCODER_FILE: folder / ENCODER_FILE})
    init = folder / STYLE_A_FILE if (folder / STYLE_A_FILE).is_file() else None
    exstyle = next((folder / n for n in EXSTYLE_FILES if (folder / n).is_file()), None)
    if art is not None and exstyle is None:
        raise FileNotFoundError(f"--art {art!r} names a style of exstyle_code.npy, which {folder} does not have")
    config_source = (latest_style_a_checkpoint(out) if resume else None) or init
    if config_source is not None:  # the model's resolution is fixed by the checkpoint continued
        size = style_a_config(read_style_a(config_source), config_source).size
    data = dataset(size)
    config = StyleAConfig(generator=DualStyleGANConfig(size=size, channel_multiplier=channel_multiplier),
                          motion=MotionConfig(coeff_dim=len(data.channel_names) + 6))
    trainer = setup_training(data, out, folder / GENERATOR_FILE, folder / ENCODER_FILE, config, train, art=art,
                             exstyle=exstyle, vgg=vgg, discriminator=discriminator, init=init, device=device,
                             resume=resume)
    return train_style_a(trainer, out, model_id=data.model_id, channel_names=list(data.channel_names),
                         resume=resume)
