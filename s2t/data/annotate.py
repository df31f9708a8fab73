"""Emotion-text annotation of a corpus, "labor-free" as the paper's data preparation.

For each clip: action-unit intensities from its coefficients, thresholded into active AUs
with three levels (:func:`read_action_units`); dozens of candidate sentences from the emotion,
its level and the active AUs (:mod:`s2t.text.emotion_grammar`); the candidates ranked and
the top five distinct ones kept (:class:`ReferenceRanker` offline, :class:`ClipImageRanker`
with CLIP weights, as the paper, on frames of the clip's source video or, for synthetic
corpora, renders of its rig); written to ``shard_*/annotations.jsonl``
(:func:`annotate_corpus`), the file Style-E training reads.

**Measuring AUs.** Frames -> AU intensities on OpenFace's 0-5 scale with
:func:`s2t.face.facs.aus_from_blendshapes`, then one robust value per clip:

* AUs speech does not move (brows, lids, cheeks, nose, lip corners): the 75th percentile over
  the frames: an expression held for a quarter of the clip counts, a blink or a single
  emphatic frame does not.
* AUs speech moves (upper lip 10, chin 17, lip stretcher 20, lip tightener 23, jaw drop 26):
  the 25th percentile, the level the face holds *between* syllables. Articulation swings these
  AUs up and back down many times a second, so its peaks never reach the floor; an emotion
  holds them. Talking still leaves the jaw a little open (neutral clips read AU26 ~1 at that
  floor), so jaw drop counts only from 2 (FACS "slight", B) up. Lips part (AU25) is speech
  in every clip and is not used; blink (AU45) is not an emotion.

**Thresholds** (OpenFace's scale: FACS intensities A-E are 1-5): an AU is *active* from 1.0
(FACS A, "trace"; below it OpenFace's regressors mostly report noise), *slight* below 2.5
(A-B), *clear* from 2.5 (C, "marked"), *intense* from 4.0 (D-E, "severe" to "maximum").
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from s2t.checkpoint import atomic_write
from s2t.text.emotion_grammar import candidate_sentences, select_cues
from s2t.data.corpus import ClipRecord, CorpusIndex
from s2t.face.coeffs import CoeffSequence
from s2t.face.facs import AU_TO_BLENDSHAPES, OPENFACE_AUS, aus_from_blendshapes
from s2t.face.model import FaceModel
from s2t.text.encoders import ClipTextEncoder, TextEncoder, encode_by_length, load_text_encoder

ANNOTATIONS_NAME = "annotations.jsonl"
SPEECH_AUS = frozenset({10, 17, 20, 23, 26})
"""Mouth AUs that articulation moves too: summarised by their floor, not their peaks."""
IGNORED_AUS = frozenset({25, 45})
"""Lips part (always moving in speech) and blink (not an emotion)."""
EXPRESSION_PERCENTILE = 75
SPEECH_PERCENTILE = 25
ACTIVE_THRESHOLD = 1.0
JAW_ACTIVE_THRESHOLD = 2.0
LEVEL_EDGES = (2.5, 4.0)
"""Intensity where "slight" becomes "clear" and "clear" becomes "intense"."""
ONE_SIDED_RATIO = 0.4
"""Lip corners move on one side when the weaker side reaches less than this share of the stronger."""


@dataclass(frozen=True)
class FaceReading:
    """A clip's AUs: ``intensities`` (every measured AU, 0-5), ``levels`` (active AUs -> 1-3)
    and whether the lip corners (AU12/14) move on one side only, as in contempt."""

    intensities: dict[int, float]
    levels: dict[int, int]
    one_sided_corners: bool


def au_level(au: int, intensity: float) -> int:
    """0 (inactive), 1 slight, 2 clear or 3 intense for a clip's summary intensity of ``au``."""
    if intensity < (JAW_ACTIVE_THRESHOLD if au == 26 else ACTIVE_THRESHOLD):
        return 0
    return 1 + sum(intensity >= edge for edge in LEVEL_EDGES)


