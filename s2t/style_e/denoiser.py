"""Style-E's denoising network μθ: MLP blocks over a window of frames that predict x_0.

The architecture is AGRoL's ``DiffMLP`` (Du et al., CVPR 2023; ``model/networks.py`` and
``model/meta_model.py`` of facebookresearch/AGRoL), which the paper follows: the noisy
window and the condition are each projected to ``latent_dim``, concatenated and fused by the
first block; every block adds the timestep embedding, then mixes *frames* (a 1x1 Conv1d whose
channels are the ``window`` frames) and *features* (a Linear), each behind a LayerNorm with
SiLU and a residual connection. The window length is part of the network.

What the network models per frame, ``x = expression (K) ⊕ pose (6)``:

* ``expression``: the face model's K channels (the rig's 52 ARKit blendshapes, [0, 1]),
  blinks included (eyeBlinkLeft/Right), so blinks are generated, not read from a file;
* ``pose``: (pitch, yaw, roll, tx, ty, tz) *relative to the photo's pose*: zero is the
  photo's framing, exactly as :class:`s2t.style_a.cpu_renderer.CpuRenderer` applies it and as
  the synthetic corpus stores it (so an emotion's lowered or tilted head is learned). A
  corpus of tracked video with absolute poses must store each clip's pose minus its mean.

Values are standardised per dimension with the training corpus' mean and std, kept as
buffers (``x_mean``, ``x_std``) so they travel with the weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from s2t.audio import FPS
from s2t.checkpoint import ConfigMixin
from s2t.face.rig import RIG_ID
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_e.conditioning import ConditionEncoder

POSE_DIM = 6


@dataclass(frozen=True)
class StyleEConfig(ConfigMixin):
    """Everything needed to rebuild a Style-E network; saved inside every checkpoint.

    The defaults are the small CPU model meant for the embedded checkpoint; ``PRESETS["paper"]``
    is the paper-sized one (AGRoL's 12 x 512 MLP over 196 frames, SadTalker's full audio
    encoder, CLIP text).
    """

    config_name = "Style-E config"

    model_id: str = RIG_ID
    channel_names: tuple[str, ...] = ARKIT_52
    expression_range: tuple[float, float] | None = (0.0, 1.0)  # clip generated expression to this; None: no clip
    fps: float = FPS
    window: int = 64  # frames the MLP sees at once (2.56 s at 25 fps)
    latent_dim: int = 256
    num_layers: int = 8
    audio_width: int = 8  # AudioEncoder width: 32 is SadTalker's; features are 16 x width
    text_encoder: str = "minilm"  # a name for s2t.text.load_text_encoder
    text_dim: int = 384
    identity_dim: int = 16
    num_train_timesteps: int = 1000

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_names", tuple(self.channel_names))
        if self.expression_range is not None:
            object.__setattr__(self, "expression_range", tuple(float(v) for v in self.expression_range))
        for name in ("window", "latent_dim", "num_layers", "audio_width", "text_dim", "num_train_timesteps"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.channel_names:
            raise ValueError("channel_names must name at least one expression channel")

    @property
    def x_dim(self) -> int:
        """Values per frame: the expression channels, then the 6 pose values."""
        return len(self.channel_names) + POSE_DIM



PRESETS = {
    "small": StyleEConfig(),
    "paper": StyleEConfig(window=196, latent_dim=512, num_layers=12, audio_width=32,
                          text_encoder="clip-vit-b32", text_dim=512),  # fmt: skip
}


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding ``(B, dim)`` of integer timesteps, as AGRoL's ``TimestepEmbeding``:
    sin on even features, cos on odd ones, frequencies ``10000^(-2i/dim)``."""
    frequencies = torch.exp(torch.arange(0, dim, 2, device=timesteps.device) * (-math.log(10000.0) / dim))
    angles = timesteps.float()[:, None] * frequencies[None]
    embedding = torch.zeros(len(timesteps), dim, device=timesteps.device)
    embedding[:, 0::2] = torch.sin(angles)
    embedding[:, 1::2] = torch.cos(angles)[:, : dim // 2]
    return embedding


class MLPBlock(nn.Module):
    """AGRoL's ``MLPblock``: add the timestep, mix frames, mix features; ``(B, W, D)`` in and out.

    The first block also fuses the concatenated ``[condition, noisy motion]`` (2D -> D).
    """

    def __init__(self, dim: int, window: int, first: bool = False) -> None:
        super().__init__()
        self.conct = nn.Linear(2 * dim, dim) if first else nn.Identity()
        self.emb_fc = nn.Linear(dim, dim)
        self.fc0 = nn.Conv1d(window, window, 1)  # channels are frames: a learned mix along time
        self.fc1 = nn.Linear(dim, dim)
        self.norm0 = nn.LayerNorm(dim)
        self.norm1 = nn.LayerNorm(dim)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        x = self.conct(x) + self.emb_fc(self.act(embedding))[:, None]
        x = x + self.act(self.fc0(self.norm0(x)))
        return x + self.act(self.fc1(self.norm1(x)))


class StyleEModel(nn.Module):
    """μθ(x_t, t, c) -> x̂_0 on standardised values, plus the condition encoder.

    ``forward(x_t (B, W, x_dim), t (B,), condition (B, W, condition.dim)) -> (B, W, x_dim)``;
    build ``condition`` with ``model.condition(mel_windows, text, identity, use_text)``.
    """

    def __init__(self, config: StyleEConfig = StyleEConfig()) -> None:
        super().__init__()
        self.config = config
        dim = config.latent_dim
        self.condition = ConditionEncoder(config.text_dim, config.identity_dim, config.audio_width)
        self.input_process = nn.Linear(config.x_dim, dim)
        self.cond_process = nn.Linear(self.condition.dim, dim)
        self.blocks = nn.ModuleList(MLPBlock(dim, config.window, first=i == 0) for i in range(config.num_layers))
        self.output_process = nn.Linear(dim, config.x_dim)
        self.register_buffer("x_mean", torch.zeros(config.x_dim))
        self.register_buffer("x_std", torch.ones(config.x_dim))

    def forward(self, x_t: torch.Tensor, timesteps: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        window = self.config.window
        if x_t.shape[1:] != (window, self.config.x_dim):
            raise ValueError(f"x_t must be (B, {window}, {self.config.x_dim}), got {tuple(x_t.shape)}")
        embedding = timestep_embedding(timesteps, self.config.latent_dim)
        x = torch.cat([self.cond_process(condition), self.input_process(x_t)], dim=-1)
        for block in self.blocks:
            x = block(x, embedding)
        return self.output_process(x)

    def set_normalization(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.x_mean.copy_(mean)
        self.x_std.copy_(std)

    def normalize(self, values: torch.Tensor) -> torch.Tensor:
        """Expression ⊕ pose values ``(..., x_dim)`` -> the standardised space the model works in."""
        return (values - self.x_mean) / self.x_std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.x_std + self.x_mean


__all__ = ["POSE_DIM", "PRESETS", "MLPBlock", "StyleEConfig", "StyleEModel", "timestep_embedding"]
