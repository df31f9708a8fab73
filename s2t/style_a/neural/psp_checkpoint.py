"""Loading the public pSp encoder checkpoint (DualStyleGAN's ``checkpoint/encoder.pt``).

pSp's training code saves ``{"state_dict": pSp.state_dict(), "opts": vars(args),
"latent_avg": tensor}``: the state dict holds the encoder (``encoder.*``) and the StyleGAN2
generator it was trained against (``decoder.*``, unused here: Style-A has its own
DualStyleGAN generator); ``opts`` is the training command line as a dict of plain values;
``latent_avg`` (``(n_styles, 512)``) is present when the encoder was trained to predict
offsets from it (``--start_from_latent_avg``). The network's size is read from the tensor
shapes, so a checkpoint describes itself and small test checkpoints load the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from s2t.checkpoint import CheckpointError, read_torch
from s2t.style_a.neural.checkpoints import check_state_dict
from s2t.style_a.neural.psp import STAGE_UNITS, PSPConfig, PSPEncoder

EXPECTED_FILE = ("checkpoint/encoder.pt from the DualStyleGAN release "
                 "(https://github.com/williamyang1991/DualStyleGAN, 'Pretrained Models')")
_PREFIX = "encoder."
_LISTED = 8  # key names quoted in an error message


def load_psp_encoder(path: str | Path, device: str | torch.device = "cpu",
                     allow_pickle: bool = False) -> PSPEncoder:
    """The pSp encoder stored in ``path``, in eval mode on ``device``.

    ``allow_pickle``: unpickle arbitrary objects. Leave it off unless you trust the file;
    the public checkpoints load without it.

    Raises ``FileNotFoundError`` naming the file to get when ``path`` does not exist, and
    ``CheckpointError`` (a ``ValueError``) when the file is unreadable or its encoder entries
    do not have the pSp layout (the message lists missing, unexpected and mis-shaped keys).
    """
    path = Path(path)
    checkpoint = _read(path, allow_pickle)
    state = _encoder_state(checkpoint, path)
    config = infer_psp_config(state, path)
    with torch.device("meta"):  # no memory for weights that the checkpoint replaces right away
        model = PSPEncoder(config, _latent_avg(checkpoint))
    check_state_dict(model.encoder, state, f"{path} ('{_PREFIX}*' weights, read as {config})")
    model.encoder.load_state_dict(state, strict=True, assign=True)
    return model.float().to(device).eval()


def infer_psp_config(state: dict[str, torch.Tensor], path: str | Path = "checkpoint") -> PSPConfig:
    """The :class:`PSPConfig` of an encoder state dict (keys without the ``encoder.`` prefix)."""
    first = state.get("input_layer.0.weight")
    if first is None or first.ndim != 4:
        raise CheckpointError(f"{path}: no pSp encoder input layer ('{_PREFIX}input_layer.0.weight'); "
                         f"it holds {_quote(state.keys())}")
    units = _count_indices(state, "body")
    depth = {sum(counts): layers for layers, counts in STAGE_UNITS.items()}
    if units not in depth:
        raise CheckpointError(f"{path}: the encoder body has {units} residual units; pSp's IR backbones have "
                         + ", ".join(f"{n} (IR-{layers})" for n, layers in depth.items()))
    n_styles = _count_indices(state, "styles")
    if n_styles < 4 or n_styles % 2:
        raise CheckpointError(f"{path}: the encoder has {n_styles} style blocks; a generator of resolution "
                         "2^k takes 2k - 2 of them (18 at 1024)")
    mode = "ir_se" if "body.0.res_layer.5.fc1.weight" in state else "ir"
    return PSPConfig(size=2 ** (n_styles // 2 + 1), num_layers=depth[units], mode=mode,
                     input_nc=first.shape[1], width=first.shape[0])


def _read(path: Path, allow_pickle: bool) -> dict:
    # The weights-only unpickler rebuilds tensors and plain containers (dict, OrderedDict,
    # list, tuple) of str, int, float, bool and None, and refuses any other class. That is
    # all a pSp checkpoint holds: its `opts` is vars() of the training argparse Namespace.
    checkpoint = read_torch(path, "pSp encoder", expected=EXPECTED_FILE, weights_only=not allow_pickle,
                            refused_hint="If you trust the file, load it with allow_pickle=True")
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path} holds a {type(checkpoint).__name__}, not a pSp checkpoint dict")
    return checkpoint


def _encoder_state(checkpoint: dict, path: Path) -> dict[str, torch.Tensor]:
    """The ``encoder.*`` entries of the checkpoint's ``state_dict`` (or of the dict itself), unprefixed."""
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: 'state_dict' is a {type(state).__name__}, not a dict of tensors")
    encoder = {k[len(_PREFIX):]: v for k, v in state.items()
               if isinstance(k, str) and k.startswith(_PREFIX) and isinstance(v, torch.Tensor)}
    if not encoder:
        raise CheckpointError(f"{path} has no '{_PREFIX}*' weights, so it is not a pSp checkpoint ({EXPECTED_FILE}); "
                         f"it holds {_quote(state.keys())}")
    return encoder


def _latent_avg(checkpoint: dict) -> torch.Tensor | None:
    """The average latent, unless the training options say the encoder was not trained around it."""
    opts = checkpoint.get("opts")
    if isinstance(opts, dict) and opts.get("start_from_latent_avg") is False:
        return None
    latent = checkpoint.get("latent_avg")
    return latent.float() if isinstance(latent, torch.Tensor) else None


def _count_indices(state: dict, name: str) -> int:
    """How many ``name.<i>.*`` children the state dict has (highest index + 1)."""
    indices = {int(m.group(1)) for k in state if (m := re.match(rf"{name}\.(\d+)\.", k))}
    return max(indices) + 1 if indices else 0


def _quote(keys) -> str:
    keys = list(keys)
    shown = ", ".join(keys[:_LISTED])
    return f"[{shown}{', ...' if len(keys) > _LISTED else ''}]" if keys else "[]"
