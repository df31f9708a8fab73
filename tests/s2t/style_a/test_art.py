import numpy as np
import pytest
from PIL import Image

from s2t.face.detect import FaceImageError
from s2t.style_a.art import ART_STRENGTH_RANGE, check_art_strength, resolve_art


def test_none_and_the_word_none_are_no_art():
    for given in (None, "none"):
        art = resolve_art(given, 0.5)
        assert art.is_none and art.preset is None and art.strength == 0.5


def test_a_preset_name_is_a_preset_even_beside_a_file_of_that_name(tmp_path, monkeypatch):
    Image.new("RGB", (32, 32), (200, 20, 20)).save(tmp_path / "comic", format="PNG")
    monkeypatch.chdir(tmp_path)
    art = resolve_art("comic")
    assert art.preset == "comic" and art.picture is None and not art.is_none


def test_a_picture_file_or_array_is_loaded_as_rgb(tmp_path):
    Image.new("RGBA", (40, 30), (10, 20, 30, 255)).save(tmp_path / "art.png")
    from_file = resolve_art(tmp_path / "art.png", 0.25)
    assert from_file.picture.shape == (30, 40, 3) and from_file.picture.dtype == np.uint8
    assert from_file.name is None and from_file.strength == 0.25
    grey = resolve_art(np.full((20, 20), 128, np.uint8))
    assert grey.picture.shape == (20, 20, 3) and (grey.picture == 128).all()


def test_other_names_are_kept_for_a_neural_style_a_to_look_up():
    art = resolve_art("van-gogh")
    assert art.name == "van-gogh" and art.preset is None and art.picture is None and not art.is_none


def test_an_unreadable_picture_is_refused(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(FaceImageError):
        resolve_art(tmp_path / "broken.png")


@pytest.mark.parametrize("bad", [-0.01, 1.5, float("nan"), "0.5", True, None])
def test_strengths_outside_the_one_range_are_refused(bad):
    with pytest.raises(ValueError, match=r"art strength must be a number from 0 to 1, got "):
        resolve_art("comic", bad)
    with pytest.raises(ValueError, match=r"^--art-strength must be a number from 0 to 1"):
        check_art_strength(bad, "--art-strength")


def test_the_range_ends_are_accepted():
    low, high = ART_STRENGTH_RANGE
    assert (low, high) == (0.0, 1.0)
    assert check_art_strength(low) == 0.0 and check_art_strength(1) == 1.0 and type(check_art_strength(1)) is float
