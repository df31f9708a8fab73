"""Load the public StyleGAN2 / DualStyleGAN checkpoints from local files (nothing downloads).

One function per file kind:

- ``load_dualstylegan``: ``checkpoint/<style>/generator.pt`` of the DualStyleGAN release
  (a dict whose ``g_ema`` entry is the DualStyleGAN state dict).
- ``load_stylegan2``: ``checkpoint/stylegan2-ffhq-config-f.pt`` (rosinality's conversion of
  the official FFHQ model; ``g_ema`` plus ``latent_avg``).
- ``load_discriminator``: the ``d`` entry of a rosinality-style training checkpoint such as
  the same ``stylegan2-ffhq-config-f.pt``.
- ``read_exstyle_file``: ``checkpoint/<style>/refined_exstyle_code.npy`` (or
  ``exstyle_code.npy``), every extrinsic style code of the release's file, read without
  executing pickle code (``checkpoint.load_exstyle_code`` picks one style's code from it).

Checkpoints are read with :func:`s2t.checkpoint.read_torch` (``torch.load(weights_only=True)``;
a missing, truncated or foreign file is a ``CheckpointError`` naming it). Models are built on the meta
device and take the checkpoint's tensors directly, so loading a 1024 model needs no second
copy of the weights. Key or shape mismatches raise ``CheckpointError`` naming the keys.
"""

from __future__ import annotations

import argparse
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from s2t.checkpoint import CheckpointError, read_torch
from s2t.style_a.neural.dualstylegan import DualStyleGAN, DualStyleGANConfig
from s2t.style_a.neural.stylegan2 import Discriminator, DiscriminatorConfig, Generator, StyleGAN2Config

DUALSTYLEGAN_URL = "https://github.com/williamyang1991/DualStyleGAN (README, 'Pretrained Models')"
DUALSTYLEGAN_FILE = f"checkpoint/<style>/generator.pt from the DualStyleGAN release, {DUALSTYLEGAN_URL}"
STYLEGAN2_FILE = ("checkpoint/stylegan2-ffhq-config-f.pt (rosinality's StyleGAN2 FFHQ checkpoint, linked from "
                  f"{DUALSTYLEGAN_URL})")
EXSTYLE_FILE = f"checkpoint/<style>/refined_exstyle_code.npy or exstyle_code.npy from {DUALSTYLEGAN_URL}"
_LISTED = 12


def load_dualstylegan(path: str | Path, size: int = 1024, channel_multiplier: int = 2,
                      device: str | torch.device = "cpu", key: str = "g_ema", *,
                      config: DualStyleGANConfig | None = None, **overrides) -> DualStyleGAN:
    """DualStyleGAN from a release ``generator.pt`` (eval mode, on ``device``).

    ``config`` gives the whole shape (Style-A passes its nested generator config); otherwise
    ``size``, ``channel_multiplier`` and ``overrides`` (further ``DualStyleGANConfig`` fields,
    for checkpoints not of the release's shape) build it.
    """
    config = config or DualStyleGANConfig(size=size, channel_multiplier=channel_multiplier, **overrides)
    state = _entry(_read(path, DUALSTYLEGAN_FILE), key, path)
    return _build(lambda: DualStyleGAN(config), state, path, device, "generator.to_rgbs.")


def load_stylegan2(path: str | Path, size: int = 1024, channel_multiplier: int = 2,
                   device: str | torch.device = "cpu", key: str = "g_ema",
                   **overrides) -> tuple[Generator, Tensor | None]:
    """StyleGAN2 generator and the checkpoint's ``latent_avg`` (mean W, or None when absent).

    ``overrides`` holds further ``StyleGAN2Config`` fields.
    """
    config = StyleGAN2Config(size=size, channel_multiplier=channel_multiplier, **overrides)
    ckpt = _read(path, STYLEGAN2_FILE)
    generator = _build(lambda: Generator(config), _entry(ckpt, key, path), path, device, "to_rgbs.")
    latent_avg = ckpt.get("latent_avg")
    return generator, None if latent_avg is None else latent_avg.to(device)