def summarise_aus(curves: np.ndarray, aus: tuple[int, ...] = OPENFACE_AUS) -> dict[int, float]:
    """One value per AU from its intensity curve ``(T, len(aus))``: see the module docstring."""
    summary = {}
    for i, au in enumerate(aus):
        if au not in IGNORED_AUS:
            q = SPEECH_PERCENTILE if au in SPEECH_AUS else EXPRESSION_PERCENTILE
            summary[au] = round(float(np.percentile(curves[:, i], q)), 2)
    return summary


_CORNER_AUS = (12, 14)


def _corner_channels(names: tuple[str, ...], side: str) -> list[int]:
    return [names.index(shape) for au in _CORNER_AUS for shape in AU_TO_BLENDSHAPES[au] if shape.endswith(side)]


def _one_sided_corners(expression: np.ndarray, names: tuple[str, ...]) -> bool:
    """Whether the lip-corner pull and dimpler (AU12, AU14) act on one side only. Their
    intensities stay the projection on both sides, i.e. a one-sided pull reads as the
    two-sided pull of the same total weight (as the corpus's contempt is made)."""
    sides = [np.percentile(expression[:, _corner_channels(names, side)].max(1), EXPRESSION_PERCENTILE)
             for side in ("Left", "Right")]  # fmt: skip
    weak, strong = sorted(sides)
    return bool(strong > 0 and weak < ONE_SIDED_RATIO * strong)


def read_action_units(expression: np.ndarray, names: tuple[str, ...]) -> FaceReading:
    """The :class:`FaceReading` of a clip's expression coefficients ``(T, K)`` on ARKit-named channels."""
    missing = sorted({shape for au in OPENFACE_AUS for shape in AU_TO_BLENDSHAPES[au]} - set(names))
    if missing:
        raise ValueError(f"AUs are read from ARKit-named blendshapes; these channels are missing: {missing}")
    expression = np.asarray(expression, np.float32)
    intensities = summarise_aus(aus_from_blendshapes(expression, names))
    levels = {au: level for au, value in intensities.items() if (level := au_level(au, value))}
    return FaceReading(intensities, levels, _one_sided_corners(expression, names))


# -- ranking -------------------------------------------------------------------------------

_LEVEL_ADVERBS = {1: "slightly", 2: "clearly", 3: "strongly"}
_LEVEL_ADJECTIVES = {1: "slight", 2: "clear", 3: "intense"}
_EMOTION_NOUNS = {"angry": "anger", "contempt": "contempt", "disgusted": "disgust", "fear": "fear",
                  "happy": "happiness", "sad": "sadness", "surprised": "surprise"}  # fmt: skip
_AU_PLAIN = {
    1: "raised inner brows", 2: "raised outer brows", 4: "lowered, drawn-together brows", 5: "widened eyes",
    6: "raised cheeks", 7: "tightened eyelids", 9: "wrinkled nose", 10: "raised upper lip",
    12: "pulled-up lip corners, smiling", 14: "tightened, dimpled mouth corners", 15: "pulled-down mouth corners",
    17: "raised chin", 20: "stretched lips", 23: "tightened lips", 26: "dropped jaw, open mouth",
}  # fmt: skip
"""What each measured AU looks like, in plain words: FACS's names ("lip corner puller") share
few words with the sentences, and MiniLM matched sentences to them poorly."""


def reference_description(emotion: str, level: int, reading: FaceReading) -> str:
    """What the offline ranker compares candidates with: the emotion at its level, then each
    measured AU in plain words, strongest first ("intense anger; strongly lowered,
    drawn-together brows; clearly tightened lips")."""
    if emotion == "neutral":
        return "calm, neutral face; relaxed brows; no smile or frown; mouth moving only with speech"
    parts = [f"{_LEVEL_ADJECTIVES[level]} {_EMOTION_NOUNS[emotion]}"]
    for au, au_level in sorted(reading.levels.items(), key=lambda item: -item[1]):
        one_sided = "one-sided " if reading.one_sided_corners and au in _CORNER_AUS else ""
        parts.append(f"{_LEVEL_ADVERBS[au_level]} {one_sided}{_AU_PLAIN[au]}")
    return "; ".join(parts)


