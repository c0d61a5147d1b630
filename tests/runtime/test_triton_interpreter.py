"""tests/triton_interpreter.py: a jit helper called inside a kernel no longer re-patches triton.language."""

import os

import pytest
import torch
import triton
import triton.language as tl
from triton.runtime import interpreter

from tests.triton_interpreter import skip_nested_repatch

pytestmark = pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1", reason="the interpreter is not in use")


@triton.jit
def _row_sum(x_ptr, o_k, K: tl.constexpr):
    return tl.sum(tl.load(x_ptr + o_k, mask=o_k < K, other=0.0), axis=0)  # tl.sum reaches tl.core


@triton.jit
def _sums_kernel(x_ptr, out_ptr, K: tl.constexpr, BK: tl.constexpr, CALLS: tl.constexpr):
    row = tl.program_id(0)
    o_k = tl.arange(0, BK)
    total = tl.zeros([], dtype=tl.float32)
    for _ in tl.static_range(CALLS):
        total += _row_sum(x_ptr + row * K, o_k, K)
    tl.store(out_ptr + row, total)


def _launch_counting_scans(x: torch.Tensor, calls: int) -> tuple[torch.Tensor, int]:
    scans = 0
    original = interpreter._patch_builtin

    def counting(*args, **kwargs):
        nonlocal scans
        scans += 1
        return original(*args, **kwargs)

    interpreter._patch_builtin = counting
    try:
        out = torch.full((x.shape[0],), float("nan"))
        _sums_kernel[(x.shape[0],)](x, out, K=x.shape[1], BK=triton.next_power_of_2(x.shape[1]), CALLS=calls)
    finally:
        interpreter._patch_builtin = original
    return out, scans


def test_helpers_run_without_rescanning_the_language():
    """Same sums as torch (1e-6); the scans of triton.language per launch stay the same however many helper
    calls the grid makes (Triton alone: a scan per call); the launch's patches are undone when it ends."""
    assert skip_nested_repatch() and skip_nested_repatch()  # installed once, idempotent
    x = torch.randn(6, 24, generator=torch.Generator().manual_seed(0))
    _launch_counting_scans(x, 1)  # the first launch rewrites the helpers, which adds modules to their globals
    few, few_scans = _launch_counting_scans(x, 1)
    many, many_scans = _launch_counting_scans(x, 5)
    torch.testing.assert_close(few, x.sum(1), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(many, 5 * x.sum(1), rtol=1e-6, atol=1e-5)
    assert few_scans == many_scans and many_scans < 6 * 5  # 6 programs x 5 calls would each have scanned
    assert tl.core.is_builtin(tl.arange)  # restored: the compiler's function again outside a launch


@triton.jit
def _cursor_store_kernel(pos_ptr, out_ptr, BK: tl.constexpr, L: tl.constexpr):
    o_k = tl.arange(0, BK)
    pos = tl.load(pos_ptr + tl.program_id(0)).to(tl.int64)
    tl.store(out_ptr + tl.program_id(0) * BK + o_k, o_k.to(tl.float32), mask=(o_k < BK) & (pos < L))


def test_boolean_masks_let_a_block_and_scalar_mask_through():
    """A block mask ``&`` a scalar comparison, as SGLang's ReplaySSM decode stores its ring key: refused by the bare
    interpreter, stored where the scalar holds (and nowhere else) under ``boolean_masks``; restored on exit."""
    from tests.triton_interpreter import boolean_masks

    pos = torch.tensor([0, 5, 2], dtype=torch.int32)
    out = torch.full((3, 4), -1.0)
    with pytest.raises(Exception, match="mask has unsupported dtype"):
        _cursor_store_kernel[(3,)](pos, out, BK=4, L=3)
    with boolean_masks():
        _cursor_store_kernel[(3,)](pos, out, BK=4, L=3)
    want = torch.arange(4.0).expand(3, 4).clone()
    want[1] = -1.0
    assert torch.equal(out, want)
    with pytest.raises(Exception, match="mask has unsupported dtype"):
        _cursor_store_kernel[(3,)](pos, out, BK=4, L=3)
