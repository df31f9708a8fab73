"""MediaPipe's mesh as the photo detector, its correspondence tables, and the dlib fallback."""

import sys

import numpy as np
import pytest
from PIL import Image
from skimage import data

from s2t.face import mediapipe_mesh
from s2t.face.contours import CURVE_NAMES
from s2t.face.detect import FaceImageError, detect_face, detect_landmarks
from s2t.face.fit import fit_photo

needs_mediapipe = pytest.mark.skipif(
    mediapipe_mesh.mediapipe_unavailable() is not None,
    reason=f"{mediapipe_mesh.mediapipe_unavailable()} (pip install --no-deps mediapipe==0.10.14 and the .[mediapipe] extra)",
)


@pytest.fixture
def mediapipe_blocked(monkeypatch):
    """Make ``import mediapipe`` fail as if the package were not installed."""
    for name in [n for n in sys.modules if n == "mediapipe" or n.startswith("mediapipe.")] + ["mediapipe"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(mediapipe_mesh, "_noted", False)
    mediapipe_mesh._solutions_face_mesh.cache_clear()
    yield
    monkeypatch.undo()
    mediapipe_mesh._solutions_face_mesh.cache_clear()


def test_tables_index_the_mesh_and_name_model_curves():
    assert len(mediapipe_mesh.IBUG68_FROM_MESH) == 68
    used = [i for ids in mediapipe_mesh.IBUG68_FROM_MESH for i in ids]
    used += [i for ids in mediapipe_mesh.CONTOURS.values() for i in ids]
    assert min(used) >= 0 and max(used) < mediapipe_mesh.MESH_POINTS
    assert set(mediapipe_mesh.CONTOURS) <= set(CURVE_NAMES)
    mesh = np.random.default_rng(0).uniform(0, 100, (mediapipe_mesh.MESH_POINTS, 2))
    assert mediapipe_mesh.ibug68_from_mesh(mesh).shape == (68, 2)
    assert np.array_equal(mediapipe_mesh.ibug68_from_mesh(mesh)[30], mesh[4])  # nose tip
    contours = mediapipe_mesh.mesh_contours(mesh)
    assert contours["lips_inner_upper"].shape == (11, 2) and contours["iris_left"].shape == (1, 2)


@needs_mediapipe
def test_mediapipe_finds_478_points_on_the_astronaut():
    image = data.astronaut()
    found = detect_face(image)
    assert found.detector == "mediapipe" and found.mesh.shape == (478, 2) and found.num_faces == 1
    dlib = detect_landmarks(image)
    # Both detectors agree on the face: the 68 points within a few pixels (jaw conventions differ).
    inner = np.linalg.norm(found.points[17:] - dlib.points[17:], axis=1)
    assert np.sqrt(np.mean(inner**2)) < 5.0
    left, top, right, bottom = found.box
    assert left < dlib.box[0] + 10 and right > dlib.box[2] - 10 and top < dlib.box[1] and bottom > dlib.box[3] - 10
    # The irises sit between their eye corners (right iris: image left).
    assert found.mesh[33, 0] < found.mesh[468, 0] < found.mesh[133, 0]
    assert found.mesh[362, 0] < found.mesh[473, 0] < found.mesh[263, 0]


@needs_mediapipe
def test_a_face_small_in_a_wide_photo_gets_the_mesh_from_a_crop():
    astronaut = data.astronaut()
    alone = detect_face(astronaut)
    small = np.asarray(Image.fromarray(astronaut).resize((384, 384), Image.Resampling.LANCZOS))
    wide = np.full((512, 900, 3), 128, np.uint8)
    wide[:, :512], wide[64:448, 512:896] = astronaut, small  # MediaPipe alone finds neither face here
    found = detect_face(wide)
    assert found.detector == "mediapipe" and found.num_faces == 2  # dlib's count of the faces
    assert found.box[2] < 512  # the larger face
    assert np.abs(found.mesh - alone.mesh).max() < 4.0


@needs_mediapipe
def test_photo_fit_uses_the_contours():
    rig = pytest.importorskip("s2t.face.rig").build_rig()
    fit, found = fit_photo(rig, data.astronaut())
    assert found.detector == "mediapipe"
    assert fit.contour_rms_px is not None and fit.contour_rms_px < 3.0
    assert fit.rms_px < 4.0


def test_fallback_to_dlib_when_mediapipe_is_missing(mediapipe_blocked, caplog):
    assert mediapipe_mesh.mediapipe_unavailable() == "MediaPipe is not installed"
    image = data.astronaut()
    first = detect_face(image)
    detect_face(image)
    assert first.detector == "dlib" and first.mesh is None
    assert np.array_equal(first.points, detect_landmarks(image).points)
    notes = [r for r in caplog.records if r.name == "s2t.face.mediapipe_mesh"]  # said once, as a warning
    assert len(notes) == 1 and notes[0].levelname == "WARNING"
    assert notes[0].getMessage().startswith("note: MediaPipe is not installed; fitting dlib's 68 landmarks")


def test_fallback_fit_has_no_contours(mediapipe_blocked):
    rig = pytest.importorskip("s2t.face.rig").build_rig()
    fit, found = fit_photo(rig, data.astronaut())
    assert found.detector == "dlib" and fit.contour_rms_px is None


def test_broken_mediapipe_is_named(monkeypatch):
    class Broken:
        def __getattr__(self, name):
            raise ImportError("numpy.core.multiarray failed to import")

    monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", Broken())
    mediapipe_mesh._solutions_face_mesh.cache_clear()
    try:
        reason = mediapipe_mesh.mediapipe_unavailable()
    finally:
        monkeypatch.undo()
        mediapipe_mesh._solutions_face_mesh.cache_clear()
    assert reason is not None and reason.startswith("MediaPipe failed to import (ImportError: numpy.core")


@pytest.mark.parametrize("blocked", [False, True])
def test_bad_input_errors_are_unchanged(request, blocked, tmp_path, capsys):
    if blocked:
        request.getfixturevalue("mediapipe_blocked")
    with pytest.raises(FaceImageError, match="no face found"):
        detect_face(np.full((200, 200, 3), 128, np.uint8))
    assert capsys.readouterr().err == ""  # the error is the one line; no note before it
    small = np.asarray(Image.fromarray(data.astronaut()).resize((96, 96)))
    tiny = np.full((400, 400, 3), 128, np.uint8)
    tiny[150:246, 150:246] = small  # a face about 20 px wide
    with pytest.raises(FaceImageError, match="no face found|too small"):
        detect_face(tiny)
    with pytest.raises(FaceImageError, match="does not exist"):
        detect_face(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(FaceImageError, match="bad.png.*not a valid image"):
        detect_face(tmp_path / "bad.png")
