import dataclasses
import json
import struct
import zipfile

import numpy as np
import pytest
import scipy.io
import trimesh

from s2t.face import coeffs as coeffs_module
from s2t.face.coeffs import (
    BFM_EXPRESSION_NAMES,
    BFM_MODEL_ID,
    FORMAT_VERSION,
    CoeffSequence,
    export_gltf,
    export_obj_sequence,
)
from s2t.face.model import FaceModel
from s2t.face.pose import apply_pose, rotation_matrix

NAMES = ("jawOpen", "mouthSmileLeft", "eyeBlinkLeft")


def tiny_model(units: str = "m") -> FaceModel:
    """A 6x6 curved grid with 3 random blendshapes and 68 (repeating) landmark indices."""
    rng = np.random.default_rng(0)
    n = 6
    x, y = np.meshgrid(np.linspace(-0.08, 0.08, n), np.linspace(-0.1, 0.1, n))
    vertices = np.stack([x.ravel(), y.ravel(), 0.05 - x.ravel() ** 2 - y.ravel() ** 2], -1).astype(np.float32)
    quads = [(r * n + c, r * n + c + 1, (r + 1) * n + c, (r + 1) * n + c + 1) for r in range(n - 1) for c in range(n - 1)]
    triangles = np.array([t for a, b, c, d in quads for t in ((a, b, d), (a, d, c))], np.int64)
    return FaceModel(
        model_id="tiny",
        vertices=vertices,
        triangles=triangles,
        expression_names=NAMES,
        expression_basis=rng.normal(0, 0.01, (3, n * n, 3)).astype(np.float32),
        landmark_indices=np.arange(68) % (n * n),
        units=units,
    )


def tiny_sequence(frames: int = 20, fps: float = 25.0) -> CoeffSequence:
    rng = np.random.default_rng(1)
    t = np.arange(frames) / fps
    pose = np.stack([0.1 * np.sin(t), 0.2 * np.sin(2 * t), 0.05 * np.cos(t), 0.01 * t, -0.02 * t, 0.03 * np.sin(t)], -1)
    return CoeffSequence(
        model_id="tiny",
        fps=fps,
        channel_names=NAMES,
        expression=rng.uniform(0, 1, (frames, 3)),
        pose=pose,
        metadata={"audio": "hello.wav", "seed": 7, "style": {"emotion": "happy", "strength": 0.5}},
    )


def assert_same(a: CoeffSequence, b: CoeffSequence) -> None:
    assert (a.model_id, a.fps, a.channel_names, a.metadata) == (b.model_id, b.fps, b.channel_names, b.metadata)
    np.testing.assert_array_equal(a.expression, b.expression)
    np.testing.assert_array_equal(a.pose, b.pose)


# -- the sequence object -------------------------------------------------------------------


def test_properties_and_channel():
    seq = tiny_sequence(frames=50, fps=25)
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
def test_validation(change, message):
    seq = tiny_sequence()
    fields = dict(model_id=seq.model_id, fps=seq.fps, channel_names=seq.channel_names,
                  expression=seq.expression, pose=seq.pose, metadata=seq.metadata)
    with pytest.raises(ValueError, match=message):
        CoeffSequence(**{**fields, **change})


def test_metadata_is_normalised_and_copied():
    source = {"inputs": ("a.wav", "b.png")}
    seq = CoeffSequence("tiny", 25, NAMES, np.zeros((2, 3)), np.zeros((2, 6)), source)
    assert seq.metadata == {"inputs": ["a.wav", "b.png"]}
    source["inputs"] = "changed"
    assert seq.metadata["inputs"] == ["a.wav", "b.png"]


# -- save / load ---------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    seq = tiny_sequence()
    path = tmp_path / "take.npz"
    seq.save(path)
    assert_same(CoeffSequence.load(path), seq)
    assert [p.name for p in tmp_path.iterdir()] == ["take.npz"]


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "take.npz"
    tiny_sequence().save(path)
    before = path.read_bytes()

    def broken(file, **arrays):
        file.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(coeffs_module.np, "savez_compressed", broken)
    with pytest.raises(KeyboardInterrupt):
        tiny_sequence(frames=5).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["take.npz"]


def test_load_rejects_random_bytes(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(ValueError, match="noise.npz"):
        CoeffSequence.load(path)


def test_load_rejects_truncated_file(tmp_path):
    path = tmp_path / "take.npz"
    tiny_sequence(frames=200).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="take.npz"):
        CoeffSequence.load(path)


