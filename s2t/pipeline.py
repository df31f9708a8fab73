"""Photo + audio + emotion text + art picture -> coefficients -> frames -> MP4: the one path.

Every front end goes through :class:`TalkingHeadPipeline`: the CLI's ``generate`` and
``demo``, the backend's ``coefficients`` job (:meth:`TalkingHeadPipeline.coefficients`) and
``render`` job (:meth:`TalkingHeadPipeline.renderer`, which Blender's Render Stylized and the
CLI's ``--backend`` reach over the protocol). Components come in through the constructor (the
face model, Style-E when available, a Style-A implementation); the art comes in as an
:class:`~s2t.style_a.art.Art` from :func:`~s2t.style_a.art.resolve_art`.
:meth:`TalkingHeadPipeline.__call__` shows the whole path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from s2t.audio import FPS
from s2t.face import CoeffSequence, FaceModel
from s2t.style_a.art import NO_ART, Art
from s2t.style_a.base import StyleA, StyleARenderer
from s2t.style_a.cpu_renderer import CpuStyleA
from s2t.style_a.photo import PreparedPhoto, prepare_photo
from s2t.video import MAX_AUDIO_SECONDS, MediaError, VideoWriter, probe_audio

if TYPE_CHECKING:
    from s2t.style_e.emotion_track import EmotionTrack

log = logging.getLogger(__name__)  # notes: printed as they are until a library user configures logging

OUTPUT_SIZES = (256, 512, 1024)
MAX_EMOTION_CHARS = 2000


def emotion_text(text: str | None) -> str:
    """The emotion sentence, stripped; ``ValueError`` for an empty or overlong one.

    The one rule for every front end (the CLI, the backend's ``coefficients`` job).
    """
    stripped = text.strip() if isinstance(text, str) else ""
    if not 0 < len(stripped) <= MAX_EMOTION_CHARS:
        got = f"{len(stripped)} characters" if stripped else "nothing but spaces" if text else "nothing"
        raise ValueError(f"the emotion must describe it in words (1 to {MAX_EMOTION_CHARS} characters), e.g. "
                         f"'He is joyful, pulling up the lip corners'; got {got}")
    return stripped


class StageUnavailable(RuntimeError):
    """A stage whose model is not installed or not built yet."""


class TalkingHeadPipeline:
    """The path from photo + audio + emotion + art to frames.

    ``model``: the face model the coefficients drive. ``style_e``: Style-E
    (``s2t.style_e.sampler.StyleE``), None when coefficients are given instead. ``style_a``: a
    :class:`~s2t.style_a.base.StyleA` implementation, the CPU renderer unless a neural
    Style-A folder is loaded.
    """

    def __init__(self, model: FaceModel, style_e=None, style_a: StyleA | None = None) -> None:
        self.model, self.style_e = model, style_e
        self.style_a: StyleA = CpuStyleA() if style_a is None else style_a

    def coefficients(self, audio: str | Path | np.ndarray, emotion: "str | EmotionTrack", *, seed: int = 0,
                     strength: float = 1.0, identity: np.ndarray | None = None,
                     metadata: dict | None = None) -> CoeffSequence:
        """Style-E: speech (a file, or 16 kHz samples with ``metadata`` for the sequence) + emotion
        text or track (+ the photo's face shape) -> expression and head pose at 25 fps."""
        emotion = self._style_e_emotion(emotion)
        if isinstance(audio, np.ndarray):
            return self.style_e.generate(audio, emotion, seed, strength, identity, metadata=metadata)
        return self.style_e(str(audio), emotion, seed=seed, strength=strength, identity=identity)

    def takes(self, audio: np.ndarray, emotion: "str | EmotionTrack", seeds: list[int], *, strength: float = 1.0,
              identity: np.ndarray | None = None, metadata: dict | None = None) -> Iterator[CoeffSequence]:
        """:meth:`coefficients` for each seed of the same line (16 kHz samples), one take at a
        time as they are asked for; the audio features and text embeddings are made once."""
        emotion = self._style_e_emotion(emotion)
        return self.style_e.iter_variants(audio, emotion, list(seeds), strength, identity, metadata=metadata)

    def _style_e_emotion(self, emotion: "str | EmotionTrack") -> "str | EmotionTrack":
        if self.style_e is None:
            raise StageUnavailable("Style-E (speech + emotion text -> coefficients) is not loaded; "
                                   "pass a coefficient file with --coeffs")
        return emotion_text(emotion) if isinstance(emotion, str) else emotion

    def renderer(self, photo: PreparedPhoto, art: Art = NO_ART) -> StyleARenderer:
        """Style-A: the renderer of ``photo`` in ``art`` (frames at the photo's size)."""
        return self.style_a.prepare(self.model, photo, art, photo.size)

    def __call__(
        self,
        image: str | Path | np.ndarray | PreparedPhoto,
        out: str | Path,
        *,
        audio: str | Path | None = None,
        emotion: "str | EmotionTrack | None" = None,
        coeffs: CoeffSequence | None = None,
        art: Art = NO_ART,
        size: int = 512,
        seed: int = 0,
        emotion_strength: float = 1.0,
        progress: bool = True,
        max_audio_seconds: float | None = MAX_AUDIO_SECONDS,
    ) -> Path:
        """Write the talking head of ``image`` (a photo, or one already prepared at ``size``) into
        the MP4 ``out``: driven by ``coeffs``, or by Style-E from ``audio`` and ``emotion``; in
        ``art`` (:func:`~s2t.style_a.art.resolve_art`); with ``audio`` as its sound."""
        if size not in OUTPUT_SIZES:
            raise ValueError(f"size must be one of {OUTPUT_SIZES}, got {size}")
        self.style_a.check(art)  # art this Style-A cannot draw fails before any work
        if audio is not None:
            info = probe_audio(audio, max_seconds=max_audio_seconds)  # a bad or overlong audio file fails before any work
            if emotion is not None and not isinstance(emotion, str) and coeffs is None:
                emotion.check_duration(info.duration)  # a track past the audio's end
        if coeffs is None and (audio is None or emotion is None):
            raise ValueError("give --audio and --emotion (or a coefficient file with --coeffs)")
        if coeffs is None and isinstance(emotion, str):
            emotion = emotion_text(emotion)
        reuse = isinstance(image, PreparedPhoto) and image.size == size  # already cropped and fitted
        photo = image if reuse else prepare_photo(self.model, getattr(image, "image", image), size)
        if photo.num_faces > 1:
            log.warning("note: %d faces in the photo; animating the largest", photo.num_faces)
        if coeffs is None:
            coeffs = self.coefficients(Path(audio), emotion, seed=seed, strength=emotion_strength,
                                       identity=photo.fit.identity)
        if coeffs.fps != FPS:
            coeffs = coeffs.resample(FPS)
        frames = self.renderer(photo, art).frames(coeffs)
        with VideoWriter(out, FPS, size, audio=audio) as writer:
            for frame in tqdm(frames, total=coeffs.num_frames, desc="rendering", unit="frame", disable=not progress):
                writer.write(frame)
        return Path(out)


__all__ = ["MAX_EMOTION_CHARS", "MediaError", "OUTPUT_SIZES", "StageUnavailable", "TalkingHeadPipeline", "emotion_text"]