class Ranker(Protocol):
    name: str

    def __call__(self, candidates: list[str], record: ClipRecord, level: int, reading: FaceReading,
                 coeffs: CoeffSequence) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """``(scores (N,), unit text embeddings (N, D))`` of the candidates for one clip."""


class ReferenceRanker:
    """Ranks candidates by cosine similarity, in a sentence encoder's space (MiniLM offline),
    to :func:`reference_description` of the clip."""

    name = "reference"

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder

    def __call__(self, candidates: list[str], record: ClipRecord, level: int, reading: FaceReading,
                 coeffs: CoeffSequence) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        reference = reference_description(record.emotion, level, reading)
        embeddings = encode_by_length(self.encoder, candidates + [reference])
        texts, reference = embeddings[:-1], embeddings[-1]
        return (texts @ reference).numpy(), texts.numpy()


CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@torch.no_grad()
def encode_images(clip_model: torch.nn.Module, images: list[np.ndarray]) -> torch.Tensor:
    """CLIP image embeddings ``(N, D)`` of unit length, of RGB uint8 images ``(H, W, 3)``,
    preprocessed as CLIP's own transform does: bicubic resize of the short side to the input
    resolution, centre crop, CLIP's mean and std. ``clip_model`` is a ``clip.model.CLIP``
    (:attr:`ClipTextEncoder.model`, so the image tower comes from the same ViT-B-32.pt)."""
    size = clip_model.visual.input_resolution
    batch = []
    for image in images:
        picture = Image.fromarray(np.asarray(image, np.uint8))
        scale = size / min(picture.size)
        w, h = max(size, round(picture.width * scale)), max(size, round(picture.height * scale))
        picture = picture.resize((w, h), Image.BICUBIC)
        left, top = (w - size) // 2, (h - size) // 2
        batch.append(np.asarray(picture.crop((left, top, left + size, top + size)), np.float32) / 255.0)
    pixels = (torch.from_numpy(np.stack(batch)) - torch.tensor(CLIP_MEAN)) / torch.tensor(CLIP_STD)
    device = next(clip_model.parameters()).device
    features = clip_model.encode_image(pixels.permute(0, 3, 1, 2).to(device)).float()
    return torch.nn.functional.normalize(features, dim=-1).cpu()


def frame_picks(num_frames: int, count: int) -> list[int]:
    """``count`` frame indices evenly spread over the middle 80% of a clip."""
    return [int(round(t)) for t in np.linspace(0.1, 0.9, count) * (num_frames - 1)]


def render_frames(coeffs: CoeffSequence, face_model: FaceModel, picks: list[int], size: int = 224) -> list[np.ndarray]:
    """The clip's frames ``picks`` drawn from its rig, with the clip's identity when it has one."""
    from s2t.face.preview import region_face_colors, render_mesh

    identity = coeffs.metadata.get("identity")
    if identity is not None and len(identity) != face_model.num_identity:
        identity = None
    colors = region_face_colors(face_model.triangles, face_model.regions)
    return [render_mesh(face_model.geometry(coeffs.expression[k], identity), face_model.triangles, size,
                        face_colors=colors) for k in picks]  # fmt: skip


def video_frames(path: Path, picks: list[int]) -> list[np.ndarray]:
    """Frames ``picks`` of a source video at the corpus's 25 fps, as the video adapters index them."""
    from s2t.data.adapters import ANALYSIS_SIDE
    from s2t.video import read_frames

    frames, wanted = [], set(picks)
    for k, frame in enumerate(read_frames(path, max_side=ANALYSIS_SIDE)):
        if k in wanted:
            frames.append(frame)
        if len(frames) == len(wanted):
            break
    return frames


def clip_frames(record: ClipRecord, coeffs: CoeffSequence, face_model: FaceModel, source_root: Path | None,
                count: int = 4, size: int = 224) -> list[np.ndarray]:  # fmt: skip
    """``count`` frames of the clip: from its source video when the corpus was made from video
    (the manifest's ``source_root`` + the clip's ``source``, when that file is still there),
    else drawn from its rig (synthetic corpora have no video)."""
    picks = frame_picks(coeffs.num_frames, count)
    video = source_root / record.source if source_root is not None else None
    if video is not None and video.is_file():
        frames = video_frames(video, picks)
        if len(frames) == count:
            return frames
    return render_frames(coeffs, face_model, picks, size)


