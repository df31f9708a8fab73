import cv2
import numpy as np
import pytest
from skimage import data

from s2t.style_a.art_presets import list_art_presets, load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.palette import ColourLUT, kmeans_palette, lab_to_rgb, rgb_to_lab, soft_bands, tone_curve
from s2t.style_a.stylizer import Stylizer


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def blue_art() -> np.ndarray:
    """A flat picture: a blue field with a dark blue disc and a pale stripe."""
    art = np.zeros((128, 128, 3), np.uint8)
    art[:] = (40, 80, 200)
    cv2.circle(art, (64, 64), 30, (10, 20, 90), -1)
    art[100:110] = (200, 220, 255)
    return art


def lab_mean(image: np.ndarray) -> np.ndarray:
    return rgb_to_lab(image).reshape(-1, 3).mean(0)


def test_strength_zero_returns_the_frame_bit_for_bit(photo):
    out = Stylizer(load_art_preset("comic"), strength=0.0)(photo)
    assert out is not photo
    np.testing.assert_array_equal(out, photo)


@pytest.mark.slow
def test_strength_one_changes_the_frame_and_half_lies_between(photo):
    style = load_art_preset("cel")
    full, half = Stylizer(style, 1.0), Stylizer(style, 0.5)
    full_out, half_out = full(photo), half(photo)
    change = np.abs(full_out.astype(int) - photo).mean()
    assert change > 10
    assert 0.35 * change < np.abs(half_out.astype(int) - photo).mean() < 0.65 * change


@pytest.mark.parametrize("shape", [(37, 53, 3), (2, 2, 3), (700, 900, 3)])
def test_output_shape_and_dtype(shape):
    frame = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = Stylizer(load_art_preset("oil"))(frame)
    assert out.shape == shape and out.dtype == np.uint8


def test_palette_of_three_flat_colours_is_recovered():
    colours = np.array([(220, 30, 40), (20, 160, 60), (250, 240, 200)], np.uint8)
    picture = np.repeat(colours, [3000, 2000, 1000], axis=0).reshape(60, 100, 3)
    palette, weights = kmeans_palette(rgb_to_lab(picture).reshape(-1, 3), 8)
    expected = rgb_to_lab(colours)
    assert len(palette) == 3
    order = np.argsort(expected[:, 0])
    np.testing.assert_allclose(palette, expected[order], atol=0.5)
    np.testing.assert_allclose(weights, np.array([0.5, 1 / 3, 1 / 6])[order], atol=1e-3)


def test_colour_lut_matches_the_function_it_tabulates(photo):
    def function(rgb):
        return lab_to_rgb(rgb_to_lab(rgb) * np.array([1.0, 0.5, 1.3], np.float32))

    exact = function(photo.astype(np.float32) / 255)
    error = np.abs(ColourLUT(function)(photo) - exact)
    assert np.percentile(error, 99.9) < 3 / 255 and error.mean() < 0.3 / 255  # larger only at gamut-clipping kinks
    np.testing.assert_allclose(ColourLUT(lambda rgb: rgb)(photo), photo / 255.0, atol=0.2 / 255)  # remap: 1/32 cell


def test_soft_bands_are_smooth_monotone_plateaus():
    lightness = np.linspace(0, 100, 1001, dtype=np.float32)
    banded = soft_bands(lightness, np.array([20.0, 50.0, 80.0]), width=1.5)
    assert np.all(np.diff(banded) >= 0)
    assert np.abs(np.interp([20, 50, 80], lightness, banded) - [20, 50, 80]).max() < 0.1
    assert np.diff(banded).max() < 30 / (4 * 1.5) * 0.1 + 1e-3  # steepest step: (gap / 4 width) per 0.1 L


def test_tone_curve_matches_distributions_with_bounded_slope():
    probabilities = np.linspace(0, 1, 65)
    dark, light = 10 + 40 * probabilities, 60 + 30 * probabilities  # uniform on [10, 50] -> [60, 90]
    curve = tone_curve(dark, light)
    np.testing.assert_allclose(curve(np.array([10.0, 30.0, 50.0])), [60, 75, 90], atol=1.0)
    steep = tone_curve(dark, 45 + 10 * np.round(probabilities))  # a two-level target would be a hard step
    assert np.diff(steep(np.linspace(0, 100, 401))).max() <= 2.5 * 0.25 + 1e-6


@pytest.mark.slow
def test_colour_transfer_moves_the_mean_colour_toward_the_art(photo, blue_art):
    style = ArtStyle.from_picture(blue_art)
    out = Stylizer(style, line_work=False, texture=False)(photo)
    before = np.linalg.norm(lab_mean(photo) - style.lab_mean)
    after = np.linalg.norm(lab_mean(out) - style.lab_mean)
    assert after < 0.6 * before
    assert lab_mean(out)[2] < lab_mean(photo)[2] - 10  # bluer (b* down)


def test_grey_art_gives_grey_frames(photo):
    out = Stylizer(load_art_preset("noir"))(photo)
    chroma = np.hypot(*rgb_to_lab(out)[..., 1:].transpose(2, 0, 1))
    assert chroma.mean() < 3


