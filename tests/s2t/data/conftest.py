import pytest

from s2t.data.tts import EngineUnavailable, get_engine


def _engine_or_skip(name: str):
    try:
        return get_engine(name)
    except EngineUnavailable as exc:
        pytest.skip(f"{name} is not installed ({exc}); CI installs it with apt-get")


@pytest.fixture(scope="session")
def espeak():
    return _engine_or_skip("espeak-ng")


@pytest.fixture
def engine_or_skip():
    """``engine_or_skip(name)``: the TTS engine, or skip the test naming the missing package."""
    return _engine_or_skip
