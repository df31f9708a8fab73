"""Closing lids read as skin: no streaks of a stretched lid, the skin's colour, steady when held."""

import cv2
import numpy as np
import pytest
from skimage import data

from s2t.face import mediapipe_mesh
from s2t.style_a import eyes
from s2t.style_a.cpu_renderer import CpuRenderer
from s2t.style_a.photo import prepare_photo

EYES = ((36, 42), (42, 48))


def dlib_fit(rig, size):
    """The astronaut fitted with dlib's 68 points even where MediaPipe is installed. The
    synthesised lids measure the same with both fits (half-closed lid's upper half 198/170 grey
    with dlib's, 195/170 with MediaPipe's; closed lid 4-9 L darker than the cheek with both), but
    the references the checks compare them with do not: the boxes from MediaPipe's 68-point lids sit
    higher on the eye and catch less of the stretched lashes (the stretched closed lid is
    11-14 L darker than the cheek instead of 19-21; the stretched half-closed lid's upper half
    184/162 grey instead of 171/154) and the bounds, measured on dlib's fit, would need a second set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mediapipe_mesh, "mediapipe_unavailable", lambda: "pinned to dlib by the test")
        return prepare_photo(rig, data.astronaut(), size)


@pytest.fixture(scope="module")
def photo512(rig):
    return dlib_fit(rig, 512)


def _blink(rig, amount):
    w = np.zeros(rig.num_expressions)
    w[[rig.expression_index("eyeBlinkLeft"), rig.expression_index("eyeBlinkRight")]] = amount
    return w


def _lid_and_skin(frame, eye):
    """The closed lid over the photo's eye (its middle, above where the lids meet) and the skin
    of the cheek below it, both (H, W, 3) float."""
    width = np.ptp(eye[:, 0])
    x0, x1 = int(eye[0, 0] + 0.2 * width), int(eye[3, 0] - 0.2 * width)
    x0, x1 = min(x0, x1), max(x0, x1)
    top, bottom = int(eye[[1, 2], 1].min() - 0.15 * width), int(eye[[4, 5], 1].mean() - 0.2 * width)
    lid = frame[top:bottom, x0:x1].astype(np.float64)
    below = int(eye[[4, 5], 1].max() + 0.25 * width)
    skin = frame[below : below + bottom - top, x0:x1].astype(np.float64)
    return lid, skin


def _streaks(region):
    """Horizontal gradient energy: what vertical streaks (a stretched lid's repeated columns) raise."""
    return np.abs(np.diff(region.mean(-1), axis=1)).mean()


def _render(rig, photo, amount, monkeypatch=None, synthesise=True):
    if not synthesise:
        monkeypatch.setattr(eyes._LidPatch, "cover_lid", lambda *args: None)  # the lid as the warp stretches it
    return CpuRenderer(rig, photo).render(_blink(rig, amount), np.zeros(6))


def test_a_closed_lid_has_no_vertical_streaks(rig, photo512, monkeypatch):
    closed = _render(rig, photo512, 1.0)
    stretched = _render(rig, photo512, 1.0, monkeypatch, synthesise=False)
    for a, b in EYES:
        lid, skin = _lid_and_skin(closed, photo512.landmarks[a:b])
        was, _ = _lid_and_skin(stretched, photo512.landmarks[a:b])
        assert _streaks(was) > 1.8 * _streaks(skin)  # the stretched lid: twice the skin's (3.1-3.8 against 1.6)
        assert _streaks(lid) < 1.3 * _streaks(skin)


def test_a_closed_lid_keeps_the_skins_colour(rig, photo512, monkeypatch):
    closed = _render(rig, photo512, 1.0)
    stretched = _render(rig, photo512, 1.0, monkeypatch, synthesise=False)
    lab = lambda px: np.median(cv2.cvtColor((px / 255.0).astype(np.float32).reshape(-1, 1, 3),
                                            cv2.COLOR_RGB2LAB).reshape(-1, 3), 0)
    for a, b in EYES:
        lid, skin = _lid_and_skin(closed, photo512.landmarks[a:b])
        was, _ = _lid_and_skin(stretched, photo512.landmarks[a:b])
        difference = lab(lid) - lab(skin)
        # A little darker than the cheek (the lid turns away from the light, lashes are near), same hue;
        # the stretched lid was a dark band of lashes.
        assert -12.0 < difference[0] < 3.0 and np.abs(difference[1:]).max() < 4.0, difference
        assert lab(was)[0] < lab(skin)[0] - 14.0


def test_a_half_closed_lid_covers_the_iris_with_skin(rig, photo512, monkeypatch):
    half = _render(rig, photo512, 0.6)
    stretched = _render(rig, photo512, 0.6, monkeypatch, synthesise=False)
    for a, b in EYES:
        lid, skin = _lid_and_skin(half, photo512.landmarks[a:b])
        was, _ = _lid_and_skin(stretched, photo512.landmarks[a:b])
        top = slice(0, lid.shape[0] // 2)  # the upper half: lid skin in both, stretched lashes before
        assert _streaks(lid[top]) < 0.9 * _streaks(was[top])  # 2.1 against 2.5 (the lash line is in it)
        assert lid[top].mean() > was[top].mean() + 10


def test_a_held_blink_gives_identical_frames(rig, photo512):
    renderer = CpuRenderer(rig, photo512)
    for amount in (0.5, 1.0):
        frames = [renderer.render(_blink(rig, amount), np.zeros(6)) for _ in range(3)]
        for frame in frames[1:]:
            np.testing.assert_array_equal(frame, frames[0])


def test_the_lid_skin_follows_the_head(rig, photo512):
    """A turned head carries the synthesised lid with the eye: the lid stays streak-free."""
    renderer = CpuRenderer(rig, photo512)
    pose = np.array([0.0, 0.12, 0.05, 0.0, 0.0, 0.0])
    turned = renderer.render(_blink(rig, 1.0), pose).astype(float)
    open_turned = renderer.render(_blink(rig, 0.0), pose).astype(float)
    moved = np.abs(turned - open_turned).mean(-1) > 12
    eyes_box = photo512.landmarks[36:48]
    ys, xs = np.nonzero(moved)
    assert len(ys) > 50
    # what changed lies around the eyes, not elsewhere on the face
    assert eyes_box[:, 1].min() - 30 < ys.mean() < eyes_box[:, 1].max() + 30
