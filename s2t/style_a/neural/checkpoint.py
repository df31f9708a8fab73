"""Our trained Style-A checkpoint (``style_a.pt``) and the folder a renderer loads from.

``style_a.pt`` holds the configuration, the trainable weights (Gm, Ec, R) and the names of
the frozen files it was trained against, never the frozen weights themselves (the
DualStyleGAN generator and the pSp encoder are the public release's files; users fetch those)::

    {"format": "s2t-style-a", "format_version": 2, "config": StyleAConfig.to_dict(),
     "generator_file": "generator.pt", "encoder_file": "encoder.pt",
     "model_id": face model id, "channel_names": [...],   # what the coefficients mean
     "art_code": (1, n_latent, D) z+ code of the art style trained on, or absent,
     "motion": {...}, "content": {...}, "refine": {...},   # state dicts
     "step": training step}

Format version 1 (before the shared :mod:`s2t.checkpoint` header) called the version key
``version`` and stored the generator's fields flat in ``config``; such files still load.

Training checkpoints are the same dict plus a ``"training"`` entry (optimisers,
discriminator, random state); :func:`load_style_a` ignores it.

A Style-A folder, as ``s2t generate --style-a DIR`` and ``s2t-backend --style-a DIR`` take
it, holds ``generator.pt``, ``encoder.pt``, ``style_a.pt`` and optionally ``exstyle_code.npy``
(or ``refined_exstyle_code.npy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from s2t.checkpoint import CheckpointError, atomic_save, format_version, header, read_format
from s2t.style_a.neural.checkpoints import load_dualstylegan, read_exstyle_file
from s2t.style_a.neural.model import StyleANetwork, StyleAConfig
from s2t.style_a.neural.psp_checkpoint import load_psp_encoder

FORMAT = "s2t-style-a"
VERSION = 2  # 2: the generator's fields nested in config["generator"]
STYLE_A_FILE = "style_a.pt"
GENERATOR_FILE = "generator.pt"
ENCODER_FILE = "encoder.pt"
EXSTYLE_FILES = ("refined_exstyle_code.npy", "exstyle_code.npy")
RELEASE = "the DualStyleGAN release (https://github.com/williamyang1991/DualStyleGAN, 'Pretrained Models')"
SOURCES = {
    STYLE_A_FILE: "our Style-A checkpoint, made by `s2t train style-a` (docs/style-a.md)",
    GENERATOR_FILE: f"checkpoint/<style>/generator.pt from {RELEASE}",
    ENCODER_FILE: f"checkpoint/encoder.pt from {RELEASE}",
}


@dataclass(frozen=True)
class StyleAFiles:
    """The files of a Style-A folder; ``exstyle`` is None when the folder has no style codes."""

    style_a: Path
    generator: Path
    encoder: Path
    exstyle: Path | None


def save_style_a(path: str | Path, model: StyleANetwork, *, model_id: str, channel_names: Sequence[str],
                 art_code: torch.Tensor | None = None, step: int = 0, training: dict | None = None,
                 generator_file: str = GENERATOR_FILE, encoder_file: str = ENCODER_FILE) -> Path:
    """Write ``model``'s trainable weights and config (plus ``training`` state when given), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        **header(FORMAT, VERSION), "config": model.config.to_dict(),
        "generator_file": generator_file, "encoder_file": encoder_file,
        "model_id": model_id, "channel_names": list(channel_names), "step": int(step),
        **{name: {k: v.detach().cpu() for k, v in state.items()} for name, state in model.trainable_state().items()},
    }  # fmt: skip
    if art_code is not None:
        checkpoint["art_code"] = art_code.detach().cpu().float()
    if training is not None:
        checkpoint["training"] = training
    return atomic_save(checkpoint, path)


def read_style_a(path: str | Path) -> dict:
    """The checkpoint dict of a ``style_a.pt`` (or a training checkpoint), checked for its format."""
    return read_format(path, "Style-A", FORMAT, VERSION, expected=SOURCES[STYLE_A_FILE], 
                       required=("config", "generator_file", "encoder_file", "motion", "content", "refine"))


def style_a_config(checkpoint: dict, path: str | Path = "checkpoint") -> StyleAConfig:
    """The config of a checkpoint dict from :func:`read_style_a`, of either format version."""
    try:
        if format_version(checkpoint) == 1:
            return StyleAConfig.from_flat_dict(checkpoint["config"])
        return StyleAConfig.from_dict(checkpoint["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: bad Style-A config: {err}") from err


def load_style_a(path: str | Path, generator: str | Path | None = None, encoder: str | Path | None = None,
                 device: str | torch.device = "cpu") -> tuple[StyleANetwork, dict]:
    """Style-A in eval mode on ``device``, and the checkpoint's facts (``model_id``,
    ``channel_names``, ``art_code``, ``step``).

    ``generator`` / ``encoder`` default to the files the checkpoint names, next to it.
    Missing files raise ``FileNotFoundError`` naming every one that is missing and where it comes from.
    """
    path = Path(path)
    checkpoint = read_style_a(path)
    generator = Path(generator) if generator else path.parent / checkpoint["generator_file"]
    encoder = Path(encoder) if encoder else path.parent / checkpoint["encoder_file"]
    require_files({GENERATOR_FILE: generator, ENCODER_FILE: encoder})
    config = style_a_config(checkpoint, path)
    g = load_dualstylegan(generator, device=device, config=config.generator)
    e = load_psp_encoder(encoder, device)
    try:
        model = StyleANetwork(config, g, e)
    except ValueError as err:
        raise CheckpointError(f"{path} does not fit {generator} and {encoder}: {err}") from err
    model.load_trainable_state({name: checkpoint[name] for name in ("motion", "content", "refine")})
    facts = {key: checkpoint.get(key) for key in ("model_id", "channel_names", "art_code", "step")}
    return model.to(device).eval(), facts


def style_a_files(folder: str | Path) -> StyleAFiles:
    """The files of a Style-A folder; ``FileNotFoundError`` lists every required one missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"Style-A folder not found: {folder} (it should hold {STYLE_A_FILE}, "
                                f"{GENERATOR_FILE} and {ENCODER_FILE})")
    files = {name: folder / name for name in (STYLE_A_FILE, GENERATOR_FILE, ENCODER_FILE)}
    require_files(files)
    exstyle = next((folder / name for name in EXSTYLE_FILES if (folder / name).is_file()), None)
    return StyleAFiles(files[STYLE_A_FILE], files[GENERATOR_FILE], files[ENCODER_FILE], exstyle)


def load_exstyle_code(path: str | Path, key: str) -> torch.Tensor:
    """One style's z+ code (1, n_latent, D) of an ``exstyle_code.npy``, by style-image name or by index
    (:func:`~s2t.style_a.neural.checkpoints.read_exstyle_file` reads them all)."""
    codes = read_exstyle_file(path)
    names = list(codes)
    if key not in codes:
        if not key.isdigit() or int(key) >= len(names):
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise KeyError(f"{path} has no style {key!r}; give a name ({shown}) or an index below {len(names)}")
        key = names[int(key)]
    code = torch.from_numpy(codes[key]).float()
    return code.reshape(1, -1, code.shape[-1])


def require_files(files: dict[str, Path]) -> None:
    """``FileNotFoundError`` naming every missing file (keys are the file kinds of ``SOURCES``)."""
    missing = [f"{path} ({SOURCES[name]})" for name, path in files.items() if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError("Style-A needs files that are missing: " + "; ".join(missing))
