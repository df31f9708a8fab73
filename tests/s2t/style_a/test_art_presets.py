import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from s2t.style_a import art_presets
from s2t.style_a.art_presets import list_art_presets, load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.stylizer import Stylizer


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)


def test_presets_are_package_data():
    """They ship inside the s2t package, so a wheel or a plain ``pip install .`` has them."""
    import s2t

    assert art_presets.PRESET_DIR.parent.parent == Path(s2t.__file__).parent
    assert len(list_art_presets()) >= 10


@pytest.mark.slow
def test_presets_are_listed_and_each_looks_different(photo):
    names = list_art_presets()
    assert {"cel", "comic", "watercolour", "oil", "pastel", "noir"} <= set(names)
    outputs = [Stylizer(load_art_preset(name))(photo).astype(np.float32) for name in names]
    for i in range(len(names)):
        for j in range(i):
            difference = np.abs(outputs[i] - outputs[j]).mean()
            assert difference > 8, f"{names[i]} and {names[j]} look alike ({difference:.1f})"


@pytest.mark.slow
@pytest.mark.parametrize("name", list_art_presets())
def test_shipped_analyses_match_their_pictures(name):
    folder = art_presets.PRESET_DIR
    stored = ArtStyle.load(folder / f"{name}.artstyle.npz")
    fresh = ArtStyle.from_file(folder / f"{name}.png")
    assert stored.name == fresh.name == name
    numeric = [field for field in dataclasses.fields(ArtStyle)[1:] if field.name not in ("method", "picture")]
    for field in numeric:  # rerun tools/art_presets/make_presets.py if this fails
        np.testing.assert_allclose(getattr(stored, field.name), getattr(fresh, field.name), atol=0.01, err_msg=field.name)


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(KeyError, match="known: .*cel"):
        load_art_preset("baroque")


def test_missing_preset_folder_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(art_presets, "PRESET_DIR", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_art_presets()
