"""Style-E: audio + emotion text + identity -> expression and head-pose coefficients, by
diffusion (an AGRoL-style MLP denoiser predicting x_0, cosine schedule, DDIM sampling).

``load_style_e(path)`` gives the stage ready to call; ``train_style_e`` trains one. The
schedule and the sampler (``schedule``, ``ddim``) hold no weights; the network
(``denoiser``, ``conditioning``) knows nothing of timestep spacing.
"""

from s2t.style_e.checkpoint import load_style_e
from s2t.style_e.denoiser import PRESETS, StyleEConfig, StyleEModel
from s2t.style_e.sampler import StyleE

__all__ = ["PRESETS", "StyleE", "StyleEConfig", "StyleEModel", "load_style_e"]
