import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import trimesh
from PIL import Image

import s2t
from s2t.cli import main
from s2t.face import CoeffSequence, FaceModel
from s2t.data.samples import perform_sample
from s2t.face.rig import build_rig
from s2t.face.rig.blendshapes import ARKIT_52


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "fit-face", "rig", "coeffs"):
        assert command in out


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_rig_export_formats(tmp_path):
    for name in ("rig.glb", "rig.obj", "rig.npz"):
        assert main(["rig", "export", "-o", str(tmp_path / name)]) == 0
    assert len(trimesh.load(tmp_path / "rig.obj", process=False).vertices) == 10845
    assert FaceModel.load(tmp_path / "rig.npz").num_expressions == 52
    assert main(["rig", "export", "-o", str(tmp_path / "rig.fbx")]) == 2


@pytest.mark.slow
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



@pytest.mark.slow
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


SPEECH = str(Path(s2t.__file__).parent / "assets" / "samples" / "speech.wav")  # 7.9 s


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("s2t: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("argv, says", [
    (["generate", "--image", "x.png", "--size", "333", "-o", "a.mp4"], "invalid choice: 333"),
    (["generate", "--image", "x.png"], "the following arguments are required: -o/--out"),
    (["rig", "export", "--frobnicate", "-o", "x.glb"], "unrecognized arguments: --frobnicate"),
])  # fmt: skip
def test_a_bad_command_line_is_one_error_line(capsys, argv, says):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and says in one_error_line(capsys)


@pytest.mark.parametrize("emotion, says", [("", "got nothing"), ("  \t ", "nothing but spaces"),
                                           ("x" * 100_000, "got 100000 characters")])
def test_the_emotion_follows_the_backends_rule(tmp_path, capsys, emotion, says):
    out = tmp_path / "take.npz"
    assert main(["generate-coeffs", "--audio", SPEECH, "--emotion", emotion, "-o", str(out)]) == 2
    assert "the emotion must describe it in words (1 to 2000 characters)" in one_error_line(capsys)
    assert not out.exists()
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photo)
    assert main(["generate", "--image", str(photo), "--audio", SPEECH, "--emotion", emotion, "-o",
                 str(tmp_path / "x.mp4")]) == 2
    assert says in one_error_line(capsys)


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import s2t.style_e.checkpoint

    monkeypatch.setattr(s2t.style_e.checkpoint, "load_style_e", lambda *a, **k: pytest.fail("work began"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    for argv in (["generate-coeffs", "--audio", SPEECH, "--emotion", "calm", "-o", str(blocker / "take.npz")],
                 ["rig", "sheet", "-o", str(blocker / "sub" / "sheet.png")],
                 ["demo", "-o", str(blocker / "out")]):
        assert main(argv) == 2
        assert f"{blocker} is a file, not a folder" in one_error_line(capsys)


def test_speech_over_the_length_limit_and_unreadable_audio_are_one_line(tmp_path, capsys):
    out = str(tmp_path / "take.npz")
    assert main(["generate-coeffs", "--audio", SPEECH, "--emotion", "calm", "--max-audio-minutes", "0.05",
                 "-o", out]) == 2
    assert "lasts 7.9 s; the limit is 3.0 s (--max-audio-minutes raises it)" in one_error_line(capsys)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(40))
    assert main(["generate-coeffs", "--audio", str(junk), "--emotion", "calm", "-o", out]) == 2
    err = one_error_line(capsys)
    assert "cannot read the audio file" in err and "junk.wav" in err and "Errno" not in err


def test_an_interrupt_before_rendering_promises_no_partial_file(tmp_path, capsys, monkeypatch):
    import s2t.style_e.checkpoint

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(s2t.style_e.checkpoint, "load_style_e", interrupt)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photo)
    out = tmp_path / "take.mp4"
    assert main(["generate", "--image", str(photo), "--audio", SPEECH, "--emotion", "calm", "-o", str(out)]) == 130
    err = capsys.readouterr().err
    assert err == "s2t: interrupted; nothing was written (rendering had not started)\n"
    assert list(tmp_path.iterdir()) == [photo]


def test_one_vocabulary_for_strengths_and_the_old_spellings_still_work():
    from s2t.cli import build_parser

    parse = build_parser().parse_args
    common = ["--image", "p.png", "--audio", "a.wav", "--emotion", "calm", "-o", "o.mp4"]
    args = parse(["generate", *common, "--art-strength", "0.3", "--emotion-strength", "2", "--art", "none"])
    assert (args.art_strength, args.emotion_strength, args.art) == (0.3, 2.0, "none")
    assert parse(["generate", *common, "--strength", "0.4"]).art_strength == 0.4
    assert parse(["generate", *common]).art_strength == 1.0
    take = ["generate-coeffs", "--audio", "a.wav", "--emotion", "calm", "-o", "t.npz"]
    assert parse([*take, "--emotion-strength", "1.5"]).emotion_strength == 1.5
    assert parse([*take, "--strength", "2.5"]).emotion_strength == 2.5
    assert parse([*take]).emotion_strength == 1.0
    assert parse(["demo", "--art-strength", "0.2"]).art_strength == 0.2
    assert parse(["demo", "--strength", "0.2"]).art_strength == 0.2


@pytest.mark.slow
def test_generate_takes_art_none(tmp_path):
    from skimage import data

    rig = build_rig()
    photo, take, out = tmp_path / "photo.png", tmp_path / "take.npz", tmp_path / "plain.mp4"
    Image.fromarray(data.astronaut()).save(photo)
    CoeffSequence(rig.model_id, 25.0, rig.expression_names, np.zeros((3, rig.num_expressions)),
                  np.zeros((3, 6))).save(take)
    assert main(["generate", "--image", str(photo), "--coeffs", str(take), "--art", "none", "--size", "256",
                 "-o", str(out)]) == 0
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames == 3


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, capsys):
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 12000, 12000, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(bytes(4096))))
    assert main(["fit-face", str(bomb)]) == 2
    assert "is 12000x12000 pixels; only JPEG photos over 40 megapixels can be read" in one_error_line(capsys)


@pytest.mark.slow
def test_an_interrupt_while_rendering_names_the_partial_file_it_left(tmp_path, capsys, monkeypatch):
    from skimage import data

    from s2t.video import VideoWriter

    write = VideoWriter.write

    def write_then_interrupt(self, frame):
        write(self, frame)
        if self.frames == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(VideoWriter, "write", write_then_interrupt)
    rig = build_rig()
    photo, take, out = tmp_path / "photo.png", tmp_path / "take.npz", tmp_path / "cut.mp4"
    Image.fromarray(data.astronaut()).save(photo)
    CoeffSequence(rig.model_id, 25.0, rig.expression_names, np.zeros((5, rig.num_expressions)),
                  np.zeros((5, 6))).save(take)
    assert main(["generate", "--image", str(photo), "--coeffs", str(take), "--size", "256", "-o", str(out)]) == 130
    partial = tmp_path / "cut.partial.mp4"
    assert capsys.readouterr().err.endswith(f"s2t: interrupted; the frames made so far are in {partial}\n")
    assert partial.is_file() and not out.exists()