def test_load_rejects_other_npz_and_npy(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*no header"):
        CoeffSequence.load(tmp_path / "other.npz")
    tiny_model().save(tmp_path / "model.npz")  # our header, but a different format
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


def test_load_rejects_newer_version(tmp_path):
    path = tmp_path / "future.npz"
    tiny_sequence().save(path)
    rewrite_header(path, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match="future.npz.*format version 2.*Update s2t"):
        CoeffSequence.load(path)


def test_load_rejects_damaged_contents(tmp_path):
    path = tmp_path / "damaged.npz"
    tiny_sequence().save(path)
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


def test_sadtalker_export_refuses_other_models(tmp_path):
    with pytest.raises(ValueError, match="'tiny'.*Basel"):
        tiny_sequence().to_sadtalker_mat(tmp_path / "x.mat")
    assert not list(tmp_path.iterdir())


# -- editing -------------------------------------------------------------------------------


def test_resample_round_trip_and_duration():
    seq = tiny_sequence(frames=100, fps=25)
    up = seq.resample(50)
    assert up.fps == 50 and up.num_frames == 200 and up.duration == pytest.approx(seq.duration)
    np.testing.assert_allclose(up.expression[::2], seq.expression, atol=1e-6)
    np.testing.assert_allclose(up.expression[1:-1:2], (seq.expression[:-1] + seq.expression[1:]) / 2, atol=1e-6)
    assert up.metadata == seq.metadata
    back = up.resample(25)
    np.testing.assert_allclose(back.expression, seq.expression, atol=1e-6)
    np.testing.assert_allclose(back.pose, seq.pose, atol=1e-6)


@pytest.mark.parametrize("fps", [24.0, 29.97, 60.0, 10.0])
def test_resample_duration_within_a_frame(fps):
    seq = tiny_sequence(frames=77, fps=25)
    out = seq.resample(fps)
    assert abs(out.duration - seq.duration) <= 0.5 / fps + 1e-9
    # A smooth signal stays on its curve: the pose columns are smooth functions of time.
    t = np.arange(out.num_frames) / fps
    inside = t <= (seq.num_frames - 1) / seq.fps
    np.testing.assert_allclose(out.pose[inside, 3], 0.01 * t[inside], atol=1e-6)


def test_resample_unwraps_angles():
    pose = np.zeros((2, 6))
    pose[:, 2] = [np.pi - 0.1, -np.pi + 0.1]  # roll crosses +-pi by 0.2 rad
    seq = CoeffSequence("tiny", 1, NAMES, np.zeros((2, 3)), pose).resample(2)
    assert seq.pose[1, 2] == pytest.approx(np.pi, abs=1e-6)


def test_slice_and_concat():
    seq = tiny_sequence(frames=20)
    head, tail = seq.slice(0, 8), seq.slice(8)
    assert head.num_frames == 8 and tail.num_frames == 12
    np.testing.assert_array_equal(seq.slice(-3).pose, seq.pose[-3:])
    assert_same(CoeffSequence.concat([head, tail]), seq)
    with pytest.raises(ValueError, match="empty"):
        seq.slice(5, 5)
    with pytest.raises(ValueError, match="must all match"):
        CoeffSequence.concat([head, tail.resample(50)])


# -- mesh export ---------------------------------------------------------------------------


def posed_geometry(seq: CoeffSequence, model: FaceModel) -> np.ndarray:
    return apply_pose(model.geometry(seq.expression), seq.pose)


def test_obj_sequence(tmp_path):
    model, seq = tiny_model(), tiny_sequence(frames=6)
    paths = export_obj_sequence(seq, model, tmp_path / "frames", progress=False)
    assert [p.name for p in paths] == [f"frame_{t:05d}.obj" for t in range(6)]
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [p.name for p in paths]
    expected = posed_geometry(seq, model)
    for t, path in enumerate(paths):
        mesh = trimesh.load(path, process=False)
        np.testing.assert_allclose(mesh.vertices, expected[t], atol=1e-6)
        np.testing.assert_array_equal(mesh.faces, model.triangles)


def test_export_checks_model(tmp_path):
    seq = tiny_sequence()
    other_names = CoeffSequence("tiny", 25, ("jawOpen", "eyeBlinkLeft", "mouthSmileLeft"), seq.expression, seq.pose)
    with pytest.raises(ValueError, match="channels do not match"):
        export_gltf(other_names, tiny_model(), tmp_path / "x.glb")
    wrong_model = CoeffSequence("arkit52", 25, NAMES, seq.expression, seq.pose)
    with pytest.raises(ValueError, match="'arkit52'.*'tiny'"):
        export_obj_sequence(wrong_model, tiny_model(), tmp_path / "frames")


def read_glb(path):
    data = path.read_bytes()
    magic, version, total = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, total) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON" and json_length % 4 == 0
    document = json.loads(data[20 : 20 + json_length])
    bin_offset = 20 + json_length
    bin_length, bin_type = struct.unpack_from("<I4s", data, bin_offset)
    assert bin_type == b"BIN\0" and bin_length % 4 == 0 and bin_offset + 8 + bin_length == len(data)
    blob = data[bin_offset + 8 :]
    assert document["buffers"][0]["byteLength"] <= bin_length

    def accessor(index):
        acc = document["accessors"][index]
        view = document["bufferViews"][acc["bufferView"]]
        dtype = {5126: np.float32, 5125: np.uint32}[acc["componentType"]]
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
        values = np.frombuffer(blob, dtype, acc["count"] * width, view["byteOffset"] + acc.get("byteOffset", 0))
        return values.reshape(acc["count"], width)

    return document, accessor


