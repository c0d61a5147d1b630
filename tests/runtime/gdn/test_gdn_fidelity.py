"""``runtime/gdn/FIDELITY.md`` stays true: its citations name SGLang 0.5.23 definitions, its tests exist in
tests/runtime/gdn/, every row names ours, SGLang's and a test, and it lists every public function and class of the
modules that model SGLang (``tests/runtime/_fidelity.py``)."""

from pathlib import Path

import pytest

from runtime import sglang_files
from tests.runtime import _fidelity
from tests.runtime.test_sglang_citations import release_cache

ROOT = Path(__file__).resolve().parents[3]
LANE = ROOT / "runtime" / "gdn"
MODULES = ("naive", "activations", "gating", "gated_norm", "decode", "deferred_decode", "verify", "ring_verify",
           "prefill", "state_tile")


def test_fidelity_table_is_true_of_the_code_the_tests_and_sglang(tmp_path):
    root = sglang_files.package_dir()
    if root is None:
        pytest.skip("sglang not installed")
    errors = _fidelity.check(LANE / "FIDELITY.md", LANE, MODULES, Path(__file__).parent, root,
                             release_cache(), min_rows=15)
    assert not errors, "\n".join(errors)


def test_the_check_finds_a_stale_table(tmp_path):
    """An unlisted public function, a renamed test, a made-up SGLang name and a row without a test are each found."""
    root = sglang_files.package_dir()
    if root is None:
        pytest.skip("sglang not installed")
    text = (LANE / "FIDELITY.md").read_text()
    stale = (text.replace("`state_tile.dot3`", "`state_tile.dot4`")
             .replace("`test_gating_is_sglangs` (parity), ", "`test_gating_is_sglang` (parity), ", 1)
             .replace("fused_gdn_gating, fused_gdn_gating_kernel``", "fused_gdn_gating, fused_gdn_gate_kernel``", 1)
             .replace("| `test_chunk_prefill_is_fla_bit_for_bit`, `test_chunk_prefill_pads_like_sglang`, "
                      "`test_a_padding_slot_starts_from_zero_and_writes_nothing`, "
                      "`test_prefill_then_decode_equals_full_recurrence`, `test_chunk_form_equals_recurrence` |",
                      "| none |"))
    assert stale.count("\n") == text.count("\n")
    (tmp_path / "FIDELITY.md").write_text(stale)
    errors = "\n".join(_fidelity.check(tmp_path / "FIDELITY.md", LANE, MODULES, Path(__file__).parent, root,
                                       release_cache(), min_rows=15))
    for part in ("state_tile.dot3: public and not listed", "state_tile.dot4: listed, but",
                 "no test test_gating_is_sglang in", "defines no `fused_gdn_gate_kernel`", "names no test"):
        assert part in errors, errors
