"""Every subcommand hands its options to its command function by keyword, each to the right
parameter (no positional list in which two swapped options of one type would pass)."""

import inspect

import pytest

from s2t import cli
from s2t.cli import batch, corpus, face, generate, train

COMMANDS = [
    (generate, "cmd_generate", ["generate", "--image", "p.png", "--coeffs", "c.npz", "--art", "comic",
                                "--art-strength", "0.3", "--emotion-strength", "0.7", "--size", "256", "-o", "o.mp4"],
     {"image": "p.png", "coeffs_path": "c.npz", "art": "comic", "strength": 0.3, "emotion_strength": 0.7, "size": 256}),
    (generate, "cmd_demo", ["demo", "--art", "oil", "--art-strength", "0.4", "--emotion-strength", "1.5"],
     {"art": "oil", "strength": 0.4, "emotion_strength": 1.5, "size": 512}),
    (generate, "cmd_generate_coeffs", ["generate-coeffs", "--audio", "a.wav", "--emotion", "calm", "--seed", "4",
                                       "--steps", "7", "-o", "c.npz"],
     {"audio": "a.wav", "emotion": "calm", "seed": 4, "steps": 7, "strength": 1.0}),
    (batch, "cmd_batch", ["batch", "shots.csv", "--backend", "tcp://x:1", "--strength", "0.5", "--seed", "2"],
     {"backend": "tcp://x:1", "strength": 0.5, "seed": 2, "quiet": False}),
    (face, "cmd_fit_face", ["fit-face", "p.png", "--model", "m", "--json", "f.json"],
     {"image": "p.png", "model_name": "m", "overlay": None}),
    (face, "cmd_rig_export", ["rig", "export", "-o", "r.glb", "--model", "m"], {"model_name": "m"}),
    (face, "cmd_rig_sheet", ["rig", "sheet", "-o", "s.png"], {"model_name": "s2t-arkit52"}),
    (face, "cmd_coeffs_info", ["coeffs", "info", "c.npz"], {"path": "c.npz"}),
    (face, "cmd_coeffs_export", ["coeffs", "export", "c.npz", "-o", "x.glb", "--model", "m"],
     {"path": "c.npz", "model_name": "m"}),
    (face, "cmd_coeffs_convert", ["coeffs", "convert", "c.npz", "--from-model", "a", "--to-model", "b", "-o", "d.npz"],
     {"path": "c.npz", "source_name": "a", "target_name": "b"}),
    (corpus, "cmd_corpus_synth", ["corpus", "synth", "-o", "c", "--hours", "0.5", "--seed", "3", "--no-augment",
                                  "--languages", "en,de", "--held-out", "pl"],
     {"hours": 0.5, "seed": 3, "augment": False, "languages": "en,de", "held_out": "pl"}),
    (corpus, "cmd_corpus_from_video", ["corpus", "from-video", "v", "--layout", "hdtf", "-o", "c", "--workers", "2"],
     {"layout": "hdtf", "workers": 2, "max_clips": None}),
    (corpus, "cmd_corpus_annotate", ["corpus", "annotate", "--corpus", "c", "--seed", "5", "--no-resume"],
     {"seed": 5, "resume": False, "encoder": "minilm"}),
    (train, "cmd_train_style_e", ["train", "style-e", "--corpus", "c", "--out", "o", "--steps", "9", "--lr", "0.01"],
     {"steps": 9, "lr": 0.01, "batch_size": 32, "resume": False}),
    (train, "cmd_train_style_a", ["train", "style-a", "--style-a", "s", "--out", "o", "--art-preset", "oil",
                                  "--art", "x", "--steps", "3", "--size", "256"],
     {"art_preset": "oil", "art": "x", "steps": 3, "size": 256, "channel_multiplier": 2}),
]


@pytest.mark.parametrize("module, name, argv, expected", COMMANDS, ids=[c[1] for c in COMMANDS])
def test_each_option_reaches_its_parameter_by_keyword(monkeypatch, module, name, argv, expected):
    command = getattr(module, name)
    signature = inspect.signature(command)
    assert all(p.kind is p.KEYWORD_ONLY for p in signature.parameters.values())
    received = {}
    monkeypatch.setattr(module, name, lambda **kwargs: received.update(signature.bind(**kwargs).arguments))
    args = cli.build_parser().parse_args(argv)
    args.run(args)
    assert {key: received[key] for key in expected} == expected


def test_every_subcommand_is_covered():
    covered = {name for _, name, _, _ in COMMANDS}
    defined = {name for module in (generate, batch, face, corpus, train) for name in vars(module)
               if name.startswith("cmd_")}
    assert covered == defined
