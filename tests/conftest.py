"""Fixtures for the whole suite.

torch is imported only inside a fixture that asks for it: the add-on's tests collect and run
where torch is not installed.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def torch_threads() -> Callable[[int], AbstractContextManager[None]]:
    """``with torch_threads(n):`` torch on ``n`` threads, the previous count restored after; for
    fixtures of any scope (a session fixture that trains a tiny model, say)."""
    return _torch_threads


@pytest.fixture
def one_thread(torch_threads) -> Iterator[None]:
    """Torch on one thread for this test only. Tiny models run several times slower on two
    threads of a loaded two-core machine, and a test that compares two runs bit for bit needs
    the same reduction order in both. A whole module asks with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    with torch_threads(1):
        yield
