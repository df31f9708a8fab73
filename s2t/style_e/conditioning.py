"""Style-E's condition ``c = T ⊕ I ⊕ A`` (paper, Style-E section): per frame, the emotion
text's embedding, the identity features and the audio encoder's feature of that frame's mel
window, concatenated.

* T: a sentence embedding from :mod:`s2t.text` (fixed, not trained here). Its stand-in for
  "no emotion text" is ``null_text``, a learned vector: training swaps it in for the text of
  *neutral* clips part of the time, so the null condition means neutral talking, and
  classifier-free guidance ``x0 = x0(null) + s (x0(text) - x0(null))`` gives neutral talking
  at ``s = 0``, the text's style at ``s = 1`` and an exaggerated one beyond.
* I: the identity coefficients of the face model fitted to the photo (16 for the rig, about
  unit scale since the fit uses a unit Gaussian prior); zeros mean the average face.
* A: :class:`s2t.audio.encoder.AudioEncoder` on the frame's ``(80, 16)`` mel window, trained
  with the denoiser (the paper borrows SadTalker's pretrained one; at ``width=32`` its
  weights load unchanged).

An emotion that changes within a take (:mod:`s2t.style_e.emotion_track`) makes T per frame:
:class:`EmotionSchedule` cross-fades the cues' embeddings and guidance strengths with a
smoothstep over the blend time centred on each cue's start. The blended text vector is the
weighted sum of the cues' embeddings rescaled to their weighted norm, so unit-length sentence
vectors stay unit length through a transition (a plain average would shrink toward the origin,
a text the model never saw).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from s2t.audio.encoder import AudioEncoder

if TYPE_CHECKING:
    from s2t.style_e.emotion_track import EmotionTrack


class ConditionEncoder(nn.Module):
    """Builds the per-frame condition ``(B, W, text_dim + identity_dim + audio_dim)``."""

    def __init__(self, text_dim: int, identity_dim: int, audio_width: int) -> None:
        super().__init__()
        self.audio = AudioEncoder(audio_width)
        self.null_text = nn.Parameter(torch.zeros(text_dim))
        self.text_dim, self.identity_dim, self.audio_dim = text_dim, identity_dim, self.audio.out_dim

    @property
    def dim(self) -> int:
        return self.text_dim + self.identity_dim + self.audio_dim

    def encode_audio(self, mel_windows: torch.Tensor) -> torch.Tensor:
        """``(..., 80, 16)`` mel windows -> ``(..., audio_dim)`` features."""
        lead = mel_windows.shape[:-2]
        return self.audio(mel_windows.reshape(-1, *mel_windows.shape[-2:])).reshape(*lead, self.audio_dim)

    def combine(self, audio: torch.Tensor, text: torch.Tensor, identity: torch.Tensor,
                use_text: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """``T ⊕ I ⊕ A`` per frame.

        Args:
            audio: ``(B, W, audio_dim)`` from :meth:`encode_audio`.
            text: ``(B, text_dim)`` sentence embeddings, or ``(B, W, text_dim)`` per frame (an
                emotion that changes within the window).
            identity: ``(B, identity_dim)``.
            use_text: ``(B,)`` bool; where False the text is replaced by ``null_text``.
        """
        frames = audio.shape[1]
        if text.dim() == 3:
            text = torch.where(use_text[:, None, None], text, self.null_text.to(text.dtype))
            identity = identity[:, None].expand(-1, frames, -1)
            return torch.cat([text, identity, audio], dim=-1)
        text = torch.where(use_text[:, None], text, self.null_text.to(text.dtype))
        per_clip = torch.cat([text, identity], dim=-1)[:, None].expand(-1, frames, -1)
        return torch.cat([per_clip, audio], dim=-1)

    def forward(self, mel_windows: torch.Tensor, text: torch.Tensor, identity: torch.Tensor,
                use_text: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """``(B, W, 80, 16)`` mel windows + per-clip text and identity -> ``(B, W, dim)``."""
        return self.combine(self.encode_audio(mel_windows), text, identity, use_text)


def _smoothstep(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class EmotionSchedule:
    """Per-frame text embedding and guidance strength: one emotion, or a track's cross-fades.

    Args:
        embeddings: ``(K, text_dim)``, one per cue.
        strengths: ``K`` guidance strengths.
        starts: ``K`` start frames (the first is ignored: it holds from frame 0).
        blend_frames: frames over which each change is spread, centred on its start.
    """

    def __init__(self, embeddings: torch.Tensor, strengths: list[float], starts: list[float] | None = None,
                 blend_frames: float = 0.0) -> None:  # fmt: skip
        if len(embeddings) != len(strengths) or (starts is not None and len(starts) != len(strengths)):
            raise ValueError("one embedding, strength and start per cue")
        self.embeddings, self.strengths = embeddings, [float(s) for s in strengths]
        self.starts = [0.0] * len(strengths) if starts is None else [float(s) for s in starts]
        self.blend_frames = float(blend_frames)

    @classmethod
    def constant(cls, embedding: torch.Tensor, strength: float) -> "EmotionSchedule":
        return cls(embedding[None], [strength])

    @property
    def constant_strength(self) -> float | None:
        """The strength if every frame has the same one, else None."""
        return self.strengths[0] if len(set(self.strengths)) == 1 else None

    def weights(self, frames: torch.Tensor) -> torch.Tensor:
        """``(n, K)`` cue weights of the frames ``(n,)``, each row summing to 1."""
        frames = frames.to(torch.float64)
        presence = torch.ones(len(frames), len(self.strengths), dtype=torch.float64)
        for k in range(1, len(self.strengths)):
            if self.blend_frames > 0:
                presence[:, k] = _smoothstep((frames - self.starts[k]) / self.blend_frames + 0.5)
            else:
                presence[:, k] = (frames >= self.starts[k]).to(torch.float64)
        # cue k counts where it has arrived and no later cue has taken over
        later = torch.cumprod(torch.flip(1.0 - presence, [1]), 1).flip(1)
        return presence * torch.cat([later[:, 1:], torch.ones(len(frames), 1, dtype=torch.float64)], 1)

    def text(self, frames: torch.Tensor) -> torch.Tensor:
        """``(text_dim,)`` for a single emotion, else ``(*frames.shape, text_dim)``."""
        if len(self.strengths) == 1:
            return self.embeddings[0]
        weights = self.weights(frames.reshape(-1)).to(self.embeddings.dtype)
        mixed = weights @ self.embeddings
        norm = weights @ self.embeddings.norm(dim=-1)
        mixed = mixed * (norm / mixed.norm(dim=-1).clamp_min(1e-8))[:, None]
        return mixed.reshape(*frames.shape, -1)

    def strength(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame guidance strength, shaped like ``frames``."""
        table = torch.tensor(self.strengths, dtype=torch.float64)
        return (self.weights(frames.reshape(-1)) @ table).reshape(frames.shape)


def emotion_schedule(track: "EmotionTrack", embeddings: torch.Tensor, default_strength: float,
                     fps: float) -> EmotionSchedule:  # fmt: skip
    """The schedule of a track whose cue texts encode to ``embeddings`` ``(K, text_dim)``."""
    strengths = [default_strength if c.strength is None else c.strength for c in track.cues]
    return EmotionSchedule(embeddings, strengths, [c.start * fps for c in track.cues], track.blend * fps)


def identity_from_photo(image: str | Path | np.ndarray) -> np.ndarray:
    """The identity features of a photo: the embedded rig's 16 identity coefficients, fitted
    to the face's 68 landmarks (:func:`s2t.face.fit.fit_photo`); the largest face is used."""
    from s2t.face.fit import fit_photo
    from s2t.face.rig import build_rig

    fit, _ = fit_photo(build_rig(), image)
    return fit.identity.astype(np.float32)


__all__ = ["ConditionEncoder", "EmotionSchedule", "emotion_schedule", "identity_from_photo"]
