"""One GEMM over [qkvz; ba] feeding the split kernel == two GEMMs + the PyTorch split chain (#19321)."""

import pytest
import torch

from runtime.projections import naive
from runtime.projections.fused import FusedGDNProjection, fused_forward, two_gemm_forward, unfused_forward
from runtime.projections.gemm_split import accepts
from runtime.projections.gemv_split import accepts as gemv_accepts
from runtime.projections.layer import GDNInputProjection
from runtime.projections.linear import Fp8Scheme
from runtime.projections.naive import GDNShape

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SMALL = GDNShape(hidden=64, num_k_heads=8, num_v_heads=16, head_k=16, head_v=16)


def _rel(got, want) -> float:
    return ((got.float() - want).norm() / want.norm()).item()


@pytest.mark.parametrize("checkpoint", ["split", "packed"])
@pytest.mark.parametrize("tp", [1, 4])
def test_one_gemm_matches_two_gemms(checkpoint, tp):
    g = torch.Generator().manual_seed(tp)
    split = {n: w.to(DEVICE) for n, w in naive.random_split_checkpoint(SMALL, g).items()}
    x = torch.randn(7, SMALL.hidden, generator=g).to(DEVICE)
    ckpt = naive.split_checkpoint(split) if checkpoint == "split" else naive.packed_checkpoint(split, SMALL)
    for r in range(tp):
        layer = GDNInputProjection(SMALL, tp=tp, rank=r, device=DEVICE)
        layer.load_checkpoint(ckpt)
        fused = FusedGDNProjection.from_layer(layer)
        assert fused.weight.shape == (
            SMALL.per_rank(tp).qkvz_width + SMALL.per_rank(tp).ba_width,
            SMALL.hidden,
        )
        args = (x, layer.in_proj_qkvz.weight, layer.in_proj_ba.weight, layer.rank_shape, layer.layout)
        want = naive.reference_rank_outputs(x, split, SMALL, tp, r)
        for one, two, torch_split, ref in zip(
            fused(x), two_gemm_forward(*args), unfused_forward(*args), want, strict=True
        ):
            assert one.shape == two.shape == torch_split.shape == ref.shape
            assert torch.equal(two, torch_split)  # same GEMMs, kernel split == torch split
            assert _rel(one, ref) < 1e-5 and _rel(two, ref) < 1e-5


def test_fusing_fp8_layer_is_refused():
    layer = GDNInputProjection(SMALL, qkvz_fp8=Fp8Scheme("tensor"))
    with pytest.raises(NotImplementedError, match="FP8"):
        FusedGDNProjection.from_layer(layer)


def test_fused_forward_takes_a_column_strided_input():
    """A strided activation view (no unit column stride) is outside what the Triton GEMM accepts; the fused
    path must fall back to the cuBLAS + split-kernel route instead of raising (on a GPU too). Hidden 256
    is a size the Triton kernels take, so only the stride sends the input elsewhere."""
    shape = GDNShape(hidden=256, num_k_heads=4, num_v_heads=8, head_k=16, head_v=16)
    g = torch.Generator().manual_seed(3)
    split = {n: w.to(DEVICE) for n, w in naive.random_split_checkpoint(shape, g).items()}
    layer = GDNInputProjection(shape, device=DEVICE)
    layer.load_checkpoint(naive.split_checkpoint(split))
    fused = FusedGDNProjection.from_layer(layer)
    wide = torch.randn(5, 2 * shape.hidden, generator=g).to(DEVICE)
    x = wide[:, ::2]
    assert x.stride(1) == 2 and not accepts(x, fused.weight) and not gemv_accepts(x, fused.weight)
    want = naive.reference_rank_outputs(x.contiguous(), split, shape, 1, 0)
    for got, ref in zip(fused_forward(x, fused.weight, fused.shape, fused.layout), want, strict=True):
        assert _rel(got, ref) < 1e-5
