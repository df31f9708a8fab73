import json
import shutil

import av
import numpy as np
import pytest
import trimesh
from PIL import Image

from s2t.cli import main
from s2t.face import CoeffSequence, FaceModel
from s2t.demo import perform_sample
from s2t.face.rig import build_rig
from s2t.face.rig.blendshapes import ARKIT_52


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "fit-face", "rig", "coeffs"):
        assert command in out


def test_demo_writes_video_coefficients_glb_and_pictures(tmp_path):
    emotion = "The man widens his eyes, feeling shocked."
    assert main(["demo", "-o", str(tmp_path), "--size", "256", "--emotion", emotion]) == 0
    seq = CoeffSequence.load(tmp_path / "coeffs.npz")
    assert seq.model_id == "s2t-arkit52" and seq.fps == 25
    assert seq.expression.min() >= 0 and seq.expression.max() <= 1
    reference = perform_sample(build_rig(), "surprised")  # the procedural performer, from the phone timings
    n = min(seq.num_frames, reference.num_frames)
    assert np.corrcoef(seq.channel("jawOpen")[:n], reference.channel("jawOpen")[:n])[0, 1] > 0.7  # lip sync
    wide = seq.channel("eyeWideLeft").mean()
    assert wide > 0.15  # the sentence asks for wide eyes
    with av.open(str(tmp_path / "demo.mp4")) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.frames == seq.num_frames and video.width == 256
        assert float(audio.duration * audio.time_base) == pytest.approx(seq.duration, abs=0.05)
    assert Image.open(tmp_path / "fit_overlay.png").size == (256, 256)
    assert Image.open(tmp_path / "preview.png").size[0] > 0
    scene = trimesh.load(tmp_path / "face.glb")
    assert sum(len(g.vertices) for g in scene.geometry.values()) == 10845


def test_fit_face_prints_json_and_writes_overlay(tmp_path, capsys):
    from skimage import data

    photo = tmp_path / "photo.png"
    Image.fromarray(data.astronaut()).save(photo)
    overlay = tmp_path / "overlay.png"
    assert main(["fit-face", str(photo), "-o", str(overlay)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_id"] == "s2t-arkit52" and result["rms_px"] < 10
    assert set(result["pose"]) == {"pitch", "yaw", "roll", "tx", "ty", "tz"}
    assert overlay.is_file()


@pytest.mark.parametrize("content", [b"", b"not an image at all"])
def test_fit_face_rejects_bad_files_with_exit_code_2(tmp_path, capsys, content):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    assert main(["fit-face", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("s2t: error:") and "bad.jpg" in err and "Traceback" not in err


def test_fit_face_on_a_photo_without_a_face(tmp_path, capsys):
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((300, 300, 3), 200, np.uint8)).save(blank)
    assert main(["fit-face", str(blank)]) == 2
    assert "no face" in capsys.readouterr().err


def test_rig_export_formats(tmp_path):
    for name in ("rig.glb", "rig.obj", "rig.npz"):
        assert main(["rig", "export", "-o", str(tmp_path / name)]) == 0
    assert len(trimesh.load(tmp_path / "rig.obj", process=False).vertices) == 10845
    assert FaceModel.load(tmp_path / "rig.npz").num_expressions == 52
    assert main(["rig", "export", "-o", str(tmp_path / "rig.fbx")]) == 2


def test_coeffs_info_export_and_convert(tmp_path, capsys):
    seq = CoeffSequence("s2t-arkit52", 25.0, ARKIT_52,
                        np.random.default_rng(0).uniform(0, 1, (10, 52)), np.zeros((10, 6)), {"seed": 3})
    path = tmp_path / "c.npz"
    seq.save(path)
    assert main(["coeffs", "info", str(path)]) == 0
    assert "10 frames at 25 fps" in capsys.readouterr().out
    assert main(["coeffs", "export", str(path), "-o", str(tmp_path / "anim.glb")]) == 0
    assert main(["coeffs", "export", str(path), "-o", str(tmp_path / "objs")]) == 0
    assert len(list((tmp_path / "objs").glob("*.obj"))) == 10
    assert main(["coeffs", "convert", str(path), "-o", str(tmp_path / "same.npz")]) == 0
    back = CoeffSequence.load(tmp_path / "same.npz")
    assert back.num_frames == 10 and back.channel_names == seq.channel_names
    assert main(["coeffs", "info", str(tmp_path / "missing.npz")]) == 2



def test_corpus_synth_builds_and_resumes(tmp_path, capsys):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (CI installs it)")
    out = tmp_path / "corpus"
    assert main(["corpus", "synth", "-o", str(out), "--hours", "0.002", "--quiet", "--workers", "1"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["clips"] >= 1 and first["new_clips"] == first["clips"]
    assert main(["corpus", "synth", "-o", str(out), "--hours", "0.002", "--quiet", "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["new_clips"] == 0
    assert main(["corpus", "annotate", "--corpus", str(out), "--quiet", "--export", str(tmp_path / "ann.json")]) == 0
    capsys.readouterr()
    annotations = json.loads((tmp_path / "ann.json").read_text())
    assert len(annotations) == first["clips"] and all(len(set(texts)) == 5 for texts in annotations.values())


def test_corpus_from_video_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["corpus", "from-video", str(tmp_path / "nowhere"), "--layout", "folder", "-o", str(tmp_path / "c")]) == 2
    assert "nowhere" in capsys.readouterr().err
