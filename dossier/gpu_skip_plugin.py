"""A pytest plugin for `dossier regress --device cpu` (``-p dossier.gpu_skip_plugin``): every `gpu`-marked test is
skipped with the reason a machine without CUDA gives (:data:`dossier.regress.NO_CUDA`) instead of deselected, so a
job's `gpu` test ids are in the run's report as skipped ones, as they are in CI's report, not missing from it."""

from __future__ import annotations

import pytest

from dossier.regress import NO_CUDA


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=NO_CUDA)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
