import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend import protocol as p

ROOT = Path(__file__).resolve().parents[2]


def roundtrip(message: p.Message, limits: p.Limits = p.Limits()) -> p.Message:
    return p.deserialize([bytes(f) for f in p.serialize(message)], limits)


def frames_of(header: dict, *buffers: bytes) -> list[bytes]:
    base = {"version": list(p.PROTOCOL_VERSION), "type": "status_request", "request_id": "r1", "content": {},
            "buffers": []}
    return [json.dumps({**base, **header}).encode(), *buffers]


def test_serialize_and_deserialize_are_inverse():
    arrays = {
        "expression": np.random.default_rng(0).random((7, 52), dtype=np.float32),
        "image": np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3),
        "scalar": np.array(5, np.int64),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 6), np.float64),
    }
    message = p.make_message("frame", {"index": 3, "nested": {"a": [1, 2.5, None, "x"]}},
                             {**arrays, "png": b"\x89PNG...", "nothing": b""}, job_id="j" * 32, request_id="r-1")
    back = roundtrip(message)
    for key in ("type", "content", "job_id", "request_id", "msg_id", "date", "version"):
        assert getattr(back, key) == getattr(message, key)
    assert list(back.buffers) == list(message.buffers)
    for name, array in arrays.items():
        assert back.buffers[name].dtype == array.dtype and np.array_equal(back.buffers[name], array)
    assert back.buffers["png"] == b"\x89PNG..." and back.buffers["nothing"] == b""


def test_arrays_travel_little_endian_and_contiguous():
    big = np.arange(12, dtype=">f4").reshape(3, 4).T  # big-endian and not contiguous
    back = roundtrip(p.make_message("x", buffers={"a": big}))
    assert back.buffers["a"].dtype == np.dtype("<f4") and np.array_equal(back.buffers["a"], big)


def test_no_pickle_object_arrays_are_refused_both_ways():
    with pytest.raises(ValueError, match="dtype"):
        p.serialize(p.make_message("x", buffers={"a": np.array([{"evil": 1}], dtype=object)}))
    frames = frames_of({"buffers": [{"name": "a", "nbytes": 8, "dtype": "|O", "shape": [1]}]}, b"\0" * 8)
    with pytest.raises(p.ProtocolError) as info:
        p.deserialize(frames)
    assert info.value.code == p.BAD_MESSAGE and info.value.request_id == "r1"


def test_unknown_fields_and_newer_minor_versions_are_accepted():
    frames = frames_of({"version": [p.PROTOCOL_VERSION[0], 99], "future": {"x": 1}, "content": {"new": True}})
    message = p.deserialize(frames)
    assert message.type == "status_request" and message.content == {"new": True}
    assert message.version == (p.PROTOCOL_VERSION[0], 99)


def test_another_major_version_is_a_clear_error():
    frames = frames_of({"version": [p.PROTOCOL_VERSION[0] + 1, 0]})
    with pytest.raises(p.ProtocolError) as info:
        p.deserialize(frames)
    assert info.value.code == p.VERSION_MISMATCH and info.value.request_id == "r1"
    assert "update the client or the backend" in info.value.message


@pytest.mark.parametrize("frames", [
    [b"\xff\xfe not utf-8"],
    [b"{not json"],
    [b"[1, 2]"],
    [b'{"type": "status_request"}'],                                  # no version
    [json.dumps({"version": "1.0", "type": "x"}).encode()],
    [json.dumps({"version": [1, 0], "type": "has space"}).encode()],
    [json.dumps({"version": [1, 0], "type": "x", "content": []}).encode()],
    [json.dumps({"version": [1, 0], "type": "x", "job_id": "../../etc/passwd"}).encode()],
    [b'{"version": [1, 0], "type": "x", "content": {"v": NaN}}'],
    [b"[" * 100_000],                                                 # nesting bomb
    frames_of({"buffers": [{"name": "a", "nbytes": 3}, {"name": "b", "nbytes": 3}]}, b"abc"),   # truncated
    frames_of({"buffers": [{"name": "a", "nbytes": 4}]}, b"abc"),                                # short frame
    frames_of({"buffers": [{"name": "a", "nbytes": 8, "dtype": "<f4", "shape": [3]}]}, b"\0" * 8),
    frames_of({"buffers": [{"name": "a", "nbytes": 3}, {"name": "a", "nbytes": 3}]}, b"abc", b"def"),
    frames_of({"buffers": [{"name": "../x", "nbytes": 3}]}, b"abc"),
    frames_of({"buffers": [{"name": "a", "nbytes": 4, "dtype": "<f4", "shape": [-1]}]}, b"\0" * 4),
], ids=lambda f: repr(bytes(f[0][:40])))  # fmt: skip
def test_malformed_messages_raise_bad_message(frames):
    with pytest.raises(p.ProtocolError) as info:
        p.deserialize(frames)
    assert info.value.code == p.BAD_MESSAGE


