import warnings
from dataclasses import replace

import cv2
import numpy as np
import pytest
from skimage import data

from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.mouth_colours import CAVITY_LAB, GUM_LAB, TEETH_LAB, mouth_colours
from s2t.style_a.photo import prepare_photo


class MaskedRenderer(CpuRenderer):
    """Keeps the last frame's mask of drawn (not photo-sampled) pixels."""

    def _finish(self, frame, synthesized):
        self.synthesized = synthesized
        return super()._finish(frame, synthesized)


@pytest.fixture(scope="module")
def photo512(rig):
    return prepare_photo(rig, data.astronaut(), 512)


def _weights(rig, **values):
    w = np.zeros(rig.num_expressions)
    for name, value in values.items():
        w[rig.expression_index(name)] = value
    return w


def _lab(rgb):
    return cv2.cvtColor(np.asarray(rgb, np.float32).reshape(1, 1, 3) / 255.0, cv2.COLOR_RGB2LAB).reshape(3)


def _synthetic_only(renderer):
    """The renderer as it would be for a photo whose teeth cannot be reused."""
    renderer.mouth.source_box = renderer.mouth.source_weight = renderer.mouth.photo_teeth_end = None
    renderer.mouth.colours = mouth_colours(renderer.photo.image, renderer.photo.landmarks)
    return renderer


