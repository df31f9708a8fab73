import dataclasses
import json
import struct

import numpy as np
import pytest
import trimesh

from s2t.face import export as export_module
from s2t.face.coeffs import CoeffSequence
from s2t.face.export import export_gltf, export_obj_sequence
from s2t.face.model import FaceModel
from s2t.face.pose import apply_pose, rotation_matrix


def posed_geometry(seq: CoeffSequence, model: FaceModel) -> np.ndarray:
    return apply_pose(model.geometry(seq.expression), seq.pose)


def test_obj_sequence(tmp_path, tiny):
    model, seq = tiny.model(), tiny.sequence(frames=6)
    paths = export_obj_sequence(seq, model, tmp_path / "frames", progress=False)
    assert [p.name for p in paths] == [f"frame_{t:05d}.obj" for t in range(6)]
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [p.name for p in paths]
    expected = posed_geometry(seq, model)
    for t, path in enumerate(paths):
        mesh = trimesh.load(path, process=False)
        np.testing.assert_allclose(mesh.vertices, expected[t], atol=1e-6)
        np.testing.assert_array_equal(mesh.faces, model.triangles)


def test_export_checks_model(tmp_path, tiny):
    seq = tiny.sequence()
    other_names = CoeffSequence("tiny", 25, ("jawOpen", "eyeBlinkLeft", "mouthSmileLeft"), seq.expression, seq.pose)
    with pytest.raises(ValueError, match="channels do not match"):
        export_gltf(other_names, tiny.model(), tmp_path / "x.glb")
    wrong_model = CoeffSequence("arkit52", 25, tiny.names, seq.expression, seq.pose)
    with pytest.raises(ValueError, match="'arkit52'.*'tiny'"):
        export_obj_sequence(wrong_model, tiny.model(), tmp_path / "frames")


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
def test_gltf_export(tmp_path, units, scale, tiny):
    model, seq = tiny.model(units), tiny.sequence(frames=12, fps=30)
    path = export_gltf(seq, model, tmp_path / "take.glb")
    assert [p.name for p in tmp_path.iterdir()] == ["take.glb"]
    document, accessor = read_glb(path)

    primitive = document["meshes"][0]["primitives"][0]
    positions = accessor(primitive["attributes"]["POSITION"])
    np.testing.assert_allclose(positions, model.vertices * scale, atol=1e-7)
    assert document["accessors"][primitive["attributes"]["POSITION"]]["min"] == pytest.approx(positions.min(0).tolist())
    np.testing.assert_array_equal(accessor(primitive["indices"]).reshape(-1, 3), model.triangles)
    assert len(primitive["targets"]) == 3
    assert document["meshes"][0]["extras"]["targetNames"] == list(tiny.names)
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
    q = export_module._quaternions(angles)
    assert (np.sum(q[1:] * q[:-1], axis=1) > 0).all()
    for a, quat in zip(angles, q):
        np.testing.assert_allclose(quaternion_matrix(quat), rotation_matrix(a), atol=1e-9)


def test_gltf_without_expression_channels(tmp_path, tiny):
    rigid = dataclasses.replace(tiny.model(), expression_names=(), expression_basis=np.zeros((0, 36, 3), np.float32))
    seq = CoeffSequence("tiny", 25, (), np.zeros((4, 0)), tiny.sequence(frames=4).pose)
    document, _ = read_glb(export_gltf(seq, rigid, tmp_path / "rigid.glb"))
    assert "targets" not in document["meshes"][0]["primitives"][0]
    assert sorted(c["target"]["path"] for c in document["animations"][0]["channels"]) == ["rotation", "translation"]
