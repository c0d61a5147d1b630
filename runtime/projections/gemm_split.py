"""One Triton GEMM over the fused ``[qkvz; ba]`` weight whose epilogue writes ``mixed_qkv, z, b, a`` directly.

The step past "one GEMM feeding the split kernel": no intermediate projection output and one launch
for the whole input projection. Aimed at decode-sized batches, where the GEMM only streams the
weight and cuBLAS's tile choice can leave SMs idle; each program owns ``BLOCK_N`` output columns of
one ``BLOCK_M`` row block and scatters them, column by column, to where the split puts them.
Accumulates in fp32 like cuBLAS, but in its own order: outputs match to rounding, not bitwise.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .naive import GDNShape
from .split_kernel import SplitLayout, split_outputs


@triton.jit
def _gemm_split_kernel(
    x_ptr,
    w_ptr,
    qkv_ptr,
    z_ptr,
    b_ptr,
    a_ptr,
    M,
    x_stride,
    K: tl.constexpr,
    NK: tl.constexpr,
    NV: tl.constexpr,
    DK: tl.constexpr,
    DV: tl.constexpr,
    INTERLEAVED: tl.constexpr,
    PRECISION: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid_m = tl.program_id(0)  # row blocks of one column block run together and share its weight tile in L2
    pid_n = tl.program_id(1)
    R: tl.constexpr = NV // NK
    QK: tl.constexpr = NK * DK
    VD: tl.constexpr = NV * DV
    QKV_W: tl.constexpr = 2 * QK + VD
    QKVZ_W: tl.constexpr = QKV_W + VD
    N: tl.constexpr = QKVZ_W + 2 * NV
    GW: tl.constexpr = 2 * DK + 2 * R * DV

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    m_ok = rm < M
    n_ok = rn < N
    x_ptrs = x_ptr + rm[:, None].to(tl.int64) * x_stride + rk[None, :]
    w_ptrs = w_ptr + rn[:, None].to(tl.int64) * K + rk[None, :]
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for _ in range(0, K, BLOCK_K):
        xa = tl.load(x_ptrs, mask=m_ok[:, None], other=0.0)
        wb = tl.load(w_ptrs, mask=n_ok[:, None], other=0.0)
        acc = tl.dot(xa, tl.trans(wb), acc, input_precision=PRECISION)
        x_ptrs += BLOCK_K
        w_ptrs += BLOCK_K
    out = acc.to(qkv_ptr.dtype.element_ty)

    # where each GEMM output column goes
    ba_col = rn - QKVZ_W
    if INTERLEAVED:
        g = rn // GW
        o = rn % GW
        in_qkv = o < 2 * DK + R * DV
        dst_qk = tl.where(o < DK, g * DK + o, QK + g * DK + o - DK)
        dst_qkv = tl.where(o < 2 * DK, dst_qk, 2 * QK + g * R * DV + o - 2 * DK)
        dst_z = g * R * DV + o - 2 * DK - R * DV
        ob = ba_col % (2 * R)
        is_b = ob < R
        dst_ba = (ba_col // (2 * R)) * R + tl.where(is_b, ob, ob - R)
    else:
        in_qkv = rn < QKV_W
        dst_qkv = rn
        dst_z = rn - QKV_W
        is_b = ba_col < NV
        dst_ba = tl.where(is_b, ba_col, ba_col - NV)
    is_qkvz = rn < QKVZ_W
    rows = rm[:, None].to(tl.int64)
    mm = m_ok[:, None]
    tl.store(qkv_ptr + rows * QKV_W + dst_qkv[None, :], out, mask=mm & (is_qkvz & in_qkv)[None, :])
    tl.store(z_ptr + rows * VD + dst_z[None, :], out, mask=mm & (is_qkvz & ~in_qkv)[None, :])
    is_ba = n_ok & ~is_qkvz
    tl.store(b_ptr + rows * NV + dst_ba[None, :], out, mask=mm & (is_ba & is_b)[None, :])
    tl.store(a_ptr + rows * NV + dst_ba[None, :], out, mask=mm & (is_ba & ~is_b)[None, :])


_TUNED = triton.autotune(
    configs=[
        triton.Config({"BLOCK_N": bn, "BLOCK_K": bk}, num_stages=st, num_warps=4)
        for bn in (16, 32, 64, 128)
        for bk, st in ((128, 3), (128, 4), (64, 4))
    ],  # configs that overflow shared memory time as inf
    key=["BLOCK_M", "K", "NK", "NV", "DK", "DV", "INTERLEAVED"],
)(_gemm_split_kernel)


def accepts(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether the autotuned path takes these tensors: on a GPU, ``x`` with unit column stride, a contiguous
    weight, and a hidden size that is a multiple of the 128-wide K steps."""
    return x.is_cuda and x.stride(1) == 1 and weight.is_contiguous() and x.shape[1] % 128 == 0


def gemm_split(
    x: torch.Tensor,
    weight: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    block_n: int | None = None,
    block_k: int = 128,
    num_stages: int = 3,
):
    """``x [T, hidden] @ weight.T`` (``weight = [qkvz; ba]`` of one rank, ``[N, hidden]`` contiguous) straight
    into ``mixed_qkv, z, b, a``. fp32 inputs multiply in full fp32 (no TF32).

    ``block_n=None`` on a GPU autotunes ``BLOCK_N`` / stages per row-block size and shape; otherwise the given
    ``block_n``, ``block_k``, ``num_stages`` are used (``block_n`` defaults to 64 off the GPU).
    """
    if layout not in ("interleaved", "contiguous"):
        raise ValueError(f"unknown layout {layout!r}")
    t, k = x.shape
    n = shape.qkvz_width + shape.ba_width
    if weight.shape != (n, k) or not weight.is_contiguous() or x.stride(1) != 1:
        raise ValueError(f"need x [T, K] with unit column stride and contiguous weight [{n}, K]")
    tuned = block_n is None and x.is_cuda
    if k % (128 if tuned else block_k):
        raise ValueError(f"hidden {k} must be a multiple of block_k={128 if tuned else block_k}")
    mixed_qkv, z, b, a = split_outputs(t, shape, x, x.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    # row blocks beyond 64 leave too few column tiles for 132 SMs at T = 128 (H100 sweep, NOTES.md)
    block_m = max(16, min(64, triton.next_power_of_2(t)))
    args = (x, weight, mixed_qkv, z, b, a, t, x.stride(0))
    meta = {
        "K": k,
        "NK": shape.num_k_heads,
        "NV": shape.num_v_heads,
        "DK": shape.head_k,
        "DV": shape.head_v,
        "INTERLEAVED": layout == "interleaved",
        "PRECISION": "ieee" if x.dtype == torch.float32 else "tf32",
        "BLOCK_M": block_m,
    }
    if tuned:
        _TUNED[lambda m: (triton.cdiv(t, block_m), triton.cdiv(n, m["BLOCK_N"]))](*args, **meta)
    else:
        block_n = block_n or 64
        _gemm_split_kernel[(triton.cdiv(t, block_m), triton.cdiv(n, block_n))](
            *args, **meta, BLOCK_N=block_n, BLOCK_K=block_k, num_warps=4, num_stages=num_stages
        )
    return mixed_qkv, z, b, a
