"""The add-on inside real Blenders: pip ``bpy`` (``S2T_BPY_PYTHON``, the checkout's add-on) and
Debian's ``blender -b`` (the packaged zip from ``tools/build_addon.py``, installed as a user would).

``blender_flow.py`` runs the file operators on a small rig and take written by the s2t
library; ``backend_flow.py`` runs the whole animator's flow against a real backend on
loopback, and the test checks what reached the backend against what Blender keyed.
"""

from __future__ import annotations

import json
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
BACKEND_FLOW = Path(__file__).with_name("backend_flow.py")
CHARACTER_FLOW = Path(__file__).with_name("character_flow.py")
REPO = Path(__file__).resolve().parents[2]


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


def bpy_python() -> list[str]:
    python = os.environ.get("S2T_BPY_PYTHON")
    if not python or not Path(python).exists():
        pytest.skip("set S2T_BPY_PYTHON to a Python with `pip install bpy==5.0.1 'numpy<2' pyzmq` to run the bpy flow")
    return [python]


def debian_blender() -> list[str]:
    blender = shutil.which("blender")
    if blender is None:
        pytest.skip("no `blender` on PATH (Debian: apt install blender python3-numpy)")
    return [blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python"]


@pytest.fixture(scope="module")
def addon_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The legacy add-on zip for this machine, built as a release would be."""
    out = tmp_path_factory.mktemp("dist")
    wheels = Path(os.environ.get("S2T_WHEEL_CACHE", str(tmp_path_factory.getbasetemp() / "wheels")))
    subprocess.run([sys.executable, str(REPO / "tools" / "build_addon.py"), "--platform", "linux-x64", "--out",
                    str(out), "--wheels", str(wheels)], check=True, capture_output=True, timeout=300)
    return next(out.glob("style2talker-*-addon-linux-x64.zip"))


def packaged(addon_zip: Path, tmp_path: Path) -> dict:
    """Environment that makes the flow scripts install ``addon_zip`` into a private user folder."""
    return {"S2T_ADDON_ZIP": str(addon_zip), "BLENDER_USER_SCRIPTS": str(tmp_path / "user-scripts")}


def run_script(command: list[str], script: Path, folder: Path, marker: str, env: dict | None = None) -> str:
    result = subprocess.run([*command, str(script), "--", str(folder)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, **(env or {})})
    output = result.stdout + result.stderr
    assert result.returncode == 0 and marker in output, output[-4000:]
    return output


def check_file_flow(folder: Path) -> None:
    loaded = CoeffSequence.load(folder / "exported.npz")  # the library reads what the add-on wrote
    assert loaded.num_frames == 40 and loaded.metadata["seed"] == 0


@pytest.mark.slow
def test_flow_in_pip_bpy(files: Path) -> None:
    run_script(bpy_python(), FLOW, files, "FLOW OK")
    check_file_flow(files)


@pytest.mark.slow
def test_flow_in_debian_blender(files: Path, addon_zip: Path, tmp_path: Path) -> None:
    run_script(debian_blender(), FLOW, files, "FLOW OK", packaged(addon_zip, tmp_path))
    check_file_flow(files)


@pytest.mark.slow
def test_character_flow_in_pip_bpy(files: Path) -> None:
    run_script(bpy_python(), CHARACTER_FLOW, files, "CHARACTER FLOW OK")


@pytest.mark.slow
def test_character_flow_in_debian_blender(files: Path, addon_zip: Path, tmp_path: Path) -> None:
    run_script(debian_blender(), CHARACTER_FLOW, files, "CHARACTER FLOW OK", packaged(addon_zip, tmp_path))


@pytest.fixture
def backend_inputs(tmp_path: Path):
    """A running backend on loopback and the animator's inputs: a photo and 2 s of the sample speech."""
    import soundfile
    from PIL import Image
    from skimage import data

    from backend.jobs import default_kinds
    from backend.server import Server, ServerConfig

    folder = tmp_path / "shot"
    folder.mkdir()
    Image.fromarray(data.astronaut()).save(folder / "photo.png")
    Image.new("RGB", (256, 256), (128, 128, 128)).save(folder / "blank.png")
    speech, rate = soundfile.read(REPO / "s2t" / "assets" / "samples" / "speech.wav")
    soundfile.write(folder / "speech.wav", speech[: 2 * rate], rate)
    server = Server(ServerConfig(bind="tcp://127.0.0.1:*", jobs_dir=tmp_path / "jobs", heartbeat_interval=0.2),
                    default_kinds()).start()
    yield folder, server
    server.stop()


def check_backend_flow(folder: Path, jobs_dir: Path, output: str) -> dict:
    """What Blender keyed is what Style-E sent; what the render job got has the animator's edit."""
    result = json.loads((folder / "flow.json").read_text())
    manifests = sorted((json.loads(p.read_text()) for p in jobs_dir.glob("*/job.json")), key=lambda m: m["created"])
    assert manifests[0]["kind"] == "rig" and manifests[0]["state"] == "failed"  # the photo without a face
    manifests = manifests[1:]
    assert [m["kind"] for m in manifests] == ["rig", "coefficients", "render", "render", "coefficients", "render",
                                              "coefficients", "render"]
    assert [m["state"] for m in manifests] == ["finished"] * 5 + ["cancelled"] + ["finished"] * 2
    coefficients = jobs_dir / manifests[1]["job_id"] / "outputs"
    expression = np.load(next(coefficients.glob("*-coefficients-expression.npy")))
    jaw = ARKIT_52.index("jawOpen")
    keyed = np.array(result["keyed"])
    assert len(keyed) == len(expression) == result["frames"]
    assert np.allclose(keyed[:, 0], 11 + np.arange(len(expression)))
    assert np.abs(keyed[:, 1] - expression[:, jaw]).max() < 1e-6  # the keys are Style-E's values
    sent = np.load(jobs_dir / manifests[2]["job_id"] / "inputs" / "expression.npy")
    edit = result["edit_index"]
    assert abs(sent[edit, jaw] - result["edit_value"]) < 1e-5  # the render got the hand-edited curve
    others = np.delete(np.arange(len(sent)), edit)
    assert np.abs(sent[others, jaw] - expression[others, jaw]).max() < 1e-5
    variants = sorted((jobs_dir / manifests[4]["job_id"] / "outputs").glob("*-coefficients-expression.npy"))
    assert manifests[4]["params"]["variants"] == 2 and len(variants) == 2  # one take per seed
    assert not np.array_equal(np.load(variants[0]), np.load(variants[1]))
    frames = sorted(Path(result["frame_dir"]).glob("*.png"))
    assert len(frames) == len(expression) and frames[0].name == "000001.png"
    assert f"Style2Talker error: Build Face Rig failed: {result['failure']}\n" in output  # the log has it all

    # the take on the animator's own character: keyed by mapping, and its edit is what the render got
    hero = result["hero"]
    generated = np.load(next((jobs_dir / manifests[6]["job_id"] / "outputs").glob("*-coefficients-expression.npy")))
    track = manifests[6]["params"]["emotion_track"]  # from the timeline marker, timed from the take's start
    assert [cue["text"] for cue in track][-1] == "She turns angry, frowning." and track[-1]["start"] > 0
    assert np.abs(np.array(hero["keyed"]) - generated[:, jaw]).max() < 1e-6
    sent = np.load(jobs_dir / manifests[7]["job_id"] / "inputs" / "expression.npy")
    assert abs(sent[hero["edit_index"], jaw] - hero["edit_value"]) < 1e-5
    others = np.delete(np.arange(len(sent)), hero["edit_index"])
    assert np.abs(sent[others] - generated[others]).max() < 1e-5
    return result


@pytest.mark.slow
def test_backend_flow_in_pip_bpy(backend_inputs) -> None:
    folder, server = backend_inputs
    output = run_script(bpy_python(), BACKEND_FLOW, folder, "BACKEND FLOW OK", {"S2T_BACKEND": server.endpoint})
    result = check_backend_flow(folder, server.config.jobs_dir, output)
    print(output.strip().splitlines()[-1], result["longest_tick_ms"])


@pytest.mark.slow
def test_backend_flow_in_debian_blender(backend_inputs, addon_zip: Path, tmp_path: Path) -> None:
    folder, server = backend_inputs
    output = run_script(debian_blender(), BACKEND_FLOW, folder, "BACKEND FLOW OK",
                        {"S2T_BACKEND": server.endpoint, **packaged(addon_zip, tmp_path)})
    check_backend_flow(folder, server.config.jobs_dir, output)


def test_addon_modules_import_without_torch_or_s2t() -> None:
    """The bpy-free part of the add-on imports with torch blocked; nothing pulls in s2t or bpy."""
    code = ("import sys; sys.modules['torch'] = None; import blender_addon, blender_addon.core, blender_addon.retarget; "
            "loaded = {name for name, module in sys.modules.items() if module is not None}; "
            "assert not loaded & {'s2t', 'bpy', 'torch'}, sorted(loaded)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


ENABLE_WITHOUT_NUMPY = """
import sys
import bpy

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'numpy':
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

for name in [name for name in sys.modules if name.split('.')[0] == 'numpy']:
    del sys.modules[name]
sys.meta_path.insert(0, Block())
bpy.ops.preferences.addon_install(filepath=sys.argv[-1], overwrite=True)
try:
    bpy.ops.preferences.addon_enable(module='style2talker')
except RuntimeError as exc:
    print('REPORTED:', str(exc).strip().splitlines()[-1])
print('ENABLED' if 'style2talker' in bpy.context.preferences.addons else 'NOT ENABLED')
"""


@pytest.mark.slow
def test_enabling_in_debian_blender_without_numpy_says_what_to_install(addon_zip: Path, tmp_path: Path) -> None:
    """Debian's Blender runs the system Python; without python3-numpy the add-on refuses to
    enable with one line saying what to install, not "No module named 'numpy'"."""
    command = debian_blender()[:-1] + ["--python-expr", ENABLE_WITHOUT_NUMPY, "--", str(addon_zip)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, **packaged(addon_zip, tmp_path)})
    output = result.stdout + result.stderr
    assert "NOT ENABLED" in output, output[-3000:]
    assert ("REPORTED: RuntimeError: Style2Talker needs numpy, which this Blender's Python lacks. A Debian or Ubuntu "
            "Blender uses the system Python: run `sudo apt install python3-numpy`") in output, output[-3000:]
