"""One Triton GEMM over the fused ``[qkvz; ba]`` weight whose epilogue writes ``mixed_qkv, z, b, a`` directly.

The step past "one GEMM feeding the split kernel": no intermediate projection output and one launch
for the whole input projection. Aimed at decode-sized batches, where the GEMM only streams the weight;
each program owns ``BLOCK_N`` output columns of one ``BLOCK_M`` row block and scatters them, column by
column, to where the split puts them.

Swap A and B (``SWAP_AB``): with tokens on the MMA's M side a 16-token block runs ``mma.sync`` tiles; with the
weight rows there (``w @ x^T``) a 64-row weight tile runs Hopper's warpgroup MMA and the tokens only pad the
N side to 16 or 32. On the ranks whose 64-row tiles come near filling the SMs (TP1, TP4) that, in a deep
pipeline of narrow K steps, is the faster launch on the H200 (NOTES.md, round 3).

Split-K: at decode a rank can have fewer column tiles than SMs (TP8: 49 tiles of 32 columns on 132 SMs, each
walking all 2048 of K). With ``SPLIT_K > 1`` each program reduces one K range into an fp32 workspace, and the
last program to finish a tile (a per-tile arrival counter) sums the partials in K order and runs the epilogue:
still one launch, deterministic, and the counter is reset for the next call (CUDA-graph safe). Accumulates in
fp32 like cuBLAS, in its own order: outputs match to rounding, not bitwise.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor

from .naive import GDNShape
from .pdl import pdl_launch
from .split_kernel import SplitLayout, split_outputs


@triton.jit
def _scatter(
    out, rm, rn, M, qkv_ptr, z_ptr, b_ptr, a_ptr,
    NK: tl.constexpr, NV: tl.constexpr, DK: tl.constexpr, DV: tl.constexpr, INTERLEAVED: tl.constexpr,
):
    """Store a ``[BLOCK_M, BLOCK_N]`` tile of GEMM output columns ``rn`` where the split puts them."""
    R: tl.constexpr = NV // NK
    QK: tl.constexpr = NK * DK
    VD: tl.constexpr = NV * DV
    QKV_W: tl.constexpr = 2 * QK + VD
    QKVZ_W: tl.constexpr = QKV_W + VD
    N: tl.constexpr = QKVZ_W + 2 * NV
    GW: tl.constexpr = 2 * DK + 2 * R * DV
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
    mm = (rm < M)[:, None]
    out = out.to(qkv_ptr.dtype.element_ty)
    tl.store(qkv_ptr + rows * QKV_W + dst_qkv[None, :], out, mask=mm & (is_qkvz & in_qkv)[None, :])
    tl.store(z_ptr + rows * VD + dst_z[None, :], out, mask=mm & (is_qkvz & ~in_qkv)[None, :])
    is_ba = (rn < N) & ~is_qkvz
    tl.store(b_ptr + rows * NV + dst_ba[None, :], out, mask=mm & (is_ba & is_b)[None, :])
    tl.store(a_ptr + rows * NV + dst_ba[None, :], out, mask=mm & (is_ba & ~is_b)[None, :])


@triton.jit
def _mma(acc, w, x, SWAP_AB: tl.constexpr, PRECISION: tl.constexpr):
    """``acc += w @ x^T`` with weight rows on the MMA's M side (``SWAP_AB``), else ``acc += x @ w^T``."""
    if SWAP_AB:
        acc = tl.dot(w, tl.trans(x), acc, input_precision=PRECISION)
    else:
        acc = tl.dot(x, tl.trans(w), acc, input_precision=PRECISION)
    return acc


@triton.jit
def _prefetch_l2(ptrs, nbytes: tl.constexpr):
    """Ask L2 for ``nbytes`` from each of ``ptrs`` (16-byte aligned): a hint, no registers or shared memory."""
    tl.inline_asm_elementwise(
        "cp.async.bulk.prefetch.L2.global [$1], $2; mov.u32 $0, 0;", "=r,l,r",
        [ptrs, tl.full(ptrs.shape, nbytes, tl.int32)], dtype=tl.int32, is_pure=False, pack=1,
    )


