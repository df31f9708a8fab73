"""Style-E checkpoints: a dict with named keys, the network's config inside, read without pickle.

::

    {"format": "s2t-style-e", "format_version": 1, "s2t_version": "0.1.0",
     "config": StyleEConfig.to_dict(), "state_dict": {...},
     # training checkpoints also hold: "step", "optimizer", "train_config", "generator"}

``torch.load(..., weights_only=True)`` reads it (tensors, numbers, strings, lists and dicts
only), so a checkpoint from elsewhere cannot run code. :func:`load_style_e` is the one entry
point for inference.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from s2t import __version__
from s2t.checkpoint import CheckpointError, atomic_save, header, read_format
from s2t.style_e.denoiser import StyleEConfig, StyleEModel

if TYPE_CHECKING:
    from s2t.style_e.sampler import StyleE
    from s2t.text import TextEncoder

FORMAT_NAME = "s2t-style-e"
FORMAT_VERSION = 1
ASSETS = Path(__file__).resolve().parent.parent / "assets"
KNOWN_CHECKPOINTS = {"default": ASSETS / "style_e_default.pt"}
"""Names :func:`load_style_e` accepts besides a path; the default one is embedded in the package."""


def save_checkpoint(path: str | Path, model: StyleEModel, **extra) -> Path:
    """Write ``model`` (config + weights) and any ``extra`` named entries, atomically."""
    path = Path(path)
    checkpoint = {
        **header(FORMAT_NAME, FORMAT_VERSION),
        "s2t_version": __version__,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        **extra,
    }
    return atomic_save(checkpoint, path)


def export_for_inference(source: str | Path, target: str | Path, half: bool = False) -> Path:
    """Copy a training checkpoint without its optimizer and generator state (a third the size),
    as the embedded default is shipped. The step and training settings stay as a record.
    ``half`` stores the weights as float16 (half again); loading casts them back to float32."""
    checkpoint = read_checkpoint(source)
    model = model_from_checkpoint(checkpoint)
    if half:
        model = model.half()
    return save_checkpoint(target, model, step=checkpoint.get("step"), train_config=checkpoint.get("train_config"))


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict, checked to be a Style-E checkpoint this version can read.

    Raises :class:`s2t.checkpoint.CheckpointError` (a ``ValueError``; a missing file is also a
    ``FileNotFoundError``) naming the file and what is wrong.
    """
    return read_format(path, "Style-E", FORMAT_NAME, FORMAT_VERSION, required=("config", "state_dict"))


def model_from_checkpoint(checkpoint: dict, path: str | Path = "checkpoint") -> StyleEModel:
    """Build the network from the checkpoint's config and load its weights (eval mode)."""
    try:
        config = StyleEConfig.from_dict(checkpoint["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad Style-E config: {exc}") from exc
    model = StyleEModel(config)
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: the weights do not fit the config they were saved with: {exc}") from exc
    return model.eval()


def resolve_checkpoint(path_or_name: str | Path) -> Path:
    """A known name's file, or the given path; a missing file names what is needed."""
    name = str(path_or_name)
    if name in KNOWN_CHECKPOINTS:
        path = KNOWN_CHECKPOINTS[name]
        if not path.is_file():
            raise FileNotFoundError(
                f"the embedded Style-E checkpoint {path.name} is not in this installation ({path}); "
                "train one with `s2t train style-e` and pass its path"
            )
        return path
    path = Path(path_or_name).expanduser()
    if not path.is_file():
        known = ", ".join(KNOWN_CHECKPOINTS)
        raise FileNotFoundError(f"Style-E checkpoint not found: {path} (known names: {known}; or a path to a .pt file)")
    return path


def load_style_e(path_or_name: str | Path = "default", device: str | torch.device = "cpu",
                 text_encoder: "TextEncoder | str | Path | None" = None, num_inference_steps: int = 5) -> "StyleE":
    """The Style-E stage from a checkpoint: a :class:`s2t.style_e.sampler.StyleE`, ready to call.

    ``text_encoder``: an encoder object or a name/path for :func:`s2t.text.load_text_encoder`
    (e.g. the path to ``ViT-B-32.pt``); by default the checkpoint's own encoder name.
    """
    from s2t.style_e.sampler import StyleE
    from s2t.text import load_text_encoder

    path = resolve_checkpoint(path_or_name)
    model = model_from_checkpoint(read_checkpoint(path), path).to(device)
    if text_encoder is None or isinstance(text_encoder, (str, Path)):
        text_encoder = load_text_encoder(text_encoder or model.config.text_encoder, device)
    return StyleE(model, text_encoder, num_inference_steps)


__all__ = ["KNOWN_CHECKPOINTS", "export_for_inference", "load_style_e", "model_from_checkpoint", "read_checkpoint", "save_checkpoint"]