@pytest.mark.slow
def test_interior_is_drawn_at_output_resolution(rig):
    photo = prepare_photo(rig, data.astronaut(), 1024)
    renderer = _synthetic_only(MaskedRenderer(rig, photo))  # every interior pixel drawn: the mask is the coverage
    renderer.render(_weights(rig, jawOpen=0.5), np.zeros(6))
    mask = renderer.synthesized
    assert mask.shape == (1024, 1024) and mask.dtype == np.float32
    cols = np.nonzero(mask.max(0) > 0.99)[0]
    cols = cols[len(cols) // 5 : -len(cols) // 5]  # the middle of the opening, away from the corners
    rows = np.nonzero(mask.max(1) > 0.5)[0]
    middle = (rows.min() + rows.max()) // 2
    lower_edge = mask[middle:, cols].sum(0)  # sub-pixel position of the lower lip's edge, per column
    # Painted on the 320 px warp map and scaled up, the edge moved in 3.2 px steps; now it moves
    # by at most about a pixel from column to column, and the edge is soft over a pixel or two.
    assert np.abs(np.diff(lower_edge)).max() < 1.6
    soft = ((mask[middle:, cols] > 0.05) & (mask[middle:, cols] < 0.95)).sum(0)
    assert 1 <= np.median(soft) <= 3


@pytest.mark.slow
def test_photo_teeth_are_reused_at_the_fitted_expression(rig, photo512):
    photo = photo512
    renderer = MaskedRenderer(rig, photo)
    assert renderer.mouth.source_box is not None  # the astronaut smiles with her teeth showing
    frame = renderer.render(photo.fit.expression, np.zeros(6)).astype(float)
    # The photo's teeth: the bright pixels inside the inner lip contour.
    opening = np.zeros((photo.size, photo.size), np.uint8)
    cv2.fillPoly(opening, [np.round(photo.landmarks[60:68]).astype(np.int32)], 1)
    grey = photo.image.astype(float).mean(-1)
    teeth = (opening > 0) & (grey > np.median(grey[opening > 0]))
    assert teeth.sum() > 100
    assert renderer.synthesized[teeth].mean() < 0.5  # mostly sampled from the photo, not drawn
    assert np.corrcoef(frame[teeth].mean(-1), grey[teeth])[0, 1] > 0.9
    synthetic = _synthetic_only(MaskedRenderer(rig, photo)).render(photo.fit.expression, np.zeros(6)).astype(float)
    # Synthetic teeth come close (same brightness, similar layout), the photo's own teeth closer.
    error = lambda image: np.abs(image[teeth].mean(-1) - grey[teeth]).mean()
    assert error(frame) < 0.6 * error(synthetic)


@pytest.mark.parametrize("change", ["dark", "bright", "blue cast", "orange cast"])
def test_synthetic_teeth_colours_stay_plausible(photo, change):
    image = photo.image.astype(np.float32)
    image = {"dark": image * 0.3, "bright": image * 1.8 + 40, "blue cast": image * [0.6, 0.85, 1.35],
             "orange cast": image * [1.3, 0.95, 0.55]}[change]
    colours = mouth_colours(np.clip(image, 0, 255).astype(np.uint8), photo.landmarks)
    for rgb, bounds in ((colours.teeth, TEETH_LAB), (colours.gum, GUM_LAB), (colours.cavity, CAVITY_LAB)):
        lab = _lab(rgb)
        for value, (lo, hi) in zip(lab, bounds):
            assert lo - 0.6 <= value <= hi + 0.6
    assert _lab(colours.teeth)[0] > _lab(colours.gum)[0] > _lab(colours.cavity)[0]


def test_black_and_white_photo_gets_a_grey_mouth(photo):
    grey = np.repeat(cv2.cvtColor(photo.image, cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
    colours = mouth_colours(grey, photo.landmarks)
    for rgb in (colours.teeth, colours.gum, colours.cavity):
        assert np.ptp(rgb) < 1e-6
    assert colours.teeth[0] > colours.gum[0] > colours.cavity[0]


def test_synthetic_teeth_follow_the_photos_exposure(photo):
    dark = mouth_colours((photo.image * 0.45).astype(np.uint8), photo.landmarks)
    plain = mouth_colours(photo.image, photo.landmarks)
    assert dark.source == plain.source == "sclera"
    assert _lab(plain.teeth)[0] - _lab(dark.teeth)[0] > 10


def test_rendered_synthetic_teeth_are_individual_and_light(rig, photo512):
    photo = photo512
    renderer = _synthetic_only(MaskedRenderer(rig, photo))
    frame = renderer.render(_weights(rig, jawOpen=0.5), np.zeros(6))
    drawn = renderer.synthesized > 0.99
    pixels = frame[drawn].astype(float)
    assert len(pixels) > 100
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)[drawn].astype(float)
    teeth = lab[:, 0] > 55 * 2.55
    assert teeth.sum() > 20  # light teeth are visible ...
    assert (lab[:, 0] < 35 * 2.55).sum() > 20  # ... and a dark cavity
    assert np.all(np.abs(lab[teeth, 2] - 128) < 30)  # no blue or green teeth
    # Separations: along the row of upper teeth the brightness dips periodically.
    ys, xs = np.nonzero(drawn)
    row = ys[np.argmax(frame[drawn].mean(-1))]
    line = frame[row, xs.min() : xs.max() + 1].mean(-1)
    assert np.ptp(line[drawn[row, xs.min() : xs.max() + 1]]) > 20


def test_held_vowel_keeps_the_same_interior(rig, photo):
    renderer = MaskedRenderer(rig, photo)
    vowel = _weights(rig, jawOpen=0.45, mouthFunnel=0.2)
    first = renderer.render(vowel, np.zeros(6))
    renderer.render(_weights(rig, jawOpen=0.1), np.zeros(6))  # another frame in between
    again = renderer.render(vowel, np.zeros(6))
    np.testing.assert_array_equal(first, again)
    # With the head drifting a little, the interior drifts a little too: it does not flicker.
    drift = renderer.render(vowel, np.array([0.0, 0.004, 0.0, 0.0, 0.0, 0.0]))
    mask = renderer.synthesized > 0.5
    assert np.abs(drift.astype(float) - first)[mask].mean() < 12


def test_closed_lips_draw_nothing(rig, photo):
    renderer = MaskedRenderer(rig, photo)
    renderer.render(np.zeros(rig.num_expressions), np.zeros(6))
    assert not renderer.synthesized.any()


@pytest.mark.parametrize("problem", ["small", "covered"])
def test_small_or_covered_mouth_falls_back_to_synthetic_teeth_and_says_so_once(rig, problem):
    image = data.astronaut()
    if problem == "small":
        image = cv2.resize(image, None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
    else:  # a microphone in front of the mouth
        image = image.copy()
        cv2.ellipse(image, (222, 142), (36, 16), 0, 0, 360, (70, 70, 75), -1)
    photo = prepare_photo(rig, image, 256)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        renderer = MaskedRenderer(rig, photo)
        frames = [renderer.render(_weights(rig, jawOpen=j), np.zeros(6)) for j in (0.2, 0.5)]
    assert len(caught) == 1 and "synthetic" in str(caught[0].message)
    assert renderer.mouth.source_box is None
    assert frames[1].shape == (256, 256, 3) and renderer.synthesized.max() > 0.99


def test_blink_covers_the_eye_with_lid_skin(rig, photo, monkeypatch):
    def closed_eyes(renderer):
        frame = renderer.render(_weights(rig, eyeBlinkLeft=1, eyeBlinkRight=1), np.zeros(6)).astype(float)
        return np.concatenate([frame[box(photo.landmarks[a:b])].reshape(-1, 3) for a, b in ((36, 42), (42, 48))])

    box = lambda p: np.s_[int(p[:, 1].min()) : int(p[:, 1].max()) + 1, int(p[:, 0].min()) : int(p[:, 0].max()) + 1]
    lifted = closed_eyes(CpuRenderer(rig, photo))
    from s2t.style_a import eyes

    monkeypatch.setattr(eyes._LidPatch, "cover_lid", lambda *args: None)  # no synthesised lid skin
    stretched = CpuRenderer(rig, photo)
    stretched.lids.shifts = [0 * s for s in stretched.lids.shifts]  # the plain stretch of the photo's lid
    stretched = closed_eyes(stretched)
    # Lashes and iris are dark; lid skin is not: a closed lid shows far fewer dark pixels.
    dark = lambda pixels: (pixels.mean(-1) < 90).mean()
    assert dark(lifted) < 0.6 * dark(stretched)


def test_eye_look_moves_the_iris(rig, photo):
    renderer = CpuRenderer(rig, photo)
    ahead = renderer.render(np.zeros(rig.num_expressions), np.zeros(6)).astype(float)
    aside = renderer.render(_weights(rig, eyeLookOutLeft=1, eyeLookInRight=1), np.zeros(6)).astype(float)
    eyes, mouth = photo.landmarks[36:48], photo.landmarks[48:68]
    box = lambda p: np.s_[int(p[:, 1].min()) : int(p[:, 1].max()) + 1, int(p[:, 0].min()) : int(p[:, 0].max()) + 1]
    assert np.abs(aside - ahead)[box(eyes)].mean() > 4
    assert np.abs(aside - ahead)[box(mouth)].mean() < 0.5


class ShadingRenderer(MaskedRenderer):
    """Keeps each drawn interior pixel's part, surface coordinates and synthetic colour."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        synthetic = self.mouth._synthetic

        def keep(part, normal, attr, recess):
            colour = synthetic(part, normal, attr, recess)
            self.shaded = (part, attr, colour)
            return colour

        self.mouth._synthetic = keep


@pytest.mark.filterwarnings("ignore:the photo's own teeth are not used")  # the bright photo's lips wash out
@pytest.mark.parametrize("change", ["none", "dark", "bright", "blue cast", "orange cast"])
def test_rendered_synthetic_teeth_keep_their_colour(rig, photo512, change):
    """Shading must not dull the teeth: a dimmed ivory reads olive-grey, worse after H.264."""
    image = photo512.image.astype(np.float32)
    image = {"none": image, "dark": image * 0.3, "bright": image * 1.8 + 40, "blue cast": image * [0.6, 0.85, 1.35],
             "orange cast": image * [1.3, 0.95, 0.55]}[change]
    photo = replace(photo512, image=np.clip(image, 0, 255).astype(np.uint8))
    renderer = _synthetic_only(ShadingRenderer(rig, photo))
    renderer.render(_weights(rig, jawOpen=0.4), np.zeros(6))
    part, _, colour = renderer.shaded
    teeth = _lab_rows(colour[part >= 3])
    base = _lab(renderer.mouth.colours.teeth)
    front = teeth[teeth[:, 0] >= np.quantile(teeth[:, 0], 0.5)]  # the lit half: front teeth, crowns' faces
    assert np.median(front[:, 0]) > base[0] - 4  # as light as the base colour (it rendered 14 L darker)
    (_, _), (a_lo, a_hi), (b_lo, b_hi) = TEETH_LAB
    assert a_lo - 2 <= np.median(front[:, 1]) <= a_hi + 5  # light bounced off the lips warms them a little
    assert b_lo - 4 <= np.median(front[:, 2]) <= b_hi + 2  # the sheen whitens a little, never blue
    assert np.median(teeth[:, 0]) > _lab(renderer.mouth.colours.gum)[0]


def _lab_rows(rgb):
    return cv2.cvtColor(np.asarray(rgb, np.float32).reshape(-1, 1, 3) / 255.0, cv2.COLOR_RGB2LAB).reshape(-1, 3)


def test_cavity_darkens_towards_the_throat_and_the_tongue_is_rounded(rig, photo512):
    renderer = _synthetic_only(ShadingRenderer(rig, photo512))
    renderer.render(_weights(rig, jawOpen=0.7), np.zeros(6))
    part, attr, colour = renderer.shaded
    light = _lab_rows(colour)[:, 0]
    cavity, tongue = part == 1, part == 2
    assert cavity.sum() > 50 and tongue.sum() > 50  # a wide-open vowel shows the tongue
    assert np.corrcoef(attr[cavity, 1], light[cavity])[0, 1] < -0.5  # deeper is darker
    middle = tongue & (np.abs(attr[:, 0]) < 0.3)
    sides = tongue & (np.abs(attr[:, 0]) > 0.7)
    assert light[middle].mean() > light[sides].mean() + 5
    # Nearly closed, there is no tongue to see.
    renderer.render(_weights(rig, jawOpen=0.12), np.zeros(6))
    assert (renderer.shaded[0] == 2).sum() < 0.1 * tongue.sum()


def test_held_open_vowel_keeps_the_same_interior(rig, photo512):
    renderer = _synthetic_only(MaskedRenderer(rig, photo512))
    vowel = _weights(rig, jawOpen=0.65)
    frames = [renderer.render(vowel, np.zeros(6)) for _ in range(3)]
    assert renderer.synthesized.max() > 0.99
    for frame in frames[1:]:
        np.testing.assert_array_equal(frame, frames[0])


def _lids_photo(photo):
    """``photo`` with each eye painted in three flat bands: light skin above the upper lid's fitted
    edge, black between the lids, darker skin below the lower lid. Closed lids then meet where the
    lifted upper lid's light meets the lower lid's dark: a clean edge to locate per column."""
    image = photo.image.copy()
    rows = np.arange(photo.size)[:, None]
    for a, b in ((36, 42), (42, 48)):
        eye = photo.landmarks[a:b]
        width = int(np.ptp(eye[:, 0]))
        x0, x1 = int(eye[:, 0].min()) - width, int(eye[:, 0].max()) + width
        y0, y1 = int(eye[:, 1].min()) - width, int(eye[:, 1].max()) + width
        xs = np.arange(x0, x1)
        upper = np.interp(xs, eye[[0, 1, 2, 3], 0], eye[[0, 1, 2, 3], 1])[None]
        lower = np.interp(xs, eye[[0, 5, 4, 3], 0], eye[[0, 5, 4, 3], 1])[None]
        band = rows[y0:y1]
        image[y0:y1, x0:x1] = np.where((band < upper)[..., None], [230, 200, 180],
                                       np.where((band < lower)[..., None], [10, 10, 10], [120, 90, 80]))
    return replace(photo, image=image)


def _meeting_edge(frame, eye):
    """Per column of the eye's middle: the sub-pixel row where the light above the closed lids ends."""
    x0, x1 = int(eye[:, 0].min()), int(eye[:, 0].max())
    cols = np.arange(x0 + (x1 - x0) // 6, x1 - (x1 - x0) // 6)
    centre, half = int(eye[:, 1].mean()), int(0.3 * (x1 - x0))
    lum = frame[centre - half : centre + half, cols].astype(float).mean(-1)
    middle = 0.5 * (lum[0].mean() + lum[-1].mean())
    row = np.argmax(lum < middle, 0)
    above, below = lum[row - 1, np.arange(len(cols))], lum[row, np.arange(len(cols))]
    return cols, centre - half + row - 1 + (above - middle) / np.maximum(above - below, 1e-9)


@pytest.mark.slow
def test_closed_lids_meet_on_a_line_drawn_at_output_resolution(rig):
    from s2t.style_a import eyes

    photo = _lids_photo(prepare_photo(rig, data.astronaut(), 1024))
    closed = _weights(rig, eyeBlinkLeft=1.0, eyeBlinkRight=1.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eyes, "LASH_SHADE", 0.0)  # the lids' geometry alone, without the drawn lash shade
        patch.setattr(eyes._LidPatch, "cover_lid", lambda *args: None)  # nor the synthesised lid skin, which hides the bands
        renderer = CpuRenderer(rig, photo)
        frame = renderer.render(closed, np.zeros(6))
        renderer.lids._rewarp_meeting_line = lambda *args: None  # the line as the 320 px warp map draws it
        stepped = renderer.render(closed, np.zeros(6))
    shaded = CpuRenderer(rig, photo).render(closed, np.zeros(6))
    roughness = []
    for a, b in ((36, 42), (42, 48)):
        eye = photo.landmarks[a:b]
        for image in (frame, stepped):
            cols, edge = _meeting_edge(image, eye)
            roughness.append(np.abs(edge - np.polyval(np.polyfit(cols, edge, 3), cols)).max())
        cols, edge = _meeting_edge(frame, eye)
        line = np.round(edge).astype(int)
        # The drawn lash shade darkens the meeting line itself.
        assert (shaded[line, cols].mean(-1) < frame[line, cols].mean(-1) - 10).mean() > 0.8
    smooth, steps = roughness[0::2], roughness[1::2]
    # The map's line leaves a smooth curve by up to 1.5 px (3.2 px steps at 1024), 2.1 px with MediaPipe's fit;
    # the output-resolution one by a third of a pixel with either fit (0.3 with dlib's, 0.26 with MediaPipe's;
    # 1.2 with MediaPipe's before the upper lid was kept in front of the lower one where they overlap).
    assert max(steps) > 1.0
    assert max(smooth) < 0.6


def test_a_closing_blink_changes_smoothly_when_the_lid_line_takes_over(rig, photo):
    renderer = CpuRenderer(rig, photo)
    eyes = photo.landmarks[36:48]
    box = np.s_[int(eyes[:, 1].min()) - 8 : int(eyes[:, 1].max()) + 8, int(eyes[:, 0].min()) - 5 : int(eyes[:, 0].max()) + 5]
    frames = [renderer.render(_weights(rig, eyeBlinkLeft=b, eyeBlinkRight=b), np.zeros(6)).astype(float)[box]
              for b in np.linspace(0.2, 1.0, 17)]
    steps = np.array([np.abs(b - a).mean() for a, b in zip(frames, frames[1:])])
    # The lid skin, the re-warp (from a blink of 0.35) and the lash shade all fade in: no step
    # jumps above its neighbours (a hard switch makes a 2.6x jump).
    assert (steps[1:-1] < 1.4 * 0.5 * (steps[:-2] + steps[2:])).all()
