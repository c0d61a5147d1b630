"""MTP verify on a deferred-write pool that builds no state: the drafts' outputs from checkpoint + ring + their own updates.

:func:`runtime.gdn.verify.verify` with a ring replays each tile's ring entries into the state in registers and then
steps it through the drafts. Here the state is never formed. With ``R = decay h + sum_j w_j d_j k_j^T`` the state the
ring stands for (``h`` the checkpoint) and ``Gc_t`` the drafts' cumulative log decays, draft ``t`` sees ``e^{g_t}
S_{t-1} x = e^{Gc_t} R x + sum_{s<t} e^{Gc_t - Gc_s} u_s (k_s . x)``. Every update ``u_t`` and output ``o_t`` is
therefore linear in ``R k``, ``R q`` and ``v``: the ``T``-step recurrence is solved once per (request, v-head) as a
``[2T, 2T]`` matrix ``W`` (``[u | o] = [R k | R q] W + v W_v``, with ``(I + Ck B)^-1`` unit upper triangular), and
folded into the checkpoint's projection ``Y = decay X^T W`` (``X`` the drafts' keys and queries) and the ring's
``(w K_ring X^T) W``. A block of checkpoint rows then takes three matrix products, ``h Y + D Z + v W_v``, and stores:
no per-row recurrence, no per-row reduction. Each draft's ``(u, k, g)`` is written as a draft record;
:func:`runtime.gdn.verify.commit_records` keeps the accepted ones (appended to the ring, or folded with it into the
checkpoint). The pool and the ring are only read.

The products run on tensor cores at about fp32 accuracy from three tf32 products with the operands split by a
mask (:func:`runtime.gdn.state_tile.dot3`), in one-warp programs that stream 16-row blocks of the checkpoint through
Triton's pipelined loads, as SGLang's spec verify projects its 64-row tiles with ``tl.dot``:
`sglang/kernels/ops/attention/linear/gdn_replayssm_spec_decode.py: gdn_replayssm_spec_circular_kernel` (which
still runs the recurrence per tile: a ``(I + A)^-1`` solve there). Round thirteen's kernel projected ``h`` on the
``2T`` keys and queries and ran the recurrence per row (124 SASS instructions a row against 29 here; NOTES.md round
seventeen). The per-program prologue (round twenty) works on the drafts' rows as read: one Gram product gives the
key-key and key-query products, the norms are folded into ``W``, and on 16-bit inputs the drafts are exact tf32
operands, so their products need no split.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate
from runtime.gdn.deferred_decode import StateRing, ring_pad
from runtime.gdn.state_tile import (
    decays_of,
    dot3,
    hi_part,
    launch_shape,
    prefetch_l2,
    program_rows,
    ring_rows,
)
from runtime.gdn.verify import check_records


@triton.jit
def _row(m, o, i):
    """Row ``i`` of ``m`` (``o`` its row indices) as a vector."""
    return tl.sum(tl.where(o[:, None] == i, m, 0.0), axis=0)


@triton.jit
def _mm(a, b):
    """``a [M, N] @ b [N, P]`` in fp32 for the program's small per-head matrices (broadcast and sum, no ``tl.dot``).
    From ``M, P >= 16`` (``T >= 5``: ``2TP = 16``) summed over the last axis of ``[M, P, N]``: Triton's combine pass
    rewrites ``sum(a[:, :, None] * b[None, :, :], axis=1)`` at those sizes into a tf32 ``tl.dot``, about 4e-4 off
    (NOTES.md round twenty); below them that form, which needs no transpose."""
    if a.shape[0] >= 16 and b.shape[1] >= 16:
        return tl.sum(a[:, None, :] * tl.trans(b)[None, :, :], axis=2)
    else:
        return tl.sum(a[:, :, None] * b[None, :, :], axis=1)


@triton.jit
def _gates(a_ptr, b_ptr, A_log_ptr, dt_bias_ptr, s_a, s_b, i_b, i_hv, T: tl.constexpr, TP: tl.constexpr,
           THRESHOLD: tl.constexpr):
    """The drafts' log decays ``g`` and ``beta`` ``[TP]`` (zero past ``T``)."""
    o_t = tl.arange(0, TP)
    m_t = o_t < T
    tok = i_b.to(tl.int64) * T + o_t
    g, beta = gdn_gate(
        tl.load(a_ptr + tok * s_a + i_hv, mask=m_t, other=0.0),
        tl.load(b_ptr + tok * s_b + i_hv, mask=m_t, other=0.0),
        tl.load(A_log_ptr + i_hv),
        tl.load(dt_bias_ptr + i_hv),
        THRESHOLD,
    )
    return tl.where(m_t, g, 0.0), tl.where(m_t, beta, 0.0)


