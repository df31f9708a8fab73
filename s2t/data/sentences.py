"""The sentences the synthetic corpus speaks: real, phonetically varied text.

English: the 720 Harvard sentences (IEEE 1969, public domain) and the 1132 CMU ARCTIC prompts
(CMU/Festvox licence). Other languages: everyday sentences written for this project, one set
for training (``multilingual_train.tsv``) and another for evaluation (``multilingual.tsv``), so
evaluation never hears a training sentence even in a trained language. Licences and sources
in ``s2t/data/texts/README.md``. Language codes are espeak-ng voice names.
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

MULTILINGUAL_SOURCE = "everyday sentences in other languages, written for this project (texts/multilingual_train.tsv)"


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


def _language_table(name: str) -> dict[str, tuple[Sentence, ...]]:
    """``language -> sentences`` of ``texts/<name>.tsv`` (lines ``language<TAB>text``; espeak-ng
    voice names as keys), each sentence named ``<name>/<line number>``."""
    table: dict[str, list[Sentence]] = {}
    lines = (TEXTS_DIR / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if line.strip():
            language, text = line.split("\t")
            table.setdefault(language, []).append(Sentence(f"{name}/{number}", language, text.strip()))
    return {language: tuple(sentences) for language, sentences in table.items()}


@lru_cache(maxsize=None)
def load_multilingual() -> dict[str, tuple[Sentence, ...]]:
    """The evaluation sentences per language (``texts/multilingual.tsv``)."""
    return _language_table("multilingual")


@lru_cache(maxsize=None)
def load_multilingual_training() -> dict[str, tuple[Sentence, ...]]:
    """What the corpus speaks in languages other than English (``texts/multilingual_train.tsv``),
    kept apart from the evaluation sentences."""
    return _language_table("multilingual_train")


def training_languages() -> tuple[str, ...]:
    """Languages the corpus can speak: English and those with training sentences."""
    return ("en", *sorted(load_multilingual_training()))


def evaluation_languages() -> tuple[str, ...]:
    """Languages evaluation can measure: English and those of ``multilingual.tsv``."""
    return ("en", *sorted(load_multilingual()))


def training_sentences(language: str) -> tuple[Sentence, ...]:
    """The sentences the corpus speaks in ``language`` (see :func:`check_languages`)."""
    return load_sentences() if language == "en" else load_multilingual_training()[language]


def check_languages(languages: tuple[str, ...] | list[str], held_out: tuple[str, ...] | list[str] | None = None
                    ) -> tuple[tuple[str, ...], tuple[str, ...]]:  # fmt: skip
    """Validated ``(training languages, held-out languages)``.

    ``languages`` is the cycle the corpus's sessions follow: a name may repeat, or carry a
    weight as ``"en:3"`` (three sessions of English a cycle), and comes back expanded, so
    ``("en:2", "de")`` gives ``("en", "en", "de")``. ``held_out`` defaults to every evaluation
    language not trained on. Raises ``ValueError`` naming the available languages.
    """
    cycle: list[str] = []
    for entry in languages:
        name, _, weight = entry.partition(":")
        if weight and not (weight.isdigit() and int(weight) >= 1):
            raise ValueError(f"bad language weight {entry!r}: give a whole number of sessions, e.g. en:3")
        cycle += [name] * (int(weight) if weight else 1)
    if not cycle:
        raise ValueError(f"no training language given; available: {', '.join(training_languages())}")
    unknown = list(dict.fromkeys(lang for lang in cycle if lang not in training_languages()))
    if unknown:
        raise ValueError(f"unknown training language(s) {', '.join(unknown)}; available: {', '.join(training_languages())}")
    if held_out is None:
        held_out = tuple(lang for lang in evaluation_languages() if lang not in cycle)
    held_out = tuple(dict.fromkeys(held_out))
    unknown = [lang for lang in held_out if lang not in evaluation_languages()]
    if unknown:
        raise ValueError(f"unknown held-out language(s) {', '.join(unknown)}; "
                         f"available: {', '.join(evaluation_languages())}")  # fmt: skip
    both = [lang for lang in held_out if lang in cycle]
    if both:
        raise ValueError(f"language(s) {', '.join(both)} both trained on and held out")
    return tuple(cycle), held_out


def sentence_sources(languages: tuple[str, ...]) -> dict[str, str]:
    """Where the sentences of a corpus speaking ``languages`` come from (for its manifest)."""
    sources = dict(SOURCES) if "en" in languages else {}
    if any(lang != "en" for lang in languages):
        sources["multilingual_train"] = MULTILINGUAL_SOURCE
    return sources
