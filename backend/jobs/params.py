"""Checks of a request's parameters and buffers, shared by the job kinds (each raises :class:`JobError`)."""

from __future__ import annotations

from backend.jobs.base import JobError
from backend.protocol import BAD_INPUT


def disk_size(nbytes: float) -> str:
    """``"36 MiB"``, ``"1.5 GiB"``: a size for a person."""
    return f"{nbytes / 2**30:.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


def int_param(params: dict, key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    if type(value) is not int or not low <= value <= high:
        raise JobError(BAD_INPUT, f"{key} must be an integer from {low} to {high}, got {value!r}")
    return value


def choice_param(params: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = params.get(key, default)
    if value not in choices:
        raise JobError(BAD_INPUT, f"{key} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_image_buffer(buffers: dict, name: str, required: bool) -> None:
    value = buffers.get(name)
    if value is None and not required:
        return
    if not isinstance(value, bytes) or not value:
        raise JobError(BAD_INPUT, f"the {name!r} buffer must hold the bytes of an image file (PNG, JPEG, ...)")
