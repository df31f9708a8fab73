"""The add-on inside real Blenders: pip ``bpy`` (``S2T_BPY_PYTHON``) and Debian's ``blender -b``.

Each runs ``blender_flow.py`` in a subprocess on a small rig and take written by the s2t
library, so the add-on reads exactly what the library writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s2t.face.coeffs import CoeffSequence
from s2t.face.model import FaceModel
from s2t.face.rig.blendshapes import ARKIT_52

FLOW = Path(__file__).with_name("blender_flow.py")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``rig.npz``: a 10x10 grid with 52 random ARKit-named shapes; ``take.npz``: 40 frames at 25 fps."""
    folder = tmp_path_factory.mktemp("addon")
    rng = np.random.default_rng(0)
    u, v = np.meshgrid(np.linspace(-0.1, 0.1, 10), np.linspace(-0.1, 0.1, 10))
    vertices = np.stack([u.ravel(), v.ravel(), np.zeros(100)], -1).astype(np.float32)
    quads = [(r * 10 + c, r * 10 + c + 1, r * 10 + c + 11, r * 10 + c + 10) for r in range(9) for c in range(9)]
    triangles = np.array([tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))], np.int32)
    FaceModel(
        model_id="test-grid", vertices=vertices, triangles=triangles, expression_names=ARKIT_52,
        expression_basis=rng.normal(0, 0.01, (52, 100, 3)).astype(np.float32),
        landmark_indices=np.arange(68), expression_bounds=np.tile(np.float32([0, 1]), (52, 1)),
    ).save(folder / "rig.npz")
    pose = np.concatenate([rng.uniform(-0.4, 0.4, (40, 3)), rng.uniform(-0.2, 0.2, (40, 3))], axis=1)
    CoeffSequence("test-grid", 25.0, ARKIT_52, rng.uniform(0, 1, (40, 52)), pose,
                  {"seed": 0}).save(folder / "take.npz")
    return folder


def run_flow(command: list[str], folder: Path) -> None:
    result = subprocess.run([*command, str(FLOW), "--", str(folder)], capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "FLOW OK" in output, output[-4000:]
    loaded = CoeffSequence.load(folder / "exported.npz")  # the library reads what the add-on wrote
    assert loaded.num_frames == 40 and loaded.metadata["seed"] == 0


def test_flow_in_pip_bpy(files: Path) -> None:
    python = os.environ.get("S2T_BPY_PYTHON")
    if not python or not Path(python).exists():
        pytest.skip("set S2T_BPY_PYTHON to a Python with `pip install bpy==5.0.1 'numpy<2'` to run the bpy flow")
    run_flow([python], files)


def test_flow_in_debian_blender(files: Path) -> None:
    blender = shutil.which("blender")
    if blender is None:
        pytest.skip("no `blender` on PATH (Debian: apt install blender python3-numpy)")
    run_flow([blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python"], files)


def test_addon_modules_import_without_torch_or_s2t() -> None:
    """The bpy-free part of the add-on imports with torch blocked; nothing pulls in s2t or bpy."""
    code = ("import sys; sys.modules['torch'] = None; import blender_addon, blender_addon.core; "
            "loaded = {name for name, module in sys.modules.items() if module is not None}; "
            "assert not loaded & {'s2t', 'bpy', 'torch'}, sorted(loaded)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
