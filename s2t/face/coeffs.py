"""Coefficient sequences: what every talking-head stage produces and the exporters consume.

A :class:`CoeffSequence` is one take: per-frame expression values for the K channels of a
face model plus a per-frame head pose ``(pitch, yaw, roll, tx, ty, tz)`` (see
:mod:`s2t.face.pose`). It saves as ``.npz`` with a JSON header, reads and writes SadTalker's
``.mat`` files; :mod:`s2t.face.export` turns it into an animated mesh (OBJ frames, glTF).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.io

from s2t.audio import FPS
from s2t.face.bfm import BFM_EXPRESSION_NAMES, BFM_MODEL_ID

FORMAT_NAME = "s2t-coeff-sequence"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class CoeffSequence:
    """Expression ``(T, K)`` and pose ``(T, 6)`` of a face model, sampled at ``fps``.

    Frame ``t`` is shown at time ``t / fps``. ``metadata`` is stored as JSON; it is
    normalised through JSON on construction (tuples become lists, the dict is copied), so a
    sequence equals what :meth:`load` gives back after :meth:`save`.
    """

    model_id: str
    fps: float
    channel_names: tuple[str, ...]
    expression: np.ndarray
    pose: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model_id, str) or not self.model_id:
            raise ValueError(f"model_id must be a non-empty string, got {self.model_id!r}")
        fps = float(self.fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {self.fps!r}")
        names = tuple(self.channel_names)
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ValueError(f"channel_names must be unique strings, got {names}")
        expression = np.asarray(self.expression, dtype=np.float32)
        pose = np.asarray(self.pose, dtype=np.float32)
        if expression.ndim != 2 or expression.shape[1] != len(names):
            raise ValueError(f"expression must be (T, K={len(names)}), got {expression.shape}")
        if len(expression) < 1:
            raise ValueError("a coefficient sequence needs at least one frame")
        if pose.shape != (len(expression), 6):
            raise ValueError(f"pose must be (T={len(expression)}, 6), got {pose.shape}")
        if not (np.isfinite(expression).all() and np.isfinite(pose).all()):
            raise ValueError("expression and pose must be finite (found NaN or inf)")
        try:
            metadata = json.loads(json.dumps(self.metadata, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"metadata must be JSON-serialisable: {exc}") from exc
        if not isinstance(metadata, dict):
            raise ValueError(f"metadata must be a dict, got {type(self.metadata).__name__}")
        for name, value in [("fps", fps), ("channel_names", names), ("expression", expression),
                            ("pose", pose), ("metadata", metadata)]:
            object.__setattr__(self, name, value)

    @property
    def num_frames(self) -> int:
        return len(self.expression)

    @property
    def duration(self) -> float:
        """Length in seconds: each frame lasts ``1 / fps``."""
        return self.num_frames / self.fps

    def channel(self, name: str) -> np.ndarray:
        """The ``(T,)`` values of one expression channel."""
        try:
            return self.expression[:, self.channel_names.index(name)]
        except ValueError:
            raise KeyError(f"no channel {name!r}; the channels are {list(self.channel_names)}") from None

    def _replace(self, fps: float, expression: np.ndarray, pose: np.ndarray) -> "CoeffSequence":
        return CoeffSequence(self.model_id, fps, self.channel_names, expression, pose, self.metadata)

    # -- editing -----------------------------------------------------------------------

    def resample(self, fps: float) -> "CoeffSequence":
        """The same take at another frame rate, keeping the duration (to the nearest frame).

        Every column, angles included, is interpolated linearly between neighbouring
        frames; the last frame is held past the end. Linear interpolation of Euler angles is
        not a geodesic, but head angles are small (well under 45 degrees), where the two
        differ by far less than tracking noise. Angles are unwrapped first so a jump across
        ±pi is not interpolated the long way round.
        """
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        count = max(1, round(self.num_frames * fps / self.fps))
        position = np.minimum(np.arange(count) * (self.fps / fps), self.num_frames - 1)
        lower = np.floor(position).astype(np.int64)
        upper = np.minimum(lower + 1, self.num_frames - 1)
        weight = (position - lower)[:, None]

        def interpolate(values: np.ndarray) -> np.ndarray:
            values = values.astype(np.float64)
            return values[lower] * (1.0 - weight) + values[upper] * weight

        pose = self.pose.astype(np.float64)
        pose[:, :3] = np.unwrap(pose[:, :3], axis=0)
        return self._replace(fps, interpolate(self.expression), interpolate(pose))

    def slice(self, start: int, stop: int | None = None) -> "CoeffSequence":
        """Frames ``start`` to ``stop`` (exclusive), with Python's slicing rules."""
        frames = np.arange(self.num_frames)[start:stop]
        if len(frames) == 0:
            raise ValueError(f"slice [{start}:{stop}] of a {self.num_frames}-frame sequence is empty")
        return self._replace(self.fps, self.expression[frames], self.pose[frames])

    @classmethod
    def concat(cls, sequences: Sequence["CoeffSequence"]) -> "CoeffSequence":
        """Sequences one after another; they must share model, fps and channels.

        The result keeps the metadata of the first sequence.
        """
        if not sequences:
            raise ValueError("concat needs at least one sequence")
        first = sequences[0]
        for seq in sequences[1:]:
            if (seq.model_id, seq.fps, seq.channel_names) != (first.model_id, first.fps, first.channel_names):
                raise ValueError(
                    f"cannot concatenate {seq.model_id!r} at {seq.fps} fps onto {first.model_id!r} at "
                    f"{first.fps} fps: model, fps and channel names must all match"
                )
        return first._replace(
            first.fps,
            np.concatenate([s.expression for s in sequences]),
            np.concatenate([s.pose for s in sequences]),
        )

    # -- our file format -----------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write to exactly ``path`` as ``.npz`` + JSON header, atomically."""
        from s2t.checkpoint import atomic_write

        header = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "model_id": self.model_id,
            "fps": self.fps,
            "channel_names": list(self.channel_names),
            "metadata": self.metadata,
        }
        atomic_write(
            path,
            lambda f: np.savez_compressed(
                f,
                header=np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8),
                expression=self.expression,
                pose=self.pose,
            ),
        )

    @classmethod
    def load(cls, path: str | Path) -> "CoeffSequence":
        """Inverse of :meth:`save`; a file that is not one of ours raises ``ValueError``."""
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an .npz archive")
            with data:
                if "header" not in data.files:
                    raise ValueError(f"it has no header (arrays: {data.files})")
                header = json.loads(bytes(data["header"]).decode("utf-8"))
                arrays = {k: data[k] for k in ("expression", "pose") if k in data.files}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not a readable coefficient sequence file: {exc}") from exc

        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise ValueError(f"{path} is not a coefficient sequence file (format is not {FORMAT_NAME!r})")
        version = header.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValueError(
                f"{path} has format version {version!r}; this version of s2t reads up to "
                f"{FORMAT_VERSION}. Update s2t to read it."
            )
        try:
            return cls(
                model_id=header["model_id"],
                fps=header["fps"],
                channel_names=tuple(header["channel_names"]),
                expression=arrays["expression"],
                pose=arrays["pose"],
                metadata=header["metadata"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} is a damaged coefficient sequence file: {exc!r}") from exc

    # -- SadTalker -----------------------------------------------------------------------

    @classmethod
    def from_sadtalker_mat(cls, path: str | Path, fps: float = FPS) -> "CoeffSequence":
        """Read SadTalker's ``coeff_3dmm``: ``(T, 70)``, or ``(T, 73)`` whose 3 crop columns are ignored."""
        try:
            contents = scipy.io.loadmat(path)
        except FileNotFoundError:
            raise
        except (OSError, ValueError, TypeError, NotImplementedError, scipy.io.matlab.MatReadError) as exc:
            raise ValueError(f"{path} is not a readable MATLAB file: {exc}") from exc
        if "coeff_3dmm" not in contents:
            keys = sorted(k for k in contents if not k.startswith("__"))
            raise ValueError(f"{path} has no 'coeff_3dmm' array; it holds {keys}")
        coeffs = np.asarray(contents["coeff_3dmm"])
        if coeffs.ndim != 2 or coeffs.shape[1] not in (70, 73) or not np.issubdtype(coeffs.dtype, np.number):
            raise ValueError(
                f"{path}: 'coeff_3dmm' must be numeric (T, 70) (64 expression + 3 angles + 3 translations) "
                f"or (T, 73) (plus 3 crop parameters), got {coeffs.dtype} {coeffs.shape}"
            )
        return cls(
            model_id=BFM_MODEL_ID,
            fps=fps,
            channel_names=BFM_EXPRESSION_NAMES,
            expression=coeffs[:, :64],
            pose=coeffs[:, 64:70],
            metadata={"source": str(path), "source_format": "sadtalker-mat"},
        )

    def to_sadtalker_mat(self, path: str | Path) -> None:
        """Write ``{'coeff_3dmm': (T, 70)}`` as SadTalker's renderer reads it (atomically)."""
        if self.model_id != BFM_MODEL_ID or self.channel_names != BFM_EXPRESSION_NAMES:
            raise ValueError(
                f"only {BFM_MODEL_ID!r} sequences with channels exp00..exp63 can be written for "
                f"SadTalker; this one is {self.model_id!r} with {len(self.channel_names)} channels "
                "(project it onto the Basel model first)"
            )
        coeffs = np.concatenate([self.expression, self.pose], axis=1)
        _atomic_write(path, lambda f: scipy.io.savemat(f, {"coeff_3dmm": coeffs}))


def _atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write`` on a temporary file beside ``path``, then move it into place.

    An interrupted write leaves ``path`` as it was and removes the temporary file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; give it an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
