"""Style-E quality on held-out clips: lip sync, landmark distances and emotion accuracy.

Everything is measured on the embedded rig (``s2t.face.rig``) against the ground-truth
performance of synthetic clips (:mod:`s2t.data.synth`), frame by frame (25 fps; the shorter
of the two sequences sets the length):

* **Geometry.** A frame's 68 iBUG landmarks are ``FaceModel.landmarks(expression, identity)``
  with the clip's own identity for both sequences and *no head pose* (expression only);
  the rig is in metres, distances are reported in millimetres. Nothing is aligned.
* **jawOpen r:** Pearson correlation over a clip's frames of generated vs true jawOpen.
* **lip-gap r:** the same for the lip gap, the mean distance of the three facing inner-lip
  landmark pairs (61, 67), (62, 66), (63, 65) (0-based iBUG indices).
  A correlation is undefined (NaN) when either sequence is constant; such clips are left out
  of the mean (the count is reported).
* **M-LMD:** mean over frames and the 20 mouth landmarks (iBUG 48-67) of the L2 distance
  between generated and true landmark positions, in mm.
* **F-LMD:** the same over all 68 landmarks.
  Per-clip values are averaged over clips (each clip counts once).
* **Closure recall:** of the frames where the true lips are sealed while the jaw is open
  (true lip gap < 2 mm and true jawOpen > 0.05: the closures of /p b m/ in speech, not the
  rest pose), the fraction where the generated lip gap is below 3 mm; pooled over clips.
* **Emotion accuracy:** an 8-way multinomial logistic regression (:class:`EmotionClassifier`)
  on per-clip features of the 52 expression channels (mean, 10th and 90th percentile over
  frames: :func:`clip_features`), trained on the *training* corpus's true coefficients.
  Applied to generated coefficients it is scored against the emotion that was asked for;
  applied to the held-out clips' true coefficients it gives the ceiling. Chance is 1/8.

**Held-out sets** (:func:`held_out_recipes`) are clips of the synthetic generator with a seed
other than training's, keeping only clips whose voice ``(engine, voice name)`` and sentence
id never occur in the training corpus (:class:`Exposure`); identities, rates and pitches
are drawn anew with the seed. ``voice_family`` swaps each espeak-ng speaker's variant for one
of a family the corpus builder never deals (:data:`UNSEEN_ESPEAK_VARIANTS`).

The texts asked for are either the training corpus's own phrasing for the clip's emotion
and level (:func:`asked_text`: the sentences the model was trained on, spoken by new
voices) or :data:`PARAPHRASES`, descriptions the model never saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize

from s2t.data.corpus import ClipRecord
from s2t.data.emotion import EMOTIONS
from s2t.data.synth import ClipRecipe, clip_recipe, render_clip
from s2t.data.tts import SAMPLE_RATE
from s2t.face.model import FaceModel
from s2t.style_e.label_texts import emotion_texts

MOUTH_POINTS = tuple(range(48, 68))
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
MILLIMETRES = 1000.0  # rig units (metres) -> mm
SEALED_MM, CLOSURE_JAW, CLOSED_MM = 2.0, 0.05, 3.0  # closure recall thresholds (module doc)
UNSEEN_ESPEAK_VARIANTS = ("Andy", "Annie", "Denis", "Gene", "Jacky", "Lee", "Michael", "Storm", "aunty", "belinda",
                          "boris", "edward", "grandpa", "linda", "max", "norbert", "steph", "travis", "victor",
                          "zac")  # fmt: skip
"""espeak-ng voice variants (files in espeak-ng-data/voices/!v) outside the builder's
``ESPEAK_VARIANTS`` (m1-m7, f1-f5, klatt-klatt3): a voice family training never heard."""

PARAPHRASES = {
    "neutral": ("He speaks in an even, composed manner.", "Her face stays relaxed and blank as she talks.",
                "He reads the words plainly, without any feeling."),
    "angry": ("He is furious, glaring as he speaks.", "She snaps at them, seething with rage.",
              "His brows knit together in fury."),
    "contempt": ("He sneers with disdain.", "She smirks dismissively with one corner of her mouth.",
                 "He looks down on them with scorn."),
    "disgusted": ("He wrinkles his nose in revulsion.", "She recoils, sickened by the smell.",
                  "His upper lip curls with distaste."),
    "fear": ("His voice shakes with dread.", "She is terrified, her eyes wide with panic.",
             "He trembles, frightened of what comes next."),
    "happy": ("She beams with delight.", "He grins from ear to ear, thrilled by the news.",
              "Her eyes crinkle as she laughs cheerfully."),
    "sad": ("His voice is heavy with sorrow.", "She looks down, close to tears.",
            "He mourns quietly, his mouth drooping."),
    "surprised": ("She gasps in astonishment.", "His jaw drops in disbelief.",
                  "Her eyebrows shoot up, amazed."),
}  # fmt: skip
"""Three descriptions per emotion in words the training texts never use."""


# -- metrics ---------------------------------------------------------------------------------


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-length 1-D sequences; NaN when either is constant."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two 1-D sequences of one length, got {a.shape} and {b.shape}")
    a, b = a - a.mean(), b - b.mean()
    norm = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / norm) if norm > 1e-12 else float("nan")


def lip_gap(landmarks: np.ndarray) -> np.ndarray:
    """Mean distance of the facing inner-lip landmark pairs: ``(..., 68, 3)`` -> ``(...)``."""
    upper, lower = zip(*INNER_LIP_PAIRS)
    return np.linalg.norm(landmarks[..., upper, :] - landmarks[..., lower, :], axis=-1).mean(-1)


def landmark_distance(a: np.ndarray, b: np.ndarray, points: tuple[int, ...] | None = None) -> float:
    """Mean L2 distance between landmark sets ``(T, 68, 3)``, over frames and ``points`` (all if None)."""
    if points is not None:
        a, b = a[:, list(points)], b[:, list(points)]
    return float(np.linalg.norm(a - b, axis=-1).mean())


@dataclass(frozen=True)
class ClipScores:
    jaw_r: float
    lip_r: float
    m_lmd: float  # mm
    f_lmd: float  # mm
    closure_frames: int  # frames with the true lips sealed against an open jaw
    closures_hit: int  # of those, frames where the generated lips are closed too


def clip_scores(face: FaceModel, identity: np.ndarray, generated: np.ndarray, truth: np.ndarray) -> ClipScores:
    """Scores of a generated expression sequence ``(T, K)`` against the true one (see module doc)."""
    frames = min(len(generated), len(truth))
    generated, truth = generated[:frames], truth[:frames]
    jaw = face.expression_index("jawOpen")
    gen_points = face.landmarks(generated, identity) * MILLIMETRES
    true_points = face.landmarks(truth, identity) * MILLIMETRES
    gen_gap, true_gap = lip_gap(gen_points), lip_gap(true_points)
    closures = (true_gap < SEALED_MM) & (truth[:, jaw] > CLOSURE_JAW)
    return ClipScores(
        jaw_r=pearson(generated[:, jaw], truth[:, jaw]),
        lip_r=pearson(gen_gap, true_gap),
        m_lmd=landmark_distance(gen_points, true_points, MOUTH_POINTS),
        f_lmd=landmark_distance(gen_points, true_points),
        closure_frames=int(closures.sum()),
        closures_hit=int((gen_gap[closures] < CLOSED_MM).sum()),
    )


# -- emotion classifier ---------------------------------------------------------------------


def clip_features(expression: np.ndarray) -> np.ndarray:
    """Per-channel mean, 10th and 90th percentile over a clip's frames: ``(T, K)`` -> ``(3K,)``."""
    expression = np.asarray(expression, np.float64)
    return np.concatenate([expression.mean(0), *np.percentile(expression, [10, 90], axis=0)])