def test_deterministic(photo):
    style = load_art_preset("watercolour")
    first, second = Stylizer(style), Stylizer(style)
    out = first(photo)
    np.testing.assert_array_equal(out, first(photo))
    np.testing.assert_array_equal(out, second(photo))


def test_colour_mapping_is_fixed_by_the_reference_frame(photo):
    style = load_art_preset("pastel")
    prepared = Stylizer(style)
    prepared.prepare(photo)
    automatic = Stylizer(style)
    np.testing.assert_array_equal(automatic(photo), prepared(photo))  # the first frame is the reference
    other = np.ascontiguousarray(photo[::-1])
    before = automatic(other)
    automatic(np.full_like(photo, 30))
    np.testing.assert_array_equal(automatic(other), before)


@pytest.mark.parametrize("name", ["cel", "comic", "oil"])
def test_a_one_pixel_shift_shifts_the_output(photo, name):
    """Everything but the screen-fixed texture commutes with translation."""
    stylizer = Stylizer(load_art_preset(name), texture=False)
    stylizer.prepare(photo)
    out = stylizer(photo).astype(np.float32)
    shifted = stylizer(np.roll(photo, 1, axis=1)).astype(np.float32)
    assert np.abs(np.roll(out, 1, axis=1) - shifted)[:, 12:-12].mean() < 0.5


@pytest.mark.parametrize("name", list_art_presets())
def test_small_motion_changes_the_output_little(photo, name):
    """A face region moved by up to one pixel (subpixel, smooth): the output changes by no
    more than the input does, up to a small factor (no flicker, no bands or lines popping)."""
    h, w = photo.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    bump = np.exp(-((x - 125) ** 2 + (y - 75) ** 2) / (2 * 20.0**2)).astype(np.float32)
    moved = cv2.remap(photo, x - bump, y - 0.5 * bump, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    stylizer = Stylizer(load_art_preset(name))
    stylizer.prepare(photo)
    input_change = np.abs(moved.astype(np.float32) - photo).mean()
    output_change = np.abs(stylizer(moved).astype(np.float32) - stylizer(photo)).mean()
    assert output_change < 2.0 * input_change


@pytest.mark.slow
def test_save_and_load_round_trip(tmp_path, blue_art):
    style = ArtStyle.from_picture(blue_art, "blue")
    style.save(tmp_path / "blue.npz")
    loaded = ArtStyle.load(tmp_path / "blue.npz")
    assert loaded.name == "blue" and loaded.flatness == style.flatness
    np.testing.assert_array_equal(loaded.palette, style.palette)
    np.testing.assert_allclose(loaded.texture, style.texture, atol=1e-2)
    np.testing.assert_array_equal(Stylizer(loaded)(blue_art), Stylizer(style)(blue_art))


@pytest.mark.slow
def test_grey_and_transparent_art_pictures_are_accepted(blue_art):
    grey = ArtStyle.from_picture(cv2.cvtColor(blue_art, cv2.COLOR_RGB2GRAY))
    assert np.abs(grey.palette[:, 1:]).max() < 1.0
    assert ArtStyle.from_picture(blue_art[..., :1]).palette.shape[1] == 3
    clear = np.dstack([blue_art, np.zeros(blue_art.shape[:2], np.uint8)])  # fully transparent: white
    assert ArtStyle.from_picture(clear).lab_mean[0] == pytest.approx(100, abs=0.5)


def test_bad_art_pictures_are_refused(blue_art, tmp_path):
    with pytest.raises(ValueError, match="at least 16 px"):
        ArtStyle.from_picture(blue_art[:8, :40])
    with pytest.raises(TypeError, match="uint8"):
        ArtStyle.from_picture(blue_art.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        ArtStyle.from_picture(np.zeros((32, 32, 2), np.uint8))
    with pytest.raises(FileNotFoundError):
        ArtStyle.from_file(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    with pytest.raises(ValueError, match="cannot read"):
        ArtStyle.from_file(tmp_path / "broken.png")


def test_bad_frames_and_strengths_are_refused(photo):
    stylizer = Stylizer(load_art_preset("cel"))
    with pytest.raises(ValueError, match="RGB uint8"):
        stylizer(photo[..., 0])
    with pytest.raises(ValueError, match="RGB uint8"):
        stylizer(photo.astype(np.float32))
    with pytest.raises(ValueError, match="strength"):
        Stylizer(load_art_preset("cel"), 1.5)


def test_line_work_follows_the_art_unless_forced(photo):
    assert Stylizer(load_art_preset("comic")).line_work
    assert not Stylizer(load_art_preset("pastel")).line_work
    plain = Stylizer(load_art_preset("pastel"))(photo)
    inked = Stylizer(load_art_preset("pastel"), line_work=True)(photo)
    assert (inked.astype(int).sum(2) < plain.astype(int).sum(2) - 60).mean() > 0.01  # dark strokes appear
