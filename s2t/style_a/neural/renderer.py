"""The neural Style-A renderer behind the pipeline's renderer interface.

:class:`NeuralRenderer` prepares one identity photo and art style once (:meth:`StyleANetwork.prepare`)
and then renders a coefficient sequence in batches of frames, yielding them one by one in
order, so callers stream them into a video or over the network while the next batch runs.
On CUDA it runs under fp16 or bf16 autocast and can be wrapped in ``torch.compile``.

:class:`NeuralStyleA` is a loaded Style-A folder (``generator.pt``, ``encoder.pt``,
``style_a.pt``, optionally ``exstyle_code.npy``), one of the two Style-A implementations
(:class:`s2t.style_a.base.StyleA`): :meth:`NeuralStyleA.prepare` gives a
:class:`NeuralRenderer` for one photo and art, so :class:`s2t.pipeline.TalkingHeadPipeline`
takes it as its ``style_a``.
"""

from __future__ import annotations

from contextlib import nullcontext
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from s2t.face import CoeffSequence, FaceModel
from s2t.style_a.art import Art
from s2t.style_a.base import StyleARenderer
from s2t.style_a.neural.checkpoint import load_exstyle_code, load_style_a, style_a_files
from s2t.style_a.neural.model import StyleANetwork
from s2t.style_a.neural.motion import centred_windows
from s2t.style_a.photo import PreparedPhoto

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def image_to_tensor(image: np.ndarray, size: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> (1, 3, size, size) float in [-1, 1] (area resampling when shrinking)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got {image.shape}")
    if image.shape[:2] != (size, size):
        shrink = image.shape[0] > size
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(device=device, dtype=torch.float32)
    return (tensor.permute(2, 0, 1)[None] / 127.5 - 1.0).contiguous()


def tensor_to_images(frames: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] -> RGB uint8 (B, H, W, 3)."""
    scaled = ((frames.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return scaled.permute(0, 2, 3, 1).cpu().numpy()


def coefficient_matrix(seq: CoeffSequence) -> np.ndarray:
    """What Gm reads per frame: expression (K) then the pose relative to the photo (6)."""
    return np.concatenate([seq.expression, seq.pose], axis=1).astype(np.float32)


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (None: full fp32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if device.type != "cuda" or precision == "fp32":
        if precision in _DTYPES:
            raise ValueError(f"{precision} needs a CUDA device; this one is {device}")
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return _DTYPES[precision]


class NeuralRenderer(StyleARenderer):
    """Frames of one identity in one art style from a trained :class:`~s2t.style_a.neural.model.StyleANetwork`.

    ``identity``: the prepared photo crop, RGB uint8 (H, H, 3) (resized to the model's size).
    The art style is ``art_code`` (a z+ code, e.g. a row of ``exstyle_code.npy`` or the code
    the checkpoint was trained with) or ``art_image`` (a picture the pSp encoder encodes).
    ``output_size``: frames are resized to it when it differs from the model's size.
    ``batch_size``: frames per forward pass. ``precision``: ``auto`` (bf16/fp16 autocast on
    CUDA, fp32 elsewhere), ``fp32``, ``fp16`` or ``bf16``. ``compile``: wrap the per-frame
    pass in ``torch.compile`` (pays off over long sequences on a GPU).
    """

    def __init__(self, model: StyleANetwork, identity: np.ndarray, *, model_id: str, channel_names: Sequence[str],
                 art_code: torch.Tensor | None = None, art_image: np.ndarray | None = None,
                 output_size: int | None = None, batch_size: int = 8, precision: str = "auto",
                 compile: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        expected = model.config.coeff_dim - 6
        if len(channel_names) != expected:
            raise ValueError(f"the Style-A model reads {expected} expression channels, {model_id} has "
                             f"{len(channel_names)}")
        self.model = model.eval()
        self.model_id, self.channel_names = model_id, tuple(channel_names)
        self.size = output_size or model.config.size
        self.batch_size = batch_size
        self.device = next(model.parameters()).device
        self.autocast = resolve_precision(precision, self.device)
        size = model.config.size
        with torch.inference_mode():
            picture = None if art_image is None else image_to_tensor(art_image, size, self.device)
            code = None if art_code is None else art_code.to(self.device)
            self.state = model.prepare(image_to_tensor(identity, size, self.device), art_code=code, art_image=picture)
        self._forward = torch.compile(self._render_batch) if compile else self._render_batch

    def _render_batch(self, windows: torch.Tensor) -> torch.Tensor:
        return self.model.render(self.state, windows)

    def render_windows(self, windows: torch.Tensor) -> np.ndarray:
        """RGB uint8 frames (B, size, size, 3) for coefficient windows (B, window, coeff_dim)."""
        autocast = nullcontext() if self.autocast is None else torch.autocast(self.device.type, self.autocast)
        with torch.inference_mode(), autocast:
            frames = self._forward(windows.to(self.device))
        images = tensor_to_images(frames)
        if self.size != images.shape[1]:
            shrink = self.size < images.shape[1]
            images = np.stack([cv2.resize(im, (self.size, self.size),
                                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
                               for im in images])
        return images

    def render(self, expression: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """One frame held still: the window repeats this frame's coefficients."""
        row = torch.from_numpy(np.concatenate([expression, pose]).astype(np.float32))
        return self.render_windows(row.expand(1, self.model.config.window, -1))[0]

    def frames(self, seq: CoeffSequence, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Frames ``start`` to ``stop`` in order, rendered ``batch_size`` at a time. Each
        frame's window is centred on it in the whole sequence (ends repeat the first/last frame)."""
        if seq.model_id != self.model_id or tuple(seq.channel_names) != self.channel_names:
            raise ValueError(f"coefficients are for {seq.model_id!r} ({len(seq.channel_names)} channels) but this "
                             f"Style-A model was trained on {self.model_id!r} ({len(self.channel_names)} channels); "
                             "convert them first (s2t coeffs convert)")
        stop = seq.num_frames if stop is None else min(stop, seq.num_frames)
        coefficients = torch.from_numpy(coefficient_matrix(seq))
        windows = centred_windows(coefficients, self.model.config.window)
        for first in range(start, stop, self.batch_size):
            yield from self.render_windows(windows[first:min(first + self.batch_size, stop)])


class NeuralStyleA:
    """A loaded Style-A folder (:class:`s2t.style_a.base.StyleA`), making renderers for any
    photo. The art style (an :class:`~s2t.style_a.art.Art`) is a picture the pSp encoder
    encodes, a style name of the folder's ``exstyle_code.npy``, or none: the style the
    checkpoint was trained with. Art strength does not apply (the network draws the style whole)."""

    def __init__(self, folder: str | Path, device: str = "cpu", batch_size: int = 8, precision: str = "auto",
                 compile: bool = False) -> None:
        self.files = style_a_files(folder)
        self.model, self.facts = load_style_a(self.files.style_a, self.files.generator, self.files.encoder, device)
        self.batch_size, self.precision, self.compile = batch_size, precision, compile

    def art_style(self, art: Art) -> tuple[torch.Tensor | None, np.ndarray | None]:
        """``(z+ code, None)`` or ``(None, picture)`` for ``art``; ``ValueError`` when the
        folder cannot draw it."""
        if art.picture is not None:
            return None, art.picture
        if art.is_none:
            if self.facts.get("art_code") is None:
                raise ValueError(f"{self.files.style_a} stores no art style; give an art picture or a style "
                                 "from exstyle_code.npy")
            return self.facts["art_code"], None
        if self.files.exstyle is None:
            raise ValueError(f"art {art.name!r} is not a picture file, and the Style-A folder has no exstyle_code.npy "
                             "to look it up in")
        return load_exstyle_code(self.files.exstyle, art.name), None

    def check(self, art: Art) -> None:
        self.art_style(art)

    def prepare(self, model: FaceModel, photo: PreparedPhoto, art: Art, size: int) -> NeuralRenderer:
        """A renderer of the prepared photo's crop in ``art``, drawing ``size`` px frames."""
        if model.model_id != self.facts["model_id"]:
            raise ValueError(f"the Style-A model was trained on {self.facts['model_id']!r} coefficients, "
                             f"not {model.model_id!r}")
        art_code, art_image = self.art_style(art)
        return NeuralRenderer(self.model, photo.image, model_id=self.facts["model_id"],
                              channel_names=self.facts["channel_names"], art_code=art_code, art_image=art_image,
                              output_size=size, batch_size=self.batch_size, precision=self.precision,
                              compile=self.compile)