class EmotionClassifier:
    """Multinomial logistic regression on standardised features, L2-regularised, fitted by L-BFGS.

    The standard deviations are floored at ``min_std`` (coefficient units): a feature that is
    exactly 0 in every training clip (the 10th percentile of mouthClose or a blink) must not
    turn a generated 0.002 into thousands of standard deviations.
    """

    def __init__(self, l2: float = 1e-2, min_std: float = 0.02) -> None:
        self.l2, self.min_std = l2, min_std
        self.classes: tuple[str, ...] = ()

    def fit(self, features: np.ndarray, labels: list[str]) -> "EmotionClassifier":
        features = np.asarray(features, np.float64)
        self.classes = tuple(sorted(set(labels)))
        self.mean, self.std = features.mean(0), np.maximum(features.std(0), self.min_std)
        x = self._design(features)
        onehot = np.eye(len(self.classes))[[self.classes.index(label) for label in labels]]
        shape = (x.shape[1], len(self.classes))

        def loss_and_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
            weights = flat.reshape(shape)
            logits = x @ weights
            logits -= logits.max(1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            penalty = self.l2 * (weights[:-1] ** 2).sum()  # the bias row is not penalised
            grad = x.T @ (np.exp(log_p) - onehot) / len(x)
            grad[:-1] += 2 * self.l2 * weights[:-1]
            return float(-(onehot * log_p).sum() / len(x) + penalty), grad.ravel()

        result = minimize(loss_and_grad, np.zeros(np.prod(shape)), jac=True, method="L-BFGS-B",
                          options={"maxiter": 1000})  # fmt: skip
        self.weights = result.x.reshape(shape)
        return self

    def predict(self, features: np.ndarray) -> list[str]:
        if not self.classes:
            raise RuntimeError("fit the classifier first")
        scores = self._design(np.asarray(features, np.float64)) @ self.weights
        return [self.classes[i] for i in scores.argmax(1)]

    def _design(self, features: np.ndarray) -> np.ndarray:
        standardised = (features - self.mean) / self.std
        return np.concatenate([standardised, np.ones((len(features), 1))], axis=1)


# -- held-out clips --------------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    """What training saw: voices as ``(engine, voice name)`` and sentence ids."""

    voices: frozenset[tuple[str, str]]
    sentence_ids: frozenset[str]

    @classmethod
    def from_records(cls, records: list[ClipRecord]) -> "Exposure":
        return cls(frozenset((r.engine, r.voice) for r in records), frozenset(r.sentence_id for r in records))

    def seen(self, recipe: ClipRecipe) -> bool:
        voice = recipe.speaker.voice
        return (voice.engine, voice.voice) in self.voices or recipe.sentence.sentence_id in self.sentence_ids


def with_voice_variant(recipe: ClipRecipe, variants: tuple[str, ...]) -> ClipRecipe:
    """The recipe with its espeak-ng variant replaced by one of ``variants``, chosen per session
    (so a speaker keeps one voice) from the recipe's seed."""
    voice = recipe.speaker.voice
    if voice.engine != "espeak-ng":
        raise ValueError(f"voice variants are espeak-ng's; this clip is spoken by {voice.engine}")
    session = recipe.index // len(EMOTIONS)
    variant = variants[int(np.random.default_rng([recipe.seed, 7, session]).integers(len(variants)))]
    accent = voice.voice.split("+")[0]
    speaker = replace(recipe.speaker, voice=replace(voice, voice=f"{accent}+{variant}"))
    return replace(recipe, speaker=speaker)


def held_out_recipes(seed: int, engines: tuple[str, ...], exposure: Exposure,
                     voice_family: tuple[str, ...] | None = None, per_session: int = len(EMOTIONS),
                     max_index: int = 100_000) -> Iterator[ClipRecipe]:  # fmt: skip
    """Clip recipes ``seed, 0, 1, ...`` (spoken by ``engines``, optionally with voices swapped into
    ``voice_family``) whose voice and sentence training never saw.

    ``per_session`` < 8 keeps that many clips of each session (speaker), the emotions taking
    turns from session to session, so a short set hears more speakers and stays balanced.
    """
    for index in range(max_index):
        session = index // len(EMOTIONS)
        recipe = clip_recipe(seed, index, engines)
        if (EMOTIONS.index(recipe.emotion) - per_session * session) % len(EMOTIONS) >= per_session:
            continue
        if voice_family is not None:
            recipe = with_voice_variant(recipe, voice_family)
        if not exposure.seen(recipe):
            yield recipe


@dataclass(frozen=True, eq=False)
class EvalClip:
    """A held-out clip: 16 kHz ``audio``, true ``expression`` ``(T, K)``, ``identity`` and labels."""

    clip_id: str
    audio: np.ndarray
    expression: np.ndarray
    identity: np.ndarray
    emotion: str
    level: int
    engine: str
    voice: str
    sentence_id: str

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def render_held_out(recipes: Iterator[ClipRecipe], seconds: float) -> list[EvalClip]:
    """Render recipes until ``seconds`` of audio are reached (training's augmentation included)."""
    clips: list[EvalClip] = []
    total = 0.0
    for recipe in recipes:
        if total >= seconds:
            break
        audio, coeffs = render_clip(recipe)
        voice = recipe.speaker.voice
        clips.append(EvalClip(f"{recipe.seed}/{recipe.clip_id}", audio, coeffs.expression,
                              np.asarray(coeffs.metadata["identity"], np.float32), recipe.emotion, recipe.level,
                              voice.engine, voice.voice, recipe.sentence.sentence_id))  # fmt: skip
        total += len(audio) / SAMPLE_RATE
    if total < seconds:
        raise ValueError(f"only {total:.0f} s of held-out clips could be made; asked for {seconds:.0f} s")
    return clips


def overlap(clips: list[EvalClip], exposure: Exposure) -> dict[str, int]:
    """How many clips share a voice or a sentence with training (0 for a proper held-out set)."""
    return {"voices": sum((c.engine, c.voice) in exposure.voices for c in clips),
            "sentences": sum(c.sentence_id in exposure.sentence_ids for c in clips)}  # fmt: skip


def asked_text(clip: EvalClip, number: int) -> str:
    """Training's own phrasing for the clip's emotion and level (one of three, by ``number``)."""
    texts = emotion_texts(clip.emotion, clip.level)
    return texts[number % len(texts)]


def paraphrase(clip: EvalClip, number: int) -> str:
    texts = PARAPHRASES[clip.emotion]
    return texts[number % len(texts)]


# -- running a generator over a set ----------------------------------------------------------

Generate = Callable[[EvalClip, str, int], np.ndarray]
"""``(clip, emotion text, seed) -> expression (T, K)``; a generator reads the clip's audio and
identity, never its true coefficients (only :func:`ground_truth` does)."""


@dataclass
class Evaluation:
    """Per-clip scores and emotion predictions of one generator on one set."""

    scores: list[ClipScores]
    asked: list[str]
    predicted: list[str]
    seconds: float  # wall time spent generating
    audio_seconds: float

    def summary(self) -> dict[str, float]:
        """Means over clips, closure recall, emotion accuracy, and generation wall time per 10 s of audio."""
        table = np.array([[s.jaw_r, s.lip_r, s.m_lmd, s.f_lmd] for s in self.scores])
        closure_frames = sum(s.closure_frames for s in self.scores)
        return {
            "clips": len(self.scores),
            "jaw_r": float(np.nanmean(table[:, 0])),
            "lip_r": float(np.nanmean(table[:, 1])),
            "undefined_r": int(np.isnan(table[:, :2]).any(1).sum()),
            "m_lmd_mm": float(table[:, 2].mean()),
            "f_lmd_mm": float(table[:, 3].mean()),
            "closure_frames": closure_frames,
            "closure_recall": sum(s.closures_hit for s in self.scores) / closure_frames if closure_frames else np.nan,
            "emotion_acc": accuracy(self.asked, self.predicted),
            "s_per_10s": 10.0 * self.seconds / self.audio_seconds,
        }


def accuracy(truth: list[str], predicted: list[str]) -> float:
    return float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)]))


