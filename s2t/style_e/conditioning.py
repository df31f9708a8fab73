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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from s2t.audio.encoder import AudioEncoder


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


def identity_from_photo(image: str | Path | np.ndarray) -> np.ndarray:
    """The identity features of a photo: the embedded rig's 16 identity coefficients, fitted
    to the face's 68 landmarks (:func:`s2t.face.fit.fit_photo`); the largest face is used."""
    from s2t.face.fit import fit_photo
    from s2t.face.rig import build_rig

    fit, _ = fit_photo(build_rig(), image)
    return fit.identity.astype(np.float32)


__all__ = ["ConditionEncoder", "identity_from_photo"]