@triton.jit
def _solve(kk, kq, g, beta, T: tl.constexpr, TP: tl.constexpr):
    """The drafts' recurrence from their unit key-key and key-query products ``kk``, ``kq [s, t]``: returns
    ``[P | P Cq] [TP, 2TP]`` and ``e [TP]`` (the cumulative decays). ``u_t = b_t (v_t - e_t R k_t - sum_{s<t} u_s
    ck_st)``, ``o_t = e_t R q_t + sum_{s<=t} u_s cq_st``, as row vectors ``u = (v - (R k) E) P`` with ``P = B (I + Ck
    B)^-1`` (unit upper triangular: a Neumann series of ``T - 1`` terms), ``o = (R q) E + u Cq``."""
    o_t = tl.arange(0, TP)
    o_x = tl.arange(0, 2 * TP)
    gc = tl.cumsum(g, axis=0)
    later = o_t[:, None] < o_t[None, :]
    span = tl.exp(gc[None, :] - gc[:, None])  # [s, t]: e^{Gc_t - Gc_s}
    n_ck = tl.where(later, span * kk, 0.0) * beta[None, :]  # Ck B
    cq = tl.where(later | (o_t[:, None] == o_t[None, :]), span * kq, 0.0)
    eye = tl.where(o_t[:, None] == o_t[None, :], 1.0, 0.0)
    inv = eye
    for _ in tl.static_range(T - 1):
        inv = eye - _mm(n_ck, inv)
    pm = beta[:, None] * inv  # P
    pcq = _mm(pm, cq)  # P Cq
    sel_t = tl.where(o_t[:, None] == (o_x % TP)[None, :], 1.0, 0.0)  # [TP, 2TP]: a column's draft
    return tl.where(o_x[None, :] < TP, _mm(pm, sel_t), _mm(pcq, sel_t)), tl.exp(gc)


@triton.jit
def _split(x):
    """``(hi, lo)`` of ``x`` for :func:`dot3` (``hi`` exact in tf32, ``lo = x - hi`` exact in fp32)."""
    hi = hi_part(x)
    return hi, x - hi


@triton.jit
def _dot_exact_b(a, b, B_TF32: tl.constexpr):
    """``a @ b`` to about fp32 accuracy; ``B_TF32``: ``b`` is exact in tf32 (16-bit inputs), so only ``a`` is split
    (two tf32 products, not three)."""
    if B_TF32:
        a_hi, a_lo = _split(a)
        acc = tl.dot(a_lo, b, input_precision="tf32")
        return tl.dot(a_hi, b, acc, input_precision="tf32")
    else:
        b_hi, b_lo = _split(b)
        return dot3(a, b_hi, b_lo, tl.zeros([a.shape[0], b.shape[1]], dtype=tl.float32))


@triton.jit
def _drafts(qkv_ptr, s_qkv, i_b, i_h, H: tl.constexpr, K: tl.constexpr, BK: tl.constexpr, T: tl.constexpr,
            TP: tl.constexpr):
    """The drafts' rows ``X [2TP, BK]`` as read: keys, then queries (zero past ``T`` and ``K``)."""
    o_x = tl.arange(0, 2 * TP)
    t_x = o_x % TP
    o_k = tl.arange(0, BK)
    p_x = qkv_ptr + (i_b.to(tl.int64) * T + t_x)[:, None] * s_qkv + tl.where(o_x >= TP, i_h, H + i_h)[:, None] * K
    return tl.load(p_x + o_k[None, :], mask=(t_x < T)[:, None] & (o_k < K)[None, :], other=0.0).to(tl.float32)


