"""load_bfm on small synthetic files with the real keys, shapes and index conventions."""

import numpy as np
import pytest
from scipy.io import savemat

from s2t.face.bfm import BFM_FILENAME, load_bfm

N = 300  # vertices (the real file has 35709)
CENTRE = np.array([0.3, -0.2, 0.8])  # the raw mean shape is not centred on the origin


def bfm_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """The keys of Deep3DFaceRecon's BFM_model_front.mat, with the real layouts."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(N, 3)) + CENTRE
    return {
        "meanshape": mean.reshape(1, 3 * N),  # x0 y0 z0 x1 y1 z1 ...
        "idBase": rng.normal(scale=0.01, size=(3 * N, 80)),
        "exBase": rng.normal(scale=0.01, size=(3 * N, 64)),
        "meantex": rng.uniform(0, 255, size=(1, 3 * N)),
        "texBase": rng.normal(size=(3 * N, 80)),
        "tri": rng.integers(1, N + 1, size=(500, 3)).astype(np.float64),  # 1-based, stored as double
        "point_buf": rng.integers(1, 501, size=(N, 8)).astype(np.float64),
        "tri_mask2": rng.integers(1, N + 1, size=(200, 3)).astype(np.float64),
        "keypoints": rng.choice(np.arange(1, N + 1), 68, replace=False).reshape(1, 68).astype(np.float64),
        "frontmask2_idx": np.arange(1, 101, dtype=np.float64).reshape(100, 1),
        "skinmask": (np.arange(N) % 3 == 0).astype(np.float64).reshape(1, N),
    }


def write_bfm(folder, arrays: dict[str, np.ndarray]):
    path = folder / BFM_FILENAME
    savemat(path, arrays)
    return path


@pytest.fixture(scope="module")
def bfm(tmp_path_factory):
    arrays = bfm_arrays()
    return arrays, load_bfm(write_bfm(tmp_path_factory.mktemp("bfm"), arrays))


def test_model_metadata_and_shapes(bfm):
    _, model = bfm
    assert model.model_id == "bfm-deep3d" and model.units == "dm"
    assert model.vertices.shape == (N, 3)
    assert model.expression_basis.shape == (64, N, 3) and model.identity_basis.shape == (80, N, 3)
    assert model.expression_names[0] == "exp00" and model.expression_names[-1] == "exp63"
    assert model.identity_names[0] == "id00" and model.identity_names[-1] == "id79"
    assert model.expression_bounds.shape == (64, 2)
    assert np.all(model.expression_bounds[:, 0] <= -10) and np.all(model.expression_bounds[:, 1] >= 10)


def test_indices_become_zero_based(bfm):
    arrays, model = bfm
    np.testing.assert_array_equal(model.triangles, arrays["tri"].astype(int) - 1)
    np.testing.assert_array_equal(model.landmark_indices, arrays["keypoints"].ravel().astype(int) - 1)
    np.testing.assert_array_equal(model.regions["front"], np.arange(100))
    np.testing.assert_array_equal(model.regions["skin"], np.arange(0, N, 3))


def test_mean_shape_is_recentred_like_deep3dfacerecon(bfm):
    arrays, model = bfm
    raw = arrays["meanshape"].reshape(N, 3)
    np.testing.assert_allclose(model.vertices.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(model.vertices, raw - raw.mean(0), atol=1e-5)


def test_geometry_is_mean_plus_bases_with_xyz_interleaved(bfm):
    arrays, model = bfm
    rng = np.random.default_rng(1)
    exp, ident = rng.normal(size=64), rng.normal(size=80)
    raw_mean = arrays["meanshape"].reshape(N, 3)
    flat = (raw_mean - raw_mean.mean(0)).ravel() + arrays["idBase"] @ ident + arrays["exBase"] @ exp
    np.testing.assert_allclose(model.geometry(exp, ident), flat.reshape(N, 3), atol=1e-4)
    np.testing.assert_allclose(model.landmarks(exp, ident), flat.reshape(N, 3)[model.landmark_indices], atol=1e-4)


def test_basis_row_3i_plus_axis_is_vertex_i_axis(tmp_path):
    arrays = bfm_arrays()
    arrays["exBase"] = np.zeros((3 * N, 64))
    arrays["exBase"][3 * 7 + 1, 5] = 1.0  # exp05 moves vertex 7 along y only
    arrays["idBase"] = np.zeros((3 * N, 80))
    arrays["idBase"][3 * 11 + 2, 79] = 2.0  # id79 moves vertex 11 along z only
    model = load_bfm(write_bfm(tmp_path, arrays))
    assert np.count_nonzero(model.expression_basis) == 1 and np.count_nonzero(model.identity_basis) == 1
    np.testing.assert_array_equal(model.expression_basis[5, 7], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(model.identity_basis[79, 11], [0.0, 0.0, 2.0])


def test_folder_and_column_meanshape_are_accepted(tmp_path):
    arrays = bfm_arrays()
    arrays["meanshape"] = arrays["meanshape"].reshape(3 * N, 1)  # the layout Deep3DFaceRecon's comments name
    write_bfm(tmp_path, arrays)
    model = load_bfm(tmp_path)
    raw = arrays["meanshape"].reshape(N, 3)
    np.testing.assert_allclose(model.vertices, raw - raw.mean(0), atol=1e-5)


def test_missing_file_explains_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_bfm(tmp_path / "nowhere" / BFM_FILENAME)
    message = str(err.value)
    for needed in (BFM_FILENAME, "01_MorphableModel.mat", "Exp_Pca.bin", "Basel", "Deep3DFaceRecon"):
        assert needed in message
    with pytest.raises(FileNotFoundError, match=BFM_FILENAME):
        load_bfm(tmp_path)  # a folder without the file


@pytest.mark.parametrize("key", ["meanshape", "idBase", "exBase", "tri", "keypoints"])
def test_missing_key_is_named(tmp_path, key):
    arrays = bfm_arrays()
    del arrays[key]
    with pytest.raises(ValueError, match=f"'{key}'"):
        load_bfm(write_bfm(tmp_path, arrays))


@pytest.mark.parametrize(
    "key, value",
    [
        ("meanshape", np.zeros((1, 3 * N + 1))),
        ("idBase", np.zeros((3 * N, 79))),
        ("exBase", np.zeros((3 * N - 3, 64))),
        ("exBase", np.zeros((64, 3 * N))),
        ("tri", np.ones((10, 4))),
        ("tri", np.zeros((10, 3))),  # 0-based indices are not Deep3DFaceRecon's convention
        ("keypoints", np.ones((1, 67))),
        ("keypoints", np.full((1, 68), N + 1.0)),
        ("skinmask", np.ones((1, N - 1))),
    ],
)
def test_bad_shape_or_range_is_named(tmp_path, key, value):
    arrays = bfm_arrays()
    arrays[key] = value
    with pytest.raises(ValueError, match=f"'{key}'"):
        load_bfm(write_bfm(tmp_path, arrays))


def test_optional_keys_may_be_absent(tmp_path):
    arrays = bfm_arrays()
    for key in ("meantex", "texBase", "point_buf", "tri_mask2", "frontmask2_idx", "skinmask"):
        del arrays[key]
    model = load_bfm(write_bfm(tmp_path, arrays))
    assert model.regions == {} and model.num_expressions == 64
