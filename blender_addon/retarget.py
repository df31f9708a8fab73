"""Retargeting a take onto someone else's character: which shape key takes which channel.

Blender-free (numpy and the stdlib), so it is tested without Blender and shared by the
operators. A name is read as *(body, side)*: split into words (separators, camelCase,
digits), the side taken from a ``L``/``R``/``Left``/``Right`` word wherever it sits
(``_L``, ``.L``, ``L_``, ``Left``), blendshape-node and mesh prefixes dropped (``BS.``,
``blendShape1.``, ``Face_``, ``CC_Base_Body.``), and the remaining words joined. Matching is
an exact look-up of that pair in a table of aliases per ARKit channel (ARKit's own names and
Character Creator / iClone, Mixamo Fuse and VRoid spellings); there is no fuzzy step, so a
key is either placed on the channel it names or left unmapped and listed - never guessed.

Rigs with visemes instead of mouth shapes (``A I U E O``, ``aa ih ou ee oh``, ``viseme_*``,
``vrc.v_*``, ``V_Open``...) get the mouth channels projected onto the visemes they have, by
least squares (:func:`viseme_projection`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

import numpy as np

ARKIT_CHANNELS = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)  # fmt: skip
"""ARKit's 52 blendshapes, in the order the s2t face rig uses (the add-on cannot import s2t)."""

SPEECH_CHANNELS = frozenset({
    "jawOpen", "jawForward", "jawLeft", "jawRight", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft",
    "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "tongueOut",
})  # fmt: skip
"""The articulation channels: what the viseme projection reads, and what emotion gain leaves alone."""

EMOTION_CHANNELS = frozenset(
    name for name in ARKIT_CHANNELS
    if name.startswith(("brow", "cheek", "nose", "mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch",
                        "eyeSquint", "eyeWide"))
)
"""Channels the global emotion gain scales (blinks and gaze are neither speech nor emotion)."""

_SIDES = {"l": "L", "left": "L", "lf": "L", "lft": "L", "r": "R", "right": "R", "rt": "R", "rgt": "R"}
_PREFIX_WORDS = frozenset({
    "bs", "blend", "blendshape", "blendshapes", "shape", "shapes", "key", "keys", "sk", "morph", "morphs", "target",
    "face", "facial", "head", "body", "mesh", "geo", "cc", "base", "arkit", "ar", "kit", "expr", "expression", "fcl",
})  # fmt: skip
"""Words a blendshape node, mesh or exporter puts in front of a key name."""
_NAMESPACE = re.compile(r"[.:|]")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_VISEME_NAME_PREFIXES = frozenset({"viseme", "vis", "v", "vrc", "mth", "fcl", "phoneme"})


def words(name: str) -> list[str]:
    """``"blendShape1.mouthSmile_L"`` -> ``["blend", "shape", "1", "mouth", "smile", "l"]``."""
    return [word.lower() for word in _WORD.findall(name)]


def _read(tokens: list[str]) -> tuple[str, str] | None:
    """Words -> (body, side): the first side word is the side, a later one stays in the body
    (``Eye_L_Look_R`` is the left eye looking right); a single run-together word may end in
    ``left``/``right`` (``mouthsmileleft``)."""
    side, body = "", []
    for token in tokens:
        if token in _SIDES and not side:
            side = _SIDES[token]
        else:
            body.append(_SIDES[token].lower() if token in _SIDES else token)
    if not body:
        return None
    joined = "".join(body)
    if not side and len(body) == 1:
        for suffix, letter in (("left", "L"), ("right", "R")):
            if joined.endswith(suffix) and len(joined) > len(suffix):
                return joined[: -len(suffix)], letter
    return joined, side


