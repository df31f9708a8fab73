import numpy as np
import pytest

from s2t.cli import main
from s2t.data import CorpusIndex, build_synthetic_corpus
from s2t.data.sentences import (check_languages, evaluation_languages, load_multilingual, load_multilingual_training,
                                training_languages)  # fmt: skip
from s2t.data.synth import SESSION_CLIPS, clip_recipe

ENGINES = ("espeak-ng", "flite")


def test_training_and_evaluation_sentences_never_overlap():
    train, evaluation = load_multilingual_training(), load_multilingual()
    assert {"de", "es", "fr", "it"} <= set(train) and {"pl", "cmn"} <= set(evaluation)
    assert all(len(sentences) >= 24 for sentences in train.values())
    for language in train:
        assert not {s.text for s in train[language]} & {s.text for s in evaluation.get(language, ())}
    assert training_languages()[0] == "en" and "en" in evaluation_languages()


def test_language_choice_defaults_and_errors():
    trained, held_out = check_languages(["en", "de"])
    assert trained == ("en", "de") and "de" not in held_out and {"pl", "cmn", "es"} <= set(held_out)
    assert check_languages(["en:3", "de"])[0] == ("en", "en", "en", "de") == check_languages(["en", "en", "en", "de"])[0]
    with pytest.raises(ValueError, match="bad language weight 'en:0'"):
        check_languages(["en:0"])
    with pytest.raises(ValueError, match=r"unknown training language\(s\) xx; available: en, de"):
        check_languages(["en", "xx"])
    with pytest.raises(ValueError, match="unknown held-out language"):
        check_languages(["en"], ["klingon"])
    with pytest.raises(ValueError, match="de both trained on and held out"):
        check_languages(["en", "de"], ["de"])


def test_sessions_take_turns_between_languages():
    languages = ("en", "de", "es")
    seen = {}
    for index in range(6 * SESSION_CLIPS):
        recipe = clip_recipe(0, index, ENGINES, languages)
        language = languages[(index // SESSION_CLIPS) % 3]
        assert recipe.speaker.language == language
        if language != "en":
            assert recipe.speaker.voice.engine == "espeak-ng" and recipe.speaker.voice.voice.startswith(f"{language}+")
            assert recipe.sentence.text in {s.text for s in load_multilingual_training()[language]}
        seen.setdefault(language, []).append(recipe.sentence.sentence_id)
    for language, ids in seen.items():  # no language repeats a sentence before it has said them all
        first = ids[: len(load_multilingual_training().get(language, ids))]
        assert len(set(first)) == len(first), language
    # English clips of a mixed corpus say what an English-only corpus says, in the same order.
    english = [clip_recipe(0, i, ENGINES, languages) for i in range(3 * SESSION_CLIPS) if (i // SESSION_CLIPS) % 3 == 0]
    alone = [clip_recipe(0, i, ENGINES) for i in range(SESSION_CLIPS)]
    assert [r.sentence for r in english] == [r.sentence for r in alone]
    assert [r.speaker for r in english] == [r.speaker for r in alone]


def test_a_weighted_language_gets_more_sessions_and_says_what_it_would_alone():
    languages = ("en", "en", "en", "de")
    spoken = [clip_recipe(0, i, ENGINES, languages) for i in range(0, 8 * SESSION_CLIPS, SESSION_CLIPS)]
    assert [r.speaker.language for r in spoken] == ["en", "en", "en", "de"] * 2
    english = [r for r in spoken if r.speaker.language == "en"]
    alone = [clip_recipe(0, i, ENGINES) for i in range(0, 6 * SESSION_CLIPS, SESSION_CLIPS)]
    assert [(r.speaker, r.sentence) for r in english] == [(r.speaker, r.sentence) for r in alone]


@pytest.mark.slow
def test_multilingual_corpus_builds_with_the_requested_languages_and_resumes(espeak, tmp_path):
    hours = 40.0 / 3600  # ~13 clips: two sessions
    summary = build_synthetic_corpus(tmp_path, hours, seed=3, workers=0, progress=False, languages=("de", "it"),
                                     held_out=("pl", "cmn"))  # fmt: skip
    corpus = CorpusIndex(tmp_path)
    assert {r.language for r in corpus} == {"de", "it"} and corpus.held_out_languages == ["pl", "cmn"]
    assert corpus.manifest["settings"]["languages"] == ["de", "it"]
    clip = corpus.load(len(corpus) - 1)
    assert clip.coeffs.metadata["language"] == "it" and clip.record.voice.startswith("it+")
    phones = [p for p in clip.phones if p[0]]
    assert len(phones) > 10 and clip.coeffs.channel("jawOpen").max() > 0.2  # the lips move with Italian phones
    again = build_synthetic_corpus(tmp_path, hours, seed=3, workers=0, progress=False, languages=("de", "it"),
                                   held_out=("pl", "cmn"))  # fmt: skip
    assert again["new_clips"] == 0 and again["clips"] == summary["clips"]
    with pytest.raises(ValueError, match="built with"):
        build_synthetic_corpus(tmp_path, hours, seed=3, workers=0, progress=False, languages=("de",))
    assert np.isfinite(clip.coeffs.pose).all()


def test_cli_names_the_available_languages_for_a_bad_one(tmp_path, capsys):
    assert main(["corpus", "synth", "-o", str(tmp_path / "c"), "--hours", "0.01", "--languages", "en,tlh"]) == 2
    err = capsys.readouterr().err
    assert "s2t: error: unknown training language(s) tlh; available: en, de, es" in err
    assert not (tmp_path / "c").exists()  # nothing written