class ClipImageRanker:
    """The paper's ranking: cosine similarity of CLIP text embeddings of the candidates to the
    mean CLIP image embedding of a few frames of the clip (:func:`clip_frames`)."""

    name = "clip"

    def __init__(self, encoder: ClipTextEncoder, face_model: FaceModel, source_root: Path | None = None,
                 frames: int = 4) -> None:  # fmt: skip
        self.encoder, self.face_model, self.source_root, self.frames = encoder, face_model, source_root, frames

    def __call__(self, candidates: list[str], record: ClipRecord, level: int, reading: FaceReading,
                 coeffs: CoeffSequence) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        size = self.encoder.model.visual.input_resolution
        frames = clip_frames(record, coeffs, self.face_model, self.source_root, self.frames, size)
        images = encode_images(self.encoder.model, frames)
        picture = torch.nn.functional.normalize(images.mean(0), dim=-1)
        texts = encode_by_length(self.encoder, candidates)
        return (texts @ picture).numpy(), texts.numpy()


def select_diverse(scores: np.ndarray, embeddings: np.ndarray, k: int, weight: float = 0.6,
                   max_similarity: float = 0.9) -> list[int]:  # fmt: skip
    """Indices of ``k`` candidates by maximal marginal relevance: each step takes the best
    ``weight * score - (1 - weight) * (similarity to the closest kept one)``, skipping
    near-paraphrases (similarity above ``max_similarity``) while others are left."""
    if len(scores) < k:
        raise ValueError(f"need at least {k} candidates, got {len(scores)}")
    similarity = embeddings @ embeddings.T
    chosen: list[int] = []
    while len(chosen) < k:
        rest = [i for i in range(len(scores)) if i not in chosen]
        closest = similarity[np.ix_(rest, chosen)].max(1) if chosen else np.zeros(len(rest))
        value = weight * scores[rest] - (1 - weight) * closest
        if (closest <= max_similarity).any():
            value = np.where(closest <= max_similarity, value, -np.inf)
        chosen.append(rest[int(np.argmax(value))])
    return chosen


# -- the corpus ----------------------------------------------------------------------------


def clip_rng(seed: int, clip_id: str) -> np.random.Generator:
    """A generator that depends on the seed and the clip only, so order and resuming don't matter."""
    return np.random.default_rng([seed, zlib.crc32(clip_id.encode())])


def annotate_clip(record: ClipRecord, coeffs: CoeffSequence, ranker: Ranker, seed: int = 0, top_k: int = 5,
                  candidates: int = 48) -> dict:  # fmt: skip
    """The annotation line of one clip: ``clip_id``, ``texts`` (``top_k`` sentences, best
    first), measured ``aus`` (0-5), active AU ``levels`` (1-3) and the ``ranker`` used."""
    level = 1 if record.emotion == "neutral" else int(record.level)
    reading = read_action_units(coeffs.expression, coeffs.channel_names)
    cues = select_cues(record.emotion, reading.levels, reading.one_sided_corners)
    sentences = candidate_sentences(record.emotion, level, cues, clip_rng(seed, record.clip_id), candidates)
    scores, embeddings = ranker(sentences, record, level, reading, coeffs)
    texts = [sentences[i] for i in select_diverse(scores, embeddings, top_k)]
    return {"clip_id": record.clip_id, "texts": texts, "aus": {str(a): v for a, v in reading.intensities.items()},
            "levels": {str(a): v for a, v in reading.levels.items()}, "ranker": ranker.name}  # fmt: skip