def readings(name: str, common_prefix: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The (body, side) readings of a key name, most literal first: the whole name, then
    without namespace segments (``BS.``, ``Mesh:``), without a prefix shared by every key of
    the mesh, and without leading prefix words (``Face_``, ``blendShape1``)."""
    segments = [s for s in _NAMESPACE.split(name) if s]
    candidates = [words(name)]
    for start in range(1, len(segments)):
        tail = words(".".join(segments[start:]))
        if any(t not in _SIDES for t in tail):
            candidates.append(tail)
    tokens = words(name)
    if common_prefix and tokens[: len(common_prefix)] == list(common_prefix):
        candidates.append(tokens[len(common_prefix):])
    for tokens in list(candidates):
        while tokens and (tokens[0] in _PREFIX_WORDS or tokens[0].isdigit()):
            tokens = tokens[1:]
            candidates.append(tokens)
    seen, result = set(), []
    for tokens in candidates:
        reading = _read(tokens)
        if reading and reading not in seen:
            seen.add(reading)
            result.append(reading)
    return result


def _alias_table() -> dict[tuple[str, str], str]:
    """(body, side) -> ARKit channel, from ARKit's names and the other conventions' spellings."""
    table: dict[tuple[str, str], str] = {}

    def add(channel: str, *spellings: str, split: bool = False) -> None:
        for spelling in (channel, *spellings):
            reading = _read(words(spelling))
            assert reading is not None and table.get(reading, channel) == channel, (spelling, channel)
            table[reading] = channel
            if split:  # a channel without a side that some rigs split in halves (CC's Brow_Raise_Inner_L/_R)
                table[reading[0], "L"] = table[reading[0], "R"] = channel

    for channel in ARKIT_CHANNELS:
        add(channel)
    for side, s in (("Left", "L"), ("Right", "R")):
        other = "R" if s == "L" else "L"
        add(f"eyeBlink{side}", f"Eye_Blink_{s}", f"Blink_{side}", f"EyeClose_{s}", f"Eyes_Blink_{s}")
        add(f"eyeLookDown{side}", f"Eye_{s}_Look_Down")
        add(f"eyeLookUp{side}", f"Eye_{s}_Look_Up")
        add(f"eyeLookOut{side}", f"Eye_{s}_Look_{s}")
        add(f"eyeLookIn{side}", f"Eye_{s}_Look_{other}")
        add(f"eyeWide{side}", f"EyesWide_{side}")
        add(f"mouthSmile{side}", f"Smile_{side}")
        add(f"mouthFrown{side}", f"Frown_{side}")
        add(f"mouthLowerDown{side}", f"Mouth_Down_Lower_{s}", f"LowerLipDown_{side}")
        add(f"mouthUpperUp{side}", f"Mouth_Up_Upper_{s}", f"UpperLipUp_{side}")
        add(f"browDown{side}", f"Brow_Drop_{s}", f"BrowsDown_{side}")
        add(f"browOuterUp{side}", f"Brow_Raise_Outer_{s}")
        add(f"cheekSquint{side}", f"Cheek_Raise_{s}")
        add(f"noseSneer{side}", f"NoseScrunch_{side}")
    add("browInnerUp", "Brow_Raise_Inner", split=True)
    add("cheekPuff", "Cheek_Puff", split=True)
    add("mouthFunnel", "Mouth_Funnel_Up", "Mouth_Funnel_Down", split=True)
    add("mouthPucker", "Mouth_Pucker_Up", "Mouth_Pucker_Down", split=True)
    add("mouthRollLower", "Mouth_Roll_In_Lower", split=True)
    add("mouthRollUpper", "Mouth_Roll_In_Upper", split=True)
    add("jawForward", "JawForeward")  # Mixamo Fuse spells it so
    return table


ALIASES = _alias_table()

VISEMES = ("aa", "ih", "ou", "ee", "oh", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR")
"""The visemes we project onto (Oculus/VRChat's set without ``sil``; VRM's five vowels map into it)."""
_VISEME_WORDS = {
    "aa": "aa", "a": "aa", "ah": "aa", "open": "aa", "ih": "ih", "i": "ih", "ou": "ou", "u": "ou", "oo": "ou",
    "tighto": "ou", "ee": "ee", "e": "ee", "wide": "ee", "oh": "oh", "o": "oh", "pp": "PP", "explosive": "PP",
    "mbp": "PP", "ff": "FF", "fv": "FF", "dentallip": "FF", "th": "TH", "dd": "DD", "kk": "kk", "ch": "CH",
    "affricate": "CH", "ss": "SS", "nn": "nn", "rr": "RR",
}  # fmt: skip
_VISEME_SHAPES = {
    "aa": {"jawOpen": 0.7, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3},
    "ih": {"jawOpen": 0.3, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3},
    "ou": {"jawOpen": 0.15, "mouthPucker": 0.8, "mouthFunnel": 0.4},
    "ee": {"jawOpen": 0.2, "mouthStretchLeft": 0.5, "mouthStretchRight": 0.5, "mouthUpperUpLeft": 0.2,
           "mouthUpperUpRight": 0.2},
    "oh": {"jawOpen": 0.45, "mouthFunnel": 0.7, "mouthPucker": 0.3},
    "PP": {"mouthClose": 0.3, "mouthPressLeft": 0.6, "mouthPressRight": 0.6},
    "FF": {"jawOpen": 0.1, "mouthRollLower": 0.6, "mouthUpperUpLeft": 0.3, "mouthUpperUpRight": 0.3},
    "TH": {"jawOpen": 0.2, "tongueOut": 0.5},
    "DD": {"jawOpen": 0.25, "mouthShrugUpper": 0.2},
    "kk": {"jawOpen": 0.3, "mouthShrugLower": 0.2},
    "CH": {"jawOpen": 0.2, "mouthFunnel": 0.4, "mouthShrugUpper": 0.3},
    "SS": {"jawOpen": 0.1, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3, "mouthClose": 0.1},
    "nn": {"jawOpen": 0.15, "mouthShrugLower": 0.3},
    "RR": {"jawOpen": 0.2, "mouthFunnel": 0.3, "mouthPucker": 0.3},
}  # fmt: skip
"""Each viseme as ARKit mouth channels (hand-set from ARKit's reference poses)."""


def common_prefix(names) -> tuple[str, ...]:
    """The leading words every name shares (a mesh's own prefix, ``Genesis8_``), when there are
    at least four names and something is left of each."""
    split = [words(name) for name in names]
    if len(split) < 4:
        return ()
    prefix = []
    for column in zip(*split):
        if len(set(column)) != 1:
            break
        prefix.append(column[0])
    while prefix and min(len(s) for s in split) <= len(prefix):
        prefix.pop()
    return tuple(prefix)


@functools.lru_cache(maxsize=4096)
def channel_of(name: str, prefix: tuple[str, ...] = ()) -> str | None:
    """The ARKit channel a key name means, or None when no reading of it is in the table."""
    for reading in readings(name, prefix):
        if reading in ALIASES:
            return ALIASES[reading]
    return None


def viseme_of(name: str) -> str | None:
    """The viseme a key name means (``viseme_aa``, ``vrc.v_oh``, ``Fcl_MTH_A``, ``V_Open``, ``A``), or None."""
    tokens = words(name)
    while len(tokens) > 1 and (tokens[0] in _VISEME_NAME_PREFIXES or tokens[0] in _PREFIX_WORDS):
        tokens = tokens[1:]
    return _VISEME_WORDS.get("".join(tokens))


def _simple(name: str) -> str:
    return "".join(words(name))


def match_channels(source_names, target_names) -> dict[str, str]:
    """Target shape-key name -> the take's channel it should follow; keys that cannot be placed
    are left out (see :func:`unmapped`). Several keys may follow one channel (a rig that splits
    ``browInnerUp`` in halves); a channel that two source names claim is used by neither."""
    target_names = list(target_names)
    source_by_channel: dict[str, str | None] = {}
    source_by_simple: dict[str, str | None] = {}
    for name in source_names:
        channel = channel_of(name) or name
        source_by_channel[channel] = None if channel in source_by_channel else name
        simple = _simple(name)
        source_by_simple[simple] = None if simple in source_by_simple else name
    prefix = common_prefix(target_names)
    mapping = {}
    for key in target_names:
        channel = channel_of(key, prefix)
        if channel in source_by_channel:
            source = source_by_channel[channel]
        else:
            source = source_by_simple.get(_simple(key))
        if source is not None:
            mapping[key] = source
    return mapping


def unmapped(target_names, mapping: dict[str, str]) -> list[str]:
    """The keys a mapping leaves alone, in the mesh's order."""
    return [key for key in target_names if key not in mapping]


def viseme_projection(source_names, visemes: dict[str, str], ridge: float = 0.05) -> np.ndarray:
    """``(K_source, len(visemes))``: ``expression @ P`` gives each viseme key's weight.

    ``visemes`` maps a target key to its viseme. The weights minimise
    ``|w S - x|^2 + ridge |w|^2`` where ``x`` is a frame's mouth channels and ``S`` the
    visemes' shapes in those channels: the visemes that exist explain the mouth as well as
    they can together. (Clip the result to [0, 1]; the ridge keeps similar visemes sharing.)
    """
    source_names = list(source_names)
    columns = [source_names.index(name) for name in source_names if channel_of(name) in SPEECH_CHANNELS]
    speech = [channel_of(source_names[c]) for c in columns]
    shapes = np.array([[_VISEME_SHAPES[viseme].get(channel, 0.0) for channel in speech]
                       for viseme in visemes.values()], np.float64).reshape(len(visemes), len(speech))
    solve = shapes.T @ np.linalg.inv(shapes @ shapes.T + ridge * np.eye(len(visemes)))
    projection = np.zeros((len(source_names), len(visemes)))
    projection[columns] = solve
    return projection


# -- the editable mapping ------------------------------------------------------------------

VISEME_PREFIX = "viseme:"
MAPPING_FORMAT = "s2t-retarget-mapping"


@dataclass
class Row:
    """One target key: the channel it follows (``""`` unmapped, ``"viseme:aa"`` a projected
    viseme), and ``value = channel * gain (* emotion gain) + offset``."""

    key: str
    channel: str = ""
    gain: float = 1.0
    offset: float = 0.0


@dataclass
class Mapping:
    rows: list[Row] = field(default_factory=list)
    emotion_gain: float = 1.0

    def mapped(self) -> list[Row]:
        return [row for row in self.rows if row.channel]


def auto_mapping(source_names, target_names) -> Mapping:
    """A row per target key: matched by name; when no key takes a speech channel but the mesh
    has visemes, those visemes follow the mouth by projection."""
    target_names = list(target_names)
    matched = match_channels(source_names, target_names)
    speech_keys = [k for k, c in matched.items() if channel_of(c) in SPEECH_CHANNELS]
    rows = [Row(key, matched.get(key, "")) for key in target_names]
    if not speech_keys:
        for row in rows:
            viseme = None if row.channel else viseme_of(row.key)
            if viseme:
                row.channel = VISEME_PREFIX + viseme
    return Mapping(rows)


def _channel_gain(row: Row, mapping: Mapping) -> float:
    emotion = channel_of(row.channel) in EMOTION_CHANNELS
    return row.gain * (mapping.emotion_gain if emotion else 1.0)


def check_mapping(mapping: Mapping, source_names) -> None:
    """ValueError naming a channel the take does not have (a take of another channel set)."""
    missing = sorted({row.channel for row in mapping.mapped()
                      if not row.channel.startswith(VISEME_PREFIX) and row.channel not in source_names})
    if missing:
        raise ValueError(f"the take has no channel {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} "
                         f"that the mapping uses (Auto-Match again for this take)")


def key_values(mapping: Mapping, source_names, expression: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The mapped keys and their values ``(T, N)`` for a take's ``expression`` ``(T, K)``."""
    source_names = list(source_names)
    check_mapping(mapping, source_names)
    rows = mapping.mapped()
    matrix = np.zeros((len(source_names), len(rows)))
    offsets = np.array([row.offset for row in rows], np.float64)
    visemes = {row.key: row.channel[len(VISEME_PREFIX):] for row in rows if row.channel.startswith(VISEME_PREFIX)}
    projection = viseme_projection(source_names, visemes) if visemes else None
    viseme_columns = []
    for column, row in enumerate(rows):
        if row.channel.startswith(VISEME_PREFIX):
            viseme_columns.append(column)
            matrix[:, column] = projection[:, list(visemes).index(row.key)]
        else:
            matrix[source_names.index(row.channel), column] = _channel_gain(row, mapping)
    values = np.asarray(expression, np.float64) @ matrix
    if viseme_columns:  # a viseme's weight stays a weight in [0, 1], then its gain
        gains = np.array([rows[c].gain for c in viseme_columns])
        values[:, viseme_columns] = np.clip(values[:, viseme_columns], 0.0, 1.0) * gains
    return [row.key for row in rows], values + offsets


def read_back(mapping: Mapping, source_names, base: np.ndarray, keys: dict[str, np.ndarray]) -> np.ndarray:
    """Inverse of :func:`key_values`: the take's ``(T, K)`` channels from key curves ``keys``.

    A channel followed by keys with an invertible gain takes their mean ``(value - offset) /
    gain``; channels no key follows (or only visemes) keep ``base``, the take as applied."""
    result = np.array(base, np.float64, copy=True)
    source_names = list(source_names)
    for column, name in enumerate(source_names):
        rows = [row for row in mapping.mapped() if row.channel == name and row.key in keys
                and abs(_channel_gain(row, mapping)) > 1e-6]
        if rows:
            estimates = [(np.asarray(keys[row.key], np.float64) - row.offset) / _channel_gain(row, mapping)
                         for row in rows]
            result[:, column] = np.mean(estimates, axis=0)
    return result


def mapping_to_json(mapping: Mapping) -> str:
    return json.dumps({"format": MAPPING_FORMAT, "version": 1, "emotion_gain": mapping.emotion_gain,
                       "rows": [{"key": r.key, "channel": r.channel, "gain": r.gain, "offset": r.offset}
                                for r in mapping.rows]}, indent=1)


def mapping_from_json(text: str, target_names) -> Mapping:
    """A preset read back; ValueError (one line) for malformed JSON or keys this mesh lacks."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the mapping preset is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != MAPPING_FORMAT or not isinstance(data.get("rows"), list):
        raise ValueError(f"the file is not a mapping preset (format {MAPPING_FORMAT!r} with rows)")
    try:
        rows = [Row(str(r["key"]), str(r.get("channel", "")), float(r.get("gain", 1.0)), float(r.get("offset", 0.0)))
                for r in data["rows"]]
        emotion_gain = float(data.get("emotion_gain", 1.0))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError("the mapping preset has a malformed row (each needs key, channel, gain, offset)") from None
    missing = [row.key for row in rows if row.key not in set(target_names)]
    if missing:
        raise ValueError(f"the preset names shape keys this mesh does not have: {', '.join(missing[:4])}"
                         f"{' ...' if len(missing) > 4 else ''}")
    for row in rows:
        viseme = row.channel[len(VISEME_PREFIX):] if row.channel.startswith(VISEME_PREFIX) else None
        if viseme is not None and viseme not in _VISEME_SHAPES:
            raise ValueError(f"the preset maps {row.key!r} to an unknown viseme {viseme!r}")
    return Mapping(rows, emotion_gain)
