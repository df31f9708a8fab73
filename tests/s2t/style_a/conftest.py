"""Fixtures the renderer tests share: the face rig (built once per session) and the astronaut
photo prepared at 256 px."""

import pytest
from skimage import data

from s2t.face.rig import build_rig
from s2t.style_a.photo import prepare_photo


@pytest.fixture(scope="session")
def rig():
    return build_rig()


@pytest.fixture(scope="session")
def photo(rig):
    return prepare_photo(rig, data.astronaut(), 256)
