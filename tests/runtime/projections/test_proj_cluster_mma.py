"""The CUDA cluster kernel (weight rows in registers, K split over a 4-CTA cluster, partials summed in distributed
shared memory, the split in the epilogue): parity with a float64 GEMM + split on fresh random inputs and poisoned
outputs (GPU, real Qwen3-Next widths and a contiguous 2048-wide shape); its ctypes launch structures against the
CUDA driver's layout (CPU)."""

import ctypes
import dataclasses

import pytest
import torch

from runtime.projections import cluster_mma, naive
from runtime.projections.naive import QWEN3_NEXT_80B
from runtime.projections.split_kernel import split_outputs

TOL = {torch.bfloat16: 8e-3, torch.float16: 2e-3}  # 16-bit outputs rounded once from fp32 sums


def test_launch_structures_match_the_driver_layout():
    """``CUlaunchAttribute`` is 72 bytes (id, padding, a 64-byte union at offset 8); ``CUlaunchConfig`` puts the
    stream at byte 32 after seven 32-bit fields and padding, then the attribute pointer and count."""
    assert ctypes.sizeof(cluster_mma._Attr) == 72 and cluster_mma._Attr.value.offset == 8
    cfg = cluster_mma._Config
    assert (cfg.smem.offset, cfg.stream.offset, cfg.attrs.offset, cfg.num_attrs.offset) == (24, 32, 40, 48)
    assert ctypes.sizeof(cfg) == 56


def test_token_blocks_and_shared_memory_fit_three_ctas_an_sm():
    assert [cluster_mma.token_block(t) for t in (1, 8, 9, 16, 17, 128)] == [8, 8, 16, 16, 32, 32]
    assert 3 * (cluster_mma.shared_bytes(32, 128) + 1024) <= 228 * 1024  # H100/H200 shared memory per SM


def test_rejects_cpu_tensors():
    x = torch.randn(4, cluster_mma.HIDDEN, dtype=torch.bfloat16)
    w = torch.randn(64, cluster_mma.HIDDEN, dtype=torch.bfloat16)
    assert not cluster_mma.accepts(x, w)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize(("t", "pdl", "tb", "stage"), [
    (1, True, None, None), (13, True, None, None), (32, False, None, None), (33, True, 16, 32), (128, True, 16, 32),
])
@pytest.mark.parametrize(("tp", "layout"), [(4, "interleaved"), (8, "interleaved"), (1, "interleaved"), (2, "contiguous")])
def test_gpu_cluster_mma_matches_gemm_then_split(tp, layout, t, dtype, pdl, tb, stage):
    if not torch.cuda.is_available() or torch.cuda.get_device_capability()[0] < 9:
        pytest.skip("needs a Hopper GPU")
    shape = QWEN3_NEXT_80B.per_rank(tp)
    if layout == "contiguous":
        shape = dataclasses.replace(shape, num_v_heads=4 * shape.num_k_heads)  # head ratio 4, as Qwen3.5
    g = torch.Generator().manual_seed(100 * tp + t)
    n = shape.qkvz_width + shape.ba_width
    x = torch.randn(t, shape.hidden, generator=g).to("cuda", dtype)
    w = (torch.randn(n, shape.hidden, generator=g) * shape.hidden**-0.5).to("cuda", dtype)
    out = split_outputs(t, shape, x, dtype)
    for o in out:
        o.fill_(float("nan"))
    got = cluster_mma.cluster_mma(x, w, shape, layout, out=out, pdl=pdl, tb=tb, stage=stage)
    full = naive.project(x.double(), w.double())
    split = naive.split_interleaved if layout == "interleaved" else naive.split_contiguous
    want = split(full[:, : shape.qkvz_width], full[:, shape.qkvz_width :], shape)
    torch.cuda.synchronize()
    for g_, w_ in zip(got, want, strict=True):
        assert g_.shape == w_.shape and g_.dtype == dtype and not g_.isnan().any()
        assert ((g_.double() - w_).norm() / w_.norm()).item() < TOL[dtype]