def make_ranker(encoder: str | Path, manifest: dict) -> Ranker:
    """:class:`ReferenceRanker` for ``"minilm"`` (or a BERT model folder), :class:`ClipImageRanker`
    for ``"clip-vit-b32"`` or a ``ViT-B-32.pt`` path: its image tower, looking at the corpus's
    source videos (``manifest["source_root"]``) or else at renders of its face model."""
    text_encoder = load_text_encoder(encoder)
    if isinstance(text_encoder, ClipTextEncoder):
        from s2t.face import load_face_model

        source_root = Path(manifest["source_root"]) if manifest.get("source_root") else None
        return ClipImageRanker(text_encoder, load_face_model(manifest.get("model_id", "s2t-arkit52")), source_root)
    return ReferenceRanker(text_encoder)


def read_shard_annotations(path: Path) -> dict[str, dict]:
    """``clip_id -> line`` of one ``annotations.jsonl`` (empty when the file is absent)."""
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {row["clip_id"]: row for row in rows}


def _write_shard_annotations(path: Path, rows: dict[str, dict]) -> None:
    atomic_write(path, "".join(json.dumps(row) + "\n" for row in rows.values()).encode())


def annotate_corpus(root: str | Path, encoder: str | Path = "minilm", seed: int = 0, top_k: int = 5,
                    progress: bool = True, resume: bool = True, candidates: int = 48,
                    flush_every: int = 50) -> dict:  # fmt: skip
    """Annotate every clip of a corpus folder into ``shard_*/annotations.jsonl``.

    Each shard's file is rewritten atomically (temporary file + rename) every ``flush_every``
    clips and at the end of the shard, so it is always complete lines. With ``resume``, clips
    already in a file are kept and skipped; without, the files are written anew. Clip
    sentences depend on ``(seed, clip_id)`` only. Returns a summary with the throughput.
    """
    corpus = CorpusIndex(root)
    ranker = make_ranker(encoder, corpus.manifest)
    shards: dict[str, list[ClipRecord]] = {}
    for record in corpus:
        shards.setdefault(record.shard, []).append(record)
    existing = {shard: read_shard_annotations(corpus.root / shard / ANNOTATIONS_NAME) if resume else {}
                for shard in shards}  # fmt: skip
    todo = sum(1 for shard, records in shards.items() for r in records if r.clip_id not in existing[shard])
    started, done = time.perf_counter(), 0
    with tqdm(total=todo, unit="clip", desc="annotating", disable=not progress) as bar:
        for shard, records in shards.items():
            rows, path, pending = existing[shard], corpus.root / shard / ANNOTATIONS_NAME, 0
            for record in records:
                if record.clip_id in rows:
                    continue
                coeffs = CoeffSequence.load(record.coeffs_path)
                rows[record.clip_id] = annotate_clip(record, coeffs, ranker, seed, top_k, candidates)
                done, pending = done + 1, pending + 1
                bar.update()
                if pending == flush_every:
                    _write_shard_annotations(path, rows)
                    pending = 0
            if pending or not path.exists():
                _write_shard_annotations(path, rows)
    seconds = time.perf_counter() - started
    return {"path": str(corpus.root), "clips": len(corpus), "annotated": done, "skipped": len(corpus) - done,
            "ranker": ranker.name, "seconds": round(seconds, 2),
            "clips_per_second": round(done / seconds, 2) if done and seconds > 0 else None}  # fmt: skip


def export_annotations(root: str | Path, path: str | Path) -> int:
    """Write the paper-like ``{clip_id: [sentences]}`` JSON of a corpus's annotations; returns
    the number of clips."""
    texts = {}
    for shard_file in sorted(Path(root).glob(f"shard_*/{ANNOTATIONS_NAME}")):
        texts |= {clip_id: row["texts"] for clip_id, row in read_shard_annotations(shard_file).items()}
    atomic_write(Path(path), json.dumps(dict(sorted(texts.items())), indent=1).encode())
    return len(texts)


__all__ = [
    "ANNOTATIONS_NAME", "ClipImageRanker", "FaceReading", "Ranker", "ReferenceRanker", "annotate_clip",
    "annotate_corpus", "au_level", "clip_frames", "encode_images", "export_annotations", "make_ranker",
    "read_action_units", "reference_description", "render_frames", "select_diverse",
]  # fmt: skip
