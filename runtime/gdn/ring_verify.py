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
seventeen).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate
from runtime.gdn.deferred_decode import StateRing, ring_pad
from runtime.gdn.state_tile import dot3, hi_part, launch_shape, program_rows, ring_decays, ring_rows
from runtime.gdn.verify import check_records


@triton.jit
def _row(m, o, i):
    """Row ``i`` of ``m`` (``o`` its row indices) as a vector."""
    return tl.sum(tl.where(o[:, None] == i, m, 0.0), axis=0)


@triton.jit
def _mm(a, b):
    """``a [M, N] @ b [N, P]`` for the program's small per-head matrices (broadcast and sum, no ``tl.dot``)."""
    return tl.sum(a[:, :, None] * b[None, :, :], axis=1)


@triton.jit
def _ring_verify_kernel(
    qkv_ptr, a_ptr, b_ptr, A_log_ptr, dt_bias_ptr, out_ptr, pool_ptr, idx_ptr,
    ring_d_ptr, ring_k_ptr, ring_g_ptr, fill_ptr, rec_d_ptr, rec_k_ptr, rec_g_ptr, rec_idx_ptr,
    scale, s_qkv, s_a, s_b, s_ot, s_oh, s_pn, s_ph, s_pv, s_pk,
    H: tl.constexpr, HV: tl.constexpr, K: tl.constexpr, V: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    BR: tl.constexpr, L: tl.constexpr, LP: tl.constexpr, TM: tl.constexpr, T: tl.constexpr, TP: tl.constexpr,
    VP: tl.constexpr, THRESHOLD: tl.constexpr, EPS: tl.constexpr,
):
    """Per program (one request and v-head): the drafts' recurrence solved once as a ``[2TP, 2TP]`` matrix ``W``
    (``[u | o] = [R k | R q] W + v W_v``), folded into the projection ``Y = decay X^T W [K, 2TP]`` and the ring's
    ``Z W [LP, 2TP]``; then per block of ``BR`` checkpoint rows three matrix products give the rows' updates and
    outputs: ``h Y + D (Z W) + v W_v``, nothing per row but the products and the stores."""
    pid = tl.program_id(0)
    i_b, i_hv, i_h, v0 = program_rows(pid, H, HV, V, BV)
    o_t = tl.arange(0, TP)
    m_t = o_t < T
    o_x = tl.arange(0, 2 * TP)  # columns: 0..TP-1 the drafts' keys / updates, TP..2TP-1 queries / outputs
    t_x = o_x % TP
    tok_x = i_b.to(tl.int64) * T + t_x  # [2TP]
    m_u = o_x < T
    m_o = (o_x >= TP) & (t_x < T)
    p_out = out_ptr + tok_x[None, :] * s_ot + i_hv * s_oh  # [1, 2TP]; + rows (the output columns)
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    if slot < 0:
        for r in range(0, BV, BR):
            o_v = v0 + r + tl.arange(0, BR)
            tl.store(p_out + o_v[:, None], tl.zeros([BR, 2 * TP], dtype=tl.float32).to(out_ptr.dtype.element_ty),
                     mask=(o_v < V)[:, None] & m_o[None, :])
        return
    # X [2TP, K]: rows 0..TP-1 the drafts' unit keys, TP..2TP-1 their unit queries times the scale
    o_k = tl.arange(0, BK)
    m_k = o_k < K
    p_x = qkv_ptr + tok_x[:, None] * s_qkv + tl.where(o_x >= TP, i_h, H + i_h)[:, None] * K
    x = tl.load(p_x + o_k[None, :], mask=(t_x < T)[:, None] & m_k[None, :], other=0.0).to(tl.float32)
    x = x * (tl.where(o_x >= TP, scale, 1.0) / tl.sqrt(tl.sum(x * x, axis=1) + EPS))[:, None]
    m_tk = m_t[:, None] & m_k[None, :]
    tok = i_b.to(tl.int64) * T + o_t  # [TP]
    p_tok = qkv_ptr + tok[:, None] * s_qkv + o_k[None, :]
    q = tl.load(p_tok + i_h * K, mask=m_tk, other=0.0).to(tl.float32)
    k = tl.load(p_tok + (H + i_h) * K, mask=m_tk, other=0.0).to(tl.float32)
    q = q / tl.sqrt(tl.sum(q * q, axis=1) + EPS)[:, None] * scale
    k = k / tl.sqrt(tl.sum(k * k, axis=1) + EPS)[:, None]
    g, beta = gdn_gate(
        tl.load(a_ptr + tok * s_a + i_hv, mask=m_t, other=0.0),
        tl.load(b_ptr + tok * s_b + i_hv, mask=m_t, other=0.0),
        tl.load(A_log_ptr + i_hv),
        tl.load(dt_bias_ptr + i_hv),
        THRESHOLD,
    )
    g = tl.where(m_t, g, 0.0)
    beta = tl.where(m_t, beta, 0.0)
    gc = tl.cumsum(g, axis=0)
    eg = tl.exp(gc)
    kk = tl.zeros([TP, TP], dtype=tl.float32)  # [s, t]: k_s . k_t
    kq = tl.zeros([TP, TP], dtype=tl.float32)  # [s, t]: k_s . q_t
    for t in tl.static_range(T):
        kk = tl.where(o_t[None, :] == t, tl.sum(k * _row(k, o_t, t)[None, :], axis=1)[:, None], kk)
        kq = tl.where(o_t[None, :] == t, tl.sum(k * _row(q, o_t, t)[None, :], axis=1)[:, None], kq)
    later = o_t[:, None] < o_t[None, :]
    span = tl.exp(gc[None, :] - gc[:, None])  # [s, t]: e^{Gc_t - Gc_s}
    # u_t = b_t (v_t - e_t R k_t - sum_{s<t} u_s ck_st), o_t = e_t R q_t + sum_{s<=t} u_s cq_st, as row vectors:
    # u = (v - (R k) E) P with P = B (I + Ck B)^-1 (unit upper triangular: a Neumann series of T - 1 terms),
    # o = (R q) E + u Cq.
    n_ck = tl.where(later, span * kk, 0.0) * beta[None, :]  # Ck B
    cq = tl.where(later | (o_t[:, None] == o_t[None, :]), span * kq, 0.0)
    eye = tl.where(o_t[:, None] == o_t[None, :], 1.0, 0.0)
    inv = eye
    for _ in tl.static_range(T - 1):
        inv = eye - _mm(n_ck, inv)
    pm = beta[:, None] * inv  # P
    pcq = _mm(pm, cq)  # P Cq
    # W [2TP, 2TP] (rows: R k_s then R q_s; columns: u_t then o_t) and W_v [VP, 2TP] (rows: v_s, zero past T)
    sel = tl.where(t_x[:, None] == o_t[None, :], 1.0, 0.0)  # [2TP, TP]: a row or column's draft
    cols = tl.where(o_x[None, :] < TP, _mm(pm, tl.trans(sel)), _mm(pcq, tl.trans(sel)))  # [TP, 2TP]: [P | P Cq]
    e_w = tl.sum(sel * eg[None, :], axis=1)  # [2TP]: e of the row's draft
    w_mat = tl.where(o_x[:, None] < TP, -e_w[:, None] * _mm(sel, cols),
                     tl.where((o_x[None, :] >= TP) & (t_x[:, None] == t_x[None, :]), e_w[:, None], 0.0))
    o_c = tl.arange(0, VP)
    w_v = _mm(tl.where(o_c[:, None] == o_t[None, :], 1.0, 0.0), cols)  # [VP, 2TP]
    # records: keys and gates once per state (first rows), keys once per k-head
    i_rec = tl.load(rec_idx_ptr + i_b).to(tl.int64)
    rec_d, rec_k, rec_g = ring_rows(rec_d_ptr, rec_k_ptr, rec_g_ptr, i_rec, i_hv, i_h, HV, H, TM, V, K)
    if v0 == 0:
        tl.store(rec_g + o_t, g, mask=m_t)
        if i_hv % (HV // H) == 0:
            tl.store(rec_k + o_t[:, None] * K + o_k[None, :], k, mask=m_tk)
    # the ring: Z = w (K_ring X^T) [LP, 2TP], its share of [u | o] Z W; the checkpoint's projection Y = decay X^T W
    n = tl.minimum(tl.load(fill_ptr + i_b), L - 1)
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    o_j = tl.arange(0, LP)
    m_j = o_j < n
    decay, w = ring_decays(tl.full([], 0.0, tl.float32), g_row, n, LP)
    kr = tl.load(k_row + o_j[:, None] * K + o_k[None, :], mask=m_j[:, None] & m_k[None, :], other=0.0)
    z = tl.dot(kr, tl.trans(x), input_precision="tf32x3") * w[:, None]
    zw = _mm(z, w_mat)  # [LP, 2TP]
    y = tl.zeros([2 * TP, BK], dtype=tl.float32)  # Y^T: row c = decay sum_i W[i, c] X[i]
    for i in tl.static_range(2 * TP):
        y += _row(w_mat, o_x, i)[:, None] * _row(x, o_x, i)[None, :]
    y = tl.trans(y * decay)  # [BK, 2TP]
    y_hi = hi_part(y)
    y_lo = y - y_hi
    zw_hi = hi_part(zw)
    zw_lo = zw - zw_hi
    wv_hi = hi_part(w_v)
    wv_lo = w_v - wv_hi
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
) -> torch.Tensor:
    """Verify ``num_tokens`` drafts per request from checkpoint + ring; returns ``o [B * T, HV, V]``.

    Inputs as :func:`runtime.gdn.verify.verify` (``mixed_qkv [B * T, 2HK + HV V]`` request-major, ``a, b [B * T,
    HV]``); ``fill [B]`` the live entries of each row's ring (``0..L-1``). Draft ``t`` of request ``i`` writes its
    record ``(u, k, g)`` at position ``t`` of ``records`` slot ``record_indices[i]`` (length ``>= T``); pool, ring and
    ``fill`` are only read. Padding rows (negative slot) give zeros and write no record. A program owns ``block_v``
    rows of one state, ``block_rows`` at a time, in one warp, with ``num_stages`` of Triton's pipelined loads (all
    three by default :func:`ring_verify_tile`'s)."""
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
    rows, block, stages = ring_verify_tile(B, HV)
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
                              TP=TP, VP=max(16, TP), **sizes, num_warps=1, num_stages=num_stages or stages)
    return out


def ring_verify_tile(batch: int, num_v_heads: int) -> tuple[int, int, int]:
    """``(rows per program, rows per block, pipeline stages)``: one 32-row block and 2 stages below 512 requests x
    v-heads, 128 rows in 16-row blocks and 3 stages from there (the fastest of 13 tiles at each ring-verify bench
    shape, H200, NOTES.md round seventeen: at 128 heads more, shorter programs; from 512 the prologue amortised over
    8 blocks, two of them in flight; the one 32-row block at 128 heads from round eighteen)."""
    return (32, 32, 2) if batch * num_v_heads < 512 else (128, 16, 3)
