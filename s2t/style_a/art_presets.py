"""The art presets shipped with the package (``s2t/assets/art_presets``): each is a picture
``<name>.png`` and its stored analysis ``<name>.artstyle.npz`` (both made by
``tools/art_presets/make_presets.py`` and ``make_paintings.py``).

They are package data, so a wheel or a plain ``pip install .`` has them too.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from s2t.style_a.art_style import ANALYSIS_SIDE, ArtStyle, resize_long_side

PRESET_DIR = Path(__file__).resolve().parent.parent / "assets" / "art_presets"


def list_art_presets() -> list[str]:
    """Names of the shipped art presets."""
    return sorted(p.stem for p in _preset_dir().glob("*.png"))


def load_art_preset(name: str) -> ArtStyle:
    """The analysed style of a shipped art picture (the stored analysis when current,
    otherwise the picture analysed now). Unknown names raise KeyError."""
    known = list_art_presets()
    if name not in known:
        raise KeyError(f"unknown art preset {name!r}; known: {', '.join(known)}")
    return _load_preset(name)


@lru_cache(maxsize=None)
def _load_preset(name: str) -> ArtStyle:
    folder = _preset_dir()
    analysed = folder / f"{name}.artstyle.npz"
    if analysed.is_file():
        try:
            style = ArtStyle.load(analysed)
        except ValueError:
            pass  # an older format: analyse the picture instead
        else:  # the stored analysis has no picture; painting needs it
            with Image.open(folder / f"{name}.png") as image:
                return replace(style, picture=resize_long_side(np.asarray(image.convert("RGB")), ANALYSIS_SIDE))
    return ArtStyle.from_file(folder / f"{name}.png", name)


def _preset_dir() -> Path:
    if not PRESET_DIR.is_dir():
        raise FileNotFoundError(f"art presets folder not found: {PRESET_DIR} "
                                "(package data of s2t; reinstall the package)")
    return PRESET_DIR
