"""The GEMV-style decode kernel (CUDA-core product, split in the epilogue): parity with GEMM + split on fresh
random inputs, poisoned outputs; CPU runs under TRITON_INTERPRET=1 (bf16 included: the kernel multiplies in
fp32, which the interpreter does exactly)."""

import pytest
import torch

from runtime.projections.gemv_split import accepts, gemv_split

from .test_proj_gemm_split import DEVICE, SHAPES, projection_case

TOL = {torch.float32: 1e-6, torch.bfloat16: 1e-2}


@pytest.mark.parametrize(("dtype", "block_n", "block_k"), [(torch.float32, 4, 64), (torch.float32, 8, 16),
                                                           (torch.bfloat16, 2, 32)], ids=str)
@pytest.mark.parametrize("t", [1, 3, 8])  # 3: a padded token block (row 3 read again, never stored)
@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_gemv_split_matches_gemm_then_split(shape, layout, t, dtype, block_n, block_k):
    x, w, out, want = projection_case(shape, layout, t, dtype, seed=7 * t + block_n, ref_dtype=torch.float64)
    got = gemv_split(x, w, shape, layout, out=out, block_n=block_n, block_k=block_k)
    for g_, w_ in zip(got, want, strict=True):
        assert g_.shape == w_.shape and g_.dtype == dtype and not g_.isnan().any()
        assert ((g_.double() - w_).norm() / w_.norm()).item() < TOL[dtype]


def test_gemv_split_rejects_bad_inputs():
    """Layout and shape checks are :func:`.gemm_split.check_inputs` (tested there); here the K step and what
    :func:`accepts` sends elsewhere."""
    shape = SHAPES["ratio2"]
    x = torch.randn(3, shape.hidden, device=DEVICE)
    w = torch.randn(shape.qkvz_width + shape.ba_width, shape.hidden, device=DEVICE)
    with pytest.raises(ValueError, match="block_k"):
        gemv_split(x, w, shape, "interleaved", block_k=128)
    with pytest.raises(ValueError, match="unknown layout"):
        gemv_split(x, w, shape, "grouped", block_k=32)
    assert not accepts(torch.randn(9, 64), w)  # CPU tensors and more than MAX_TOKENS rows go elsewhere