def load_discriminator(path: str | Path, size: int = 1024, channel_multiplier: int = 2,
                       device: str | torch.device = "cpu", key: str = "d", *,
                       config: DiscriminatorConfig | None = None, **overrides) -> Discriminator:
    """StyleGAN2 discriminator from the ``d`` entry of a training checkpoint (eval mode).

    ``config`` gives the whole shape; otherwise ``overrides`` holds further ``DiscriminatorConfig`` fields.
    """
    config = config or DiscriminatorConfig(size=size, channel_multiplier=channel_multiplier, **overrides)
    state = _entry(_read(path, STYLEGAN2_FILE), key, path)
    return _build(lambda: Discriminator(config), state, path, device, None)


def read_exstyle_file(path: str | Path) -> dict[str, np.ndarray]:
    """Every extrinsic style code ``{style image name: z+ code (1, n_latent, 512)}`` of a release ``.npy``.

    The file is a pickled dict inside an ``.npy``; it is unpickled with only numpy's array
    constructors allowed, so a crafted file cannot run code.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"style-code file not found: {path}; expected {EXSTYLE_FILE}")
    with path.open("rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            _, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise CheckpointError(f"{path}: unsupported .npy format version {version}")
        if not dtype.hasobject:
            raise CheckpointError(f"{path} holds a plain array, not the dict of style codes in {EXSTYLE_FILE}")
        value = _NumpyOnlyUnpickler(f).load()
    codes = value.item() if isinstance(value, np.ndarray) else value
    if not isinstance(codes, dict) or not all(isinstance(v, np.ndarray) for v in codes.values()):
        raise CheckpointError(f"{path} is not a dict of arrays as in {EXSTYLE_FILE}")
    return codes


class _NumpyOnlyUnpickler(pickle.Unpickler):
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("collections", "OrderedDict"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a style-code file")
        return super().find_class(module, name)


def _read(path: str | Path, expected: str) -> Mapping:
    # rosinality's training checkpoints store their argparse ``args``; allow that one plain class.
    ckpt = read_torch(path, "StyleGAN2/DualStyleGAN", expected=expected, safe_globals=[argparse.Namespace])
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{path} holds a {type(ckpt).__name__}, expected a dict: {expected}")
    return ckpt


def _entry(ckpt: Mapping, key: str, path: str | Path) -> Mapping[str, Tensor]:
    if key not in ckpt:
        raise CheckpointError(f"{path} has no {key!r} entry (it has {sorted(ckpt)})")
    return ckpt[key]


def _build(make: Callable[[], nn.Module], state: Mapping[str, Tensor], path: str | Path, device: str | torch.device,
           rgb_prefix: str | None) -> nn.Module:
    """Build on the meta device, check keys and shapes, then adopt the checkpoint tensors."""
    with torch.device("meta"):
        model = make()
    check_state_dict(model, state, path, rgb_prefix)
    model.load_state_dict(state, strict=True, assign=True)
    return model.to(device).eval()


def check_state_dict(model: nn.Module, state: Mapping[str, Tensor], source: str | Path = "checkpoint",
                     rgb_prefix: str | None = None) -> None:
    """Raise ``CheckpointError`` listing missing, unexpected and mis-shaped keys of ``state`` for ``model``.

    ``rgb_prefix`` (e.g. ``"generator.to_rgbs."``) lets the message name the checkpoint's
    resolution, the usual cause of a mismatch.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(v.shape)}"
              for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if not (missing or unexpected or shapes):
        return
    lines = [f"{source} does not match {type(model).__name__}:"]
    for title, items in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)):
        if items:
            more = f" (+{len(items) - _LISTED} more)" if len(items) > _LISTED else ""
            lines.append(f"  {len(items)} {title}: {', '.join(items[:_LISTED])}{more}")
    if rgb_prefix is not None:
        n_rgb = len({k[len(rgb_prefix):].split(".")[0] for k in state if k.startswith(rgb_prefix)})
        if n_rgb:
            lines.append(f"  the checkpoint has {n_rgb} ToRGB levels, i.e. size={4 * 2 ** n_rgb}")
    raise CheckpointError("\n".join(lines))
