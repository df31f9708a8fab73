"""Style-A training data: per clip, an identity frame, stylised target frames and coefficients.

The paper's targets are VToonify's stylisations of MEAD / HDTF videos (``VToonify(y, Is)``).
We cannot ship those, so a dataset folder is built from one of two sources:

- :func:`build_from_videos`: a video corpus made by ``s2t.data.adapters.build_video_corpus``
  (its fitted coefficients) plus a folder of *your* stylised versions of the same videos
  (VToonify's output, or any stylisation that keeps the framing), at the same relative paths:
  ``<styled>/<source path>`` as a video (any suffix of ``VIDEO_SUFFIXES``), or
  ``<styled>/<source path without suffix>/`` holding one PNG/JPEG per frame at 25 fps;
- :func:`build_from_cpu_renderer` (smoke runs): one photo driven by coefficient sequences
  through the CPU renderer with an art preset; the targets are the CPU renderer's frames.

Layout::

    <dataset>/dataset.json   {"format", "version", "size", "model_id", "channel_names",
                              "clips": [names], "art": "art.png" or null, "source"}
    <dataset>/art.png        a picture of the art style (the pSp encoder reads it), optional
    <dataset>/<clip>/identity.png         the identity frame I, size x size
    <dataset>/<clip>/coeffs.npz           CoeffSequence; pose relative to the identity frame
    <dataset>/<clip>/frames/000000.png    stylised target frame t, size x size

The pose is stored relative to the identity frame, as renderers receive it (a zero pose
keeps the photo's framing). Frames are square crops around the head, ``head_crop`` of the
identity frame's landmarks, the framing ``s2t.style_a.photo.prepare_photo`` gives photos.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from s2t.face import CoeffSequence, FaceModel
from s2t.face.pose import angles_from_matrix, rotation_matrix

FORMAT = "s2t-style-a-data"
VERSION = 1
MANIFEST = "dataset.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def relative_pose(pose: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Poses (T, 6) relative to ``reference`` (6,): rotation ``R_t R_ref^T``, translation ``t_t - t_ref``
    (how the renderers apply a pose on top of the photo's)."""
    rotation = rotation_matrix(pose[:, :3]) @ rotation_matrix(reference[:3]).T
    return np.concatenate([angles_from_matrix(rotation), pose[:, 3:] - reference[3:]], axis=1)


def _write_png(path: Path, image: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def read_rgb(path: Path, size: int | None = None) -> np.ndarray:
    """An RGB uint8 image, resized (area / cubic) to ``size`` x ``size`` when given."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if size is not None and image.shape[:2] != (size, size):
        shrink = image.shape[0] > size
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    return image


@dataclass(frozen=True)
class StyleAClip:
    """One clip of a dataset: ``coefficients`` (T, K + 6) float32 and the paths of its images."""

    name: str
    identity_path: Path
    frame_paths: tuple[Path, ...]
    coefficients: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.frame_paths)


class StyleADataset:
    """A dataset folder (see the module docstring), read lazily: images load when asked for."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        path = self.root / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: not a Style-A dataset (build one with `s2t train style-a "
                                    "--photo ...` or `--corpus ... --styled ...`)")
        manifest = json.loads(path.read_text())
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise ValueError(f"{path} is not a {FORMAT} version {VERSION} manifest")
        self.manifest = manifest
        self.size: int = manifest["size"]
        self.model_id: str = manifest["model_id"]
        self.channel_names: tuple[str, ...] = tuple(manifest["channel_names"])
        self.art_path = self.root / manifest["art"] if manifest.get("art") else None
        self.clips = [self._clip(name) for name in manifest["clips"]]
        if not self.clips:
            raise ValueError(f"{self.root} has no clips")

    def _clip(self, name: str) -> StyleAClip:
        folder = self.root / name
        seq = CoeffSequence.load(folder / "coeffs.npz")
        frames = tuple(sorted(p for p in (folder / "frames").iterdir() if p.suffix in IMAGE_SUFFIXES))
        if len(frames) != seq.num_frames:
            raise ValueError(f"{folder} has {len(frames)} frames but {seq.num_frames} coefficient rows")
        coefficients = np.concatenate([seq.expression, seq.pose], axis=1).astype(np.float32)
        return StyleAClip(name, folder / "identity.png", frames, coefficients)

    def __len__(self) -> int:
        return len(self.clips)

    def identity(self, clip: int, size: int | None = None) -> np.ndarray:
        return read_rgb(self.clips[clip].identity_path, size or self.size)

    def target(self, clip: int, frame: int, size: int | None = None) -> np.ndarray:
        return read_rgb(self.clips[clip].frame_paths[frame], size or self.size)