@triton.jit
def _prologue(x, g, beta, n, rec, g_ring, k_row, rec_k_ptr, rec_g_ptr, scale, i_hv, i_h, v0, H: tl.constexpr,
              HV: tl.constexpr, K: tl.constexpr, BK: tl.constexpr, LP: tl.constexpr, TM: tl.constexpr,
              T: tl.constexpr, TP: tl.constexpr, VP: tl.constexpr, IS16: tl.constexpr, EPS: tl.constexpr):
    """The per-program matrices from the drafts' rows ``X [2TP, K]`` as read (keys, then queries; never normalised in
    place): one Gram product ``X X^T`` (tf32, exact for 16-bit inputs; else split), scaled by the rows' inverse norms,
    its key rows ``kk`` and ``kq`` (picked by small selection products), the norms folded into ``W``'s rows; ``Z``
    from two tf32 products on 16-bit inputs (only the ring's fp32 keys split); ``Y^T = decay W^T X`` as ``T`` outer
    products for the key rows and a scaling of ``X`` for the query rows. ``g_ring``: the ring's ``LP`` log decays as
    loaded, of which the first ``n`` are live (the rest may hold anything); its keys load here, from ``k_row``."""
    o_t = tl.arange(0, TP)
    m_t = o_t < T
    o_x = tl.arange(0, 2 * TP)
    t_x = o_x % TP
    o_k = tl.arange(0, BK)
    m_k = o_k < K
    r_x = tl.where(o_x >= TP, scale, 1.0) / tl.sqrt(tl.sum(x * x, axis=1) + EPS)  # [2TP]: inverse norms (x scale)
    if IS16:  # 16-bit values are exact tf32 operands, their products exact in the fp32 accumulator
        gram = tl.dot(x, tl.trans(x), input_precision="tf32")
    else:
        gram = _dot_exact_b(x, tl.trans(x), False)
    gram = gram * r_x[:, None] * r_x[None, :]
    sel = tl.where(t_x[:, None] == o_t[None, :], 1.0, 0.0)  # [2TP, TP]: a row or column's draft
    g_k = _mm(tl.where(o_x[None, :] == o_t[:, None], 1.0, 0.0), gram)  # [TP, 2TP]: the key rows
    kk = _mm(g_k, tl.where(o_x[:, None] < TP, sel, 0.0))
    kq = _mm(g_k, tl.where(o_x[:, None] >= TP, sel, 0.0))
    cols, eg = _solve(kk, kq, g, beta, T, TP)
    e_x = tl.sum(sel * eg[None, :], axis=1)  # [2TP]: e of the row's draft
    w_mat = tl.where(o_x[:, None] < TP, -e_x[:, None] * _mm(sel, cols),
                     tl.where((o_x[None, :] >= TP) & (t_x[:, None] == t_x[None, :]), e_x[:, None], 0.0))
    w_mat = w_mat * r_x[:, None]  # on the raw rows
    o_c = tl.arange(0, VP)
    w_v = _mm(tl.where(o_c[:, None] == o_t[None, :], 1.0, 0.0), cols)  # [VP, 2TP]
    if v0 == 0:
        tl.store(rec_g_ptr + (rec * HV + i_hv) * TM + o_t, g, mask=m_t)
        if i_hv % (HV // H) == 0:
            tl.store(rec_k_ptr + (rec * H + i_h) * (TM * K) + t_x[:, None] * K + o_k[None, :], x * r_x[:, None],
                     mask=(o_x < T)[:, None] & m_k[None, :])
    o_j = tl.arange(0, LP)
    m_j = o_j < n
    decay, w = decays_of(tl.full([], 0.0, tl.float32), g_ring, m_j)
    kr = tl.load(k_row + o_j[:, None] * K + o_k[None, :], mask=m_j[:, None] & m_k[None, :], other=0.0)
    zw = _mm(_dot_exact_b(kr, tl.trans(x), IS16) * w[:, None], w_mat)  # [LP, 2TP]
    # Y^T [2TP, BK] = decay W^T X: the key rows' T outer products, the query rows X's own scaled. X enters through a
    # sum over a unit axis (free): were Y elementwise in the 16-bit load, Triton would give the row loop's checkpoint
    # products its 16-bit operand layout (kWidth 2: scalar shared-memory reads and register moves instead of
    # ldmatrix, 635 -> 432 SASS instructions a 16-row block; NOTES.md round twenty-one)
    y = tl.zeros([2 * TP, BK], dtype=tl.float32)
    for t in tl.static_range(T):
        y += _row(w_mat, o_x, t)[:, None] * _row(x, o_x, t)[None, :]
    x_q = tl.sum(tl.reshape(x, [2 * TP, 1, BK]), axis=1)
    y += tl.where(o_x >= TP, e_x * r_x, 0.0)[:, None] * x_q
    y_hi, y_lo = _split(tl.trans(y * decay))
    zw_hi, zw_lo = _split(zw)
    wv_hi, wv_lo = _split(w_v)
    return y_hi, y_lo, zw_hi, zw_lo, wv_hi, wv_lo, o_j, m_j, o_c


@triton.jit
def _ring_verify_kernel(
    qkv_ptr, a_ptr, b_ptr, A_log_ptr, dt_bias_ptr, out_ptr, pool_ptr, idx_ptr,
    ring_d_ptr, ring_k_ptr, ring_g_ptr, fill_ptr, rec_d_ptr, rec_k_ptr, rec_g_ptr, rec_idx_ptr,
    scale, s_qkv, s_a, s_b, s_ot, s_oh, s_pn, s_ph, s_pv, s_pk,
    H: tl.constexpr, HV: tl.constexpr, K: tl.constexpr, V: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    BR: tl.constexpr, L: tl.constexpr, LP: tl.constexpr, TM: tl.constexpr, T: tl.constexpr, TP: tl.constexpr,
    VP: tl.constexpr, PREFETCH: tl.constexpr, THRESHOLD: tl.constexpr, EPS: tl.constexpr,
):
    """Per program (one request and v-head): the drafts' recurrence solved once as a ``[2TP, 2TP]`` matrix ``W``
    (``[u | o] = [R k | R q] W + v W_v``), folded into the projection ``Y = decay X^T W [K, 2TP]`` and the ring's
    ``Z W [LP, 2TP]``; then per block of ``BR`` checkpoint rows three matrix products give the rows' updates and
    outputs: ``h Y + D (Z W) + v W_v``, nothing per row but the products and the stores. What needs only the request
    (drafts, gates, fill, record slot) loads beside the slot, before the padding check, and the ring's log decays
    load whole as soon as the slot is known, not after the fill: the prologue's chain starts a load latency or two
    sooner (NOTES.md round twenty-three; loading the ring's keys so too held 25 more registers and lost)."""
    IS16: tl.constexpr = qkv_ptr.dtype.element_ty.primitive_bitwidth == 16
    pid = tl.program_id(0)
    i_b, i_hv, i_h, v0 = program_rows(pid, H, HV, V, BV)
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    x = _drafts(qkv_ptr, s_qkv, i_b, i_h, H, K, BK, T, TP)
    g, beta = _gates(a_ptr, b_ptr, A_log_ptr, dt_bias_ptr, s_a, s_b, i_b, i_hv, T, TP, THRESHOLD)
    n = tl.minimum(tl.load(fill_ptr + i_b), L - 1)
    rec = tl.load(rec_idx_ptr + i_b).to(tl.int64)
    o_x = tl.arange(0, 2 * TP)  # columns: 0..TP-1 the drafts' keys / updates, TP..2TP-1 queries / outputs
    t_x = o_x % TP
    tok_x = i_b.to(tl.int64) * T + t_x  # [2TP]
    m_u = o_x < T
    m_o = (o_x >= TP) & (t_x < T)
    p_out = out_ptr + tok_x[None, :] * s_ot + i_hv * s_oh  # [1, 2TP]; + rows (the output columns)
    if slot < 0:
        for r in range(0, BV, BR):
            o_v = v0 + r + tl.arange(0, BR)
            tl.store(p_out + o_v[:, None], tl.zeros([BR, 2 * TP], dtype=tl.float32).to(out_ptr.dtype.element_ty),
                     mask=(o_v < V)[:, None] & m_o[None, :])
        return
    o_k = tl.arange(0, BK)
    m_k = o_k < K
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    o_l = tl.arange(0, LP)
    g_ring = tl.load(g_row + o_l, mask=o_l < L, other=0.0)
    if PREFETCH:  # the program's checkpoint rows and the head's live ring updates (each contiguous) head for the L2
        H_BYTES: tl.constexpr = pool_ptr.dtype.element_ty.primitive_bitwidth // 8  # while the prologue runs
        D_BYTES: tl.constexpr = ring_d_ptr.dtype.element_ty.primitive_bitwidth // 8
        prefetch_l2(pool_ptr + slot * s_pn + i_hv * s_ph + v0 * s_pv, BV * K * H_BYTES)
        prefetch_l2(d_row, tl.maximum(n, 1) * (V * D_BYTES))
    y_hi, y_lo, zw_hi, zw_lo, wv_hi, wv_lo, o_j, m_j, o_c = _prologue(
        x, g, beta, n, rec, g_ring, k_row, rec_k_ptr, rec_g_ptr, scale, i_hv, i_h, v0, H, HV, K, BK, LP, TM, T, TP, VP,
        IS16, EPS)
    rec_d = rec_d_ptr + (rec * HV + i_hv) * (TM * V)
    p_state = pool_ptr + slot * s_pn + i_hv * s_ph
    p_v = qkv_ptr + (i_b.to(tl.int64) * T + o_c)[None, :] * s_qkv + 2 * H * K + i_hv * V  # [1, VP]; + rows
    for r0 in range(0, BV, BR):
        o_v = v0 + r0 + tl.arange(0, BR)
        m_v = o_v < V
        h = tl.load(p_state + o_v[:, None] * s_pv + o_k[None, :] * s_pk, mask=m_v[:, None] & m_k[None, :],
                    other=0.0, eviction_policy="evict_first").to(tl.float32)
        d = tl.load(d_row + o_j[None, :] * V + o_v[:, None], mask=m_v[:, None] & m_j[None, :], other=0.0)
        v = tl.load(p_v + o_v[:, None], mask=m_v[:, None] & (o_c < T)[None, :], other=0.0).to(tl.float32)
        acc = dot3(h, y_hi, y_lo, tl.zeros([BR, 2 * TP], dtype=tl.float32))  # [BR, 2TP]: u, then o
        acc = dot3(d, zw_hi, zw_lo, acc)
        if IS16:  # v exact in tf32: two products
            acc = tl.dot(v, wv_lo, acc, input_precision="tf32")
            acc = tl.dot(v, wv_hi, acc, input_precision="tf32")
        else:
            acc = dot3(v, wv_hi, wv_lo, acc)
        tl.store(p_out + o_v[:, None], acc.to(out_ptr.dtype.element_ty), mask=m_v[:, None] & m_o[None, :])
        tl.store(rec_d + t_x[None, :] * V + o_v[:, None], acc, mask=m_v[:, None] & m_u[None, :])


def ring_verify(
    mixed_qkv: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    ring: StateRing,
    slot_indices: torch.Tensor,
    fill: torch.Tensor,
    records: StateRing,
    record_indices: torch.Tensor,
    *,
    num_k_heads: int,
    num_tokens: int,
    scale: float | None = None,
    out: torch.Tensor | None = None,
    block_v: int | None = None,
    block_rows: int | None = None,
    num_stages: int | None = None,
    prefetch: bool | None = None,
) -> torch.Tensor:
    """Verify ``num_tokens`` drafts per request from checkpoint + ring; returns ``o [B * T, HV, V]``.

    Inputs as :func:`runtime.gdn.verify.verify` (``mixed_qkv [B * T, 2HK + HV V]`` request-major, ``a, b [B * T,
    HV]``); ``fill [B]`` the live entries of each row's ring (``0..L-1``). Draft ``t`` of request ``i`` writes its
    record ``(u, k, g)`` at position ``t`` of ``records`` slot ``record_indices[i]`` (length ``>= T``); pool, ring and
    ``fill`` are only read. Padding rows (negative slot) give zeros and write no record. A program owns ``block_v``
    rows of one state, ``block_rows`` at a time, in one warp, with ``num_stages`` of Triton's pipelined loads (all
    three by default :func:`ring_verify_tile`'s); ``prefetch`` (default the tile's): the program first sends its
    checkpoint rows and ring updates toward the L2 (bulk prefetches) before its prologue (GPU only)."""
    _, HV, V, K = pool.shape
    H, T = num_k_heads, num_tokens
    BT = mixed_qkv.shape[0]
    B = slot_indices.shape[0]
    if T < 1 or BT != B * T or fill.shape != (B,) or record_indices.shape != (B,):
        raise ValueError("mixed_qkv must hold T tokens for each of the B slot indices; fill, record_indices [B]")
    if mixed_qkv.shape[1] != 2 * H * K + HV * V or a.shape != (BT, HV) or b.shape != (BT, HV):
        raise ValueError("mixed_qkv must be [B*T, 2HK + HV V] and a, b [B*T, HV]")
    if any(t.stride(-1) != 1 for t in (mixed_qkv, a, b)) or pool.stride(-1) != 1:
        raise ValueError("mixed_qkv, a, b and the pool must be contiguous in the last dim")
    ring.check(pool, H)
    check_records(records, H, HV, V, K, T)
    if out is None:
        out = torch.empty(BT, HV, V, dtype=mixed_qkv.dtype, device=mixed_qkv.device)
    if B == 0:
        return out
    rows, block, stages, tile_prefetch = ring_verify_tile(B, HV)
    grid, sizes = launch_shape(B, H, pool.shape, block_v or rows)
    args = (mixed_qkv, a, b, A_log.contiguous(), dt_bias.contiguous(), out, pool, slot_indices,
            ring.d, ring.k, ring.g, fill, records.d, records.k, records.g, record_indices,
            K**-0.5 if scale is None else scale, mixed_qkv.stride(0), a.stride(0), b.stride(0), out.stride(0),
            out.stride(1), *pool.stride())
    TP = max(2, triton.next_power_of_2(T))
    block_rows = min(block_rows or block, sizes["BV"])
    if sizes["BV"] % block_rows:
        raise ValueError(f"block_rows={block_rows} must divide block_v={sizes['BV']}")
    _ring_verify_kernel[grid](*args, BR=block_rows, L=ring.length, LP=ring_pad(ring.length), TM=records.length, T=T,
                              TP=TP, VP=max(16, TP), PREFETCH=(tile_prefetch if prefetch is None else prefetch)
                              and _prefetchable(pool, ring, sizes["BV"]),
                              **sizes, num_warps=1,
                              num_stages=num_stages or stages)
    return out


def _prefetchable(pool: torch.Tensor, ring: StateRing, block_v: int) -> bool:
    """Whether a program's checkpoint rows are one contiguous span and its bulk L2 prefetches 16-byte sized and
    aligned (and on the GPU: the interpreter runs no PTX)."""
    _, _, V, K = pool.shape
    return (pool.is_cuda and pool.stride(-1) == 1 and pool.stride(-2) == K and V % block_v == 0
            and block_v * K * pool.element_size() % 16 == 0 and V * ring.d.element_size() % 16 == 0
            and all(t.data_ptr() % 16 == 0 for t in (pool, ring.d))
            and all(st * pool.element_size() % 16 == 0 for st in pool.stride()[:2]))


def ring_verify_tile(batch: int, num_v_heads: int) -> tuple[int, int, int, bool]:
    """``(rows per program, rows per block, pipeline stages, L2 prefetch)``: below 512 requests x v-heads one 32-row
    block, 2 stages, the rows prefetched; below 2048 64 rows in 16-row blocks, 2 stages; from there 128 rows in 16-row
    blocks, 3 stages (H200 sweeps, NOTES.md rounds seventeen, eighteen and twenty-one: at 128 heads more, shorter
    programs; at 512, with round twenty-one's row loop, 64-row programs overtook 128-row ones; from 2048 the prologue
    amortised over 8 blocks, two in flight. The prefetch only paid at 128 heads and cost 5-14% from 2048)."""
    heads = batch * num_v_heads
    return (32, 32, 2, True) if heads < 512 else (64, 16, 2, False) if heads < 2048 else (128, 16, 3, False)
