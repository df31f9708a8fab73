import numpy as np
import pytest

from s2t.style_a.art import resolve_art
from s2t.style_a.art_presets import load_art_preset
from s2t.style_a.cpu_renderer import CpuRenderer, CpuStyleA
from s2t.style_a.photo import head_crop
from s2t.style_a.raster import rasterize
from s2t.style_a.stylizer import Stylizer


@pytest.fixture(scope="module")
def renderer(rig, photo):
    return CpuRenderer(rig, photo)


def _weights(rig, **values):
    w = np.zeros(rig.num_expressions)
    for name, value in values.items():
        w[rig.expression_index(name)] = value
    return w


def _face_mask(photo, margin=1.25):
    """Pixels within ``margin`` face widths of the landmarks' centre (the face and its surroundings)."""
    pts = photo.landmarks
    centre, width = pts.mean(0), np.ptp(pts[:, 0])
    ys, xs = np.mgrid[0 : photo.size, 0 : photo.size]
    return np.hypot(xs - centre[0], ys - centre[1]) < margin * width


def test_rasterizer_keeps_the_nearest_triangle():
    xy = np.array([[10, 10], [90, 10], [10, 90], [30, 30], [60, 30], [30, 60.0]])
    tris = np.array([[0, 2, 1], [3, 5, 4]])  # both front-facing (clockwise in image space)
    near = rasterize(xy, np.array([0, 0, 0, 1, 1, 1.0]), tris, 100, 100)
    assert near.triangle[40, 40] == 1 and near.triangle[15, 15] == 0 and near.triangle[5, 5] == -1
    far = rasterize(xy, np.array([1, 1, 1, 0, 0, 0.0]), tris, 100, 100)
    assert far.triangle[40, 40] == 0
    np.testing.assert_allclose(near.bary[near.covered].sum(-1), 1.0)
    back = rasterize(xy, np.zeros(6), tris[:, ::-1], 100, 100)  # reversed winding is culled
    assert not back.covered.any()


def test_photo_is_cropped_square_around_the_head(photo):
    assert photo.image.shape == (256, 256, 3) and photo.num_faces == 1
    face = photo.landmarks
    assert 0.25 < np.ptp(face[:, 0]) / 256 < 0.5  # head-and-shoulders framing
    left, top, side = head_crop(np.array([[0, 0], [100, 100]]), 150, 120)
    assert side == 120 and 0 <= left <= 30 and top == 0  # shrunk and shifted to fit a small photo


def test_fitted_expression_and_zero_pose_reproduce_the_photo(renderer, photo):
    frame = renderer.render(photo.fit.expression, np.zeros(6))
    diff = np.abs(frame.astype(float) - photo.image)
    outside = ~_face_mask(photo)
    assert diff[outside].mean() < 0.05  # background, hair and suit untouched (measured: 0.0)
    assert diff.mean() < 0.5  # the face only re-sampled (measured: 0.08)


def test_neutral_expression_changes_only_the_face(rig, renderer, photo):
    frame = renderer.render(np.zeros(rig.num_expressions), np.zeros(6))
    diff = np.abs(frame.astype(float) - photo.image).mean(-1)
    assert diff[~_face_mask(photo)].mean() < 1.5
    assert diff[_face_mask(photo, 0.6)].mean() > diff[~_face_mask(photo)].mean()


def test_jaw_open_darkens_the_mouth(rig, renderer, photo):
    def dark_pixels(frame):
        mouth = photo.landmarks[48:68]
        x0, y0 = (mouth.min(0) - 6).astype(int)
        x1, y1 = (mouth.max(0) + 20).astype(int)
        return (frame[y0:y1, x0:x1].mean(-1) < 70).sum()

    closed = renderer.render(np.zeros(rig.num_expressions), np.zeros(6))
    opened = renderer.render(_weights(rig, jawOpen=0.8), np.zeros(6))
    assert dark_pixels(opened) > dark_pixels(closed) + 30


def test_blink_changes_the_eyes_not_the_mouth(rig, renderer, photo):
    neutral = renderer.render(np.zeros(rig.num_expressions), np.zeros(6)).astype(float)
    blink = renderer.render(_weights(rig, eyeBlinkLeft=1, eyeBlinkRight=1), np.zeros(6)).astype(float)
    eyes = photo.landmarks[36:48]
    mouth = photo.landmarks[48:68]
    box = lambda p: np.s_[int(p[:, 1].min()) - 3 : int(p[:, 1].max()) + 3, int(p[:, 0].min()) - 3 : int(p[:, 0].max()) + 3]  # noqa: E731
    assert np.abs(blink - neutral)[box(eyes)].mean() > 8
    assert np.abs(blink - neutral)[box(mouth)].mean() < 1


def test_head_turn_moves_the_face_smoothly_and_deterministically(renderer, photo):
    a = renderer.render(photo.fit.expression, np.array([0, 0.2, 0, 0, 0, 0]))
    b = renderer.render(photo.fit.expression, np.array([0, 0.21, 0, 0, 0, 0]))
    again = renderer.render(photo.fit.expression, np.array([0, 0.2, 0, 0, 0, 0]))
    np.testing.assert_array_equal(a, again)
    assert np.abs(a.astype(float) - photo.image).mean() > 2  # it moved
    assert np.abs(a.astype(float) - b).mean() < 2.5  # a small step is a small change: no flicker


def test_cpu_style_a_restyles_every_frame_after_the_art(rig, photo):
    """The art's filter is prepared on the still photo and finishes each warped frame."""
    styled = CpuStyleA().prepare(rig, photo, resolve_art("comic", 1.0), photo.size)
    plain = CpuRenderer(rig, photo)
    filter_ = Stylizer(load_art_preset("comic"))
    filter_.prepare(photo.image)
    expression, pose = np.zeros(52), np.array([0, 0.1, 0, 0, 0, 0])
    np.testing.assert_array_equal(styled.render(expression, pose), filter_(plain.render(expression, pose)))


@pytest.mark.parametrize("art", [resolve_art(None), resolve_art("none"), resolve_art("comic", 0.0),
                                 resolve_art("no-such-style", 0)])
def test_cpu_style_a_draws_the_plain_photo_without_art_or_at_strength_zero(rig, photo, renderer, art):
    drawn = CpuStyleA().prepare(rig, photo, art, photo.size)
    assert drawn.stylizer is None
    np.testing.assert_array_equal(drawn.render(np.zeros(52), np.zeros(6)), renderer.render(np.zeros(52), np.zeros(6)))


def test_cpu_style_a_refuses_names_that_are_no_preset_and_a_photo_of_another_size(rig, photo):
    with pytest.raises(ValueError, match="'baroque' is neither a picture file nor a preset; presets: .*comic"):
        CpuStyleA().check(resolve_art("baroque"))
    with pytest.raises(ValueError, match="prepared at"):
        CpuStyleA().prepare(rig, photo, resolve_art(None), photo.size * 2)
