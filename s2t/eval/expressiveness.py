"""How much Style-E expresses, beyond lip sync: emotion key channels, mild sentences, head
motion, variants and emotion changes. Used by ``bench/bench_style_e_quality.py --next-level``.

* **Key channels** of an emotion: the rig channels its EMFACS prototype drives to at least
  75 % of its strongest one (jawOpen left out: speech drives it); e.g. angry: browDown,
  eyeSquint, mouthPress; sad: browInnerUp, mouthFrown. *Key activation* is their mean over
  frames and channels.
* **Mild sentences** (:data:`MILD_SENTENCES`): indirect or weak descriptions, none of which
  the annotation grammar or the label sentences produce; held out of every training run.
* **Text neighbours**: the cosine similarity of a sentence's embedding to each emotion's
  label sentences (:func:`s2t.style_e.label_texts.emotion_texts` at level 2, averaged); it shows
  which sentences the text encoder itself already places near neutral.
* **Head motion**: standard deviation and range (max - min) of pitch, yaw and roll in
  degrees, and the correlation of the head's angular speed with the frame loudness (dB).
* **Variant diversity**: mean over pairs of takes of the RMS difference of their expression
  channels and of their head rotation (degrees).
* **Transition**: for a take whose emotion changes at ``t``, the largest frame-to-frame step
  of the key channels inside ``t ± blend`` against the largest step elsewhere (1 = no
  sharper than the rest), and the jaw's correlation with the truth around the change.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from s2t.data.emotion import EMOTIONS
from s2t.face.facs import emotion_blendshapes
from s2t.face.motion import frame_loudness
from s2t.style_e.label_texts import emotion_texts

MILD_SENTENCES = {
    "neutral": ("He gives the weather report.", "She reads the list out.", "He explains the schedule."),
    "angry": ("She frowns, clearly annoyed.", "He is a bit irritated.", "His patience is wearing thin."),
    "contempt": ("He is not impressed.", "She finds the idea a little ridiculous.",
                 "He gives a faint, superior half-smile."),
    "disgusted": ("She finds it rather gross.", "Something smells off to him.", "He is put off by the food."),
    "fear": ("She is a little nervous.", "He glances around uneasily.", "Her voice is slightly tense with worry."),
    "happy": ("She seems pleased.", "He is in a good mood today.", "She is quietly content."),
    "sad": ("He sounds a bit down.", "She is disappointed.", "He misses his old friend."),
    "surprised": ("She did not expect that.", "He is mildly taken aback.", "Oh, that is news to her."),
}  # fmt: skip
"""Three mild or indirect descriptions per emotion, held out of training."""


def key_channels(emotion: str, names: tuple[str, ...], share: float = 0.75) -> tuple[str, ...]:
    """The channels the emotion's prototype drives hardest (none for neutral)."""
    if emotion == "neutral":
        return ()
    weights = emotion_blendshapes(emotion, 1.0, names)
    return tuple(n for n, w in zip(names, weights) if w >= share * weights.max() and n != "jawOpen")


def _mirrored(name: str) -> str:
    return name[:-4] + "Right" if name.endswith("Left") else name[:-5] + "Left" if name.endswith("Right") else name


def key_activation(expression: np.ndarray, emotion: str, names: tuple[str, ...]) -> float:
    """Mean of the emotion's key channels over frames (NaN for neutral), on whichever side the
    face shows it: the mean of the mirrored channels (Left <-> Right) when that is larger. The
    prototype's contempt smirks on the right, but the corpus's on either side, so a smirk on
    the left is as much contempt (for symmetric keys both sides are the same channels)."""
    keys = key_channels(emotion, names)
    if not keys:
        return float("nan")
    sides = ([names.index(k) for k in keys], [names.index(_mirrored(k)) for k in keys])
    return float(max(expression[:, side].mean() for side in sides))


def text_neighbours(encoder, sentences: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(len(sentences), 8)`` cosine similarities to each emotion's label sentences, and the
    emotions in column order."""
    prototypes = []
    for emotion in EMOTIONS:
        vectors = encoder.encode(emotion_texts(emotion, 2))
        prototypes.append(torch.nn.functional.normalize(vectors.mean(0), dim=0))
    table = torch.stack(prototypes)
    embedded = torch.nn.functional.normalize(encoder.encode(sentences), dim=-1)
    return (embedded @ table.T).cpu().numpy(), EMOTIONS


def head_motion(pose: np.ndarray, audio: np.ndarray, fps: float, sample_rate: int = 16000) -> dict[str, float]:
    """Rotation std and range per axis (degrees) and speed-loudness correlation of a take."""
    degrees = np.degrees(pose[:, :3])
    loudness = frame_loudness(audio, sample_rate, len(pose), fps)
    speed = np.linalg.norm(np.diff(degrees, axis=0), axis=1) * fps
    stats = {f"{axis}_std": float(degrees[:, i].std()) for i, axis in enumerate(("pitch", "yaw", "roll"))}
    stats |= {f"{axis}_range": float(np.ptp(degrees[:, i])) for i, axis in enumerate(("pitch", "yaw", "roll"))}
    stats["speed_loudness_r"] = float(np.corrcoef(speed, loudness[1:])[0, 1]) if speed.std() > 0 else float("nan")
    stats["pitch_loudness_r"] = float(np.corrcoef(degrees[:, 0], loudness)[0, 1]) if degrees[:, 0].std() > 0 \
        else float("nan")  # fmt: skip
    return stats


def variant_diversity(expressions: list[np.ndarray], poses: list[np.ndarray]) -> dict[str, float]:
    """Mean pairwise RMS difference of the takes' expression channels and head rotation (degrees)."""
    pairs = list(itertools.combinations(range(len(expressions)), 2))
    if not pairs:
        raise ValueError("diversity needs at least two takes")
    expression = np.mean([np.sqrt(np.mean((expressions[a] - expressions[b]) ** 2)) for a, b in pairs])
    rotation = np.mean([np.sqrt(np.mean(np.degrees(poses[a][:, :3] - poses[b][:, :3]) ** 2)) for a, b in pairs])
    return {"expression_rms": float(expression), "rotation_rms_deg": float(rotation)}


def transition_sharpness(expression: np.ndarray, keys: list[int], change_frame: int, blend_frames: int) -> float:
    """Largest frame-to-frame step of the key channels within ``change ± blend`` divided by the
    largest step elsewhere in the take (speech moves them too, so 1 means as smooth as speech)."""
    steps = np.abs(np.diff(expression[:, keys], axis=0)).max(1)
    near = np.zeros(len(steps), bool)
    near[max(0, change_frame - blend_frames) : change_frame + blend_frames] = True
    return float(steps[near].max() / max(steps[~near].max(), 1e-6))


__all__ = ["MILD_SENTENCES", "head_motion", "key_activation", "key_channels", "text_neighbours",
           "transition_sharpness", "variant_diversity"]  # fmt: skip
