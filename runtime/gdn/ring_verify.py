"""MTP verify on a deferred-write pool that builds no state: the drafts' outputs from checkpoint + ring + their own updates.

:func:`runtime.gdn.verify.verify` with a ring replays each tile's ring entries into the state in registers and then
steps it through the drafts: per state element up to ``L - 1`` ring updates plus ``T`` delta-rule steps. Here the state
is never formed. With ``R = decay h + sum_j w_j d_j k_j^T`` the state the ring stands for (``h`` the checkpoint) and
``Gc_t`` the drafts' cumulative log decays, draft ``t`` sees ``e^{g_t} S_{t-1} x = e^{Gc_t} R x + sum_{s<t}
e^{Gc_t - Gc_s} u_s (k_s . x)``, so a row needs only ``R k_t`` and ``R q_t`` (``2T`` dot products of its checkpoint
row, and the ring's keys met once per program), then a ``T``-step scalar recurrence for its updates ``u_t``. Each
draft's ``(u, k, g)`` is written as a draft record; :func:`runtime.gdn.verify.commit_records` keeps the accepted
ones (appended to the ring, or folded with it into the checkpoint). The pool and the ring are only read.

The ``2T`` projections are matrix products (``tl.dot``, ``tf32x3``: fp32-accurate on tensor cores) of 16-row blocks
with the drafts' keys and queries as the columns of one ``[K, 2T]`` operand, in one-warp programs, as SGLang's spec
verify projects its 64-row tiles:
`sglang/kernels/ops/attention/linear/gdn_replayssm_spec_decode.py: gdn_replayssm_spec_circular_kernel`.
Row reductions across a warp (``2T`` per row, round nine's kernel) lost to it at every bench shape on the H200
(NOTES.md, round thirteen); so did two- to eight-warp programs (cross-warp reductions in the per-program prologue and
recurrence).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate
from runtime.gdn.deferred_decode import StateRing, ring_pad
from runtime.gdn.state_tile import launch_shape, program_rows, ring_decays, ring_rows
from runtime.gdn.verify import check_records


@triton.jit
def _row(m, o, i):
    """Row ``i`` of ``m`` (``o`` its row indices) as a vector."""
    return tl.sum(tl.where(o[:, None] == i, m, 0.0), axis=0)


@triton.jit
def _col(m, o, i):
    """Column ``i`` of ``m`` (``o`` its column indices) as a vector."""
    return tl.sum(tl.where(o[None, :] == i, m, 0.0), axis=1)


@triton.jit
def _ring_verify_kernel(
    qkv_ptr, a_ptr, b_ptr, A_log_ptr, dt_bias_ptr, out_ptr, pool_ptr, idx_ptr,
    ring_d_ptr, ring_k_ptr, ring_g_ptr, fill_ptr, rec_d_ptr, rec_k_ptr, rec_g_ptr, rec_idx_ptr,
    scale, s_qkv, s_a, s_b, s_ot, s_oh, s_pn, s_ph, s_pv, s_pk,
    H: tl.constexpr, HV: tl.constexpr, K: tl.constexpr, V: tl.constexpr, BK: tl.constexpr, BV: tl.constexpr,
    BR: tl.constexpr, KC: tl.constexpr, L: tl.constexpr, LP: tl.constexpr, TM: tl.constexpr, T: tl.constexpr,
    TP: tl.constexpr, THRESHOLD: tl.constexpr, EPS: tl.constexpr, PRECISION: tl.constexpr,
):
    """The drafts' keys and queries are the ``2TP`` columns of one operand ``X``; the ring's ``Z = K_ring X^T`` once
    per program, then per block of ``BR`` rows ``P = h X^T`` over ``K`` in chunks of ``KC`` (matrix products: no
    cross-lane reduction per row) and the ring's share ``(D w) Z``, then the scalar recurrence."""
    pid = tl.program_id(0)
    i_b, i_hv, i_h, v0 = program_rows(pid, H, HV, V, BV)
    o_t = tl.arange(0, TP)
    m_t = o_t < T
    tok = i_b.to(tl.int64) * T + o_t  # [TP]
    p_out = out_ptr + tok[None, :] * s_ot + i_hv * s_oh  # [1, TP]; + rows
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    if slot < 0:
        for r in range(0, BV, BR):
            o_v = v0 + r + tl.arange(0, BR)
            tl.store(p_out + o_v[:, None], tl.zeros([BR, TP], dtype=tl.float32).to(out_ptr.dtype.element_ty),
                     mask=(o_v < V)[:, None] & m_t[None, :])
        return
    # X [2TP, K]: rows 0..TP-1 the drafts' keys, TP..2TP-1 their queries (each row's L2 norm and scale as a factor)
    o_x = tl.arange(0, 2 * TP)
    t_x = o_x % TP
    p_x = qkv_ptr + (i_b.to(tl.int64) * T + t_x)[:, None] * s_qkv + tl.where(o_x >= TP, i_h, H + i_h)[:, None] * K
    m_x = (t_x < T)[:, None]
    o_k = tl.arange(0, BK)
    m_k = o_k < K
    x = tl.load(p_x + o_k[None, :], mask=m_x & m_k[None, :], other=0.0).to(tl.float32)
    x_scale = tl.where(o_x >= TP, scale, 1.0) / tl.sqrt(tl.sum(x * x, axis=1) + EPS)  # [2TP]
    m_tk = m_t[:, None] & m_k[None, :]
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
    gc = tl.cumsum(g, axis=0)
    kk = tl.zeros([TP, TP], dtype=tl.float32)  # [s, t]: k_s . k_t
    kq = tl.zeros([TP, TP], dtype=tl.float32)  # [s, t]: k_s . q_t
    for t in tl.static_range(T):
        kk = tl.where(o_t[None, :] == t, tl.sum(k * _row(k, o_t, t)[None, :], axis=1)[:, None], kk)
        kq = tl.where(o_t[None, :] == t, tl.sum(k * _row(q, o_t, t)[None, :], axis=1)[:, None], kq)
    later = o_t[:, None] < o_t[None, :]
    span = tl.exp(gc[None, :] - gc[:, None])  # [s, t]: e^{Gc_t - Gc_s}
    ck = tl.where(later, span * kk, 0.0)
    cq = tl.where(later | (o_t[:, None] == o_t[None, :]), span * kq, 0.0)
    eg = tl.exp(gc)
    # records: keys and gates once per state (first rows), keys once per k-head
    i_rec = tl.load(rec_idx_ptr + i_b).to(tl.int64)
    rec_d, rec_k, rec_g = ring_rows(rec_d_ptr, rec_k_ptr, rec_g_ptr, i_rec, i_hv, i_h, HV, H, TM, V, K)
    if v0 == 0:
        tl.store(rec_g + o_t, g, mask=m_t)
        if i_hv % (HV // H) == 0:
            tl.store(rec_k + o_t[:, None] * K + o_k[None, :], k, mask=m_tk)
    # the ring: Z = K_ring X^T [LP, 2TP] weighted by w, once per program
    n = tl.minimum(tl.load(fill_ptr + i_b), L - 1)
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    o_j = tl.arange(0, LP)
    m_j = o_j < n
    decay, w = ring_decays(tl.full([], 0.0, tl.float32), g_row, n, LP)
    z = tl.zeros([LP, 2 * TP], dtype=tl.float32)
    for c in tl.static_range(0, BK, KC):
        o_c = c + tl.arange(0, KC)
        m_c = o_c < K
        xc = tl.load(p_x + o_c[None, :], mask=m_x & m_c[None, :], other=0.0).to(tl.float32) * x_scale[:, None]
        kr = tl.load(k_row + o_j[:, None] * K + o_c[None, :], mask=m_j[:, None] & m_c[None, :], other=0.0)
        z = tl.dot(kr, tl.trans(xc), z, input_precision=PRECISION)
    z = z * w[:, None]
    p_state = pool_ptr + slot * s_pn + i_hv * s_ph
    p_v = qkv_ptr + tok[None, :] * s_qkv + 2 * H * K + i_hv * V  # [1, TP]; + rows
    for r0 in range(0, BV, BR):
        o_v = v0 + r0 + tl.arange(0, BR)
        m_v = o_v < V
        p = tl.zeros([BR, 2 * TP], dtype=tl.float32)
        for c in tl.static_range(0, BK, KC):  # P = h X^T
            o_c = c + tl.arange(0, KC)
            m_c = o_c < K
            xc = tl.load(p_x + o_c[None, :], mask=m_x & m_c[None, :], other=0.0).to(tl.float32) * x_scale[:, None]
            h = tl.load(p_state + o_v[:, None] * s_pv + o_c[None, :] * s_pk, mask=m_v[:, None] & m_c[None, :],
                        other=0.0, eviction_policy="evict_first").to(tl.float32)
            p = tl.dot(h, tl.trans(xc), p, input_precision=PRECISION)
        d = tl.load(d_row + o_j[None, :] * V + o_v[:, None], mask=m_v[:, None] & m_j[None, :], other=0.0)
        r = decay * p + tl.dot(d, z, input_precision=PRECISION)  # [BR, 2TP]: R k_t, then R q_t
        m_vt = m_v[:, None] & m_t[None, :]
        v = tl.load(p_v + o_v[:, None], mask=m_vt, other=0.0).to(tl.float32)
        u = tl.zeros([BR, TP], dtype=tl.float32)
        o = tl.zeros([BR, TP], dtype=tl.float32)
        for t in tl.static_range(T):
            e_t = tl.sum(tl.where(o_t == t, eg, 0.0), axis=0)
            b_t = tl.sum(tl.where(o_t == t, beta, 0.0), axis=0)
            u_t = b_t * (_col(v, o_t, t) - e_t * _col(r, o_x, t) - tl.sum(u * _col(ck, o_t, t)[None, :], axis=1))
            u = tl.where(o_t[None, :] == t, u_t[:, None], u)
            o_rows = e_t * _col(r, o_x, TP + t) + tl.sum(u * _col(cq, o_t, t)[None, :], axis=1)
            o = tl.where(o_t[None, :] == t, o_rows[:, None], o)
        tl.store(p_out + o_v[:, None], o.to(out_ptr.dtype.element_ty), mask=m_vt)
        tl.store(rec_d + o_t[None, :] * V + o_v[:, None], u, mask=m_vt)


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
    block_rows: int = 16,
    chunk_k: int = 32,
    num_warps: int = 1,
    num_stages: int = 2,
    precision: str = "tf32x3",
) -> torch.Tensor:
    """Verify ``num_tokens`` drafts per request from checkpoint + ring; returns ``o [B * T, HV, V]``.

    Inputs as :func:`runtime.gdn.verify.verify` (``mixed_qkv [B * T, 2HK + HV V]`` request-major, ``a, b [B * T,
    HV]``); ``fill [B]`` the live entries of each row's ring (``0..L-1``). Draft ``t`` of request ``i`` writes its
    record ``(u, k, g)`` at position ``t`` of ``records`` slot ``record_indices[i]`` (length ``>= T``); pool, ring and
    ``fill`` are only read. Padding rows (negative slot) give zeros and write no record. A program owns ``block_v``
    rows of one state (by default :func:`ring_verify_tile`'s), ``block_rows`` at a time, and projects them over ``K``
    in chunks of ``chunk_k`` (``tl.dot`` at ``precision``; ``num_stages``: Triton's pipeline depth)."""
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
    grid, sizes = launch_shape(B, H, pool.shape, block_v or ring_verify_tile(B, HV))
    args = (mixed_qkv, a, b, A_log.contiguous(), dt_bias.contiguous(), out, pool, slot_indices,
            ring.d, ring.k, ring.g, fill, records.d, records.k, records.g, record_indices,
            K**-0.5 if scale is None else scale, mixed_qkv.stride(0), a.stride(0), b.stride(0), out.stride(0),
            out.stride(1), *pool.stride())
    common = dict(L=ring.length, LP=ring_pad(ring.length), TM=records.length, T=T,
                  TP=max(2, triton.next_power_of_2(T)), **sizes, num_warps=num_warps)
    block_rows = min(block_rows, sizes["BV"])
    if sizes["BV"] % block_rows:
        raise ValueError(f"block_rows={block_rows} must divide block_v={sizes['BV']}")
    _ring_verify_kernel[grid](*args, BR=block_rows, KC=min(chunk_k, sizes["BK"]), PRECISION=precision, **common,
                              num_stages=num_stages)
    return out


def ring_verify_tile(batch: int, num_v_heads: int) -> int:
    """Rows per program: 16 below 512 requests x v-heads, 64 below 2048, 128 from there (the fastest of 16 / 32 / 64 /
    128 at each ring-verify bench shape, H200, NOTES.md round thirteen: more rows per program amortise its prologue
    once the grid fills the chip)."""
    heads = batch * num_v_heads
    return 16 if heads < 512 else 64 if heads < 2048 else 128