def quaternion_matrix(xyzw):
    x, y, z, w = xyzw
    return trimesh.transformations.quaternion_matrix([w, x, y, z])[:3, :3]


@pytest.mark.parametrize("units, scale", [("m", 1.0), ("dm", 0.1)])
def test_gltf_export(tmp_path, units, scale):
    model, seq = tiny_model(units), tiny_sequence(frames=12, fps=30)
    path = export_gltf(seq, model, tmp_path / "take.glb")
    assert [p.name for p in tmp_path.iterdir()] == ["take.glb"]
    document, accessor = read_glb(path)

    primitive = document["meshes"][0]["primitives"][0]
    positions = accessor(primitive["attributes"]["POSITION"])
    np.testing.assert_allclose(positions, model.vertices * scale, atol=1e-7)
    assert document["accessors"][primitive["attributes"]["POSITION"]]["min"] == pytest.approx(positions.min(0).tolist())
    np.testing.assert_array_equal(accessor(primitive["indices"]).reshape(-1, 3), model.triangles)
    assert len(primitive["targets"]) == 3
    assert document["meshes"][0]["extras"]["targetNames"] == list(NAMES)
    assert document["meshes"][0]["weights"] == [0.0, 0.0, 0.0]
    deltas = np.stack([accessor(target["POSITION"]) for target in primitive["targets"]])
    np.testing.assert_allclose(deltas, model.expression_basis * scale, atol=1e-7)

    animation = document["animations"][0]
    paths = {c["target"]["path"]: animation["samplers"][c["sampler"]] for c in animation["channels"]}
    assert set(paths) == {"weights", "rotation", "translation"}
    assert all(c["target"]["node"] == 0 for c in animation["channels"])
    for sampler in paths.values():
        times = accessor(sampler["input"]).ravel()
        np.testing.assert_allclose(times, np.arange(12) / 30, rtol=1e-6)
        assert document["accessors"][sampler["input"]]["max"] == pytest.approx([11 / 30])
    weights = accessor(paths["weights"]["output"])
    assert weights.shape == (12 * 3, 1)
    np.testing.assert_allclose(weights.reshape(12, 3), seq.expression)
    rotations = accessor(paths["rotation"]["output"])
    translations = accessor(paths["translation"]["output"])
    np.testing.assert_allclose(np.linalg.norm(rotations, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(translations, seq.pose[:, 3:] * scale, atol=1e-7)

    # What a glTF viewer shows at frame t (morphs, then node R and t) is the posed model geometry.
    expected = posed_geometry(seq, model) * scale
    for t in range(12):
        np.testing.assert_allclose(quaternion_matrix(rotations[t]), rotation_matrix(seq.pose[t, :3]), atol=1e-6)
        morphed = positions + np.tensordot(weights.reshape(12, 3)[t], deltas, axes=1)
        shown = morphed @ quaternion_matrix(rotations[t]).T + translations[t]
        np.testing.assert_allclose(shown, expected[t], atol=1e-6)

    scene = trimesh.load(path, process=False)
    (mesh,) = scene.geometry.values()
    assert len(mesh.vertices) == model.num_vertices and len(mesh.faces) == len(model.triangles)
    np.testing.assert_allclose(mesh.vertices, model.vertices * scale, atol=1e-6)


def test_gltf_quaternions_stay_in_one_hemisphere():
    angles = np.zeros((50, 3))
    angles[:, 1] = np.linspace(0, 4 * np.pi, 50)  # two full turns: q flips sign every turn
    q = coeffs_module._quaternions(angles)
    assert (np.sum(q[1:] * q[:-1], axis=1) > 0).all()
    for a, quat in zip(angles, q):
        np.testing.assert_allclose(quaternion_matrix(quat), rotation_matrix(a), atol=1e-9)


def test_gltf_without_expression_channels(tmp_path):
    rigid = dataclasses.replace(tiny_model(), expression_names=(), expression_basis=np.zeros((0, 36, 3), np.float32))
    seq = CoeffSequence("tiny", 25, (), np.zeros((4, 0)), tiny_sequence(frames=4).pose)
    document, _ = read_glb(export_gltf(seq, rigid, tmp_path / "rigid.glb"))
    assert "targets" not in document["meshes"][0]["primitives"][0]
    assert sorted(c["target"]["path"] for c in document["animations"][0]["channels"]) == ["rotation", "translation"]
