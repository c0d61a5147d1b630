"""A GEMV-style Triton kernel for decode-sized batches: ``x [T, hidden] @ [qkvz; ba].T`` straight into
``mixed_qkv, z, b, a`` (the split in the epilogue, as :mod:`.gemm_split`), for a few tokens.

At a handful of tokens the projection only streams the weight, so the kernel is shaped for bytes in flight,
not for the matrix units: each program owns ``BLOCK_N`` weight rows, reads them in ``BLOCK_K``-wide vectors
(the whole hidden size in one step at the default launch), multiplies on the CUDA cores in fp32 and reduces
over K inside the program (no ``tl.dot``: its 16-row minimum wastes nothing in bytes but forces a shared-memory
round trip; no split-K, hence no workspace, counters or second pass). Small ``BLOCK_N`` gives thousands of
programs at every TP, so every SM holds several and their loads overlap.

Accumulates in fp32 in its own order: matches cuBLAS to rounding, not bitwise.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .gemm_split import _scatter, check_inputs
from .naive import GDNShape
from .pdl import pdl_launch
from .split_kernel import SplitLayout, split_outputs

# The CUDA-core product costs T x the FMAs of one token: in the H200 sweeps (NOTES.md) up to two tokens at TP1
# (12352 rows) and four at TP4 (3088 rows) beat the tl.dot kernel; four at TP1 and eight at TP4 did not.
MAX_TOKENS = 4
MAX_TOKEN_ROWS = 2 * 12352  # tokens x weight rows


@triton.jit
def _gemv_split_kernel(
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
    BLOCK_T: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    USE_PDL: tl.constexpr,
):
    if USE_PDL:
        tl.extra.cuda.gdc_launch_dependents()
    N: tl.constexpr = 2 * NK * DK + 2 * NV * DV + 2 * NV
    rn = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    rt = tl.arange(0, BLOCK_T)
    w_rows = w_ptr + tl.minimum(rn, N - 1)[:, None].to(tl.int64) * K  # clamped rows: unmasked, vector loads
    acc = tl.zeros((BLOCK_T, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        rk = k0 + tl.arange(0, BLOCK_K)
        w = tl.load(w_rows + rk[None, :], eviction_policy="evict_first").to(tl.float32)
        if USE_PDL:  # the weight is in flight; x and the outputs belong to the stream: wait for the previous kernel
            tl.extra.cuda.gdc_wait()
        for t in tl.static_range(BLOCK_T):
            # rows past M read row M-1 again (valid memory); the epilogue never stores them
            xt = tl.load(x_ptr + tl.minimum(t, M - 1) * x_stride + rk).to(tl.float32)
            part = tl.sum(w * xt[None, :], axis=1)
            acc += tl.where(rt[:, None] == t, part[None, :], 0.0)
    _scatter(acc, rt, rn, M, qkv_ptr, z_ptr, b_ptr, a_ptr, NK, NV, DK, DV, INTERLEAVED)


def launch_config(t: int, n: int, k: int) -> dict[str, int]:
    """Rows per program, K step and warps for ``T`` tokens: four rows, the whole hidden size in one step, four
    warps for one token and two above (the H200 sweep's best or within 3% of it at TP 1/4/8, NOTES.md)."""
    return {"BLOCK_N": 4, "BLOCK_K": min(k, 2048), "num_warps": 4 if t == 1 else 2}


def takes(t: int, n: int, k: int) -> bool:
    """Whether the launch takes ``T`` tokens over an ``[n, k]`` weight: 1 to :data:`MAX_TOKENS` tokens, tokens x
    weight rows within :data:`MAX_TOKEN_ROWS`, rows a multiple of the K step."""
    return 0 < t <= MAX_TOKENS and t * n <= MAX_TOKEN_ROWS and k % launch_config(t, n, k)["BLOCK_K"] == 0


def accepts(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """On a GPU, ``x`` with unit column stride and a contiguous weight of a shape :func:`takes`."""
    return (x.is_cuda and x.stride(1) == 1 and weight.is_contiguous()
            and takes(x.shape[0], weight.shape[0], x.shape[1]))


def gemv_split(
    x: torch.Tensor,
    weight: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    block_n: int | None = None,
    block_k: int | None = None,
    num_warps: int | None = None,
    pdl: bool | None = None,
):
    """``mixed_qkv, z, b, a`` of ``x [T, hidden] @ weight.T`` (``weight = [qkvz; ba]`` of one rank,
    ``[N, hidden]`` contiguous). ``hidden`` must be a multiple of the K step; unset launch settings come from
    :func:`launch_config`; ``pdl`` as :func:`.pdl.pdl_launch` (the weight, which no kernel writes, is
    read before the wait)."""
    t, k, n = check_inputs(x, weight, shape, layout)
    cfg = launch_config(t, n, k)
    cfg = {
        "BLOCK_N": block_n or cfg["BLOCK_N"],
        "BLOCK_K": block_k or cfg["BLOCK_K"],
        "num_warps": num_warps or cfg["num_warps"],
    }
    if k % cfg["BLOCK_K"]:
        raise ValueError(f"hidden {k} must be a multiple of block_k={cfg['BLOCK_K']}")
    mixed_qkv, z, b, a = split_outputs(t, shape, x, x.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    _gemv_split_kernel[(triton.cdiv(n, cfg["BLOCK_N"]),)](
        x, weight, mixed_qkv, z, b, a, t, x.stride(0),
        K=k, NK=shape.num_k_heads, NV=shape.num_v_heads, DK=shape.head_k, DV=shape.head_v,
        INTERLEAVED=layout == "interleaved", BLOCK_T=triton.next_power_of_2(t),
        BLOCK_N=cfg["BLOCK_N"], BLOCK_K=cfg["BLOCK_K"], num_warps=cfg["num_warps"], num_stages=2,
        **pdl_launch(x, pdl),
    )
    return mixed_qkv, z, b, a