def test_sizes_are_checked_before_decoding():
    limits = p.Limits(max_header_bytes=200, max_buffer_bytes=10, max_buffers=2)
    with pytest.raises(p.ProtocolError, match="buffer frame 0") as info:
        p.deserialize([b"not even json", b"x" * 11], limits)
    assert info.value.code == p.TOO_LARGE
    with pytest.raises(p.ProtocolError, match="header") as info:
        p.deserialize([b" " * 201], limits)
    assert info.value.code == p.TOO_LARGE
    with pytest.raises(p.ProtocolError, match="3 buffer frames") as info:
        p.deserialize([b"{}", b"", b"", b""], limits)
    assert info.value.code == p.TOO_LARGE
    with pytest.raises(p.ProtocolError) as info:
        p.deserialize([])
    assert info.value.code == p.BAD_MESSAGE


def test_coefficients_pack_and_unpack():
    class Seq:
        model_id, fps, channel_names, metadata = "m", 25, ("a", "b"), {"seed": 1}
        expression = np.ones((4, 2))
        pose = np.zeros((4, 6))

    fields, buffers = p.pack_coefficients(Seq)
    back = p.unpack_coefficients(fields, roundtrip(p.make_message("c", fields, buffers)).buffers)
    assert back["channel_names"] == ("a", "b") and back["fps"] == 25.0 and back["metadata"] == {"seed": 1}
    assert back["expression"].dtype == np.float32 and back["expression"].shape == (4, 2)
    for fields_change, buffers_change in [({"fps": 0}, {}), ({"channel_names": ["a"]}, {}), ({"model_id": ""}, {}),
                                          ({}, {"pose": np.zeros((3, 6), np.float32)}), ({}, {"pose": b"raw"}),
                                          ({"metadata": []}, {})]:
        with pytest.raises(p.ProtocolError) as info:
            p.unpack_coefficients({**fields, **fields_change}, {**buffers, **buffers_change})
        assert info.value.code == p.BAD_INPUT


def test_the_catalogue_documents_this_version_every_type_and_code():
    text = (ROOT / "docs" / "protocol.md").read_text()
    versions = re.findall(r"Protocol version: \*\*(\d+)\.(\d+)\*\*", text)
    assert versions == [tuple(str(v) for v in p.PROTOCOL_VERSION)]
    for name in (*p.REQUEST_TYPES, *p.JOB_STREAM_TYPES, p.HELLO_REPLY, p.SUBMIT_REPLY, p.CANCEL_REPLY,
                 p.STATUS_REPLY, p.FETCH_REPLY, *p.ERROR_CODES):
        assert f"`{name}`" in text, name


def test_protocol_imports_with_the_standard_library_and_numpy_only():
    code = (
        "import sys\n"
        "for name in ('zmq', 'torch', 'PIL', 'scipy', 's2t'):\n"
        "    sys.modules[name] = None\n"
        "import backend.protocol as p\n"
        "frames = p.serialize(p.make_message('heartbeat'))\n"
        "assert p.deserialize(frames).type == 'heartbeat'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_render_art_encodes_presets_pictures_and_no_art():
    from backend.protocol import render_art

    assert render_art("comic", None, 0.7) == ({"art_preset": "comic", "art_strength": 0.7}, {})
    assert render_art(None, b"png bytes", 0.5) == ({"art_preset": None, "art_strength": 0.5}, {"art": b"png bytes"})
    assert render_art(None, None, 0.9) == ({"art_preset": None, "art_strength": 0.0}, {})  # no art: strength 0
    with pytest.raises(ValueError, match="not both"):
        render_art("comic", b"png bytes")
