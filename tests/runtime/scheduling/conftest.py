"""Run this lane's tests on one intra-op thread: the tensors are tiny, and OpenMP threads spinning on a
busy 2-core runner make every op milliseconds slower."""

import pytest

from runtime.scheduling.scheduler import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield
