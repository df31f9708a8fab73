"""The art a user asks for, resolved once for every front end.

Users name the art style in several ways: a shipped preset (``comic``), an art picture (a
file path, or an RGB array), ``none``/None (the plain photo, or for the neural Style-A the
style its checkpoint was trained with), or the name of a style in a neural Style-A folder's
``exstyle_code.npy``; and a strength from :data:`ART_STRENGTH_RANGE`. :func:`resolve_art`
turns any of those into one :class:`Art`, which every Style-A implementation
(:class:`s2t.style_a.base.StyleA`) takes. The CLI, the backend's render job, the remote
client and the demo all call it; nothing else decides what an art argument means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from s2t.style_a.art_presets import list_art_presets

ART_STRENGTH_RANGE = (0.0, 1.0)
"""Art strength: 0 renders the photo unchanged, 1 the full style. The one place the limits live
(the Blender add-on's slider, which cannot import s2t, is checked against it by a test)."""


def check_art_strength(strength: object, what: str = "art strength") -> float:
    """``strength`` as a float; ``ValueError`` naming ``what`` when it is not a number in
    :data:`ART_STRENGTH_RANGE`."""
    low, high = ART_STRENGTH_RANGE
    if type(strength) not in (int, float) or not low <= strength <= high:
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}, got {strength!r}")
    return float(strength)


@dataclass(frozen=True, eq=False)
class Art:
    """One art choice, as :func:`resolve_art` made it.

    ``picture`` (RGB uint8) when an art picture was given; else ``name``: a shipped preset
    (:attr:`preset`) or a name only a neural Style-A's ``exstyle_code.npy`` may know; neither
    for no art. ``strength`` is in :data:`ART_STRENGTH_RANGE`.
    """

    name: str | None = None
    picture: np.ndarray | None = None
    strength: float = 1.0

    @property
    def is_none(self) -> bool:
        """No art asked for (the CPU renderer draws the photo; the neural one its trained style)."""
        return self.name is None and self.picture is None

    @property
    def preset(self) -> str | None:
        """The shipped preset this names, or None."""
        return self.name if self.picture is None and self.name in list_art_presets() else None


def resolve_art(art: str | Path | np.ndarray | None, strength: float = 1.0) -> Art:
    """The :class:`Art` for what a user gave: None or ``"none"`` (no art), a preset name, a
    picture file or RGB array (loaded here, ``FaceImageError`` when unreadable), or any other
    name (kept for a neural Style-A to look up; the CPU renderer refuses it). A preset name wins
    over a file of that name. ``ValueError`` for a strength outside :data:`ART_STRENGTH_RANGE`."""
    strength = check_art_strength(strength)
    if art is None or (isinstance(art, str) and art == "none"):
        return Art(strength=strength)
    if isinstance(art, np.ndarray):
        from s2t.face.detect import load_image

        return Art(picture=load_image(art), strength=strength)
    name = str(art)
    if name not in list_art_presets() and Path(name).is_file():
        from s2t.face.detect import load_image

        return Art(picture=load_image(name), strength=strength)
    return Art(name=name, strength=strength)


NO_ART = Art()
