"""A tensor-core GEMV for decode batches: ``x [T, hidden] @ [qkvz; ba].T`` straight into ``mixed_qkv, z, b, a`` (the
split in the epilogue, :func:`.gemm_split._scatter`), for 2 to 16 tokens on ranks of at most a few hundred 16-row tiles.

The shape of :mod:`.gemv_split` (many small programs, each owning a few weight rows over the whole hidden size and
requesting all of it before the PDL wait; no split-K, no workspace, no second pass), with the product on the tensor
cores: 16 weight rows on ``mma.sync``'s M side, the tokens padded to 8 or 16 on N, and each K step cut into one
slice per warp, multiplied as one batched product and summed over the slices at the end (so no warp repeats
another's MMAs). The weight stays bf16 in registers, 64 KB a program in 4 warps (160 registers a thread on sm_90),
so three programs fit an SM and two calls' programs are resident together at TP4 (193 + 193 on 132 SMs): the next
call's weight streams while this one finishes, as the GEMV's does at one token. The CUDA-core GEMV instead holds
its rows as fp32, which above one token cut its occupancy (NOTES.md round 5); :mod:`.gemm_split` streams each
64-row tile from one SM (49 at TP4).

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


@triton.jit
def _step(acc, w, x_cols, k0, PRECISION: tl.constexpr):
    """``acc[s] += w[s] @ x[:, k0 + s * KS : k0 + (s + 1) * KS]^T`` for each of the step's ``SUB`` K slices."""
    return tl.dot(w, tl.load(x_cols + k0), acc, input_precision=PRECISION)


@triton.jit
def _gemv_mma_kernel(
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
    SUB: tl.constexpr,
    PRE: tl.constexpr,
    PRECISION: tl.constexpr,
    USE_PDL: tl.constexpr,
):
    """Each K step of ``BLOCK_K`` is ``SUB`` slices multiplied as one batched product (one slice per warp: the
    warps split K, none repeats another's MMAs), summed over the slices at the end; ``PRE`` (1 to 4) steps are
    loaded before the PDL wait, the rest after it."""
    if USE_PDL:
        tl.extra.cuda.gdc_launch_dependents()
    N: tl.constexpr = 2 * NK * DK + 2 * NV * DV + 2 * NV
    KS: tl.constexpr = BLOCK_K // SUB
    rn = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    rs = tl.arange(0, SUB)[:, None, None] * KS
    rk = tl.arange(0, KS)
    # [SUB, BLOCK_N, KS] of clamped rows (unmasked, vector loads)
    w_rows = w_ptr + tl.minimum(rn, N - 1)[None, :, None].to(tl.int64) * K + rs + rk[None, None, :]
    w0 = tl.load(w_rows, eviction_policy="evict_first")
    if PRE > 1:
        w1 = tl.load(w_rows + BLOCK_K, eviction_policy="evict_first")
    if PRE > 2:
        w2 = tl.load(w_rows + 2 * BLOCK_K, eviction_policy="evict_first")
    if PRE > 3:
        w3 = tl.load(w_rows + 3 * BLOCK_K, eviction_policy="evict_first")
    if USE_PDL:  # the weight is in flight; x and the outputs belong to the stream: wait for the previous kernel
        tl.extra.cuda.gdc_wait()
    rt = tl.arange(0, BLOCK_T)
    # [SUB, KS, BLOCK_T] of x, tokens past M reading row M-1 (never stored)
    x_cols = x_ptr + tl.minimum(rt, M - 1)[None, None, :] * x_stride + rs + rk[None, :, None]
    acc = _step(tl.zeros((SUB, BLOCK_N, BLOCK_T), dtype=tl.float32), w0, x_cols, 0, PRECISION)
    if PRE > 1:
        acc = _step(acc, w1, x_cols, BLOCK_K, PRECISION)
    if PRE > 2:
        acc = _step(acc, w2, x_cols, 2 * BLOCK_K, PRECISION)
    if PRE > 3:
        acc = _step(acc, w3, x_cols, 3 * BLOCK_K, PRECISION)
    for k0 in range(PRE * BLOCK_K, K, BLOCK_K):
        acc = _step(acc, tl.load(w_rows + k0, eviction_policy="evict_first"), x_cols, k0, PRECISION)
    _scatter(tl.trans(tl.sum(acc, axis=0)), rt, rn, M, qkv_ptr, z_ptr, b_ptr, a_ptr, NK, NV, DK, DV, INTERLEAVED)


BLOCK_N = 16  # weight rows per program: the MMA's 16-row minimum


def programs(n: int) -> int:
    """Programs of a launch over ``n`` weight rows."""
    return triton.cdiv(n, BLOCK_N)


