"""The shared checkpoint toolkit: clear errors for bad files, atomic writes, the config mixin."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

import pytest
import torch

from s2t.checkpoint import (CheckpointError, CheckpointNotFoundError, ConfigMixin, atomic_save, atomic_write,
                            header, read_format, read_torch)


def test_read_torch_reads_tensors(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "a.pt")
    assert read_torch(tmp_path / "a.pt", "test")["w"].tolist() == [1.0, 1.0]


def test_missing_file_is_both_checkpoint_and_file_not_found_error(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match=r"test checkpoint not found: .*nowhere\.pt; expected X") as err:
        read_torch(tmp_path / "nowhere.pt", "test", expected="X")
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, ValueError)


def test_truncated_and_foreign_files_name_the_file(tmp_path):
    torch.save({"w": torch.ones(100)}, tmp_path / "full.pt")
    (tmp_path / "cut.pt").write_bytes((tmp_path / "full.pt").read_bytes()[:200])
    (tmp_path / "text.pt").write_text("hello")
    for name in ("cut.pt", "text.pt"):
        with pytest.raises(CheckpointError, match=rf"{name} is not a readable test checkpoint"):
            read_torch(tmp_path / name, "test")


def test_refused_class_is_named_with_the_hint(tmp_path):
    torch.save({"args": argparse.Namespace(a=1)}, tmp_path / "ns.pt")
    with pytest.raises(CheckpointError, match=r"argparse\.Namespace object.*not unpickled\. trust it"):
        read_torch(tmp_path / "ns.pt", "test", refused_hint="trust it")
    assert read_torch(tmp_path / "ns.pt", "test", safe_globals=[argparse.Namespace])["args"].a == 1


def test_read_format_checks_format_version_and_keys(tmp_path):
    atomic_save({**header("fmt", 2), "a": 1}, tmp_path / "ok.pt")
    assert read_format(tmp_path / "ok.pt", "Test", "fmt", 2, required=["a"])["a"] == 1
    assert read_format(tmp_path / "ok.pt", "Test", "fmt", 3)["format_version"] == 2
    with pytest.raises(CheckpointError, match="format version 2; this s2t reads up to 1. Update s2t"):
        read_format(tmp_path / "ok.pt", "Test", "fmt", 1)
    with pytest.raises(CheckpointError, match=r"is not a Test checkpoint \(no format 'other'\)"):
        read_format(tmp_path / "ok.pt", "Test", "other", 2)
    with pytest.raises(CheckpointError, match="damaged Test checkpoint: it has no 'b'"):
        read_format(tmp_path / "ok.pt", "Test", "fmt", 2, required=["b"])
    torch.save({"format": "fmt", "version": 1}, tmp_path / "legacy.pt")  # the old Style-A key
    assert read_format(tmp_path / "legacy.pt", "Test", "fmt", 1)["version"] == 1


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    path = tmp_path / "out.bin"
    atomic_write(path, b"old")
    assert path.read_bytes() == b"old" and oct(path.stat().st_mode & 0o777) == "0o644"

    def fail(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]
    atomic_write(path, lambda f: f.write(b"new"), mode=None)
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o077 == 0


@dataclass(frozen=True)
class Inner(ConfigMixin):
    config_name = "inner config"
    width: int = 4
    sizes: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Outer(ConfigMixin):
    name: str = "x"
    inner: Inner = field(default_factory=Inner)
    optional: Inner | None = None


def test_config_mixin_round_trips_nested_configs():
    config = Outer("y", Inner(8, (3,)), Inner(1))
    values = config.to_dict()
    assert values == {"name": "y", "inner": {"width": 8, "sizes": (3,)}, "optional": {"width": 1, "sizes": (1, 2)}}
    assert Outer.from_dict(values) == config
    assert Outer.from_dict({"inner": {"sizes": [5, 6]}}).inner.sizes == (5, 6)  # lists from JSON become tuples
    with pytest.raises(ValueError, match=r"unknown inner config fields \['depth'\]; known: \['sizes', 'width'\]"):
        Outer.from_dict({"inner": {"depth": 1}})
