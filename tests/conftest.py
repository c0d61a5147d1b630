"""Shared test set-up: Triton kernels run under the interpreter when no GPU is present."""

import os
import tempfile

try:
    import torch

    _HAS_CUDA = torch.cuda.is_available()
except ImportError:  # dossier-only installs
    _HAS_CUDA = False

# what lint reads off a whole SGLang tree is kept on disk between runs (dossier/tree_cache.py): the tests keep theirs
# apart from the user's, in a folder of their own unless the caller names one (CI names the main job's)
os.environ.setdefault("DOSSIER_TREE_CACHE", os.path.join(tempfile.gettempdir(), "dossier-tree-cache-tests"))

if not _HAS_CUDA:
    # Must be set before triton is imported anywhere.
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402

from tests.triton_interpreter import skip_dead_overflow_checks, skip_nested_repatch  # noqa: E402

if os.environ.get("TRITON_INTERPRET") == "1":
    skip_nested_repatch()
    skip_dead_overflow_checks()


def pytest_collection_modifyitems(config, items):
    if _HAS_CUDA:
        return
    from dossier.regress import NO_CUDA

    skip = pytest.mark.skip(reason=NO_CUDA)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def parity(record_property):
    """Check ``out`` against ``ref`` by relative error and record it for `dossier regress`.

    ``check(name, out, ref, tol)`` computes ||out - ref|| / ||ref|| in float64, records it as the
    JUnit property ``parity:<name>`` ("err/tol"), and fails the test when it exceeds ``tol``.
    """

    def check(name: str, out, ref, tol: float) -> float:
        import torch

        out64, ref64 = out.detach().double().cpu(), ref.detach().double().cpu()
        assert torch.isfinite(out64).all(), f"{name}: non-finite output"
        err = ((out64 - ref64).norm() / ref64.norm().clamp_min(1e-30)).item()
        record_property(f"parity:{name}", f"{err:.6e}/{tol:.1e}")
        assert err <= tol, f"{name}: relative error {err:.3e} exceeds {tol:.1e}"
        return err

    return check
