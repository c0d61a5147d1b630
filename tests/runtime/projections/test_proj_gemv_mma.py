"""The tensor-core GEMV (weight rows on the MMA's M side, the split in the epilogue): parity with GEMM + split on
fresh random inputs, poisoned outputs, one to four K steps loaded before the wait, one K slice per warp or several;
CPU runs under TRITON_INTERPRET=1."""

import pytest
import torch

from runtime.projections.gemv_mma import gemv_mma

from .test_proj_gemm_split import DEVICE, SHAPES, projection_case

TOL = {torch.float32: 1e-5, torch.float16: 2e-3}  # fp16 as test_proj_gemm_split (the interpreter mishandles a bf16 dot)


@pytest.mark.parametrize(("dtype", "block_n", "block_k", "block_t", "pre", "sub"), [
    (torch.float32, 16, 32, 16, 1, 2), (torch.float32, 32, 16, 8, 4, 1), (torch.float16, 16, 64, 8, 1, 4),
    (torch.float16, 16, 32, 16, 2, 2),
], ids=str)
@pytest.mark.parametrize("t", [3, 8])  # 3: a padded token block (row 2 read again, never stored)
@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_gemv_mma_matches_gemm_then_split(shape, layout, t, dtype, block_n, block_k, block_t, pre, sub):
    x, w, out, want = projection_case(shape, layout, t, dtype, seed=5 * t + block_k, ref_dtype=torch.float64)
    got = gemv_mma(x, w, shape, layout, out=out, block_n=block_n, block_k=block_k, block_t=block_t, pre=pre, sub=sub,
                   num_warps=4)
    for g_, w_ in zip(got, want, strict=True):
        assert g_.shape == w_.shape and g_.dtype == dtype and not g_.isnan().any()
        assert ((g_.double() - w_).norm() / w_.norm()).item() < TOL[dtype]


def test_gemv_mma_rejects_bad_inputs():
    shape = SHAPES["ratio2"]
    x = torch.randn(9, shape.hidden, device=DEVICE)
    w = torch.randn(shape.qkvz_width + shape.ba_width, shape.hidden, device=DEVICE)
    with pytest.raises(ValueError, match="block_k"):
        gemv_mma(x, w, shape, "interleaved", block_k=48, sub=1)
    with pytest.raises(ValueError, match="block_k"):  # 16-wide slices: 64 over 8 warps is not
        gemv_mma(x, w, shape, "interleaved", block_k=64, num_warps=8)
    with pytest.raises(ValueError, match="block_t"):
        gemv_mma(x, w, shape, "interleaved", block_k=16, block_t=8, sub=1)
    with pytest.raises(ValueError, match="unit column stride"):
        gemv_mma(torch.randn(9, 2 * shape.hidden, device=DEVICE)[:, ::2], w, shape, "interleaved", block_k=16, sub=1)
