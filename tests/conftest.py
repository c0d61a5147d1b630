"""Shared test set-up: Triton kernels run under the interpreter when no GPU is present."""

import os

try:
    import torch

    _HAS_CUDA = torch.cuda.is_available()
except ImportError:  # dossier-only installs
    _HAS_CUDA = False

if not _HAS_CUDA:
    # Must be set before triton is imported anywhere.
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if _HAS_CUDA:
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