def write_dataset(out: str | Path, clips: Iterable[tuple[np.ndarray, CoeffSequence, Iterable[np.ndarray]]],
                  size: int, source: str, art: np.ndarray | None = None) -> StyleADataset:
    """Write a dataset from ``(identity, coefficients, target frames)`` per clip (images RGB uint8
    at ``size``; pose relative to the identity frame)."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    names, model_id, channel_names = [], None, None
    for k, (identity, seq, frames) in enumerate(clips):
        name = f"clip{k:05d}"
        folder = root / name
        (folder / "frames").mkdir(parents=True, exist_ok=True)
        _write_png(folder / "identity.png", identity)
        count = 0
        for t, frame in enumerate(frames):
            _write_png(folder / "frames" / f"{t:06d}.png", frame)
            count += 1
        seq.slice(0, count).save(folder / "coeffs.npz")  # a stylised video may end early
        names.append(name)
        model_id, channel_names = seq.model_id, list(seq.channel_names)
    if art is not None:
        _write_png(root / "art.png", art)
    manifest = {"format": FORMAT, "version": VERSION, "size": size, "model_id": model_id,
                "channel_names": channel_names, "clips": names, "art": "art.png" if art is not None else None,
                "source": source}  # fmt: skip
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return StyleADataset(root)


def build_from_cpu_renderer(out: str | Path, model: FaceModel, photo: str | Path | np.ndarray,
                            sequences: Sequence[CoeffSequence], art_preset: str = "cel", size: int = 256,
                            strength: float = 1.0) -> StyleADataset:
    """Smoke-run data: ``photo`` driven by each sequence through the CPU renderer in ``art_preset``.

    The art picture is the stylised still photo (what the CPU stylisation makes of it).
    """
    from s2t.style_a.art_presets import load_art_preset
    from s2t.style_a.cpu_renderer import CpuRenderer
    from s2t.style_a.photo import prepare_photo
    from s2t.style_a.stylizer import Stylizer

    prepared = prepare_photo(model, photo, size)
    renderer = CpuRenderer(model, prepared, Stylizer(load_art_preset(art_preset), strength))
    art = renderer.stylizer(prepared.image)
    clips = ((prepared.image, seq, renderer.frames(seq)) for seq in sequences)
    return write_dataset(out, clips, size, f"CPU renderer, art preset {art_preset!r}", art)


def _styled_frames(styled: Path, source: str) -> Iterable[np.ndarray] | None:
    """The stylised frames for corpus source path ``source``: a video or a folder of images."""
    from s2t.data.adapters import VIDEO_SUFFIXES
    from s2t.video import read_frames

    stem = styled / Path(source).with_suffix("")
    for suffix in VIDEO_SUFFIXES:
        if stem.with_suffix(suffix).is_file():
            return read_frames(stem.with_suffix(suffix), max_side=4096)
    if stem.is_dir():
        return (read_rgb(p) for p in sorted(stem.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES)
    return None


def _crop(image: np.ndarray, box: tuple[float, float, float], size: int) -> np.ndarray:
    """The square ``box`` (left, top, side as fractions of the width / height) resized to ``size``."""
    height, width = image.shape[:2]
    left, top, side = box[0] * width, box[1] * height, box[2] * width
    scale = size / side
    affine = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]])
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(image, affine, (size, size), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _video_clip(source_video: Path, styled: Iterable[np.ndarray], seq: CoeffSequence, size: int):
    """(identity, relative coefficients, cropped target frames) of one corpus clip."""
    from s2t.face.detect import detect_landmarks
    from s2t.style_a.photo import head_crop
    from s2t.video import read_frames

    first = next(iter(read_frames(source_video, max_side=4096)))
    height, width = first.shape[:2]
    left, top, side = head_crop(detect_landmarks(first).points, width, height)
    box = (left / width, top / height, side / width)
    relative = CoeffSequence(seq.model_id, seq.fps, seq.channel_names, seq.expression,
                             relative_pose(seq.pose, seq.pose[0]), seq.metadata)
    frames = (_crop(frame, box, size) for frame, _ in zip(styled, range(seq.num_frames)))
    return _crop(first, box, size), relative, frames


def build_from_videos(out: str | Path, corpus_root: str | Path, styled: str | Path, size: int = 1024,
                      max_clips: int | None = None) -> StyleADataset:
    """A dataset from a video corpus and your stylised copies of its videos (see the module docstring).

    Clips without a stylised copy are left out; ``FileNotFoundError`` if none has one.
    """
    from s2t.data import corpus

    root, styled = Path(corpus_root), Path(styled)
    manifest = corpus.read_manifest(root)
    if manifest is None or "source_root" not in manifest:
        raise FileNotFoundError(f"{root} is not a video corpus (build one with s2t.data.adapters.build_video_corpus)")
    source_root = Path(manifest["source_root"])
    records = [r for r in corpus.read_index(root) if _styled_frames(styled, r["source"]) is not None]
    if not records:
        raise FileNotFoundError(f"none of the corpus videos has a stylised copy under {styled} (expected "
                                "<styled>/<source path> as a video, or a folder of frames named like the video)")
    records = records[:max_clips] if max_clips else records
    clips = (_video_clip(source_root / r["source"], _styled_frames(styled, r["source"]),
                         CoeffSequence.load(root / r["shard"] / f"{r['clip_id']}.npz"), size) for r in records)
    return write_dataset(out, clips, size, f"video corpus {root} stylised in {styled}")


def build_dataset(folder: str | Path, size: int, *, data: str | Path | None = None,
                  photo: str | Path | None = None, sequences: Sequence[CoeffSequence] = (),
                  art_preset: str = "cel", corpus: str | Path | None = None,
                  styled: str | Path | None = None) -> StyleADataset:
    """The training data, one way: an existing dataset ``data``; a smoke-run set from ``photo``
    (driven by ``sequences``, or by the sample performance in four emotions when none are
    given); or a video ``corpus`` with its ``styled`` copies. Built into ``folder`` at ``size``
    px, or reused from there when an earlier run built it."""
    if data is not None:
        return StyleADataset(data)
    if (Path(folder) / MANIFEST).is_file():
        return StyleADataset(folder)
    if corpus is not None:
        return build_from_videos(folder, corpus, styled, size)
    from s2t.data.samples import perform_sample
    from s2t.face import load_face_model

    model = load_face_model()
    sequences = list(sequences) or [perform_sample(model, emotion, 2, seed=k)
                                    for k, emotion in enumerate(("happy", "angry", "surprised", "sad"))]
    return build_from_cpu_renderer(folder, model, photo, sequences, art_preset, size)
