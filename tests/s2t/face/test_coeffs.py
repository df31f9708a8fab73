import dataclasses
import json
import zipfile

import numpy as np
import pytest
import scipy.io

from s2t.face import coeffs as coeffs_module
from s2t.face.coeffs import BFM_EXPRESSION_NAMES, BFM_MODEL_ID, FORMAT_VERSION, CoeffSequence


def assert_same(a: CoeffSequence, b: CoeffSequence) -> None:
    assert (a.model_id, a.fps, a.channel_names, a.metadata) == (b.model_id, b.fps, b.channel_names, b.metadata)
    np.testing.assert_array_equal(a.expression, b.expression)
    np.testing.assert_array_equal(a.pose, b.pose)


# -- the sequence object -------------------------------------------------------------------


def test_properties_and_channel(tiny):
    seq = tiny.sequence(frames=50, fps=25)
    assert seq.num_frames == 50 and seq.duration == pytest.approx(2.0)
    assert seq.expression.dtype == np.float32 and seq.pose.dtype == np.float32
    np.testing.assert_array_equal(seq.channel("mouthSmileLeft"), seq.expression[:, 1])
    with pytest.raises(KeyError, match="jawOpen"):
        seq.channel("mouthFrownLeft")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fps": 0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"model_id": ""}, "model_id"),
        ({"channel_names": ("a", "a", "b")}, "unique"),
        ({"expression": np.zeros((20, 2))}, "expression must be"),
        ({"pose": np.zeros((19, 6))}, "pose must be"),
        ({"pose": np.full((20, 6), np.inf)}, "finite"),
        ({"expression": np.zeros((0, 3)), "pose": np.zeros((0, 6))}, "at least one frame"),
        ({"metadata": {"bad": object()}}, "JSON"),
        ({"metadata": {"bad": float("nan")}}, "JSON"),
    ],
)
def test_validation(change, message, tiny):
    seq = tiny.sequence()
    fields = dict(model_id=seq.model_id, fps=seq.fps, channel_names=seq.channel_names,
                  expression=seq.expression, pose=seq.pose, metadata=seq.metadata)
    with pytest.raises(ValueError, match=message):
        CoeffSequence(**{**fields, **change})


def test_metadata_is_normalised_and_copied(tiny):
    source = {"inputs": ("a.wav", "b.png")}
    seq = CoeffSequence("tiny", 25, tiny.names, np.zeros((2, 3)), np.zeros((2, 6)), source)
    assert seq.metadata == {"inputs": ["a.wav", "b.png"]}
    source["inputs"] = "changed"
    assert seq.metadata["inputs"] == ["a.wav", "b.png"]


# -- save / load ---------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path, tiny):
    seq = tiny.sequence()
    path = tmp_path / "take.npz"
    seq.save(path)
    assert_same(CoeffSequence.load(path), seq)
    assert [p.name for p in tmp_path.iterdir()] == ["take.npz"]


def test_save_is_atomic(tmp_path, monkeypatch, tiny):
    path = tmp_path / "take.npz"
    tiny.sequence().save(path)
    before = path.read_bytes()

    def broken(file, **arrays):
        file.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(coeffs_module.np, "savez_compressed", broken)
    with pytest.raises(KeyboardInterrupt):
        tiny.sequence(frames=5).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["take.npz"]


def test_load_rejects_random_bytes(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(ValueError, match="noise.npz"):
        CoeffSequence.load(path)


def test_load_rejects_truncated_file(tmp_path, tiny):
    path = tmp_path / "take.npz"
    tiny.sequence(frames=200).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="take.npz"):
        CoeffSequence.load(path)


def test_load_rejects_other_npz_and_npy(tmp_path, tiny):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*no header"):
        CoeffSequence.load(tmp_path / "other.npz")
    tiny.model().save(tmp_path / "model.npz")  # our header, but a different format
    with pytest.raises(ValueError, match="model.npz is not a coefficient sequence"):
        CoeffSequence.load(tmp_path / "model.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single.npy"):
        CoeffSequence.load(tmp_path / "single.npy")


def rewrite_header(path, **changes):
    with np.load(path) as data:
        arrays = dict(data)
    header = {**json.loads(bytes(arrays["header"]).decode()), **changes}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path, **arrays)


def test_load_rejects_newer_version(tmp_path, tiny):
    path = tmp_path / "future.npz"
    tiny.sequence().save(path)
    rewrite_header(path, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match="future.npz.*format version 2.*Update s2t"):
        CoeffSequence.load(path)


