"""What every checkpoint and config reader shares: one error type, safe reads, atomic writes.

- :func:`read_torch` wraps ``torch.load`` (``weights_only`` by default, so a file from
  elsewhere cannot run code) and turns a missing, truncated, foreign or refused file into a
  :class:`CheckpointError` that names the file and what is wrong.
- :func:`read_format` checks the ``{"format": ..., "format_version": ...}`` header that our
  own checkpoints (Style-E, Style-A) carry: one key and one rule for every kind, a file is
  read when its version is at most the reader's.
- :func:`atomic_write` / :func:`atomic_save`: write to a temporary file in the same folder,
  fsync, rename, so a crash or a full disk leaves the old file (or none), never half a file.
- :class:`ConfigMixin`: ``to_dict`` / ``from_dict`` for the config dataclasses saved inside
  checkpoints, nested dataclasses included.

Only the standard library at import time; torch is imported by the functions that need it.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import tempfile
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

FORMAT_KEY = "format"
VERSION_KEY = "format_version"
LEGACY_VERSION_KEY = "version"
"""Style-A checkpoints written before the shared header called their version ``version``."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, or does not hold what the reader needs.

    A ``ValueError``, so ``except ValueError`` around any reader keeps working.
    """


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist (also a ``FileNotFoundError``)."""


def read_torch(path: str | Path, kind: str, *, expected: str = "", weights_only: bool = True,
               safe_globals: Iterable[type] = (), refused_hint: str = "") -> Any:
    """``torch.load(path)`` onto the CPU, with every failure a :class:`CheckpointError`.

    ``kind`` names the file in messages ("Style-E", "pSp encoder"); ``expected`` says what
    the file should be and where it comes from (added to "not found" messages).
    ``safe_globals``: further plain classes the weights-only unpickler may rebuild.
    ``refused_hint`` is appended when the unpickler refuses a class (e.g. how to allow it).
    """
    import torch

    path = Path(path)
    if not path.is_file():
        where = f"; expected {expected}" if expected else ""
        raise CheckpointNotFoundError(f"{kind} checkpoint not found: {path}{where}")
    try:
        with torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(path, map_location="cpu", weights_only=weights_only)
    except pickle.UnpicklingError as err:
        refused = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        if refused is None:
            detail = " ".join(str(err).split("WeightsUnpickler error:")[-1].strip().splitlines()[:1])
            raise CheckpointError(f"{path} is not a readable {kind} checkpoint: {detail}") from err
        hint = f". {refused_hint}" if refused_hint else ""
        raise CheckpointError(f"{path} holds a {refused.group(1)} object, not only tensors and plain values, "
                              f"so it was not unpickled{hint}") from err
    except Exception as err:  # truncated or foreign files fail in many ways (EOFError, RuntimeError, ...)
        raise CheckpointError(f"{path} is not a readable {kind} checkpoint (truncated, or not a PyTorch file): "
                              f"{type(err).__name__}: {err}") from err


def format_version(checkpoint: Mapping) -> object:
    """The checkpoint's format version (the legacy ``version`` key when ``format_version`` is absent)."""
    return checkpoint.get(VERSION_KEY, checkpoint.get(LEGACY_VERSION_KEY))


def check_format(checkpoint: object, path: str | Path, kind: str, name: str, version: int,
                 expected: str = "") -> dict:
    """``checkpoint`` if it is a dict of format ``name`` at a version this code reads (<= ``version``)."""
    if not isinstance(checkpoint, dict) or checkpoint.get(FORMAT_KEY) != name:
        what = f"; expected {expected}" if expected else ""
        raise CheckpointError(f"{path} is not a {kind} checkpoint (no format {name!r}){what}")
    found = format_version(checkpoint)
    if not isinstance(found, int) or isinstance(found, bool) or found > version:
        raise CheckpointError(f"{path} has {kind} format version {found!r}; this s2t reads up to {version}. "
                              "Update s2t to read it.")
    return checkpoint


def read_format(path: str | Path, kind: str, name: str, version: int, *, expected: str = "",
                required: Iterable[str] = ()) -> dict:
    """Read one of our checkpoints: :func:`read_torch`, :func:`check_format`, and the ``required`` keys."""
    checkpoint = check_format(read_torch(path, kind, expected=expected), path, kind, name, version, expected)
    for key in required:
        if key not in checkpoint:
            raise CheckpointError(f"{path} is a damaged {kind} checkpoint: it has no {key!r}")
    return checkpoint


def header(name: str, version: int) -> dict:
    """The first entries of one of our checkpoints: ``{"format": name, "format_version": version}``."""
    return {FORMAT_KEY: name, VERSION_KEY: version}


def atomic_write(path: str | Path, data: bytes | Callable[[BinaryIO], None], mode: int | None = 0o644) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically.

    The bytes go to a temporary file beside ``path``, are fsynced, and the file is renamed
    over ``path``; on any failure the temporary file is removed and ``path`` is untouched.
    ``mode``: the file's permissions (None keeps the temporary file's private 0o600).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, (bytes, bytearray, memoryview)):
                f.write(data)
            else:
                data(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_save(obj: object, path: str | Path) -> Path:
    """``torch.save(obj, path)`` through :func:`atomic_write`."""
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f))


Config = TypeVar("Config", bound="ConfigMixin")


class ConfigMixin:
    """``to_dict`` / ``from_dict`` for a (frozen) config dataclass, as saved in checkpoints.

    ``to_dict`` gives plain values (nested configs as dicts, as ``dataclasses.asdict``);
    ``from_dict`` rebuilds nested config dataclasses from their dicts and tuples from lists,
    and rejects unknown keys (a checkpoint from a newer s2t) with a message naming them,
    unless the class sets ``ignore_unknown = True``. ``config_name`` names it in messages.
    """

    config_name = "config"
    ignore_unknown = False

    def to_dict(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[Config], values: Mapping) -> Config:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown and not cls.ignore_unknown:
            raise ValueError(f"unknown {cls.config_name} fields {unknown}; known: {sorted(known)}")
        hints = typing.get_type_hints(cls)
        return cls(**{name: _typed(hints[name], value) for name, value in values.items() if name in known})


def _plain(value: object) -> object:
    if isinstance(value, ConfigMixin):
        return value.to_dict()
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _typed(hint: object, value: object) -> object:
    """``value`` as the field type ``hint`` wants it: a nested config from a dict, a tuple from a list."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,)
    for option in options:
        if isinstance(option, type) and issubclass(option, ConfigMixin) and isinstance(value, Mapping):
            return option.from_dict(value)
        if (option is tuple or typing.get_origin(option) is tuple) and isinstance(value, list):
            return tuple(value)
    return value


_UnionType = type(int | None)

__all__ = [
    "CheckpointError", "CheckpointNotFoundError", "ConfigMixin", "atomic_save", "atomic_write", "check_format",
    "format_version", "header", "read_format", "read_torch",
]  # fmt: skip
