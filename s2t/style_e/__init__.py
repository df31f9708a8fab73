"""Style-E: audio + emotion text + identity -> expression and head-pose coefficients, by
diffusion (an AGRoL-style MLP denoiser predicting x_0, cosine schedule, DDIM sampling).

``load_style_e(path)`` gives the stage ready to call; ``s2t.training.style_e`` trains one. The
schedule and the sampler (``schedule``, ``ddim``) hold no weights; the network
(``denoiser``, ``conditioning``) knows nothing of timestep spacing.

The names below are imported on first use, so ``s2t.style_e.emotion_track`` (standard
library only) can be read without loading PyTorch.
"""

from importlib import import_module

_EXPORTS = {"PRESETS": "denoiser", "StyleE": "sampler", "StyleEConfig": "denoiser", "StyleEModel": "denoiser",
            "load_style_e": "checkpoint"}  # fmt: skip


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"s2t.style_e.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 's2t.style_e' has no attribute {name!r}")


__all__ = ["PRESETS", "StyleE", "StyleEConfig", "StyleEModel", "load_style_e"]
