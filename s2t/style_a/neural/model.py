"""Style-A assembled: frozen DualStyleGAN G + frozen pSp encoder Es, trainable Gm, Ec and R.

The paper's Figure 2(b) as code. Per video, :meth:`StyleANetwork.prepare` does everything that does
not depend on the frame: Es encodes the identity image I (and the art picture Is, unless a
code from ``exstyle_code.npy`` is given), G synthesises up to the 64x64 level giving the
feature map ``m`` and its RGB skip, Ec extracts the multi-scale content skips of I, and Gm's
image encoder encodes I. Per frame, :meth:`StyleANetwork.render` decodes a flow from the frame's
coefficient window, warps ``m`` (and the RGB skip, which the next ToRGB adds to), lets R
correct the warped map, and G finishes the image with Ec's skips added after its styled
convs. Frames batch freely: a batch of windows gives a batch of frames.

Gm's last conv, Ec's skip projections and R's last conv are zero-initialised, so an
untrained :class:`StyleANetwork` renders DualStyleGAN's still stylised image for every frame, and
training starts from the pretrained generator's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from s2t.checkpoint import ConfigMixin
from s2t.style_a.neural.content import ContentConfig, ContentEncoder
from s2t.style_a.neural.dualstylegan import DualStyleGAN, DualStyleGANConfig
from s2t.style_a.neural.motion import FEATURE_SIZE, MotionConfig, MotionGenerator, warp
from s2t.style_a.neural.psp import PSPConfig, PSPEncoder
from s2t.style_a.neural.refine import RefineConfig, RefinementNetwork
from s2t.style_a.neural.stylegan2 import CHANNELS

STRUCTURE_LAYERS = 7
"""Latents 0..6 carry DualStyleGAN's structure (ModRes) path, the rest its colour path."""


