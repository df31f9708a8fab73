import numpy as np

from s2t.data.tts import Phone
from s2t.data.visemes import articulation_curves, articulation_to_blendshapes
from s2t.face.rig.blendshapes import ARKIT_52

FPS = 25


def sequence(symbols: str, step: float = 0.12, lead: float = 0.3) -> tuple[Phone, ...]:
    phones, t = [Phone("", 0.0, lead)], lead
    for s in symbols.split():
        phones.append(Phone(s, round(t, 4), round(t + step, 4)))
        t += step
    return tuple(phones + [Phone("", t, t + 0.4)])


def curves(phones, **kwargs):
    frames = int(np.ceil(phones[-1].end * FPS))
    params = articulation_curves(phones, frames, FPS)
    return params, articulation_to_blendshapes(params, ARKIT_52, **kwargs)


def at(phone: Phone) -> int:
    return int(round((phone.start + phone.end) / 2 * FPS))


def ch(weights, name):
    return weights[:, ARKIT_52.index(name)]


def test_jaw_opens_on_open_vowels_and_lips_seal_on_bilabials():
    phones = sequence("p ɑ p ɑ m æ b ɑ")
    _, w = curves(phones)
    jaw, close = ch(w, "jawOpen"), ch(w, "mouthClose")
    vowels = [at(p) for p in phones if p.symbol in ("ɑ", "æ")]
    bilabials = [at(p) for p in phones if p.symbol in ("p", "b", "m")]
    assert jaw[vowels].min() > 0.3
    assert jaw[vowels].min() > jaw[bilabials].max()
    assert np.abs(jaw[bilabials] - close[bilabials]).max() < 0.02  # lips sealed: mouthClose cancels the jaw
    assert (jaw[vowels] - close[vowels]).min() > 0.25  # and open on the vowels
    assert ch(w, "mouthPressLeft")[bilabials].min() > 0.1


def test_rounding_labiodentals_and_spreading():
    phones = sequence("s u w u f i v i")
    _, w = curves(phones)
    by = {p.symbol: at(p) for p in phones}
    assert ch(w, "mouthPucker")[by["u"]] > 0.4 and ch(w, "mouthPucker")[by["w"]] > 0.5
    assert ch(w, "mouthRollLower")[by["f"]] > 0.3 and ch(w, "mouthRollLower")[by["v"]] > 0.3
    assert ch(w, "mouthStretchLeft")[by["i"]] > 0.3 > ch(w, "mouthStretchLeft")[by["u"]]


def test_coarticulation_anticipates_rounding():
    """The /s/ of "s p u" is already rounded compared with the /s/ of "s p i" (not a step per phone)."""
    rounded, spread = sequence("ə s p u", 0.09), sequence("ə s p i", 0.09)
    s_frame = at(rounded[2])
    assert ch(curves(rounded)[1], "mouthPucker")[s_frame] > ch(curves(spread)[1], "mouthPucker")[s_frame] + 0.1


def test_curves_are_smooth_and_bounded():
    phones = sequence("ð ə b ɜ tʃ k ə n u s l ɪ d ɑ n ð ə s m u ð p l æ ŋ k s", 0.07)
    params, w = curves(phones, gain=1.2, asymmetry=0.05)
    assert params.min() >= 0 and params.max() <= 1 and w.min() >= 0 and w.max() <= 1
    mouth = w[:, [ARKIT_52.index(n) for n in ("jawOpen", "mouthFunnel", "mouthPucker", "mouthStretchLeft")]]
    assert np.abs(np.diff(mouth, axis=0)).max() < 0.3  # no jumps between frames
    assert len(np.unique(np.round(ch(w, "jawOpen"), 2))) > 15  # continuous values, not a few viseme levels
    rest = w[: int(0.1 * FPS)]
    assert np.abs(rest).max() < 0.05  # the mouth rests before speech