def launch_config(t: int, n: int, k: int, sms: int) -> dict[str, int]:
    """Launch settings for ``T`` tokens over an ``[n, k]`` weight on ``sms`` SMs: 4 warps, each a quarter of every K
    step; tokens padded to 8 or 16; where there are more programs than SMs (TP4: 193 on 132) four 512-wide steps,
    else (TP8: 97) two 1024-wide ones, all before the wait (H200 sweeps, NOTES.md round 9: TP4 T=4 4.46 us against
    5.03 for two 1024-wide steps and 6.76 with the fourth 512-wide step after the wait; TP8 T=8 3.48 against 3.57)."""
    block_k = 512 if programs(n) > sms else 1024
    return {"BLOCK_N": BLOCK_N, "BLOCK_K": min(k, block_k), "BLOCK_T": max(8, triton.next_power_of_2(t)),
            "PRE": min(4, k // min(k, block_k)), "num_warps": 4}


def wins(t: int, n: int, k: int, sms: int, pdl: bool) -> bool:
    """Whether this launch beats the GEMV and :mod:`.gemm_split` on the H200 as a decode step runs it, after the
    layer's input norm (NOTES.md rounds 13 and 14): with PDL only (it was measured with it alone), K a multiple of the
    step, no more programs than SMs (one wave: TP8's 97; not TP4's 193 or TP1's 772) and 3 to 16 tokens. After the
    norm TP8 T=4 took 4.72 us against the GEMV's 4.89 and gemm_split's 5.91, T=8 4.74 against 5.93 (round 12's bench;
    T=16: sweep, back to back only, 4.23 against 4.94); T=3 4.72 against the GEMV's 4.83 in round 14's bench (4.66 /
    4.66 in its sweep; round 13 had interpolated about 4.3 for the GEMV), T=2 4.73 against 3.80. At TP4,
    where round 9 chose this launch because two calls' programs stay resident together (so back to back the next
    call's weight loads overlapped this call), the tile-major gemm_split beat it after the norm: T=4 6.41 us against
    6.74, T=8 6.33 against 6.71."""
    p = programs(n)
    if not pdl or p > sms or k % launch_config(t, n, k, sms)["BLOCK_K"]:
        return False
    return 3 <= t <= 16


def accepts(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """On a GPU, 16-bit ``x`` with unit column stride and a contiguous weight of its dtype (the launch was measured
    in bf16 only; fp32 runs exact fp32 products, ``input_precision="ieee"``, as :mod:`.gemm_split` does)."""
    return (x.is_cuda and x.dtype in (torch.bfloat16, torch.float16) and weight.dtype == x.dtype
            and x.stride(1) == 1 and weight.is_contiguous())


def gemv_mma(
    x: torch.Tensor,
    weight: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    block_n: int | None = None,
    block_k: int | None = None,
    block_t: int | None = None,
    sub: int | None = None,
    num_warps: int | None = None,
    num_stages: int = 2,
    pre: int | None = None,
    pdl: bool | None = None,
):
    """``mixed_qkv, z, b, a`` of ``x [T, hidden] @ weight.T`` (``weight = [qkvz; ba]`` of one rank, ``[N, hidden]``
    contiguous, ``x`` with unit column stride). ``hidden`` must be a multiple of the K step; unset launch settings
    come from :func:`launch_config` (``block_k`` alone: every step of K before the wait, up to four); ``sub``: K slices
    per step (default one per warp); ``pre``: steps before the wait; ``pdl`` as :func:`.pdl.pdl_launch` (the weight,
    which no kernel writes, is read before the wait)."""
    t, k, n = check_inputs(x, weight, shape, layout)
    sms = torch.cuda.get_device_properties(x.device).multi_processor_count if x.is_cuda else 132  # H200 off the GPU
    cfg = launch_config(t, n, k, sms)
    if block_k:  # an explicit step: all of K before the wait, up to four steps, unless pre says otherwise
        cfg["BLOCK_K"], cfg["PRE"] = block_k, min(4, max(1, k // block_k))
    cfg = {
        "BLOCK_N": block_n or cfg["BLOCK_N"],
        "BLOCK_K": cfg["BLOCK_K"],
        "BLOCK_T": block_t or cfg["BLOCK_T"],
        "PRE": pre or cfg["PRE"],
        "num_warps": num_warps or cfg["num_warps"],
    }
    cfg["SUB"] = sub or cfg["num_warps"]
    if k % cfg["BLOCK_K"] or cfg["BLOCK_K"] % (16 * cfg["SUB"]) or not 1 <= cfg["PRE"] <= min(4, k // cfg["BLOCK_K"]):
        raise ValueError(f"gemv_mma: hidden {k} must be a multiple of block_k={cfg['BLOCK_K']}, itself of 16 x sub "
                         f"({cfg['SUB']}); pre {cfg['PRE']} must be 1 to 4 steps")
    if cfg["BLOCK_T"] < t or x.stride(1) != 1 or not weight.is_contiguous():
        raise ValueError(f"gemv_mma: block_t {cfg['BLOCK_T']} must cover {t} tokens; x needs unit column stride and "
                         "the weight must be contiguous")
    mixed_qkv, z, b, a = split_outputs(t, shape, x, x.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    _gemv_mma_kernel[(triton.cdiv(n, cfg["BLOCK_N"]),)](
        x, weight, mixed_qkv, z, b, a, t, x.stride(0),
        K=k, NK=shape.num_k_heads, NV=shape.num_v_heads, DK=shape.head_k, DV=shape.head_v,
        INTERLEAVED=layout == "interleaved", BLOCK_T=cfg["BLOCK_T"], BLOCK_N=cfg["BLOCK_N"],
        BLOCK_K=cfg["BLOCK_K"], SUB=cfg["SUB"], PRE=cfg["PRE"],
        PRECISION="ieee" if x.dtype == torch.float32 else "tf32", num_warps=cfg["num_warps"], num_stages=num_stages,
        **pdl_launch(x, pdl),
    )
    return mixed_qkv, z, b, a