def evaluate(generate: Generate, clips: list[EvalClip], face: FaceModel, classifier: EmotionClassifier,
             text_for: Callable[[EvalClip, int], str] = asked_text) -> Evaluation:  # fmt: skip
    """Run ``generate`` on every clip (seed = the clip's position) and score it."""
    scores, features, elapsed = [], [], 0.0
    for number, clip in enumerate(clips):
        started = time.perf_counter()
        generated = generate(clip, text_for(clip, number), number)
        elapsed += time.perf_counter() - started
        scores.append(clip_scores(face, clip.identity, generated, clip.expression))
        features.append(clip_features(generated))
    return Evaluation(scores, [c.emotion for c in clips], classifier.predict(np.stack(features)), elapsed,
                      sum(c.seconds for c in clips))  # fmt: skip


def ground_truth(clips: list[EvalClip], face: FaceModel, classifier: EmotionClassifier) -> Evaluation:
    """The true coefficients scored as if generated: the classifier's ceiling (LMD 0, r 1)."""
    return evaluate(lambda clip, text, seed: clip.expression, clips, face, classifier)


def confusion(truth: list[str], predicted: list[str], classes: tuple[str, ...] = EMOTIONS) -> np.ndarray:
    """``(C, C)`` counts: row = true class, column = predicted."""
    matrix = np.zeros((len(classes), len(classes)), int)
    for t, p in zip(truth, predicted, strict=True):
        matrix[classes.index(t), classes.index(p)] += 1
    return matrix


__all__ = [
    "PARAPHRASES", "UNSEEN_ESPEAK_VARIANTS", "ClipScores", "EmotionClassifier", "EvalClip", "Evaluation", "Exposure",
    "accuracy", "asked_text", "clip_features", "clip_scores", "confusion", "evaluate", "ground_truth",
    "held_out_recipes", "landmark_distance", "lip_gap", "overlap", "paraphrase", "pearson", "render_held_out",
    "with_voice_variant",
]  # fmt: skip
