"""Matching a character's shape keys to a take's channels (``blender_addon.retarget``), Blender-free.

Imported with torch blocked, as the add-on must be. The real-world key names live in
``retarget_names.py`` (data); the s2t rig's channel names are the take's source names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_blocked, sys.modules["torch"] = sys.modules.get("torch"), None
try:
    from blender_addon import retarget
finally:
    if _blocked is None:
        del sys.modules["torch"]
    else:
        sys.modules["torch"] = _blocked

from s2t.face.rig.blendshapes import ARKIT_52  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import retarget_names as names  # noqa: E402


def test_the_addon_list_of_channels_is_the_rigs() -> None:
    assert retarget.ARKIT_CHANNELS == ARKIT_52 == names.ARKIT_52
    assert retarget.EMOTION_CHANNELS.isdisjoint(retarget.SPEECH_CHANNELS)


def test_the_table_is_large_and_varied() -> None:
    expected = {name: channel for _, name, channel in names.TABLE}
    assert len(expected) >= 300 and len(names.CONVENTIONS) - 1 >= 6  # distinct names; near misses aside
    assert all(expected[name] == channel for _, name, channel in names.TABLE)  # shared names agree


@pytest.mark.parametrize("convention", list(names.CONVENTIONS))
def test_every_convention_matches_exactly_as_the_table_says(convention: str) -> None:
    rows = names.CONVENTIONS[convention]
    mapping = retarget.match_channels(ARKIT_52, [name for name, _ in rows])
    wrong = [(name, mapping.get(name), expected) for name, expected in rows if mapping.get(name) != expected]
    assert not wrong, wrong


def test_a_whole_mesh_of_mixed_conventions_matches_each_key_alone() -> None:
    """Matching one key does not depend on the others (except a prefix every key shares)."""
    expected = {name: channel for _, name, channel in names.TABLE}
    mapping = retarget.match_channels(ARKIT_52, list(expected))
    assert {key: mapping.get(key) for key in expected} == expected
    assert retarget.unmapped(list(expected), mapping) == [name for name, channel in expected.items() if channel is None]


def test_a_prefix_every_key_shares_is_dropped() -> None:
    keys = ["Genesis8Female__jawOpen", "Genesis8Female__mouthSmile_L", "Genesis8Female__eyeBlink_R",
            "Genesis8Female__Smirk"]
    assert retarget.match_channels(ARKIT_52, keys) == {keys[0]: "jawOpen", keys[1]: "mouthSmileLeft",
                                                       keys[2]: "eyeBlinkRight"}
    assert retarget.common_prefix(keys[:3]) == ()  # too few keys to tell a prefix from a word


def test_sources_are_read_the_same_way_and_ambiguous_sources_are_unused() -> None:
    assert retarget.match_channels(["Jaw_Open", "Eye_Blink_L"], ["jawOpen", "eyeBlinkLeft", "eyeBlinkRight"]) == {
        "jawOpen": "Jaw_Open", "eyeBlinkLeft": "Eye_Blink_L"}
    assert retarget.match_channels(["jawOpen", "Jaw_Open"], ["jaw_open"]) == {}  # two sources claim jawOpen
    assert retarget.match_channels(["custom_a", "Other"], ["Custom-A", "other", "third"]) == {
        "Custom-A": "custom_a", "other": "Other"}  # non-ARKit names: separator- and case-insensitive equality


VISEME_SETS = {
    "vrm0": ["A", "I", "U", "E", "O"], "vrm1": ["aa", "ih", "ou", "ee", "oh"],
    "oculus": ["viseme_sil", "viseme_PP", "viseme_FF", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U"],
    "vrchat": ["vrc.v_sil", "vrc.v_aa", "vrc.v_oh", "vrc.v_ch"], "vroid": ["Fcl_MTH_A", "Fcl_MTH_O", "Fcl_MTH_Close"],
    "cc4": ["V_Open", "V_Explosive", "V_Dental_Lip", "V_Tight_O", "V_Tight", "V_Wide", "V_Affricate"],
}
EXPECTED_VISEMES = {
    "vrm0": ["aa", "ih", "ou", "ee", "oh"], "vrm1": ["aa", "ih", "ou", "ee", "oh"],
    "oculus": [None, "PP", "FF", "aa", "ee", "ih", "oh", "ou"], "vrchat": [None, "aa", "oh", "CH"],
    "vroid": ["aa", "oh", None], "cc4": ["aa", "PP", "FF", "ou", None, "ee", "CH"],
}


@pytest.mark.parametrize("rig", list(VISEME_SETS))
def test_viseme_names_are_read(rig: str) -> None:
    assert [retarget.viseme_of(name) for name in VISEME_SETS[rig]] == EXPECTED_VISEMES[rig]


def take(frames: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (frames, len(ARKIT_52)))


def test_a_viseme_only_rig_follows_the_mouth_by_least_squares() -> None:
    keys = ["Basis", "Blink", "A", "I", "U", "E", "O"]
    mapping = retarget.auto_mapping(ARKIT_52, keys)
    assert {row.key: row.channel for row in mapping.mapped()} == {
        "A": "viseme:aa", "I": "viseme:ih", "U": "viseme:ou", "E": "viseme:ee", "O": "viseme:oh"}
    # a mouth that is exactly "aa" at strength 0.8 lights up A and nothing much else
    expression = np.zeros((1, len(ARKIT_52)))
    for channel, value in {"jawOpen": 0.7, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3}.items():
        expression[0, ARKIT_52.index(channel)] = 0.8 * value
    keyed, values = retarget.key_values(mapping, ARKIT_52, expression)
    weights = dict(zip(keyed, values[0]))
    assert weights["A"] > 0.6 and max(weights[v] for v in "IUEO") < 0.15
    assert ((values >= 0) & (values <= 1)).all()
    # a mouth mixed from two visemes' shapes is explained as that mix (least squares, a small ridge)
    mixed = np.zeros((1, len(ARKIT_52)))
    for weight, shape in ((0.5, retarget._VISEME_SHAPES["aa"]), (0.4, retarget._VISEME_SHAPES["ou"])):
        for channel, value in shape.items():
            mixed[0, ARKIT_52.index(channel)] += weight * value
    keyed, values = retarget.key_values(mapping, ARKIT_52, mixed)
    weights = dict(zip(keyed, values[0]))
    assert abs(weights["A"] - 0.5) < 0.08 and abs(weights["U"] - 0.4) < 0.08
    assert max(weights[v] for v in "IEO") < 0.08


def test_a_rig_with_mouth_keys_does_not_use_its_visemes() -> None:
    mapping = retarget.auto_mapping(ARKIT_52, ["jawOpen", "viseme_aa", "mouthSmileLeft"])
    assert {row.key: row.channel for row in mapping.rows} == {"jawOpen": "jawOpen", "viseme_aa": "",
                                                              "mouthSmileLeft": "mouthSmileLeft"}


def test_key_values_apply_gain_offset_and_emotion_gain_and_read_back_inverts_them() -> None:
    keys = ["Jaw_Open", "Mouth_Smile_L", "Brow_Raise_Inner_L", "Brow_Raise_Inner_R", "Ear_Up_L"]
    mapping = retarget.auto_mapping(ARKIT_52, keys)
    rows = {row.key: row for row in mapping.rows}
    rows["Jaw_Open"].gain, rows["Jaw_Open"].offset = 1.5, 0.1
    rows["Mouth_Smile_L"].gain = 0.5
    mapping.emotion_gain = 2.0
    expression = take()
    keyed, values = retarget.key_values(mapping, ARKIT_52, expression)
    assert keyed == keys[:4] and values.shape == (40, 4)
    jaw, smile, brow = (ARKIT_52.index(c) for c in ("jawOpen", "mouthSmileLeft", "browInnerUp"))
    assert np.allclose(values[:, 0], expression[:, jaw] * 1.5 + 0.1)  # speech: no emotion gain
    assert np.allclose(values[:, 1], expression[:, smile] * 0.5 * 2.0)
    assert np.allclose(values[:, 2], expression[:, brow] * 2.0) and np.allclose(values[:, 3], values[:, 2])

    edited = values.copy()
    edited[5, 0] = 0.9  # the animator's edit on the character's jaw
    edited[7, 2], edited[7, 3] = 0.2, 0.4  # and on both brow halves
    base = take(seed=1)
    back = retarget.read_back(mapping, ARKIT_52, base, dict(zip(keyed, edited.T)))
    expected = base.copy()
    expected[:, [jaw, smile, brow]] = expression[:, [jaw, smile, brow]]
    expected[5, jaw] = (0.9 - 0.1) / 1.5
    expected[7, brow] = (0.2 / 2 + 0.4 / 2) / 2  # the mean of the two halves
    assert np.allclose(back, expected)


def test_a_take_without_a_mapped_channel_is_refused_in_one_line() -> None:
    mapping = retarget.auto_mapping(ARKIT_52, ["jawOpen", "eyeBlinkLeft"])
    with pytest.raises(ValueError, match=r"^the take has no channel eyeBlinkLeft, jawOpen that the mapping uses"):
        retarget.key_values(mapping, ("a", "b"), np.zeros((3, 2)))


def test_presets_round_trip_and_bad_presets_say_why() -> None:
    keys = ["Jaw_Open", "Mouth_Smile_L", "A"]
    mapping = retarget.auto_mapping(ARKIT_52, keys)
    mapping.rows[0].gain, mapping.rows[1].offset, mapping.emotion_gain = 1.25, -0.1, 0.5
    loaded = retarget.mapping_from_json(retarget.mapping_to_json(mapping), keys)
    assert loaded == mapping
    with pytest.raises(ValueError, match=r"^the mapping preset is not valid JSON \(Expecting"):
        retarget.mapping_from_json("{rows: ", keys)
    with pytest.raises(ValueError, match=r"^the file is not a mapping preset"):
        retarget.mapping_from_json('{"rows": []}', keys)
    with pytest.raises(ValueError, match=r"^the mapping preset has a malformed row"):
        retarget.mapping_from_json('{"format": "s2t-retarget-mapping", "rows": [{"channel": "jawOpen"}]}', keys)
    with pytest.raises(ValueError, match=r"^the preset names shape keys this mesh does not have: Jaw_Open$"):
        retarget.mapping_from_json(retarget.mapping_to_json(mapping), ["Mouth_Smile_L", "A"])
    with pytest.raises(ValueError, match=r"unknown viseme 'zz'"):
        retarget.mapping_from_json('{"format": "s2t-retarget-mapping", "rows": [{"key": "A", "channel": "viseme:zz"}]}',
                                   keys)