@dataclass(frozen=True)
class StyleAConfig(ConfigMixin):
    """Everything needed to rebuild :class:`StyleANetwork` (saved inside ``style_a.pt``).

    ``generator`` must match the DualStyleGAN ``generator.pt``; the default is the public
    1024 release (``size``, ``style_dim``, ``channel_multiplier`` read through). ``motion`` holds Gm's
    configuration, including the coefficient dimension and the window length.
    ``content_skips``: resolutions where Ec's skips enter G (empty: every one above 64).
    ``refine_hidden`` / ``refine_blocks``: R's width and depth.
    Rendering options, as in DualStyleGAN's ``style_transfer.py``: ``truncation`` pulls the
    intrinsic W+ code toward 0; ``structure_weight`` / ``color_weight`` are the
    ``interp_weights`` of the structure (latents 0..6) and colour (7..) layers.
    """

    config_name = "Style-A config"
    GENERATOR_FIELDS = ("size", "style_dim", "n_mlp", "channel_multiplier", "channel_max", "channel_base")
    """The generator's fields that format version 1 of ``style_a.pt`` stored flat in this config."""

    generator: DualStyleGANConfig = field(default_factory=DualStyleGANConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    content_skips: tuple[int, ...] = ()
    refine_hidden: int = 128
    refine_blocks: int = 3
    truncation: float = 0.75
    structure_weight: float = 0.75
    color_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.size < 2 * FEATURE_SIZE:
            raise ValueError(f"size must be at least {2 * FEATURE_SIZE} (G continues above its 64x64 map), "
                             f"got {self.size}")
        if not 0 < self.truncation <= 1:
            raise ValueError(f"truncation must be in (0, 1], got {self.truncation}")

    @property
    def size(self) -> int:
        return self.generator.size

    @property
    def style_dim(self) -> int:
        return self.generator.style_dim

    @property
    def channel_multiplier(self) -> int:
        return self.generator.channel_multiplier

    @property
    def window(self) -> int:
        """Frames per coefficient window (centred on the frame rendered)."""
        return self.motion.window

    @property
    def coeff_dim(self) -> int:
        """Values per frame: the face model's expression channels + 6 pose values."""
        return self.motion.coeff_dim

    @property
    def channels(self) -> dict[int, int]:
        g = self.generator
        return CHANNELS(g.size, g.channel_multiplier, g.channel_max, g.channel_base)

    @property
    def n_latent(self) -> int:
        return 2 * (self.size.bit_length() - 1) - 2

    def content_config(self) -> ContentConfig:
        return ContentConfig(self.size, self.channels, self.content_skips)

    def refine_config(self) -> RefineConfig:
        return RefineConfig(self.channels, hidden=self.refine_hidden, num_blocks=self.refine_blocks)

    def interp_weights(self) -> list[float]:
        return [self.structure_weight] * STRUCTURE_LAYERS + [self.color_weight] * (self.n_latent - STRUCTURE_LAYERS)

    @classmethod
    def from_flat_dict(cls, values: dict) -> "StyleAConfig":
        """The config of a format-1 ``style_a.pt``, whose generator fields sat beside the others."""
        values = dict(values)
        flat = {name: values.pop(name) for name in cls.GENERATOR_FIELDS if name in values}
        return cls.from_dict({**values, "generator": flat})


@dataclass
class StyleAState:
    """One video's frame-independent tensors (batch 1), from :meth:`StyleANetwork.prepare`."""

    latent: torch.Tensor                     # (1, n_latent, D) intrinsic W+ of I, truncated
    exstyle: torch.Tensor                    # (1, n_latent, D) extrinsic W+ of the art style
    feature_map: torch.Tensor                # m, (1, C64, 64, 64)
    rgb_skip: torch.Tensor                   # (1, 3, 64, 64)
    skips: dict[int, torch.Tensor]           # Ec's content skips, {r: (1, C_r, r, r)}
    motion_features: list[torch.Tensor]      # Gm's image-encoder maps at 64, 32, ...


class StyleANetwork(nn.Module):
    """The Style-A network. ``generator`` / ``encoder`` are the pretrained DualStyleGAN and
    pSp encoder (random ones of the right shape are built when omitted, for tests); they are
    frozen. ``motion``, ``content`` and ``refine`` are the trainable parts."""

    def __init__(self, config: StyleAConfig, generator: DualStyleGAN | None = None,
                 encoder: PSPEncoder | None = None) -> None:
        super().__init__()
        self.config = config
        self.generator = generator if generator is not None else DualStyleGAN(config.generator)
        self.encoder = encoder if encoder is not None else PSPEncoder(
            PSPConfig(size=config.size, width=config.style_dim // 8))
        self._check_frozen_parts()
        self.generator.requires_grad_(False).eval()
        self.encoder.requires_grad_(False).eval()
        self.motion = MotionGenerator(config.motion)
        self.content = ContentEncoder(config.content_config())
        self.refine = RefinementNetwork(config.refine_config())

    def _check_frozen_parts(self) -> None:
        g, e, c = self.generator.config, self.encoder.config, self.config
        if g != c.generator:
            raise ValueError(f"the generator is {g}, but the Style-A config needs {c.generator}")
        if (e.n_styles, e.style_dim) != (c.n_latent, c.style_dim):
            raise ValueError(f"the pSp encoder makes {e.n_styles} codes of {e.style_dim} values; the generator "
                             f"takes {c.n_latent} of {c.style_dim}")

    def train(self, mode: bool = True) -> "StyleANetwork":
        """Train mode for the trainable parts only; the frozen ones stay in eval mode."""
        super().train(mode)
        self.generator.eval()
        self.encoder.eval()
        return self

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters of Gm, Ec and R (what the optimiser updates)."""
        return [*self.motion.parameters(), *self.content.parameters(), *self.refine.parameters()]

    def trainable_state(self) -> dict[str, dict[str, torch.Tensor]]:
        return {"motion": self.motion.state_dict(), "content": self.content.state_dict(),
                "refine": self.refine.state_dict()}

    def load_trainable_state(self, state: dict[str, dict[str, torch.Tensor]]) -> None:
        for name in ("motion", "content", "refine"):
            getattr(self, name).load_state_dict(state[name])

    # -- per video ---------------------------------------------------------------------------

    @torch.no_grad()
    def encode_art(self, art_image: torch.Tensor) -> torch.Tensor:
        """z+ code (1, n_latent, D) of an art picture (1, 3, H, W) in [-1, 1], as DualStyleGAN
        encodes a style image it has no stored code for."""
        return self.encoder.encode(art_image)

    @torch.no_grad()
    def frozen_codes(self, identity: torch.Tensor, art_code: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The frozen half of :meth:`prepare`: (W+ latent, extrinsic W+, m, RGB skip), no gradients.

        ``identity`` (1, 3, size, size) in [-1, 1]; ``art_code`` a z+ code (1, n_latent, D).
        """
        g = self.generator
        z_plus = self.encoder.encode(identity)
        latent = g.generator.latent_codes([z_plus], truncation=self.config.truncation, truncation_latent=0.0,
                                          z_plus_latent=True)
        exstyle = g.extrinsic_codes(art_code.to(latent))
        feature_map, rgb_skip = g.features_at([latent], exstyle, FEATURE_SIZE, **self._options())
        return latent, exstyle, feature_map, rgb_skip

    def prepare(self, identity: torch.Tensor, art_code: torch.Tensor | None = None,
                art_image: torch.Tensor | None = None, frozen: tuple[torch.Tensor, ...] | None = None) -> StyleAState:
        """Per-video state for identity image ``identity`` (1, 3, size, size) in [-1, 1] and an
        art style given as a z+ code (a row of ``exstyle_code.npy``) or a picture.

        ``frozen``: :meth:`frozen_codes` computed earlier (training caches them per clip).
        Gradients flow into Ec and Gm's image encoder.
        """
        size = self.config.size
        if identity.dim() != 4 or tuple(identity.shape) != (1, 3, size, size):
            raise ValueError(f"identity must be (1, 3, {size}, {size}), got {tuple(identity.shape)}")
        if frozen is None:
            if (art_code is None) == (art_image is None):
                raise ValueError("give the art style either as art_code (z+ code) or as art_image")
            frozen = self.frozen_codes(identity, art_code if art_code is not None else self.encode_art(art_image))
        latent, exstyle, feature_map, rgb_skip = frozen
        return StyleAState(latent, exstyle, feature_map, rgb_skip, self.content(identity),
                           self.motion.encode_image(identity))

    # -- per frame ---------------------------------------------------------------------------

    def render(self, state: StyleAState, windows: torch.Tensor) -> torch.Tensor:
        """Frames (B, 3, size, size), roughly in [-1, 1], for coefficient windows (B, window, coeff_dim)."""
        batch = windows.shape[0]
        flow = self.motion.decode_flow(state.motion_features, windows)
        warped = warp(state.feature_map, flow)
        rgb_skip = warp(state.rgb_skip, flow)
        refined = self.refine(warped, state.feature_map, flow)
        skips = {r: s.expand(batch, -1, -1, -1) for r, s in state.skips.items()}
        latent = state.latent.expand(batch, -1, -1)
        exstyle = state.exstyle.expand(batch, -1, -1)
        return self.generator.synthesize_from(refined, rgb_skip, [latent], exstyle, FEATURE_SIZE, skips=skips,
                                              **self._options())

    def still(self, state: StyleAState) -> torch.Tensor:
        """DualStyleGAN's own stylised image of the identity (1, 3, size, size): no motion, no skips."""
        return self.generator([state.latent], state.exstyle, **self._options())[0]

    def _options(self) -> dict:
        return {"input_is_latent": True, "interp_weights": self.config.interp_weights(), "randomize_noise": False}
