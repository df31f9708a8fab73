"""Per-part colour: the photo's parts take the colours of the art face's same parts."""

import cv2
import numpy as np
import pytest
from skimage import data

from s2t.face.detect import detect_landmarks
from s2t.style_a.art_presets import load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.painterly.parts import part_colours, part_masks, recolour_parts
from s2t.style_a.stylizer import Stylizer

BLUE = np.array([40, 90, 220], np.float32)


@pytest.fixture(scope="module")
def photo():
    picture = cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    return picture, detect_landmarks(picture).points


@pytest.fixture(scope="module")
def blue_lipped_art(photo):
    """An art face with blue lips: the astronaut, larger, lips painted over."""
    picture = cv2.resize(data.astronaut(), (400, 400), interpolation=cv2.INTER_CUBIC)
    points = detect_landmarks(picture).points
    lips = part_masks(points, picture.shape[:2])["lips"][..., None]
    shaded = picture.mean(2, keepdims=True) / 128  # keep the lips' shading
    art = np.clip(picture * (1 - lips) + BLUE * shaded * lips, 0, 255).astype(np.uint8)
    return art, points


def lip_colour(picture, points):
    return part_colours(picture, {"lips": part_masks(points, picture.shape[:2])["lips"]})["lips"][0]


def test_masks_cover_distinct_parts(photo):
    picture, points = photo
    masks = part_masks(points, picture.shape[:2])
    assert set(masks) == {"skin", "lips", "eyes", "hair", "background"}
    hard = {name: mask > 0.5 for name, mask in masks.items()}
    assert all(mask.sum() > 30 for mask in hard.values())
    assert not (hard["lips"] & hard["skin"]).any() and not (hard["eyes"] & hard["skin"]).any()
    centre = np.round(points[48:60].mean(0)).astype(int)
    assert masks["lips"][centre[1] + 4, centre[0]] > 0.3 or masks["lips"][centre[1] - 4, centre[0]] > 0.3


def test_lips_take_the_art_faces_lip_colour_and_skin_stays(photo, blue_lipped_art):
    picture, points = photo
    art, art_points = blue_lipped_art
    recoloured = recolour_parts(picture, points, art, art_points)
    target = lip_colour(art, art_points)
    before, after = lip_colour(picture, points), lip_colour(recoloured, points)
    assert np.linalg.norm(after - target) < 0.3 * np.linalg.norm(before - target)
    assert after[2] < -20  # b* negative: blue
    skin = part_masks(points, picture.shape[:2])["skin"] > 0.5
    blue_skin = recoloured[skin].astype(float).mean(0)
    assert blue_skin[0] > blue_skin[2]  # the skin is not blue


@pytest.mark.slow
def test_renderer_source_uses_part_colours_only_when_the_art_has_a_face(photo, blue_lipped_art):
    picture, points = photo
    art, _ = blue_lipped_art
    face_style = Stylizer(ArtStyle.from_picture(art, method="palette"))
    assert face_style.art_face() is not None
    source = face_style.source_image(picture, points)
    assert lip_colour(source, points)[2] < -20
    landscape = Stylizer(load_art_preset("pastel"))
    assert landscape.art_face() is None
    np.testing.assert_array_equal(landscape.source_image(picture, points), picture)  # global colour, per frame
