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


@triton.jit
def _index_math_kernel(x_ptr, out_ptr, N: tl.constexpr, SCALE: tl.constexpr):
    o = tl.arange(0, N)
    x = tl.load(x_ptr + o)
    tl.store(out_ptr + o, x * SCALE + o - 7)


def _launch_counting_range_checks(x: torch.Tensor, sanitize: bool) -> tuple[torch.Tensor, int]:
    """The kernel's output, and how often the builder compared a result against int32's range (``<=``)."""
    import dataclasses

    builder = interpreter.interpreter_builder
    options, compare = builder.options, builder.create_icmpSLE
    checks = 0

    def counting(*args):
        nonlocal checks
        checks += 1
        return compare(*args)

    builder.options = dataclasses.replace(options, sanitize_overflow=sanitize)
    builder.create_icmpSLE = counting
    try:
        out = torch.zeros_like(x)
        _index_math_kernel[(1,)](x, out, N=x.numel(), SCALE=1 << 20)
    finally:
        builder.options = options
        del builder.create_icmpSLE
    return out, checks


def test_overflow_checks_whose_assert_is_off_are_not_computed():
    """Triton's interpreter never asserts (its options say no ``debug``), so its overflow checks are dead work:
    with them skipped, int32 math (overflowing too, as the compiled kernel wraps) gives the same result bit for bit,
    and no result is compared against int32's range any more."""
    from tests.triton_interpreter import skip_dead_overflow_checks

    assert skip_dead_overflow_checks() and not interpreter.interpreter_builder.options.debug
    assert interpreter.interpreter_builder.options.sanitize_overflow is False
    x = torch.tensor([1, -3, 5000, 2**12, -(2**13), 7, 0, 2**11 + 1], dtype=torch.int32)  # 2**12 * 2**20 wraps
    checked, checks = _launch_counting_range_checks(x, sanitize=True)
    skipped, none = _launch_counting_range_checks(x, sanitize=False)
    assert torch.equal(checked, skipped) and checks > 0 and none == 0
    assert int(skipped[3]) == -7 + 3  # 2**32 wrapped to 0, plus the index 3, minus 7
