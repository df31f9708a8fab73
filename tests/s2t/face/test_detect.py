import numpy as np
import pytest
from PIL import Image
from skimage import data

from s2t.face import detect
from s2t.face.detect import FaceImageError, detect_landmarks, load_image


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="module")
def astronaut_landmarks(astronaut):
    return detect_landmarks(astronaut)


def test_astronaut_landmarks_lie_on_the_face(astronaut_landmarks):
    lm = astronaut_landmarks
    assert lm.points.shape == (68, 2) and lm.num_faces == 1 and lm.score > 0.5
    assert lm.image_size == (512, 512)
    left, top, right, bottom = lm.box
    margin = 0.15 * lm.face_size  # the jaw line may poke slightly out of dlib's box
    assert np.all((lm.points[:, 0] > left - margin) & (lm.points[:, 0] < right + margin))
    assert np.all((lm.points[:, 1] > top - margin) & (lm.points[:, 1] < bottom + margin))
    inner = lm.points[17:]
    assert np.all((inner[:, 0] > left) & (inner[:, 0] < right) & (inner[:, 1] > top) & (inner[:, 1] < bottom))
    # iBUG order: the subject's right eye is on the image left; eyes above the nose tip above the mouth
    assert lm.points[36:42, 0].mean() < lm.points[42:48, 0].mean()
    assert lm.points[36:48, 1].mean() < lm.points[33, 1] < lm.points[48:68, 1].mean()


def test_grayscale_and_rgba_detect_the_same_face(astronaut, astronaut_landmarks):
    gray = np.asarray(Image.fromarray(astronaut).convert("L"))
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    for image in (gray, gray[..., None], rgba):
        lm = detect_landmarks(image)
        assert np.abs(lm.points - astronaut_landmarks.points).max() < 6.0


def test_transparent_pixels_become_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, 3] = 255  # top half opaque black, bottom half transparent
    rgb = load_image(rgba)
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 4, 3)
    assert np.all(rgb[:2] == 0) and np.all(rgb[2:] == 255)


def test_sixteen_bit_and_float_arrays_become_eight_bit():
    ramp = np.linspace(0, 65535, 16).astype(np.uint16).reshape(4, 4)
    rgb = load_image(ramp)
    assert rgb.dtype == np.uint8 and rgb[0, 0, 0] == 0 and rgb[-1, -1, 2] == 255
    assert load_image(np.full((2, 2, 3), 0.5))[0, 0, 0] == 128
    assert load_image(np.full((2, 2), 200, np.int64))[0, 0, 0] == 200  # plain ints stay 8-bit


def test_sixteen_bit_png_file(tmp_path, astronaut):
    gray16 = np.asarray(Image.fromarray(astronaut).convert("L")).astype(np.uint16) * 257
    path = tmp_path / "deep.png"
    Image.fromarray(gray16).save(path)
    rgb = load_image(path)
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb[..., 0].astype(int) - gray16 // 257).max() <= 1


def test_exif_orientation_is_applied(tmp_path, astronaut, astronaut_landmarks):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned 90 degrees clockwise; viewers rotate it back
    Image.fromarray(np.rot90(astronaut, k=-1).copy()).save(path, exif=exif, quality=95)
    upright = load_image(path)
    assert upright.shape == astronaut.shape
    assert np.abs(detect_landmarks(path).points - astronaut_landmarks.points).max() < 6.0


def test_blank_image_has_no_face():
    with pytest.raises(FaceImageError, match="no face found"):
        detect_landmarks(np.full((200, 200, 3), 128, np.uint8))


def test_tiny_face_is_refused_with_the_size_needed(astronaut):
    tiny = np.asarray(Image.fromarray(astronaut).resize((102, 102), Image.Resampling.LANCZOS))
    with pytest.raises(FaceImageError, match=r"too small \(\d+ px wide\); at least 40 px"):
        detect_landmarks(tiny)


def test_largest_of_two_faces_is_used(astronaut):
    small = np.asarray(Image.fromarray(astronaut).resize((384, 384), Image.Resampling.LANCZOS))
    small = np.vstack([small, np.zeros((128, 384, 3), np.uint8)])
    lm = detect_landmarks(np.hstack([small, astronaut]))
    assert lm.num_faces == 2
    assert lm.box[0] > 384 and lm.face_size > 80


def test_detection_on_a_downscaled_copy_maps_back(astronaut, astronaut_landmarks):
    lm = detect_landmarks(astronaut, max_detect_side=300)
    assert np.abs(np.array(lm.box) - astronaut_landmarks.box).max() < 8.0
    assert np.abs(lm.points - astronaut_landmarks.points).max() < 8.0


def test_huge_jpegs_are_decoded_downscaled(tmp_path, astronaut, monkeypatch):
    path = tmp_path / "big.jpg"
    Image.fromarray(astronaut).save(path, quality=95)
    monkeypatch.setattr(detect, "MAX_PIXELS", 100_000)
    rgb = load_image(path)
    assert rgb.shape[0] * rgb.shape[1] <= 100_000 and rgb.shape[0] == rgb.shape[1]


def test_huge_pictures_of_other_formats_are_refused_before_decoding(tmp_path, astronaut, monkeypatch):
    path = tmp_path / "big.png"  # PNG cannot be decoded at a reduced size: a bomb would cost its full size
    Image.fromarray(astronaut).save(path)
    monkeypatch.setattr(detect, "MAX_PIXELS", 100_000)
    with pytest.raises(FaceImageError, match="is 512x512 pixels; only JPEG photos over 0.1 megapixels"):
        load_image(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (np.random.default_rng(0).bytes(5000), "not a valid image"),
    ],
)
def test_bad_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(FaceImageError, match=message) as info:
        detect_landmarks(path)
    assert "photo.jpg" in str(info.value)


def test_truncated_jpeg(tmp_path, astronaut):
    path = tmp_path / "cut.jpg"
    Image.fromarray(astronaut).save(path)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(FaceImageError, match="cut.jpg"):
        load_image(path)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(FaceImageError, match="nope.png' does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(FaceImageError, match="is a directory"):
        load_image(str(tmp_path))


def test_bad_array_shape():
    with pytest.raises(FaceImageError, match="expected"):
        load_image(np.zeros((4, 4, 2), np.uint8))


def test_missing_predictor_package_is_named(monkeypatch):
    monkeypatch.setattr(detect.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="face_recognition_models.*shape_predictor_68_face_landmarks.dat"):
        detect._predictor_path()
