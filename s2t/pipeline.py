"""Photo + audio + emotion text + art picture -> coefficients -> frames -> MP4.

Components come in through the constructor (the face model, Style-E when available, the
Style-A renderer class); :meth:`TalkingHeadPipeline.__call__` shows the whole path.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from s2t.face import CoeffSequence, FaceModel
from s2t.style_a.base import Stylizer
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.photo import PreparedPhoto, prepare_photo
from s2t.video import MAX_AUDIO_SECONDS, MediaError, VideoWriter, probe_audio

if TYPE_CHECKING:
    from s2t.style_e.emotion_track import EmotionTrack

OUTPUT_SIZES = (256, 512, 1024)
FPS = 25.0
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
    def __init__(self, model: FaceModel, style_e=None, renderer=CpuRenderer) -> None:
        self.model, self.style_e, self.renderer = model, style_e, renderer

    def coefficients(self, audio: Path, emotion: "str | EmotionTrack", *, seed: int = 0, strength: float = 1.0,
                     identity: np.ndarray | None = None) -> CoeffSequence:
        """Style-E: speech + emotion text or track (+ the photo's face shape) -> expression and head pose at 25 fps."""
        if self.style_e is None:
            raise StageUnavailable("Style-E (speech + emotion text -> coefficients) is not loaded; "
                                   "pass a coefficient file with --coeffs")
        if isinstance(emotion, str):
            emotion = emotion_text(emotion)
        return self.style_e(str(audio), emotion, seed=seed, strength=strength, identity=identity)

    def __call__(
        self,
        image: str | Path | np.ndarray | PreparedPhoto,
        out: str | Path,
        *,
        audio: str | Path | None = None,
        emotion: "str | EmotionTrack | None" = None,
        coeffs: CoeffSequence | None = None,
        stylizer: Stylizer | None = None,
        size: int = 512,
        seed: int = 0,
        emotion_strength: float = 1.0,
        progress: bool = True,
        max_audio_seconds: float | None = MAX_AUDIO_SECONDS,
    ) -> Path:
        if size not in OUTPUT_SIZES:
            raise ValueError(f"size must be one of {OUTPUT_SIZES}, got {size}")
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
            print(f"note: {photo.num_faces} faces in the photo; animating the largest", file=sys.stderr)
        if coeffs is None:
            coeffs = self.coefficients(Path(audio), emotion, seed=seed, strength=emotion_strength,
                                       identity=photo.fit.identity)
        if coeffs.fps != FPS:
            coeffs = coeffs.resample(FPS)
        renderer = self.renderer(self.model, photo, stylizer)
        frames = renderer.frames(coeffs)
        with VideoWriter(out, FPS, size, audio=audio) as writer:
            for frame in tqdm(frames, total=coeffs.num_frames, desc="rendering", unit="frame", disable=not progress):
                writer.write(frame)
        return Path(out)


__all__ = ["MAX_EMOTION_CHARS", "MediaError", "OUTPUT_SIZES", "StageUnavailable", "TalkingHeadPipeline", "emotion_text"]
