"""The sentences the synthetic corpus speaks: real, phonetically varied English text.

Two sources ship in ``s2t/data/texts`` (licences in its README): the 720 Harvard sentences
(IEEE 1969, public domain) and the 1132 CMU ARCTIC prompts (CMU/Festvox licence).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TEXTS_DIR = Path(__file__).with_name("texts")
SOURCES = {
    "harvard": "Harvard sentences, IEEE Recommended Practice for Speech Quality Measurements (1969); public domain",
    "arctic": "CMU ARCTIC prompts (Kominek & Black, CMU 2003); CMU/Festvox licence, see s2t/data/texts/README.md",
}


@dataclass(frozen=True)
class Sentence:
    sentence_id: str  # "<source>/<line number from 1>", stable across releases of the list
    source: str
    text: str


@lru_cache(maxsize=None)
def load_sentences(sources: tuple[str, ...] = tuple(SOURCES)) -> tuple[Sentence, ...]:
    """All sentences of ``sources``, in file order."""
    sentences = []
    for source in sources:
        if source not in SOURCES:
            raise KeyError(f"unknown sentence source {source!r}; known: {sorted(SOURCES)}")
        lines = (TEXTS_DIR / f"{source}.txt").read_text(encoding="utf-8").splitlines()
        sentences += [Sentence(f"{source}/{i}", source, line.strip()) for i, line in enumerate(lines, 1) if line.strip()]
    return tuple(sentences)


@lru_cache(maxsize=None)
def load_multilingual() -> dict[str, tuple[Sentence, ...]]:
    """``language -> sentences`` of ``texts/multilingual.tsv`` (espeak-ng voice names as keys)."""
    table: dict[str, list[Sentence]] = {}
    lines = (TEXTS_DIR / "multilingual.tsv").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if line.strip():
            language, text = line.split("\t")
            table.setdefault(language, []).append(Sentence(f"multilingual/{number}", language, text.strip()))
    return {language: tuple(sentences) for language, sentences in table.items()}
