"""``runtime/projections/FIDELITY.md`` stays true: its citations name SGLang 0.5.23 definitions, its tests exist in
tests/runtime/projections/, every row names ours, SGLang's and a test, and it lists every public function and class
of the modules that model SGLang (``tests/runtime/_fidelity.py``)."""

from pathlib import Path

import pytest

from runtime import sglang_files
from tests.runtime import _fidelity
from tests.runtime.test_sglang_citations import release_cache

ROOT = Path(__file__).resolve().parents[3]
LANE = ROOT / "runtime" / "projections"
MODULES = ("naive", "conv_update", "split_kernel", "split_conv_kernel", "linear", "loader", "layer", "params", "fp8",
           "fused", "paths", "context", "norm_projection")


def test_fidelity_table_is_true_of_the_code_the_tests_and_sglang():
    root = sglang_files.package_dir()
    if root is None:
        pytest.skip("sglang not installed")
    errors = _fidelity.check(LANE / "FIDELITY.md", LANE, MODULES, Path(__file__).parent, root,
                             release_cache(), min_rows=17)
    assert not errors, "\n".join(errors)