def test_load_rejects_damaged_contents(tmp_path, tiny):
    path = tmp_path / "damaged.npz"
    tiny.sequence().save(path)
    rewrite_header(path, channel_names=["only_one"])
    with pytest.raises(ValueError, match="damaged.npz is a damaged"):
        CoeffSequence.load(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.npy", b"not an npy file")
    with pytest.raises(ValueError, match="damaged.npz"):
        CoeffSequence.load(path)


# -- SadTalker -----------------------------------------------------------------------------


def sadtalker_coeffs(frames: int = 30, columns: int = 70) -> np.ndarray:
    rng = np.random.default_rng(2)
    return rng.normal(0, 0.3, (frames, columns)).astype(np.float32)


def test_sadtalker_import_export_round_trip(tmp_path):
    coeffs = sadtalker_coeffs()
    source = tmp_path / "portrait##speech.mat"
    scipy.io.savemat(source, {"coeff_3dmm": coeffs})
    seq = CoeffSequence.from_sadtalker_mat(source)
    assert seq.model_id == BFM_MODEL_ID and seq.fps == 25.0
    assert seq.channel_names == BFM_EXPRESSION_NAMES and seq.channel_names[-1] == "exp63"
    np.testing.assert_array_equal(seq.expression, coeffs[:, :64])
    np.testing.assert_array_equal(seq.pose, coeffs[:, 64:])
    assert seq.metadata["source"] == str(source)

    out = tmp_path / "out.mat"
    seq.to_sadtalker_mat(out)
    np.testing.assert_array_equal(scipy.io.loadmat(out)["coeff_3dmm"], coeffs)
    reread = CoeffSequence.from_sadtalker_mat(out)
    assert_same(reread, dataclasses.replace(seq, metadata={"source": str(out), "source_format": "sadtalker-mat"}))


def test_sadtalker_73_columns_drop_crop_params(tmp_path):
    coeffs = sadtalker_coeffs(columns=73)
    path = tmp_path / "first_frame.mat"
    scipy.io.savemat(path, {"coeff_3dmm": coeffs, "full_3dmm": np.zeros((30, 257))})
    seq = CoeffSequence.from_sadtalker_mat(path, fps=30)
    assert seq.fps == 30 and seq.num_frames == 30
    np.testing.assert_array_equal(seq.pose, coeffs[:, 64:70])


@pytest.mark.parametrize("shape", [(30, 64), (30, 257), (70, 30), (70, 30, 1)])
def test_sadtalker_wrong_shape(tmp_path, shape):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, {"coeff_3dmm": np.zeros(shape)})
    with pytest.raises(ValueError, match=r"bad.mat.*\(T, 70\)"):
        CoeffSequence.from_sadtalker_mat(path)


def test_sadtalker_missing_key_lists_keys(tmp_path):
    path = tmp_path / "other.mat"
    scipy.io.savemat(path, {"exp": np.zeros((3, 64)), "angle": np.zeros((3, 3))})
    with pytest.raises(ValueError, match=r"other.mat has no 'coeff_3dmm'.*\['angle', 'exp'\]"):
        CoeffSequence.from_sadtalker_mat(path)


def test_sadtalker_not_a_mat_file(tmp_path):
    path = tmp_path / "noise.mat"
    path.write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(ValueError, match="noise.mat"):
        CoeffSequence.from_sadtalker_mat(path)


def test_sadtalker_export_refuses_other_models(tmp_path, tiny):
    with pytest.raises(ValueError, match="'tiny'.*Basel"):
        tiny.sequence().to_sadtalker_mat(tmp_path / "x.mat")
    assert not list(tmp_path.iterdir())


# -- editing -------------------------------------------------------------------------------


def test_resample_round_trip_and_duration(tiny):
    seq = tiny.sequence(frames=100, fps=25)
    up = seq.resample(50)
    assert up.fps == 50 and up.num_frames == 200 and up.duration == pytest.approx(seq.duration)
    np.testing.assert_allclose(up.expression[::2], seq.expression, atol=1e-6)
    np.testing.assert_allclose(up.expression[1:-1:2], (seq.expression[:-1] + seq.expression[1:]) / 2, atol=1e-6)
    assert up.metadata == seq.metadata
    back = up.resample(25)
    np.testing.assert_allclose(back.expression, seq.expression, atol=1e-6)
    np.testing.assert_allclose(back.pose, seq.pose, atol=1e-6)


@pytest.mark.parametrize("fps", [24.0, 29.97, 60.0, 10.0])
def test_resample_duration_within_a_frame(fps, tiny):
    seq = tiny.sequence(frames=77, fps=25)
    out = seq.resample(fps)
    assert abs(out.duration - seq.duration) <= 0.5 / fps + 1e-9
    # A smooth signal stays on its curve: the pose columns are smooth functions of time.
    t = np.arange(out.num_frames) / fps
    inside = t <= (seq.num_frames - 1) / seq.fps
    np.testing.assert_allclose(out.pose[inside, 3], 0.01 * t[inside], atol=1e-6)


def test_resample_unwraps_angles(tiny):
    pose = np.zeros((2, 6))
    pose[:, 2] = [np.pi - 0.1, -np.pi + 0.1]  # roll crosses +-pi by 0.2 rad
    seq = CoeffSequence("tiny", 1, tiny.names, np.zeros((2, 3)), pose).resample(2)
    assert seq.pose[1, 2] == pytest.approx(np.pi, abs=1e-6)


def test_slice_and_concat(tiny):
    seq = tiny.sequence(frames=20)
    head, tail = seq.slice(0, 8), seq.slice(8)
    assert head.num_frames == 8 and tail.num_frames == 12
    np.testing.assert_array_equal(seq.slice(-3).pose, seq.pose[-3:])
    assert_same(CoeffSequence.concat([head, tail]), seq)
    with pytest.raises(ValueError, match="empty"):
        seq.slice(5, 5)
    with pytest.raises(ValueError, match="must all match"):
        CoeffSequence.concat([head, tail.resample(50)])


# -- mesh export ---------------------------------------------------------------------------