@triton.jit
def _gemm_split_kernel(
    x_ptr,
    w_ptr,
    x_desc,
    w_desc,
    qkv_ptr,
    z_ptr,
    b_ptr,
    a_ptr,
    ws_ptr,
    count_ptr,
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
    SPLIT_K: tl.constexpr,
    SWAP_AB: tl.constexpr,
    PEEL_K: tl.constexpr,
    PREFETCH_K: tl.constexpr,
    PEEL_LAST: tl.constexpr,
    TILE_MAJOR: tl.constexpr,
    TMA: tl.constexpr,
    TMA_X: tl.constexpr,
    USE_PDL: tl.constexpr,
):
    if USE_PDL:  # let the next kernel launch now (it waits for this one before touching what this one writes)
        tl.extra.cuda.gdc_launch_dependents()
    pid_m = tl.program_id(0)  # row blocks of one column block run together and share its weight tile in L2
    pid_n = tl.program_id(1)
    pid_k = tl.program_id(2)
    N: tl.constexpr = 2 * NK * DK + 2 * NV * DV + 2 * NV
    K_PART: tl.constexpr = K // SPLIT_K

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    m_ok = rm < M
    n_ok = rn < N
    x_rows = x_ptr + rm[:, None].to(tl.int64) * x_stride + pid_k * K_PART
    if TILE_MAJOR:  # tile-major weight (:func:`pack_weight`): each [BLOCK_N, BLOCK_K] step is one contiguous block
        W_STEP: tl.constexpr = BLOCK_N * BLOCK_K
        w_tile = w_ptr + pid_n.to(tl.int64) * (BLOCK_N * K) + pid_k * (K_PART // BLOCK_K) * W_STEP
        w_rows = w_tile + tl.arange(0, BLOCK_N)[:, None] * BLOCK_K
    else:
        W_STEP: tl.constexpr = BLOCK_K
        w_rows = w_ptr + rn[:, None].to(tl.int64) * K + pid_k * K_PART
    # SWAP_AB: weight rows on the MMA's M side (``w @ x^T``, accumulator [BLOCK_N, BLOCK_M]), so a 64-row weight
    # tile runs Hopper's warpgroup MMA while the tokens pad only to the N side; transposed after the K loop
    if SWAP_AB:
        acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)
    else:
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    # the first PEEL_K columns of the range, peeled: their weight (no kernel writes weights) is requested before the
    # wait for the previous kernel, whose writes (x, the split-K workspace) are read only after it; PREFETCH_K
    # further columns of each row are asked into L2 there too
    pk = tl.arange(0, PEEL_K)
    if TILE_MAJOR:  # padded rows: no mask; column c of the range sits in step c // BLOCK_K
        w_peel = tl.load(w_rows + ((pk // BLOCK_K) * W_STEP + pk % BLOCK_K)[None, :])
    else:
        w_peel = tl.load(w_rows + pk[None, :], mask=n_ok[:, None], other=0.0)
    if PREFETCH_K > 0:
        if TILE_MAJOR:  # the steps after the peeled ones are one contiguous run: BLOCK_N pieces of PREFETCH_K elements
            ahead = w_tile + (PEEL_K // BLOCK_K) * W_STEP + tl.arange(0, BLOCK_N) * PREFETCH_K
        else:
            ahead = w_ptr + tl.minimum(rn, N - 1).to(tl.int64) * K + pid_k * K_PART + PEEL_K
        _prefetch_l2(ahead, PREFETCH_K * w_ptr.dtype.element_ty.primitive_bitwidth // 8)
    if USE_PDL:
        tl.extra.cuda.gdc_wait()
    if not PEEL_LAST:
        acc = _mma(acc, w_peel, tl.load(x_rows + pk[None, :], mask=m_ok[:, None], other=0.0), SWAP_AB, PRECISION)
    rk = PEEL_K + tl.arange(0, BLOCK_K)
    x_ptrs = x_rows + rk[None, :]
    if TILE_MAJOR:
        w_ptrs = w_rows + (PEEL_K // BLOCK_K) * W_STEP + tl.arange(0, BLOCK_K)[None, :]
    else:
        w_ptrs = w_rows + rk[None, :]
    # TMA: the loop's weight steps come by bulk tensor copies (``w_desc``: the tile-major weight as rows of
    # BLOCK_K, one [BLOCK_N, BLOCK_K] box a step) instead of per-thread asynchronous copies; TMA_X: x's steps too
    # (``x_desc``: [M, K], rows past M read as zeros)
    w_row = (pid_n * (K // BLOCK_K) + pid_k * (K_PART // BLOCK_K) + PEEL_K // BLOCK_K) * BLOCK_N
    x_col = pid_k * K_PART + PEEL_K
    for _ in range(PEEL_K, K_PART, BLOCK_K):
        if TMA_X:
            xa = x_desc.load([pid_m * BLOCK_M, x_col])
        else:
            xa = tl.load(x_ptrs, mask=m_ok[:, None], other=0.0)
        if TMA:
            wb = w_desc.load([w_row, 0])
        elif TILE_MAJOR:
            wb = tl.load(w_ptrs)
        else:
            wb = tl.load(w_ptrs, mask=n_ok[:, None], other=0.0)
        acc = _mma(acc, wb, xa, SWAP_AB, PRECISION)
        x_ptrs += BLOCK_K
        w_ptrs += W_STEP
        w_row += BLOCK_N
        x_col += BLOCK_K
    if PEEL_LAST:  # the loop's pipeline starts right after the wait; the peeled weight waits in registers
        acc = _mma(acc, w_peel, tl.load(x_rows + pk[None, :], mask=m_ok[:, None], other=0.0), SWAP_AB, PRECISION)
    if SWAP_AB:
        acc = tl.trans(acc)

    if SPLIT_K == 1:
        _scatter(acc, rm, rn, M, qkv_ptr, z_ptr, b_ptr, a_ptr, NK, NV, DK, DV, INTERLEAVED)
    else:
        # partials of tile (pid_m, pid_n): ws[pid_k, rows of the block, columns of the tile]
        tile = pid_m * tl.num_programs(1) + pid_n
        tile_ws = ws_ptr + tile.to(tl.int64) * (SPLIT_K * BLOCK_M * BLOCK_N)
        offs = tl.arange(0, BLOCK_M)[:, None] * BLOCK_N + tl.arange(0, BLOCK_N)[None, :]
        tl.store(tile_ws + pid_k * (BLOCK_M * BLOCK_N) + offs, acc)
        tl.debug_barrier()  # every thread's partial is written before the release below
        arrived = tl.atomic_add(count_ptr + tile, 1, sem="acq_rel")
        if arrived == SPLIT_K - 1:  # the last program of the tile: sum in K order, then the epilogue
            total = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
            for s in range(SPLIT_K):
                total += tl.load(tile_ws + s * (BLOCK_M * BLOCK_N) + offs, cache_modifier=".cg")
            _scatter(total, rm, rn, M, qkv_ptr, z_ptr, b_ptr, a_ptr, NK, NV, DK, DV, INTERLEAVED)
            tl.atomic_xchg(count_ptr + tile, 0)  # ready for the next call


def accepts(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether the fused path takes these tensors: on a GPU, ``x`` with unit column stride, a contiguous
    weight, and a hidden size that is a multiple of 256 (the K steps; split-K ranges are chosen to divide it)."""
    return x.is_cuda and x.stride(1) == 1 and weight.is_contiguous() and x.shape[1] % 256 == 0


_WORKSPACES: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def _workspace(device: torch.device, tiles: int, split_k: int, block_m: int, block_n: int):
    """fp32 partials and zeroed arrival counters, kept per device and size: allocated once (on the warm-up
    call before a graph capture), reused by every call after; calls on one device must not overlap."""
    key = (device, tiles, split_k, block_m, block_n)
    if key not in _WORKSPACES:
        _WORKSPACES[key] = (
            torch.empty(tiles * split_k * block_m * block_n, dtype=torch.float32, device=device),
            torch.zeros(tiles, dtype=torch.int32, device=device),
        )
    return _WORKSPACES[key]


# What a swapped launch asks for before its PDL wait, keyed by (up to 32 tokens, more 64-row tiles than SMs):
# (PEEL_K weight columns loaded into registers, PREFETCH_K further columns of each row asked into L2, whether the
# peeled columns are multiplied after the K loop, so that its pipeline starts right at the wait). Set by the H200
# sweep of round 4 (NOTES.md): the peeled product after the loop everywhere (TP1 T=8 14.6 -> 14.3 us, T=128 19.2
# -> 18.5 with two steps peeled), and 256 columns prefetched at TP4 up to 32 tokens (T=8 6.36 -> 6.05).
PREWAIT = {
    (True, True): (64, 0, True),
    (True, False): (128, 256, True),
    (False, True): (128, 0, True),
    (False, False): (128, 0, True),
}


# Round 5 (NOTES.md): the swapped launches on the tile-major weight (:func:`pack_weight` at :func:`packing`), keyed
# as PREWAIT: (pipeline stages, PEEL_K up to 16 tokens, PEEL_K above, PREFETCH_K, TMA, BLOCK_M or None for the token
# count's). Same-run H200 sweeps, row-major round-4 launch -> this one: TP1 T=4 / 8 / 32 14.4 / 14.5 / 15.4 -> 13.9 /
# 14.0 / 15.0 us; TP4 T=4 / 8 / 32 6.05 / 6.11 / 6.53 -> 5.86 / 5.92 / 6.42; TP4 T=128 8.59 -> 7.52. Round 6: TMA (the
# loop's weight and x steps by bulk tensor copies) on TP1, T=4 / 8 / 32 13.95 / 14.04 / 15.18 -> 13.67 / 13.81 /
# 14.83, and above 32 tokens 64-row tiles of 128-token blocks in four stages (T=128 18.82 on round 3's row-major
# 128 x 128 tiles -> 18.68); slower at TP4 (T=8 5.90 -> 6.17, T=128 7.54 -> 7.76; x alone by TMA 5.94 -> 6.52).
# Round 14: after the layer's input norm (as a decode step runs) TP1 above 32 tokens reads 64-token blocks (two
# programs a weight tile, 386 at T=128): T=128 19.26 -> 18.67 us there, though 18.65 -> 18.88 back to back.
TILE_MAJOR_LAUNCH = {
    (True, True): (5, 128, 64, 0, True, None),  # TP1 from 17 tokens (ROW_MAJOR_MAX_TOKENS_WIDE)
    (True, False): (6, 128, 128, 0, False, None),
    (False, True): (4, 64, 64, 0, True, None),
    (False, False): (5, 128, 128, 0, False, None),
}


# Where there are more 64-row tiles than SMs (TP1), up to this many tokens (one 16-token block) the row-major launch
# (round 4's) reads faster than the tile-major one after the layer's input norm, as a decode step runs: round 14's
# bench, T=3 / 4 / 8 14.79 / 14.79 / 14.89 us against 15.14 / 15.16 / 14.96 (rounds 12 / 13, T=4 14.81 / 14.79
# against 14.88 / 14.87); back to back the tile-major launch had won (round 5). From 17 tokens it still wins (T=32
# 15.43 against 15.57).
ROW_MAJOR_MAX_TOKENS_WIDE = 16


def swaps(n: int, k: int, sms: int) -> bool:
    """Whether :func:`launch_config` puts the weight rows on the MMA's M side (swap A and B) for an ``[n, k]``
    weight on ``sms`` SMs: at least a quarter as many 64-row tiles as SMs (TP1, TP4), K a multiple of 128."""
    return 4 * triton.cdiv(n, 64) >= sms and k % 128 == 0


def packing(n: int, k: int, sms: int) -> tuple[int, int] | None:
    """``(block_n, block_k)`` of the tile-major copy (:func:`pack_weight`) that the swapped launches read for an
    ``[n, k]`` weight on ``sms`` SMs (64-row tiles; 64-wide steps where there are more tiles than SMs, else 128),
    or ``None`` where no launch reads one."""
    if not swaps(n, k, sms):
        return None
    return 64, 64 if triton.cdiv(n, 64) > sms else 128


def reads_tile_major(t: int, n: int, k: int, sms: int) -> bool:
    """Whether :func:`launch_config`'s launch for ``T`` tokens reads the tile-major copy where one is there: a swapped
    launch with a :data:`TILE_MAJOR_LAUNCH` setting, except up to :data:`ROW_MAJOR_MAX_TOKENS_WIDE` tokens on ranks
    with more 64-row tiles than SMs (TP1)."""
    if packing(n, k, sms) is None:
        return False
    wide = triton.cdiv(n, 64) > sms
    return (max(16, min(64, triton.next_power_of_2(t))) <= 32, wide) in TILE_MAJOR_LAUNCH and not (
        wide and t <= ROW_MAJOR_MAX_TOKENS_WIDE
    )


def launch_config(t: int, n: int, k: int, sms: int, pdl: bool = True, tile_major: bool = False) -> dict[str, int]:
    """Tile sizes, split-K and orientation for ``T`` tokens, ``N`` output columns, ``K`` hidden on ``sms`` SMs;
    ``tile_major``: a tile-major copy of the weight (:func:`packing`) is there to read.

    A rank with at least a quarter as many 64-row weight tiles as SMs (TP1: 193, TP4: 49 on 132) runs
    ``SWAP_AB`` (:func:`swaps`): weight rows on the warpgroup MMA's M side, one program per tile over the whole K, no
    split. Up to 32 tokens (padded to 16 or 32): 64-row tiles in a five-stage pipeline of 64-wide K steps where there
    are more tiles than SMs, else 128-wide; above: 128 x 128 tiles (8 warps) in six stages of 64-wide steps on the
    wide ranks, else 64 x 64 tiles in five stages of 128-wide steps. The H200 sweeps (NOTES.md, round 3) set these:
    TP1 T=8 14.5 us, T=128 19.0; TP4 T=8 6.1, T=128 8.5 (tokens on M: 15.3, 31, 6.3, 14.7). What each asks for
    before the PDL wait: :data:`PREWAIT` (round 4); without PDL no L2 prefetch (it was swept only with PDL, and
    with nothing to overlap it cost TP4 T=8 8.81 us against 7.77 without it). With a tile-major copy, the same
    tiles read it where :data:`TILE_MAJOR_LAUNCH` has a setting (round 5), whose launch it gives (round 6: on TP1
    the loop's weight and x steps by TMA, ``TMA`` / ``TMA_X``, and above 32 tokens 64-row tiles in place of the
    row-major 128 x 128 tiles, of 64-token blocks since round 14; other launches leave both flags out; since round 14
    not at TP1 up to 16 tokens, :func:`reads_tile_major`).

    Smaller ranks (TP8) keep tokens on M: 32-column tiles, 4 stages up to 16 tokens and 3 above, 512-wide K steps
    when no more tiles than SMs (else 256), and split K into ranges of at least 512 while the programs stay
    within four per SM (round 2: TP8 T=8 4.80 us, T=32 5.12); above 32 tokens, 64 x 64 tiles, 64-wide K steps, 4
    stages, no split (:func:`wins` sends those sizes to cuBLAS + split).
    """
    block_m = max(16, min(64, triton.next_power_of_2(t)))
    wide = triton.cdiv(n, 64)
    if swaps(n, k, sms):
        regime = (block_m <= 32, wide > sms)
        if tile_major and reads_tile_major(t, n, k, sms):
            stages, peel_few, peel_many, prefetch_k, tma, token_block = TILE_MAJOR_LAUNCH[regime]
            return {"BLOCK_M": token_block or block_m, "BLOCK_N": 64, "BLOCK_K": packing(n, k, sms)[1], "SPLIT_K": 1,
                    "SWAP_AB": True, "PEEL_K": peel_few if t <= 16 else peel_many,
                    "PREFETCH_K": prefetch_k if pdl else 0, "PEEL_LAST": True, "TILE_MAJOR": True, "TMA": tma,
                    "TMA_X": tma, "num_stages": stages, "num_warps": 4}
        peel_k, prefetch_k, peel_last = PREWAIT[regime]
        prewait = {"PEEL_K": peel_k, "PREFETCH_K": prefetch_k if pdl else 0, "PEEL_LAST": peel_last,
                   "TILE_MAJOR": False}
        if block_m <= 32:
            return {"BLOCK_M": block_m, "BLOCK_N": 64, "BLOCK_K": 64 if wide > sms else 128, "SPLIT_K": 1,
                    "SWAP_AB": True, **prewait, "num_stages": 5, "num_warps": 4}
        if wide > sms:
            return {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "SPLIT_K": 1, "SWAP_AB": True, **prewait,
                    "num_stages": 6, "num_warps": 8}
        return {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 128, "SPLIT_K": 1, "SWAP_AB": True, **prewait,
                "num_stages": 5, "num_warps": 4}
    if block_m > 32:
        return {"BLOCK_M": block_m, "BLOCK_N": 64, "BLOCK_K": 64, "SPLIT_K": 1, "SWAP_AB": False, "PEEL_K": 64,
                "PREFETCH_K": 0, "PEEL_LAST": False, "TILE_MAJOR": False, "num_stages": 4, "num_warps": 4}
    tiles = triton.cdiv(t, block_m) * triton.cdiv(n, 32)
    block_k = 512 if tiles <= sms and k % 512 == 0 else 256
    split_k = 1
    while 2 * tiles <= sms and k % (split_k * 2 * 512) == 0 and tiles * split_k * 2 <= 4 * sms:
        split_k *= 2
    return {"BLOCK_M": block_m, "BLOCK_N": 32, "BLOCK_K": block_k, "SPLIT_K": split_k, "SWAP_AB": False,
            "PEEL_K": block_k, "PREFETCH_K": 0, "PEEL_LAST": False, "TILE_MAJOR": False,
            "num_stages": 4 if block_m == 16 else 3, "num_warps": 4}


def wins(t: int, n: int, k: int, sms: int, pdl: bool = True) -> bool:
    """Whether :func:`launch_config`'s launch beat cuBLAS + split kernel in the H200 sweeps and bench (NOTES.md):
    up to 32 tokens, and up to 128 where it swaps A and B and launches with PDL (TP1 T=128 19.1 vs 19.8 us, TP4
    8.5 vs 9.0; without PDL 20.8 and 9.7, slower than cuBLAS; TP8, unswapped, 13.7 vs 8.5)."""
    return t <= 32 or (pdl and t <= 128 and swaps(n, k, sms))


def pack_weight(weight: torch.Tensor, block_n: int, block_k: int) -> torch.Tensor:
    """``weight [N, K]`` tile-major, ``[ceil(N / block_n), K / block_k, block_n, block_k]`` (rows zero-padded to a
    whole tile): each ``[block_n, block_k]`` step of a weight tile is one contiguous block, and a tile's whole K
    range one contiguous run, where row-major order spreads a step over ``block_n`` rows ``K`` elements apart."""
    n, k = weight.shape
    if k % block_k:
        raise ValueError(f"hidden {k} must be a multiple of block_k={block_k}")
    tiles = triton.cdiv(n, block_n)
    padded = torch.zeros(tiles * block_n, k, dtype=weight.dtype, device=weight.device)
    padded[:n] = weight
    return padded.view(tiles, block_n, k // block_k, block_k).transpose(1, 2).contiguous()


def tma_aligned(x: torch.Tensor) -> bool:
    """Whether a bulk tensor copy can read ``x``'s rows: base address and row stride 16-byte aligned."""
    return x.data_ptr() % 16 == 0 and x.stride(0) * x.element_size() % 16 == 0


def check_inputs(x: torch.Tensor, weight: torch.Tensor, shape: GDNShape, layout: SplitLayout) -> tuple[int, int, int]:
    """``(T, K, N)`` of a projection launch, or a ``ValueError`` naming what is off (``weight=None``: ``x`` only)."""
    if layout not in ("interleaved", "contiguous"):
        raise ValueError(f"unknown layout {layout!r}")
    t, k = x.shape
    n = shape.qkvz_width + shape.ba_width
    if x.stride(1) != 1 or (weight is not None and (weight.shape != (n, k) or not weight.is_contiguous())):
        raise ValueError(f"need x [T, K] with unit column stride and contiguous weight [{n}, K]")
    return t, k, n


def gemm_split(
    x: torch.Tensor,
    weight: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    block_n: int | None = None,
    block_m: int | None = None,
    block_k: int = 128,
    num_stages: int = 3,
    split_k: int = 1,
    num_warps: int = 4,
    swap_ab: bool = False,
    peel_k: int | None = None,
    prefetch_k: int = 0,
    peel_last: bool = False,
    tile_major: torch.Tensor | None = None,
    tma: bool = False,
    tma_x: bool = False,
    pdl: bool | None = None,
):
    """``x [T, hidden] @ weight.T`` (``weight = [qkvz; ba]`` of one rank, ``[N, hidden]`` contiguous) straight
    into ``mixed_qkv, z, b, a``. fp32 inputs multiply in full fp32 (no TF32).

    ``block_n=None`` on a GPU takes :func:`launch_config`; otherwise the given ``block_n``, ``block_m``,
    ``block_k``, ``num_stages``, ``split_k`` and ``num_warps`` are used (``block_n`` defaults to 64 off the GPU, ``block_m`` to
    the token count rounded up to a power of two within 16..64). ``tile_major``: the same weight from
    :func:`pack_weight`; given, the launch reads it instead of ``weight`` (with its tile and step sizes) where
    :func:`launch_config` has a tile-major setting, always with explicit settings. ``tma`` (explicit settings, with
    ``tile_major``): the K loop's weight steps by TMA bulk tensor copies; ``tma_x``: its x steps too (x and its row
    stride 16-byte aligned; :func:`launch_config`'s TMA launches read a misaligned x without).
    """
    t, k, n = check_inputs(x, weight, shape, layout)
    pdl_args = pdl_launch(x, pdl)
    if block_n is None and x.is_cuda:
        sms = torch.cuda.get_device_properties(x.device).multi_processor_count
        cfg = {"TMA": False, "TMA_X": False,
               **launch_config(t, n, k, sms, pdl_args["USE_PDL"], tile_major=tile_major is not None)}
        if torch.cuda.get_device_capability(x.device)[0] < 9:  # no bulk tensor copies before Hopper
            cfg["TMA"] = cfg["TMA_X"] = False
        cfg["TMA_X"] = cfg["TMA_X"] and tma_aligned(x)  # x by TMA only where its rows are 16-byte aligned
    else:
        if tile_major is not None:  # the tile and step sizes are the packing's
            block_n, block_k = tile_major.shape[2], tile_major.shape[3]
        block_m = block_m or max(16, min(64, triton.next_power_of_2(max(t, 1))))
        cfg = {"BLOCK_M": block_m, "BLOCK_N": block_n or 64, "BLOCK_K": block_k, "SPLIT_K": split_k,
               "SWAP_AB": swap_ab, "PEEL_K": peel_k or block_k, "PREFETCH_K": prefetch_k, "PEEL_LAST": peel_last,
               "TILE_MAJOR": tile_major is not None, "TMA": tma, "TMA_X": tma_x, "num_stages": num_stages,
               "num_warps": num_warps}
    if cfg["TILE_MAJOR"]:
        weight = tile_major
        if weight.shape != (triton.cdiv(n, cfg["BLOCK_N"]), k // cfg["BLOCK_K"], cfg["BLOCK_N"], cfg["BLOCK_K"]) or (
            not weight.is_contiguous()
        ):
            raise ValueError(f"tile-major weight {tuple(weight.shape)} is not pack_weight's of [{n}, {k}] in "
                             f"[{cfg['BLOCK_N']}, {cfg['BLOCK_K']}] tiles")
    elif cfg["TMA"]:
        raise ValueError("tma=True reads a tile-major weight: pass tile_major")
    if cfg["TMA_X"] and not tma_aligned(x):
        raise ValueError("tma_x=True needs x and its row stride 16-byte aligned")
    x_desc = w_desc = None
    if cfg["TMA"]:  # the tile-major weight as rows of BLOCK_K, one [BLOCK_N, BLOCK_K] box per K step
        rows = weight.view(-1, cfg["BLOCK_K"])
        w_desc = TensorDescriptor(rows, list(rows.shape), list(rows.stride()), [cfg["BLOCK_N"], cfg["BLOCK_K"]])
    if cfg["TMA_X"]:
        x_desc = TensorDescriptor(x, list(x.shape), list(x.stride()), [cfg["BLOCK_M"], cfg["BLOCK_K"]])
    if k % (cfg["BLOCK_K"] * cfg["SPLIT_K"]):
        raise ValueError(f"hidden {k} must be a multiple of block_k={cfg['BLOCK_K']} x split_k={cfg['SPLIT_K']}")
    part = k // cfg["SPLIT_K"]
    peel = cfg["PEEL_K"]
    if peel % cfg["BLOCK_K"] or peel & (peel - 1) or peel + cfg["PREFETCH_K"] > part:
        raise ValueError(f"peel_k={peel} must be a power-of-two multiple of block_k={cfg['BLOCK_K']} and, with "
                         f"prefetch_k={cfg['PREFETCH_K']}, within the K range of {part}")
    if not x.is_cuda:  # the interpreter runs no inline PTX; the L2 prefetch is only a hint
        cfg["PREFETCH_K"] = 0
    mixed_qkv, z, b, a = split_outputs(t, shape, x, x.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    grid = (triton.cdiv(t, cfg["BLOCK_M"]), triton.cdiv(n, cfg["BLOCK_N"]), cfg["SPLIT_K"])
    ws, count = _workspace(x.device, grid[0] * grid[1], cfg["SPLIT_K"], cfg["BLOCK_M"], cfg["BLOCK_N"])
    stages, warps = cfg.pop("num_stages"), cfg.pop("num_warps", 4)
    _gemm_split_kernel[grid](
        x, weight, x_desc, w_desc, mixed_qkv, z, b, a, ws, count, t, x.stride(0),
        K=k, NK=shape.num_k_heads, NV=shape.num_v_heads, DK=shape.head_k, DV=shape.head_v,
        INTERLEAVED=layout == "interleaved", PRECISION="ieee" if x.dtype == torch.float32 else "tf32",
        **cfg, num_warps=warps, num_stages=stages, **pdl_args,
    )
    return mixed_qkv, z, b, a
