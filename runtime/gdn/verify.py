"""MTP target-verify for GDN (#23273): ``T`` draft tokens per request without touching the state pool.

Speculative decoding checks ``T`` chained draft tokens in one forward. The recurrence cannot be rolled
back, so the verify kernel reads each request's state from the pool once, keeps it in registers across
the ``T`` tokens, and writes the state after every step into an intermediate buffer
``[buffers, T_max, HV, V, K]``; the pool is only read. Once the sampler knows how many tokens were
accepted, :func:`commit_accepted` copies that step's state into the pool. Inputs are packed like decode
(``mixed_qkv: [B * T, 2 H K + HV V]``, request-major), so split, gating and L2 norm are fused here too.

With a deferred-write pool (:mod:`runtime.gdn.deferred_decode`), pass its ``ring`` and ``fill``: each tile is
the checkpoint replayed through the live ring entries in registers before the first draft token, so no fold
pass runs first; a commit then leaves the pool current and the committed rows' rings empty.

SGLang 0.5.23's counterparts: ``sglang/kernels/ops/attention/linear/fused_sigmoid_gating_recurrent.py: fused_sigmoid_gating_delta_rule_update`` with ``intermediate_states_buffer`` (its target_verify), and the commit
``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: HybridLinearAttnBackend.update_mamba_state_after_mtp_verify``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate, l2_normalize
from runtime.gdn.deferred_decode import StateRing, ring_pad
from runtime.gdn.state_tile import (
    delta_rule_update,
    dot3,
    hi_part,
    launch_shape,
    program_rows,
    program_tile,
    replay_rows,
    ring_accumulate_unrolled,
    ring_decays,
    ring_rows,
)


@triton.jit
def _draft_loads(qkv_ptr, a_ptr, b_ptr, s_qkv, s_a, s_b, tok0, i_hv, i_h, o_v, m_v, o_k, m_k, H: tl.constexpr,
                 K: tl.constexpr, V: tl.constexpr, T: tl.constexpr):
    """The ``T`` drafts' rows as read, as tuples ``(q, k, v, a, b)`` over the drafts: issued together, before any
    store, so no draft's loads wait on the last draft's stores (which they cannot be moved past)."""
    qs, ks, vs, a_s, b_s = (), (), (), (), ()
    for t in tl.static_range(T):
        tok = tok0 + t
        p_row = qkv_ptr + tok * s_qkv
        qs = qs + (tl.load(p_row + i_h * K + o_k, mask=m_k, other=0.0),)
        ks = ks + (tl.load(p_row + (H + i_h) * K + o_k, mask=m_k, other=0.0),)
        vs = vs + (tl.load(p_row + 2 * H * K + i_hv * V + o_v, mask=m_v, other=0.0),)
        a_s = a_s + (tl.load(a_ptr + tok * s_a + i_hv),)
        b_s = b_s + (tl.load(b_ptr + tok * s_b + i_hv),)
    return qs, ks, vs, a_s, b_s


@triton.jit
def _verify_kernel(
    qkv_ptr,
    a_ptr,
    b_ptr,
    A_log_ptr,
    dt_bias_ptr,
    out_ptr,
    pool_ptr,
    idx_ptr,
    buf_ptr,
    buf_idx_ptr,
    ring_d_ptr,
    ring_k_ptr,
    ring_g_ptr,
    fill_ptr,
    rec_d_ptr,
    rec_k_ptr,
    rec_g_ptr,
    scale,
    s_qkv,
    s_a,
    s_b,
    s_ot,
    s_oh,
    s_pn,
    s_ph,
    s_pv,
    s_pk,
    s_bn,
    s_bt,
    s_bh,
    s_bv,
    s_bk,
    H: tl.constexpr,
    HV: tl.constexpr,
    K: tl.constexpr,
    V: tl.constexpr,
    BK: tl.constexpr,
    BV: tl.constexpr,
    L: tl.constexpr,
    LP: tl.constexpr,
    HAS_RING: tl.constexpr,
    UNROLL: tl.constexpr,
    RECORD: tl.constexpr,
    TM: tl.constexpr,
    T: tl.constexpr,
    THRESHOLD: tl.constexpr,
    EPS: tl.constexpr,
):
    pid = tl.program_id(0)
    i_b, i_hv, i_h, o_v = program_tile(pid, H, HV, V, BV)
    o_k = tl.arange(0, BK)
    m_v = o_v < V
    m_k = o_k < K
    m_h = m_v[:, None] & m_k[None, :]
    tok0 = i_b.to(tl.int64) * T
    # Every load that does not wait on the state goes first: the request's (its drafts, gates, buffer index) beside
    # the slot, then the state tile (none for a padding row), all above a barrier that keeps the compiler from sinking
    # them back past the padding branch (without it the drafts' loads went there: NOTES.md round twenty-four).
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    i_buf = tl.load(buf_idx_ptr + i_b).to(tl.int64)
    A_log = tl.load(A_log_ptr + i_hv)
    dt_bias = tl.load(dt_bias_ptr + i_hv)
    qs, ks, vs, a_s, b_s = _draft_loads(qkv_ptr, a_ptr, b_ptr, s_qkv, s_a, s_b, tok0, i_hv, i_h, o_v, m_v, o_k, m_k,
                                        H, K, V, T)
    h = tl.load(
        pool_ptr + tl.maximum(slot, 0) * s_pn + i_hv * s_ph + o_v[:, None] * s_pv + o_k[None, :] * s_pk,
        mask=(m_v & (o_v * 0 + slot >= 0))[:, None] & m_k[None, :],  # vector masks: the interpreter takes no scalar one
        other=0.0,
        eviction_policy="evict_first",
    ).to(tl.float32)
    tl.debug_barrier()
    if slot < 0:
        for t in tl.static_range(T):
            tl.store(
                out_ptr + (tok0 + t) * s_ot + i_hv * s_oh + o_v,
                tl.zeros([BV], dtype=tl.float32).to(out_ptr.dtype.element_ty),
                mask=m_v,
            )
        return
    if HAS_RING:
        d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
        n = tl.minimum(tl.load(fill_ptr + i_b), L - 1)
        if UNROLL:  # straight-line over the ring's slots: every entry's loads issue at once
            zero = tl.full([], 0.0, tl.float32)
            decay, _ = ring_decays(zero, g_row, n, LP)
            h = ring_accumulate_unrolled(decay * h, zero, n, d_row, k_row, g_row, o_v, m_v, o_k, m_k, V, K, L)
        else:
            h = replay_rows(h, o_v, m_v, o_k, m_k, d_row, k_row, g_row, n, V, K)
    p_buf = buf_ptr + i_buf * s_bn + i_hv * s_bh + o_v[:, None] * s_bv + o_k[None, :] * s_bk
    rec_d, rec_k, rec_g = ring_rows(rec_d_ptr, rec_k_ptr, rec_g_ptr, i_buf, i_hv, i_h, HV, H, TM, V, K)
    first_rows = pid % ((V + BV - 1) // BV) == 0
    for t in tl.static_range(T):
        tok = tok0 + t
        q = l2_normalize(qs[t].to(tl.float32), EPS) * scale
        k = l2_normalize(ks[t].to(tl.float32), EPS)
        g, beta = gdn_gate(a_s[t], b_s[t], A_log, dt_bias, THRESHOLD)
        h, o, u = delta_rule_update(h, q, k, vs[t].to(tl.float32), g, beta)
        tl.store(out_ptr + tok * s_ot + i_hv * s_oh + o_v, o.to(out_ptr.dtype.element_ty), mask=m_v)
        if RECORD:  # the draft's ring entry instead of its state
            tl.store(rec_d + t * V + o_v, u, mask=m_v)
            if first_rows:
                tl.store(rec_g + t, g)
                if i_hv % (HV // H) == 0:
                    tl.store(rec_k + t * K + o_k, k, mask=m_k)
        else:
            tl.store(p_buf + t * s_bt, h.to(buf_ptr.dtype.element_ty), mask=m_h, cache_modifier=".cs")


@triton.jit
def _commit_kernel(
    pool_ptr,
    idx_ptr,
    buf_ptr,
    buf_idx_ptr,
    step_ptr,
    s_pn,
    s_ph,
    s_pv,
    s_pk,
    s_bn,
    s_bt,
    s_bh,
    s_bv,
    s_bk,
    HV: tl.constexpr,
    K: tl.constexpr,
    V: tl.constexpr,
    BK: tl.constexpr,
    BV: tl.constexpr,
):
    i_bh = tl.program_id(0)
    i_b = i_bh // HV
    i_hv = i_bh % HV
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    step = tl.load(step_ptr + i_b).to(tl.int64)
    row = tl.load(buf_idx_ptr + i_b).to(tl.int64)  # with the other two, not one more round trip after the check
    if (slot < 0) | (step < 0):
        return
    o_v = tl.program_id(1) * BV + tl.arange(0, BV)
    o_k = tl.arange(0, BK)
    m_h = (o_v < V)[:, None] & (o_k < K)[None, :]
    src = buf_ptr + row * s_bn + step * s_bt + i_hv * s_bh + o_v[:, None] * s_bv + o_k[None, :] * s_bk
    dst = pool_ptr + slot * s_pn + i_hv * s_ph + o_v[:, None] * s_pv + o_k[None, :] * s_pk
    # each byte is read and written once: neither side is worth keeping in the L2
    h = tl.load(src, mask=m_h, other=0.0, eviction_policy="evict_first")
    tl.store(dst, h.to(pool_ptr.dtype.element_ty), mask=m_h, cache_modifier=".cs")


def verify(
    mixed_qkv: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    buffer: torch.Tensor | StateRing,
    buffer_indices: torch.Tensor,
    *,
    num_k_heads: int,
    num_tokens: int,
    scale: float | None = None,
    out: torch.Tensor | None = None,
    ring: StateRing | None = None,
    fill: torch.Tensor | None = None,
    block_v: int | None = None,
    num_warps: int | None = None,
    unroll_ring: bool = False,
) -> torch.Tensor:
    """Verify ``num_tokens`` draft tokens per request; returns ``o [B * T, HV, V]``, pool unchanged.

    ``buffer: [buffers, >= T, HV, V, K]`` receives request ``i``'s state after step ``t`` at
    ``buffer[buffer_indices[i], t]``; padding rows (negative slot) write nothing there. ``buffer`` may be the pool
    itself, viewed as ``[groups, T, HV, V, K]``, for an accept with no copy (:func:`accepted_slots`). With ``ring`` and
    ``fill`` (``[B]``, live entries per row) each request starts from its checkpoint replayed through its ring.
    ``buffer`` may instead be draft records, a :class:`StateRing` of ``buffers`` slots and length ``>= T``:
    step ``t`` then writes its ring entry ``(u, k, g)`` at position ``t`` of record slot ``buffer_indices[i]``
    and no state at all (``T`` state writes become ``T`` rows of ``V`` floats); :func:`commit_records` keeps
    the accepted ones. ``unroll_ring``: the ring replayed in straight-line code over its ``L - 1`` slots (dead
    ones masked), so no entry's loads wait on the last update, instead of a loop over the live entries.
    ``block_v``, ``num_warps``: the tile, by default :func:`verify_tile`'s.
    """
    _, HV, V, K = pool.shape
    H, T = num_k_heads, num_tokens
    BT = mixed_qkv.shape[0]
    tile = verify_tile(BT // max(T, 1), HV)
    block_v, num_warps = block_v or tile[0], num_warps or tile[1]
    if BT % T or slot_indices.shape != (BT // T,) or buffer_indices.shape != slot_indices.shape:
        raise ValueError("mixed_qkv must hold T tokens for each of the B slot / buffer indices")
    if mixed_qkv.shape[1] != 2 * H * K + HV * V or a.shape != (BT, HV) or b.shape != (BT, HV):
        raise ValueError("mixed_qkv must be [B*T, 2HK + HV V] and a, b [B*T, HV]")
    records = buffer if isinstance(buffer, StateRing) else None
    if records is not None:
        check_records(records, H, HV, V, K, T)
        buffer = pool  # unused by the kernel in record mode
    elif buffer.ndim != 5 or buffer.shape[1] < T or tuple(buffer.shape[2:]) != (HV, V, K):
        raise ValueError(f"buffer must be [buffers, >={T}, {HV}, {V}, {K}]")
    if any(t.stride(-1) != 1 for t in (mixed_qkv, a, b)):
        raise ValueError("mixed_qkv, a and b must be contiguous in the last dim")
    if (ring is None) != (fill is None) or (fill is not None and fill.shape != slot_indices.shape):
        raise ValueError("ring and fill come together, fill as [B]")
    if ring is not None:
        ring.check(pool, H)
    if out is None:
        out = torch.empty(BT, HV, V, dtype=mixed_qkv.dtype, device=mixed_qkv.device)
    if BT == 0:
        return out
    grid, sizes = launch_shape(BT // T, H, pool.shape, block_v)
    _verify_kernel[grid](
        mixed_qkv,
        a,
        b,
        A_log.contiguous(),
        dt_bias.contiguous(),
        out,
        pool,
        slot_indices,
        buffer,
        buffer_indices,
        *((pool, pool, pool, slot_indices) if ring is None else (ring.d, ring.k, ring.g, fill)),
        *((pool, pool, pool) if records is None else (records.d, records.k, records.g)),
        K**-0.5 if scale is None else scale,
        mixed_qkv.stride(0),
        a.stride(0),
        b.stride(0),
        out.stride(0),
        out.stride(1),
        *pool.stride(),
        *(buffer.stride() if records is None else (0,) * 5),
        **sizes,
        L=1 if ring is None else ring.length,
        LP=ring_pad(1 if ring is None else ring.length),
        HAS_RING=ring is not None,
        UNROLL=unroll_ring,
        RECORD=records is not None,
        TM=1 if records is None else records.length,
        T=T,
        num_warps=num_warps,
    )
    return out


SMALL_GRID_HEADS = 512  # below this many batch x v-heads, 8-row verify programs (fewer, for a grid of one wave)
LARGE_GRID_HEADS = 8192  # ... and from this many, where 8-row programs were 1% faster in two runs


def verify_tile(batch: int, num_v_heads: int) -> tuple[int, int]:
    """``(block_v, num_warps)`` of :func:`verify` for ``batch`` requests: one-warp programs of 4 rows, 8 rows
    below ``SMALL_GRID_HEADS`` batch x v-heads (H200, ``runtime/gdn/NOTES.md``, round eleven) and from
    ``LARGE_GRID_HEADS`` (rounds fifteen and sixteen)."""
    heads = batch * num_v_heads
    return (8, 1) if heads < SMALL_GRID_HEADS or heads >= LARGE_GRID_HEADS else (4, 1)


def commit_accepted(
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    buffer: torch.Tensor,
    buffer_indices: torch.Tensor,
    last_step: torch.Tensor,
    *,
    fill: torch.Tensor | None = None,
    block_v: int = 8,
    num_warps: int = 4,
) -> None:
    """``pool[slot] = buffer[buffer_index, last_step]`` per request; negative slot or step: no commit.

    One program copies ``block_v`` rows of one head. 8 rows on 4 warps, the three indices loaded together, the
    buffer read evict-first and the pool written streaming: on the H200 2.7-7.0% faster than 32 rows without those at
    the bench's six verify shapes, and within 1.2% of SGLang's state scatter or up to 8% faster
    (``runtime/gdn/NOTES.md``, round twenty-eight).

    ``fill`` (deferred-write pools): committed rows' entries drop to 0, since the pool now holds their state;
    a row that commits nothing keeps its checkpoint and ring."""
    _, HV, V, K = pool.shape
    B = slot_indices.shape[0]
    if buffer_indices.shape != (B,) or last_step.shape != (B,):
        raise ValueError("slot_indices, buffer_indices and last_step must all be [B]")
    if B == 0:
        return
    block_v = min(block_v, triton.next_power_of_2(V))
    _commit_kernel[(B * HV, triton.cdiv(V, block_v))](
        pool,
        slot_indices,
        buffer,
        buffer_indices,
        last_step,
        *pool.stride(),
        *buffer.stride(),
        HV=HV,
        K=K,
        V=V,
        BK=triton.next_power_of_2(K),
        BV=block_v,
        num_warps=num_warps,
    )
    if fill is not None:
        fill.masked_fill_((slot_indices >= 0) & (last_step >= 0), 0)


def accepted_slots(groups: torch.Tensor, last_step: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """The pool slot of each request's accepted state when the verify writes its drafts into the pool itself, so no
    state is copied to accept them (vLLM's GDN spec decode reads ``ssm_state_indices[n, num_accepted - 1]``; SGLang
    0.5.23 does so for KDA only, its GDN path copies with :func:`commit_accepted`).

    Request ``i`` owns the ``num_tokens`` consecutive slots from ``groups[i] * num_tokens``: :func:`verify` runs
    with ``buffer = pool.view(-1, num_tokens, HV, V, K)``, ``buffer_indices = groups`` and ``slot_indices`` this
    function's last answer for the request (a program reads its state tile before it stores a draft, so reading a slot
    of the group it writes is safe). Built once per step for every layer. A request always accepts its first draft
    (``last_step >= 0``: the target's own token); ``-1`` there, or a padding group, gives ``-1``: the next verify
    returns zeros for that row, since its pre-verify state may be overwritten."""
    live = (groups >= 0) & (last_step >= 0)
    return torch.where(live, groups * num_tokens + last_step, -1).to(torch.int32)


def check_records(records: StateRing, H: int, HV: int, V: int, K: int, T: int) -> None:
    """Raise unless ``records`` are contiguous draft records for ``H`` k-heads, ``HV`` v-heads and ``>= T`` drafts."""
    n, TM = records.d.shape[0], records.length
    want = {"d": (n, HV, TM, V), "k": (n, H, TM, K), "g": (n, HV, TM)}
    if TM < T or any(tuple(getattr(records, f).shape) != shape or not getattr(records, f).is_contiguous()
                     for f, shape in want.items()):
        raise ValueError(f"draft records must be contiguous d {list(want['d'])}, k {list(want['k'])}, g {list(want['g'])} "
                         f"with length >= {T}")


@triton.jit
def _append_records(d_row, k_row, g_row, rd_row, rk_row, rg_row, n, acc, o_v, m_v, o_k, m_k, lead_tile, lead_k_head,
                    V: tl.constexpr, K: tl.constexpr, TMP: tl.constexpr):
    """The accepted records follow the ring's ``n`` live entries, copied as one tile; the tile leading its row also
    copies the gates, and the key too when its v-head leads its k-head."""
    o_a = tl.arange(0, TMP)
    m_a = o_a < acc
    m_va = m_v[:, None] & m_a[None, :]
    tl.store(d_row + (n + o_a)[None, :] * V + o_v[:, None],
             tl.load(rd_row + o_a[None, :] * V + o_v[:, None], mask=m_va), mask=m_va)
    if lead_tile:
        tl.store(g_row + n + o_a, tl.load(rg_row + o_a, mask=m_a), mask=m_a)
        if lead_k_head:
            m_ak = m_a[:, None] & m_k[None, :]
            tl.store(k_row + (n + o_a)[:, None] * K + o_k[None, :],
                     tl.load(rk_row + o_a[:, None] * K + o_k[None, :], mask=m_ak), mask=m_ak)


@triton.jit
def _fold_records(p_h, m_h, n, acc, d_row, k_row, g_row, rd_row, rk_row, rg_row, o_v, m_v, o_k, m_k,
                  V: tl.constexpr, K: tl.constexpr, L: tl.constexpr, LP: tl.constexpr, TM: tl.constexpr,
                  TMP: tl.constexpr):
    """Ring and accepted records folded into the checkpoint rows at ``p_h``: both replays straight-line, so no
    entry's loads wait on the last update."""
    h = tl.load(p_h, mask=m_h, other=0.0).to(tl.float32)
    zero = tl.full([], 0.0, tl.float32)
    decay, _ = ring_decays(zero, g_row, n, LP)
    h = ring_accumulate_unrolled(decay * h, zero, n, d_row, k_row, g_row, o_v, m_v, o_k, m_k, V, K, L)
    decay, _ = ring_decays(zero, rg_row, acc, TMP)
    h = ring_accumulate_unrolled(decay * h, zero, acc, rd_row, rk_row, rg_row, o_v, m_v, o_k, m_k, V, K, TM + 1)
    tl.store(p_h, h.to(p_h.dtype.element_ty), mask=m_h)


@triton.jit
def _commit_records_kernel(
    pool_ptr,
    idx_ptr,
    ring_d_ptr,
    ring_k_ptr,
    ring_g_ptr,
    fill_ptr,
    rec_d_ptr,
    rec_k_ptr,
    rec_g_ptr,
    rec_idx_ptr,
    step_ptr,
    next_fill_ptr,
    s_pn,
    s_ph,
    s_pv,
    s_pk,
    H: tl.constexpr,
    HV: tl.constexpr,
    K: tl.constexpr,
    V: tl.constexpr,
    BK: tl.constexpr,
    BV: tl.constexpr,
    L: tl.constexpr,
    LP: tl.constexpr,
    TM: tl.constexpr,
    TMP: tl.constexpr,
    WRITE_FILL: tl.constexpr,
):
    pid = tl.program_id(0)
    i_b, i_hv, i_h, o_v = program_tile(pid, H, HV, V, BV)
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    acc = tl.load(step_ptr + i_b) + 1
    fill = tl.load(fill_ptr + i_b)
    i_rec = tl.load(rec_idx_ptr + i_b).to(tl.int64)  # with the others: the records' loads wait on one latency
    n = tl.minimum(fill, L - 1)
    if WRITE_FILL:  # one program per row: the fill after this commit (the next step reads it)
        if (pid % ((V + BV - 1) // BV) == 0) & (i_hv == 0):
            kept = (slot < 0) | (acc <= 0)
            tl.store(next_fill_ptr + i_b, tl.where(kept, fill, tl.where(n + acc <= L - 1, n + acc, 0)))
    if (slot < 0) | (acc <= 0):
        return
    o_k = tl.arange(0, BK)
    m_v = o_v < V
    m_k = o_k < K
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    rd_row, rk_row, rg_row = ring_rows(rec_d_ptr, rec_k_ptr, rec_g_ptr, i_rec, i_hv, i_h, HV, H, TM, V, K)
    if n + acc <= L - 1:  # room in the ring
        _append_records(d_row, k_row, g_row, rd_row, rk_row, rg_row, n, acc, o_v, m_v, o_k, m_k,
                        pid % ((V + BV - 1) // BV) == 0, i_hv % (HV // H) == 0, V, K, TMP)
    else:  # fold ring and accepted drafts into the checkpoint
        m_h = m_v[:, None] & m_k[None, :]
        p_h = pool_ptr + slot * s_pn + i_hv * s_ph + o_v[:, None] * s_pv + o_k[None, :] * s_pk
        _fold_records(p_h, m_h, n, acc, d_row, k_row, g_row, rd_row, rk_row, rg_row, o_v, m_v, o_k, m_k, V, K, L, LP,
                      TM, TMP)


@triton.jit
def _fold_products(p_state, s_pv, s_pk, n, acc, d_row, k_row, g_row, rd_row, rk_row, rg_row, v0, o_k, m_k,
                   V: tl.constexpr, K: tl.constexpr, BV: tl.constexpr, BR: tl.constexpr, JP: tl.constexpr):
    """Ring and accepted records folded into checkpoint rows ``v0 .. v0 + BV`` (state at ``p_state``) as one product
    a ``BR``-row block: ``decay h + D (w K)`` over the ``n + acc`` entries (ring first, then records) laid side by
    side as ``JP`` columns, the weighted keys split for :func:`dot3` once."""
    o_j = tl.arange(0, JP)  # entry j: ring entry j below n, record j - n from there
    ring_j = o_j < n
    m_j = o_j < n + acc
    rec_j = tl.maximum(o_j - n, 0)
    g_j = tl.load(tl.where(ring_j, g_row + o_j, rg_row + rec_j), mask=m_j, other=0.0)
    later = tl.where(o_j[None, :] > o_j[:, None], g_j[None, :], 0.0)  # [j, i]: g_i for i > j
    decay = tl.exp(tl.sum(g_j, axis=0))
    w = tl.where(m_j, tl.exp(tl.sum(later, axis=1)), 0.0)
    p_k = tl.where(ring_j, k_row + o_j * K, rk_row + rec_j * K)
    kw = tl.load(p_k[:, None] + o_k[None, :], mask=m_j[:, None] & m_k[None, :], other=0.0) * w[:, None]
    kw_hi = hi_part(kw)
    kw_lo = kw - kw_hi
    p_d = tl.where(ring_j, d_row + o_j * V, rd_row + rec_j * V)  # [JP]; + rows
    for r in range(0, BV, BR):
        o_v = v0 + r + tl.arange(0, BR)
        m_v = o_v < V
        p_h = p_state + o_v[:, None] * s_pv + o_k[None, :] * s_pk
        m_h = m_v[:, None] & m_k[None, :]
        h = tl.load(p_h, mask=m_h, other=0.0).to(tl.float32)
        d = tl.load(p_d[None, :] + o_v[:, None], mask=m_v[:, None] & m_j[None, :], other=0.0)
        tl.store(p_h, dot3(d, kw_hi, kw_lo, decay * h).to(p_h.dtype.element_ty), mask=m_h)


@triton.jit
def _commit_products_kernel(
    pool_ptr,
    idx_ptr,
    ring_d_ptr,
    ring_k_ptr,
    ring_g_ptr,
    fill_ptr,
    rec_d_ptr,
    rec_k_ptr,
    rec_g_ptr,
    rec_idx_ptr,
    step_ptr,
    next_fill_ptr,
    s_pn,
    s_ph,
    s_pv,
    s_pk,
    H: tl.constexpr,
    HV: tl.constexpr,
    K: tl.constexpr,
    V: tl.constexpr,
    BK: tl.constexpr,
    BV: tl.constexpr,
    BR: tl.constexpr,
    L: tl.constexpr,
    TM: tl.constexpr,
    TMP: tl.constexpr,
    JP: tl.constexpr,
    WRITE_FILL: tl.constexpr,
):
    """A program per ``BV`` rows of a (request, v-head): appends the accepted records, or folds ring and records
    into its checkpoint rows (:func:`_fold_products`)."""
    pid = tl.program_id(0)
    i_b, i_hv, i_h, v0 = program_rows(pid, H, HV, V, BV)
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    acc = tl.load(step_ptr + i_b) + 1
    fill = tl.load(fill_ptr + i_b)
    i_rec = tl.load(rec_idx_ptr + i_b).to(tl.int64)  # with the others: the records' loads wait on one latency
    n = tl.minimum(fill, L - 1)
    fits = n + acc <= L - 1
    if WRITE_FILL:  # one program per row: the fill after this commit (the next step reads it)
        if (v0 == 0) & (i_hv == 0):
            kept = (slot < 0) | (acc <= 0)
            tl.store(next_fill_ptr + i_b, tl.where(kept, fill, tl.where(fits, n + acc, 0)))
    if (slot < 0) | (acc <= 0):
        return
    o_k = tl.arange(0, BK)
    m_k = o_k < K
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    rd_row, rk_row, rg_row = ring_rows(rec_d_ptr, rec_k_ptr, rec_g_ptr, i_rec, i_hv, i_h, HV, H, TM, V, K)
    if fits:
        o_v = v0 + tl.arange(0, BV)
        _append_records(d_row, k_row, g_row, rd_row, rk_row, rg_row, n, acc, o_v, o_v < V, o_k, m_k, v0 == 0,
                        i_hv % (HV // H) == 0, V, K, TMP)
    else:
        _fold_products(pool_ptr + slot * s_pn + i_hv * s_ph, s_pv, s_pk, n, acc, d_row, k_row, g_row, rd_row, rk_row,
                       rg_row, v0, o_k, m_k, V, K, BV, BR, JP)


@dataclass(frozen=True)
class CommitTile:
    """How :func:`commit_records` runs: ``kind`` ``"products"`` (:func:`_commit_products_kernel`, one launch:
    ``block_v`` rows a program in ``block_rows`` blocks, ``num_warps`` warps) or ``"fused"`` (a replaying fold,
    :func:`_commit_records_kernel`, in ``block_v``-row programs)."""

    kind: str = "products"
    block_v: int = 64
    block_rows: int = 16
    num_warps: int = 4

    def __post_init__(self):
        if self.kind not in ("products", "fused") or self.block_v % self.block_rows:
            raise ValueError(f"unknown commit {self.kind!r} or block_rows={self.block_rows} not dividing "
                             f"block_v={self.block_v}")

    def __str__(self) -> str:
        if self.kind == "products":
            return f"products {self.block_v}/{self.block_rows}w{self.num_warps}"
        return f"{self.kind} {self.block_v}"


def commit_records(
    pool: torch.Tensor,
    ring: StateRing,
    slot_indices: torch.Tensor,
    fill: torch.Tensor,
    records: StateRing,
    record_indices: torch.Tensor,
    last_step: torch.Tensor,
    *,
    num_k_heads: int,
    next_fill_out: torch.Tensor | None = None,
    tile: CommitTile | None = None,
) -> None:
    """Keep drafts ``0..last_step`` of a verify that wrote draft records: appended to the row's ring when they
    fit beside its live entries (``fill + accepted <= L - 1``), else folded with the ring into the checkpoint
    (``fill`` becomes 0). ``last_step`` -1 or a padding row: nothing changes. Updates ``fill`` in place, or,
    with ``next_fill_out`` (int32 ``[B]``, apart from ``fill``), the kernel writes the new fills there and
    ``fill`` is left as it was (one launch in all: a double-buffered fill, as the decode's ``next_fill_out``).
    ``tile`` (default :func:`commit_tile`) picks the kernel: the fold as matrix products, or as straight-line
    replays (:func:`ring_accumulate_unrolled`; 8 rows per one-warp program keep that at 176 registers without
    spills). One launch either way."""
    B = slot_indices.shape[0]
    if fill.shape != (B,) or record_indices.shape != (B,) or last_step.shape != (B,):
        raise ValueError("slot_indices, fill, record_indices and last_step must all be [B]")
    if next_fill_out is not None and (next_fill_out.shape != (B,) or next_fill_out.dtype != torch.int32
                                      or next_fill_out.data_ptr() == fill.data_ptr()):
        raise ValueError("next_fill_out must be an int32 [B] tensor apart from fill (other programs read fill)")
    ring.check(pool, num_k_heads)
    _, HV, V, K = pool.shape
    check_records(records, num_k_heads, HV, V, K, 1)
    if B == 0:
        return
    tile = tile or commit_tile(B, HV)
    grid, sizes = launch_shape(B, num_k_heads, pool.shape, tile.block_v)
    common = {k: sizes[k] for k in ("H", "HV", "K", "V", "BK", "BV")} | {
        "L": ring.length, "TM": records.length, "TMP": ring_pad(records.length), "WRITE_FILL": next_fill_out is not None}
    args = (pool, slot_indices, ring.d, ring.k, ring.g, fill, records.d, records.k, records.g, record_indices,
            last_step, fill if next_fill_out is None else next_fill_out, *pool.stride())
    if tile.kind == "fused":
        _commit_records_kernel[grid](*args, LP=ring_pad(ring.length), **common, num_warps=tile.num_warps)
    else:
        _commit_products_kernel[grid](*args, BR=min(tile.block_rows, sizes["BV"]),
                                      JP=ring_pad(ring.length - 1 + records.length), **common,
                                      num_warps=tile.num_warps)
    if next_fill_out is not None:
        return
    acc = torch.where(slot_indices >= 0, last_step + 1, 0).clamp_min(0)
    grown = fill + acc
    fill.copy_(torch.where(acc > 0, torch.where(grown <= ring.length - 1, grown, 0), fill))


def commit_tile(batch: int, num_v_heads: int) -> CommitTile:
    """The commit :func:`commit_records` runs by default, by requests x v-heads: below 2048 the replaying fold in
    8-row one-warp programs, from 2048 the fold as products in 64-row 4-warp programs, from 8192 in 128-row ones (the
    fastest of 13 commits at each ring-verify bench shape, H200, runtime/gdn/NOTES.md round eighteen: where few
    rows fold, short programs; where many do, the products' fewer, longer programs)."""
    heads = batch * num_v_heads
    if heads < 2048:
        return CommitTile("fused", 8, 8, 1)
    return CommitTile(block_v=128 if heads >= 8192 else 64)
