"""The add-on's art-strength slider has the limits Style-A accepts (the add-on cannot import s2t,
so the two are compared here, from the add-on's source, without Blender)."""

import ast
from pathlib import Path

from s2t.style_a.art import ART_STRENGTH_RANGE

PROPERTIES = Path(__file__).resolve().parents[2] / "blender_addon" / "properties.py"


def test_the_slider_spans_the_one_art_strength_range():
    tree = ast.parse(PROPERTIES.read_text())
    [call] = [node.annotation for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
              and getattr(node.target, "id", None) == "art_strength"]
    limits = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg in ("min", "max")}
    assert (limits["min"], limits["max"]) == ART_STRENGTH_RANGE
