"""`s2t generate --renderer neural` and `s2t train style-a` with a random-weight Style-A folder at 128 px."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

from s2t.cli import main
from s2t.face import CoeffSequence
from s2t.face.rig.blendshapes import ARKIT_52
from s2t.style_a.neural.random_weights import tiny_config, write_random_style_a

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_neural")
    write_random_style_a(root / "style_a", tiny_config(), model_id="s2t-arkit52", channel_names=ARKIT_52)
    Image.fromarray(data.astronaut()).save(root / "photo.png")
    expression = np.zeros((5, 52))
    expression[:, ARKIT_52.index("jawOpen")] = np.linspace(0, 0.8, 5)
    CoeffSequence("s2t-arkit52", 25.0, ARKIT_52, expression, np.zeros((5, 6))).save(root / "take.npz")
    return root


def generate(files, out, *options) -> int:
    return main(["generate", "--image", str(files / "photo.png"), "--coeffs", str(files / "take.npz"),
                 "--size", "256", "-o", str(out), *options])


def test_neural_without_a_folder_or_with_missing_files_is_a_clear_exit_2(files, tmp_path, capsys):
    assert generate(files, tmp_path / "a.mp4", "--renderer", "neural") == 2
    assert "--style-a DIR" in capsys.readouterr().err
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "generator.pt").write_bytes(b"")
    assert generate(files, tmp_path / "a.mp4", "--style-a", str(tmp_path / "partial")) == 2
    error = capsys.readouterr().err
    assert "encoder.pt" in error and "style_a.pt" in error and "s2t train style-a" in error
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.slow
def test_generate_with_a_style_a_folder_renders_neurally(files, tmp_path):
    out = tmp_path / "neural.mp4"
    assert generate(files, out, "--style-a", str(files / "style_a")) == 0
    assert out.stat().st_size > 1000


@pytest.mark.slow
def test_train_style_a_smoke_run_then_resume(files, tmp_path, capsys):
    args = ["train", "style-a", "--style-a", str(files / "style_a"), "--out", str(tmp_path / "run"),
            "--photo", str(files / "photo.png"), "--coeffs", str(files / "take.npz"), "--batch-size", "2",
            "--sample-every", "1", "--save-every", "1"]
    assert main([*args, "--steps", "1"]) == 0
    assert (tmp_path / "run" / "data" / "dataset.json").is_file()
    assert main([*args, "--steps", "2", "--resume"]) == 0
    assert "style_a.pt" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step_0000001.pt",
                                                                                  "step_0000002.pt"]
    assert main(["train", "style-a", "--style-a", str(files / "style_a"), "--out", str(tmp_path / "x")]) == 2
