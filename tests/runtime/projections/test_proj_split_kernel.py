"""The Triton split/reshape/cat kernel against the PyTorch chain it replaces (runs under TRITON_INTERPRET=1
on CPU at small sizes; see test_gpu.py for real sizes)."""

import pytest
import torch

from runtime.projections import naive
from runtime.projections.naive import GDNShape
from runtime.projections.split_kernel import split_qkvzba

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SHAPES = {
    "ratio2": GDNShape(hidden=64, num_k_heads=4, num_v_heads=8, head_k=16, head_v=16),
    "ratio1": GDNShape(hidden=64, num_k_heads=4, num_v_heads=4, head_k=16, head_v=8),
    "ratio3": GDNShape(hidden=64, num_k_heads=2, num_v_heads=6, head_k=8, head_v=16),
    "ratio4": GDNShape(hidden=64, num_k_heads=2, num_v_heads=8, head_k=16, head_v=16),
    "odd_dims": GDNShape(hidden=64, num_k_heads=3, num_v_heads=6, head_k=12, head_v=20),
}
NAIVE = {"interleaved": naive.split_interleaved, "contiguous": naive.split_contiguous}


def _poisoned(shape: GDNShape, t: int, dtype: torch.dtype):
    full = {"dtype": dtype, "device": DEVICE, "fill_value": float("nan")}
    return (
        torch.full((t, shape.qkv_width), **full),
        torch.full((t, shape.num_v_heads, shape.head_v), **full),
        torch.full((t, shape.num_v_heads), **full),
        torch.full((t, shape.num_v_heads), **full),
    )


def _check(shape, layout, qkvz, ba):
    out = split_qkvzba(qkvz, ba, shape, layout, out=_poisoned(shape, qkvz.shape[0], qkvz.dtype))
    want = NAIVE[layout](qkvz, ba, shape)
    for got, ref in zip(out, want, strict=True):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        assert torch.equal(got, ref)  # a copy: bit-exact (random inputs hold no NaN or signed zeros)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("t", [1, 5, 67])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_interleaved_kernel_bit_exact(shape, t, dtype):
    """Packed (Qwen3-Next) layout, decode and prefill-like token counts (#18917)."""
    g = torch.Generator().manual_seed(t)
    qkvz = torch.randn(t, shape.qkvz_width, generator=g).to(DEVICE, dtype)
    ba = torch.randn(t, shape.ba_width, generator=g).to(DEVICE, dtype)
    _check(shape, "interleaved", qkvz, ba)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("t", [1, 5, 67])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_contiguous_kernel_bit_exact(shape, t, dtype):
    """Split-checkpoint (Qwen3.5) layout (#21019)."""
    g = torch.Generator().manual_seed(100 + t)
    qkvz = torch.randn(t, shape.qkvz_width, generator=g).to(DEVICE, dtype)
    ba = torch.randn(t, shape.ba_width, generator=g).to(DEVICE, dtype)
    _check(shape, "contiguous", qkvz, ba)


@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
def test_kernel_reads_column_slices_of_one_fused_output(layout):
    """qkvz and ba as column slices (row stride qkvz+ba+pad) of a single GEMM output buffer."""
    shape = SHAPES["ratio2"]
    g = torch.Generator().manual_seed(1)
    t, pad = 9, 24
    fused = torch.randn(t, shape.qkvz_width + shape.ba_width + pad, generator=g).to(DEVICE)
    qkvz, ba = fused[:, : shape.qkvz_width], fused[:, shape.qkvz_width : shape.qkvz_width + shape.ba_width]
    assert not qkvz.is_contiguous()
    _check(shape, layout, qkvz, ba)


def test_kernel_handles_zero_tokens_and_rejects_bad_inputs():
    shape = SHAPES["ratio2"]
    empty = split_qkvzba(
        torch.empty(0, shape.qkvz_width, device=DEVICE),
        torch.empty(0, shape.ba_width, device=DEVICE),
        shape,
        "interleaved",
    )
    assert [tuple(o.shape) for o in empty] == [(0, shape.qkv_width), (0, 8, 16), (0, 8), (0, 8)]
    qkvz, ba = torch.randn(3, shape.qkvz_width, device=DEVICE), torch.randn(3, shape.ba_width, device=DEVICE)
    with pytest.raises(ValueError, match="expected qkvz"):
        split_qkvzba(qkvz[:, 1:], ba, shape, "interleaved")
    with pytest.raises(ValueError, match="unit column stride"):
        split_qkvzba(qkvz.t().contiguous().t(), ba, shape, "interleaved")
    with pytest.raises(ValueError, match="unknown layout"):
        split_qkvzba(qkvz, ba, shape, "grouped")
    with pytest.raises(ValueError, match="out tensors"):
        split_qkvzba(qkvz, ba, shape, "contiguous", out=_poisoned(shape, 3, torch.bfloat16))
