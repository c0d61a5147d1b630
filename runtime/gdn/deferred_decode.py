"""Deferred-write GDN decode (ReplaySSM-class, #28451): the pool's state is written every ``L`` steps, not every step.

Beside the ``[slots, HV, V, K]`` fp32 pool, each slot keeps a ring (:class:`StateRing`) of its last steps'
``(d, k, g)``: the delta-rule update ``u`` of each v-row, the L2-normalised key and the log decay. A slot's
state is its pool checkpoint advanced through its ring's ``fill`` live entries. One decode step reads the
checkpoint once and answers from checkpoint + ring without building the state (two row dot products on the
checkpoint, as in the in-place step, plus an ``n x K`` product per program for the ring's keys), then appends
one ring entry. A row whose ring is full (``fill == L - 1``) or that the caller forces (a radix track boundary:
the pool must hold the state after this token) flushes in the same kernel: the program already holds the
row's checkpoint block in registers, so it turns it into the new state (``decay h + u k^T`` plus one rank-1
update per ring entry, ``d_j`` and ``k_j`` re-read from cache) and streams it out; no second launch, no
second checkpoint read. Per step the state traffic drops from read + write to read + ``1/L`` write + the ring.

The step can split (``flush_rows``, :func:`flush_split`; :func:`step_config` with ``split``): the flushing rows in
a launch of their own (narrow programs that replay the ring in straight-line code on small grids, wide ones on the
entry loop from 8192 batch x v-heads), the other rows beside it on a second stream, compiled without the flush path,
whose registers would otherwise cost every program occupancy. Below ``WIDE_HEADS`` the split's rows go in pool-slot
order within each launch (:func:`split_by_slot`, :func:`flush_split` with ``slots``): one sort per forward, shared
by every GDN layer.

The caller owns ``fill`` (entries held per row, ``0..L-1``) and advances it each step: 0 after a flush,
``+1`` otherwise (:func:`next_fill`, or the kernel writes it to ``next_fill_out``). Flushes stagger by
themselves when requests start at different steps; a forced flush also shifts a row's phase.

Small batches, where the checkpoint read does not pay for the extra work, run every row as a flush
(:func:`deferred_writes_pay`; the split step pays from a smaller batch): the in-place step, ring drained first if
any entries are live, and the in-place kernel itself once the caller says every ring is empty (``rings_empty``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate, l2_normalize
from runtime.gdn.decode import packed_decode
from runtime.gdn.state_tile import (
    delta_rule_rows,
    launch_shape,
    program_rows,
    program_tile,
    replay_rows,
    ring_accumulate,
    ring_accumulate_unrolled,
    ring_decays,
    ring_product,
    ring_rows,
    ring_weights,
)


@dataclass(frozen=True)
class StateRing:
    """Per-slot rings beside a ``[slots, HV, V, K]`` pool: ``d [slots, HV, L, V]``, ``k [slots, H, L, K]``,
    ``g [slots, HV, L]``, all fp32 and contiguous. Entry ``j`` of a slot is its ``j``-th step since its
    last checkpoint."""

    d: torch.Tensor
    k: torch.Tensor
    g: torch.Tensor

    @classmethod
    def allocate(cls, slots: int, num_k_heads: int, num_v_heads: int, head_k: int, head_v: int, *,
                 length: int, device: torch.device | str = "cuda") -> StateRing:
        if length < 1:
            raise ValueError(f"ring length must be >= 1, got {length}")
        f32 = {"dtype": torch.float32, "device": device}
        return cls(
            torch.zeros(slots, num_v_heads, length, head_v, **f32),
            torch.zeros(slots, num_k_heads, length, head_k, **f32),
            torch.zeros(slots, num_v_heads, length, **f32),
        )

    @property
    def length(self) -> int:
        return self.d.shape[2]

    def check(self, pool: torch.Tensor, num_k_heads: int) -> None:
        """Raise unless this ring fits ``pool`` (same slots, heads, dims) and is contiguous fp32."""
        slots, HV, V, K = pool.shape
        L = self.length
        want = {"d": (slots, HV, L, V), "k": (slots, num_k_heads, L, K), "g": (slots, HV, L)}
        for name, shape in want.items():
            t = getattr(self, name)
            if tuple(t.shape) != shape or t.dtype != torch.float32 or not t.is_contiguous():
                raise ValueError(f"ring.{name} must be contiguous fp32 {list(shape)}, got {list(t.shape)} {t.dtype}")


FOLD_TILE = (32, 4)  # (block_v, num_warps) of fold_ring: at least 16 rows for its tl.dot


@dataclass(frozen=True)
class FlushTile:
    """How the flushing rows' own launch (``deferred_decode(..., flush_rows=)``) is tiled: ``block_v`` rows of one
    state per program, ``block_rows`` at a time, ``num_warps`` warps; ``pipeline`` as in :class:`DeferredConfig`.
    ``unrolled``: each block takes the ring as one rank-1 update per ring slot in straight-line code (slots past the
    fill masked to zero, :func:`ring_accumulate_unrolled`), so no load waits on the accumulator (narrow programs);
    otherwise the one-launch step's own flush (the checkpoint block turned into the new state, one rank-1 update per
    live entry, :func:`ring_accumulate`), for wide programs whose registers the unrolled replay would overflow.
    (A ``tl.dot`` replay lost on the H200: ``NOTES.md``.)"""

    block_v: int = 8
    block_rows: int = 8
    num_warps: int = 1
    pipeline: bool = False
    unrolled: bool = True


@dataclass(frozen=True)
class DeferredConfig:
    """``block_v`` rows of one state per program, taken ``block_rows`` at a time, ``num_warps`` warps;
    ``flush_all``: every row writes its state this step (the in-place step, draining any live ring entries).

    A program reads its ring's keys once for all the rows it owns, walking them in blocks. ``pipeline``: the
    first block's checkpoint load is issued before the prologue and each next block's before the current block's
    math, so a warp always has a block in flight (two blocks of registers). ``flush_tile``: when the caller gives
    ``flush_rows``, the step splits (the flushing rows in a launch of their own, tiled so; this tile for the other
    rows); without it, one launch. Default and alternatives: H200 sweeps in ``runtime/gdn/NOTES.md``."""

    block_v: int = 64
    block_rows: int = 8
    num_warps: int = 1
    flush_all: bool = False
    pipeline: bool = True
    flush_tile: FlushTile | None = None


IN_PLACE = DeferredConfig(block_v=4, block_rows=4, num_warps=1, flush_all=True, pipeline=False)
DEFERRED_MIN_HEADS = 2048  # batch x v-heads per rank from which the one-launch deferred step wins (H200, NOTES.md)
SPLIT_MIN_HEADS = 512  # ... from which the split step wins (H200, NOTES.md round 8: TP4 B=64, TP1 B=16)
WIDE_HEADS = 8192  # batch x v-heads from which 64-row programs beat 32-row ones at L = 16 (H200, NOTES.md)
SPLIT_FLUSH_TILE = FlushTile(8, 8, 1)  # the split step's flushing launch below WIDE_HEADS (NOTES.md round 8)
WIDE_FLUSH_TILES = (  # ... from WIDE_HEADS: wide programs on the entry loop, by batch x v-heads (NOTES.md round 10)
    (32768, FlushTile(32, 8, 1, unrolled=False)),
    (WIDE_HEADS, FlushTile(64, 8, 1, unrolled=False)),
)


def split_by_slot(batch: int, num_v_heads: int) -> bool:
    """Whether the split step's rows go in pool-slot order (:func:`flush_split` with ``slots``): below ``WIDE_HEADS``
    batch x v-heads, where it was 3% faster at 2048 heads; from it, longest first (H200, ``NOTES.md`` round 12)."""
    return batch * num_v_heads < WIDE_HEADS


def splits(batch: int, num_v_heads: int, ring_length: int) -> bool:
    """Where the split step wins (H200 sweeps, ``NOTES.md``): ``8 < L <= 16`` from ``SPLIT_MIN_HEADS`` batch x
    v-heads up, with the flushing tile of :func:`split_flush_tile`."""
    return 8 < ring_length <= 16 and batch * num_v_heads >= SPLIT_MIN_HEADS


def split_flush_tile(batch: int, num_v_heads: int) -> FlushTile:
    """The split step's flushing launch: below ``WIDE_HEADS`` batch x v-heads, 8-row programs with the unrolled
    replay (they hide behind the stream there); from it, where 16 narrow programs per state each redoing the
    prologue did not hide, 64-row programs (32 from 32768 heads) running the one-launch step's flush loop."""
    heads = batch * num_v_heads
    return next((tile for least, tile in WIDE_FLUSH_TILES if heads >= least), SPLIT_FLUSH_TILE)


def deferred_writes_pay(batch: int, num_v_heads: int, ring_length: int = 16, *, split: bool = False) -> bool:
    """Dispatch rule: defer writes once ``batch * num_v_heads`` reaches ``DEFERRED_MIN_HEADS`` (TP1 from
    B = 64, TP4 from B = 256 on Qwen3-Next-80B), or where the split step runs (``split``: the caller can give
    ``flush_rows``; :func:`splits`: TP1 from B = 16, TP4 from B = 64 at L = 16); below, every row flushes every step
    (the in-place step)."""
    return batch * num_v_heads >= DEFERRED_MIN_HEADS or (split and splits(batch, num_v_heads, ring_length))


def step_config(batch: int, num_v_heads: int, ring_length: int = 16, *, split: bool = False) -> DeferredConfig:
    """The mode and tile :func:`deferred_decode` runs a batch with when given no config: in place below the
    dispatch threshold (:func:`deferred_writes_pay`), else what won the H200 sweeps (``NOTES.md``). ``split`` (the
    caller can give ``flush_rows``) where :func:`splits`: the split step (the others' launch at 64 rows pipelined, no
    flush path; the flushing rows beside it, tiled by :func:`split_flush_tile`). Otherwise one launch: short rings
    (``L <= 8``) 64 rows, the row loop pipelined; longer rings, whose flushing programs carry more entries, no
    pipelining, and 32-row programs while the grid is about one wave (a flushing program's extra work is the step's
    tail there)."""
    heads = batch * num_v_heads
    if not deferred_writes_pay(batch, num_v_heads, ring_length, split=split):
        return IN_PLACE
    if split and splits(batch, num_v_heads, ring_length):
        return DeferredConfig(64, 8, 1, pipeline=True, flush_tile=split_flush_tile(batch, num_v_heads))
    if ring_length <= 8:
        return DeferredConfig(64, 8, 1, pipeline=True)
    return DeferredConfig(32 if heads < WIDE_HEADS else 64, 8, 1, pipeline=False)


def flushes(fill: torch.Tensor, length: int, flush: torch.Tensor | None = None, *,
            flush_all: bool = False) -> torch.Tensor:
    """Which rows write their state this step: a full ring (``fill == L - 1``), a forced flush, or every
    row in the in-place mode (``flush_all``, the ``DeferredConfig`` the step ran with)."""
    full = (fill >= length - 1) | flush_all
    return full if flush is None else full | (flush != 0)


def next_fill(fill: torch.Tensor, length: int, flush: torch.Tensor | None = None, *,
              flush_all: bool = False) -> torch.Tensor:
    """``fill`` after one step: 0 where the row flushed, one more entry elsewhere (int32)."""
    return torch.where(flushes(fill, length, flush, flush_all=flush_all), 0, fill + 1).to(torch.int32)


def flush_first_order(fill: torch.Tensor, length: int, flush: torch.Tensor | None = None) -> torch.Tensor:
    """A row order for :func:`deferred_decode` (int32 ``[B]``, on ``fill``'s device) that puts the longest programs
    first: the rows that flush this step (each replays its ring into the state and writes it), then the others,
    each group by live entries, most first (stable). Build it where ``fill`` is known without a device sync
    (the scheduler counts each request's steps since its last flush), e.g. on the host, and copy it with the
    step's other inputs."""
    return _longest_first(fill, length, flushes(fill, length, flush))


def flush_split(fill: torch.Tensor, length: int, flush: torch.Tensor | None = None, *,
                slots: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """:func:`flush_first_order` and how many rows it lists first that flush this step: the ``order`` and
    ``flush_rows`` of a split step (:func:`deferred_decode`). The count is read on the host (one device sync when
    ``fill`` is on the GPU): build it where the fills are known, with the step's other inputs. ``slots`` (the
    step's ``slot_indices``): each of the two groups in ascending pool slot instead of by live entries, so the
    programs of each launch walk the pool in address order (:func:`slot_order`)."""
    due = flushes(fill, length, flush)
    order = _longest_first(fill, length, due) if slots is None else slot_order(slots, due)
    return order, int(due.sum())


def slot_order(slots: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
    """Rows in ascending pool slot (int32 ``[B]``), the rows marked ``first`` (bool ``[B]``) ahead of the others,
    each group by slot. Every GDN layer of a forward steps the same requests in the same slots (SGLang builds
    the slot indices and ring cursors once per forward for all of them:
    ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._forward_metadata``), so
    one sort per forward serves every layer."""
    key = slots.to(torch.int64)
    if first is not None:
        key = key + torch.where(first, 0, 1 << 40)
    return torch.argsort(key, stable=True).to(torch.int32)


def _longest_first(fill: torch.Tensor, length: int, due: torch.Tensor) -> torch.Tensor:
    """Rows by program length, longest first (stable): flushing rows (``due``), then by live entries."""
    n = fill.clamp(0, length - 1).to(torch.int64)  # a padding row's fill may be anything (its kernel never reads it)
    cost = torch.where(due, n + length, n)
    return torch.argsort(cost, descending=True, stable=True).to(torch.int32)


@triton.jit
def _deferred_decode_kernel(
    qkv_ptr,
    a_ptr,
    b_ptr,
    A_log_ptr,
    dt_bias_ptr,
    out_ptr,
    pool_ptr,
    idx_ptr,
    ring_d_ptr,
    ring_k_ptr,
    ring_g_ptr,
    fill_ptr,
    flush_ptr,
    next_fill_ptr,
    order_ptr,
    scale,
    s_qkv,
    s_a,
    s_b,
    s_ob,
    s_oh,
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
    LP: tl.constexpr,
    HAS_FLUSH: tl.constexpr,
    HAS_ORDER: tl.constexpr,
    FLUSH_ALL: tl.constexpr,
    FLUSHING: tl.constexpr,
    FORCED: tl.constexpr,
    NO_FLUSH: tl.constexpr,
    WRITE_FILL: tl.constexpr,
    PIPELINE: tl.constexpr,
    THRESHOLD: tl.constexpr,
    EPS: tl.constexpr,
):
    pid = tl.program_id(0)
    i_b, i_hv, i_h, v0 = program_rows(pid, H, HV, V, BV)
    if HAS_ORDER:  # the programs of order[0] start first
        i_b = tl.load(order_ptr + i_b)
    o_k = tl.arange(0, BK)
    m_k = o_k < K
    p_out = out_ptr + i_b.to(tl.int64) * s_ob + i_hv * s_oh + v0 + tl.arange(0, BR)
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    if slot < 0:
        for r in range(0, BV, BR):
            m_v = v0 + r + tl.arange(0, BR) < V
            tl.store(p_out + r, tl.zeros([BR], dtype=tl.float32).to(out_ptr.dtype.element_ty), mask=m_v)
        return
    p_state = pool_ptr + slot * s_pn + i_hv * s_ph + o_k[None, :] * s_pk
    o_v = v0 + tl.arange(0, BR)
    m_v = o_v < V
    if PIPELINE:  # the first checkpoint block issued before the prologue (costs registers across it)
        h_next = tl.load(p_state + o_v[:, None] * s_pv, mask=m_v[:, None] & m_k[None, :], other=0.0,
                         eviction_policy="evict_first")
    n = tl.minimum(tl.load(fill_ptr + i_b), L - 1)
    flush = FLUSH_ALL | FLUSHING | FORCED | (n == L - 1)
    if HAS_FLUSH:
        flush = flush | (tl.load(flush_ptr + i_b) != 0)
    p_row = qkv_ptr + i_b.to(tl.int64) * s_qkv
    q = tl.load(p_row + i_h * K + o_k, mask=m_k, other=0.0).to(tl.float32)
    k = tl.load(p_row + (H + i_h) * K + o_k, mask=m_k, other=0.0).to(tl.float32)
    g, beta = gdn_gate(
        tl.load(a_ptr + i_b.to(tl.int64) * s_a + i_hv),
        tl.load(b_ptr + i_b.to(tl.int64) * s_b + i_hv),
        tl.load(A_log_ptr + i_hv),
        tl.load(dt_bias_ptr + i_hv),
        THRESHOLD,
    )
    q = l2_normalize(q, EPS) * scale
    k = l2_normalize(k, EPS)
    kq = tl.sum(q * k, axis=0)
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    o_j = tl.arange(0, LP)
    if FLUSHING:  # the unrolled replay builds its own weights
        decay, _ = ring_decays(g, g_row, n, LP)
    elif not FLUSH_ALL:
        decay, w, k_ring = ring_weights(g, o_k, m_k, k_row, g_row, n, K, LP)
        wk = w * tl.sum(k_ring * k[None, :], axis=1)
        wq = w * tl.sum(k_ring * q[None, :], axis=1)
    for r in range(0, BV, BR):
        o_v = v0 + r + tl.arange(0, BR)
        m_v = o_v < V
        m_h = m_v[:, None] & m_k[None, :]
        p_h = p_state + o_v[:, None] * s_pv
        if PIPELINE:  # this block arrived during the last one's math; the next one is issued before this one's
            h = h_next.to(tl.float32)
            o_n = o_v + BR
            h_next = tl.load(p_state + o_n[:, None] * s_pv, mask=((r + BR < BV) & (o_n < V))[:, None] & m_k[None, :],
                             other=0.0, eviction_policy="evict_first")
        else:
            h = tl.load(p_h, mask=m_h, other=0.0, eviction_policy="evict_first").to(tl.float32)
        v = tl.load(p_row + 2 * H * K + i_hv * V + o_v, mask=m_v, other=0.0).to(tl.float32)
        if FLUSH_ALL:
            h = replay_rows(h, o_v, m_v, o_k, m_k, d_row, k_row, g_row, n, V, K)
            h, o = delta_rule_rows(h, q, k, v, g, beta)
            tl.store(p_h, h.to(pool_ptr.dtype.element_ty), mask=m_h, cache_modifier=".cs")
        elif FLUSHING:  # the state this token sees, built in registers, then one in-place step on it
            h = ring_accumulate_unrolled(decay * h, g, n, d_row, k_row, g_row, o_v, m_v, o_k, m_k, V, K, L)
            u = beta * (v - tl.sum(h * k[None, :], axis=1))
            o = tl.sum(h * q[None, :], axis=1) + u * kq
            h += u[:, None] * k[None, :]
            tl.store(p_state + o_v[:, None] * s_pv, h.to(pool_ptr.dtype.element_ty),
                     mask=m_v[:, None] & m_k[None, :], cache_modifier=".cs")
        else:
            d_ring = tl.load(d_row + o_j[None, :] * V + o_v[:, None], mask=m_v[:, None] & (o_j < n)[None, :],
                             other=0.0)
            u = beta * (v - decay * tl.sum(h * k[None, :], axis=1) - tl.sum(d_ring * wk[None, :], axis=1))
            o = decay * tl.sum(h * q[None, :], axis=1) + tl.sum(d_ring * wq[None, :], axis=1) + u * kq
            if NO_FLUSH:  # no flush path compiled (its registers would cost every program occupancy): a row
                if flush:  # that should flush is the caller's error, answered with NaN, pool and ring untouched
                    o += float("nan")
                else:
                    tl.store(d_row + n * V + o_v, u, mask=m_v)
            elif flush:  # the checkpoint block in registers becomes the accumulator
                h = ring_accumulate(decay * h, w, n, d_row, k_row, o_v, m_v, o_k, m_k, V, K, LP)
                h += u[:, None] * k[None, :]
                tl.store(p_state + o_v[:, None] * s_pv, h.to(pool_ptr.dtype.element_ty),  # pointers built after
                         mask=m_v[:, None] & m_k[None, :], cache_modifier=".cs")  # the loop: no tile live across it
            else:
                tl.store(d_row + n * V + o_v, u, mask=m_v)
        tl.store(p_out + r, o.to(out_ptr.dtype.element_ty), mask=m_v)
    first_rows = (v0 == 0) & (flush == 0)  # a flushed row's ring starts empty next step
    if (not FLUSH_ALL) & (not FLUSHING) & first_rows:
        tl.store(g_row + n, g)
        if i_hv % (HV // H) == 0:
            tl.store(k_row + n * K + o_k, k, mask=m_k)
    if WRITE_FILL:
        if (v0 == 0) & (i_hv == 0):
            tl.store(next_fill_ptr + i_b, tl.where(flush, n if NO_FLUSH else 0, n + 1))


def deferred_decode(
    mixed_qkv: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    ring: StateRing,
    slot_indices: torch.Tensor,
    fill: torch.Tensor,
    *,
    num_k_heads: int,
    flush: torch.Tensor | None = None,
    next_fill_out: torch.Tensor | None = None,
    order: torch.Tensor | None = None,
    flush_rows: int | None = None,
    scale: float | None = None,
    out: torch.Tensor | None = None,
    config: DeferredConfig | None = None,
    rings_empty: bool = False,
) -> torch.Tensor:
    """One decode token per request on checkpoint + ring; returns ``[B, HV, V]`` (default dtype: ``mixed_qkv``'s).

    ``fill: [B]`` int32, entries live in each row's slot ring (``0..L-1``); ``flush: [B]`` (optional, nonzero
    forces the row's state into the pool this step); ``next_fill_out: [B]`` int32 (optional) receives the
    rows' fill for the next step. ``order: [B]`` int32 (optional), a permutation of the rows: the programs of
    row ``order[0]`` start first (:func:`flush_first_order`: the long programs of flushing rows first, so the
    short ones fill in behind them instead of waiting on them at the end); results do not depend on it, the
    in-place mode ignores it (every program flushes there), and an ``order`` that is not a permutation of
    ``0..B-1`` is not detected. ``flush_rows`` (with ``order``): the number of rows that flush this step, which
    ``order`` lists first (:func:`flush_split`, counted where the fills are known). Where the config has a
    ``flush_tile`` (:func:`step_config` with ``split``), those rows then run as a launch of their own in narrow
    programs, beside a launch of the other rows that has no flush path (fewer registers, so more programs per
    SM), on two streams; a row of that second part that does flush is the caller's error and gets NaN outputs,
    its pool state, ring and fill left as they were; a row counted in ``flush_rows`` that would not flush is
    flushed (as if forced: ``next_fill_out`` says 0). Padding rows (negative slot) give zeros and touch neither pool nor ring.
    Without ``config`` the batch size picks the mode (:func:`deferred_writes_pay`). ``rings_empty``: the
    caller knows no row's ring holds entries (the in-place mode's steady state: every row flushed on its last
    step, which the host knows without a sync); the in-place mode then is :func:`packed_decode` itself and
    reads neither ring nor ``fill``.
    """
    if pool.ndim != 4 or pool.stride(-1) != 1:
        raise ValueError("pool must be [slots, HV, V, K] with K contiguous")
    _, HV, V, K = pool.shape
    B, H = mixed_qkv.shape[0], num_k_heads
    if mixed_qkv.ndim != 2 or mixed_qkv.shape[1] != 2 * H * K + HV * V or HV % H:
        raise ValueError(f"mixed_qkv must be [B, {2 * H * K + HV * V}] with HV a multiple of H={H}")
    if a.shape != (B, HV) or b.shape != (B, HV) or any(t.stride(-1) != 1 for t in (mixed_qkv, a, b)):
        raise ValueError("a, b must be [B, HV]; mixed_qkv, a and b contiguous in the last dim")
    for name, t in (("slot_indices", slot_indices), ("fill", fill), ("flush", flush), ("next_fill_out", next_fill_out),
                    ("order", order)):
        if t is not None and (t.shape != (B,) or t.dtype not in (torch.int32, torch.int64)):
            raise ValueError(f"{name} must be an integer [B] tensor")
    if order is not None and order.dtype != torch.int32:
        raise ValueError("order must be int32")
    if next_fill_out is not None and (next_fill_out.dtype != torch.int32 or next_fill_out.data_ptr() == fill.data_ptr()):
        raise ValueError("next_fill_out must be an int32 tensor apart from fill (other programs read fill during the step)")
    ring.check(pool, H)
    if out is None:
        out = torch.empty(B, HV, V, dtype=mixed_qkv.dtype, device=mixed_qkv.device)
    elif out.shape != (B, HV, V) or out.stride(-1) != 1:
        raise ValueError(f"out must be [{B}, {HV}, {V}] with a contiguous last dim")
    if B == 0:
        return out
    cfg = config or step_config(B, HV, ring.length, split=flush_rows is not None)
    if cfg.flush_all and rings_empty:
        packed_decode(mixed_qkv, a, b, A_log, dt_bias, pool, slot_indices, num_k_heads=H, scale=scale, out=out)
        if next_fill_out is not None:
            next_fill_out.zero_()
        return out
    launch = functools.partial(_launch_step, mixed_qkv, a, b, A_log.contiguous(), dt_bias.contiguous(), out, pool, ring,
                               slot_indices, fill, flush, next_fill_out, K**-0.5 if scale is None else scale, H)
    if flush_rows is None or cfg.flush_all or cfg.flush_tile is None:
        launch(B, order, cfg.block_v, cfg.block_rows, cfg.num_warps, cfg.pipeline, flush_all=cfg.flush_all)
        return out
    if order is None or not 0 <= flush_rows <= B:
        raise ValueError(f"flush_rows needs the row order that lists those rows first and 0 <= flush_rows <= {B}")
    tile = cfg.flush_tile
    flushing = functools.partial(launch, flush_rows, order[:flush_rows], tile.block_v, tile.block_rows, tile.num_warps,
                                 tile.pipeline, rows="flushing" if tile.unrolled else "forced")
    others = functools.partial(launch, B - flush_rows, order[flush_rows:], cfg.block_v, cfg.block_rows, cfg.num_warps,
                               cfg.pipeline, rows="deferred")
    if not (0 < flush_rows < B and pool.is_cuda):  # one part, or no second stream: one after the other
        for part, rows in ((flushing, flush_rows), (others, B - flush_rows)):
            if rows:
                part()
        return out
    main, side = torch.cuda.current_stream(pool.device), _side_stream(pool.device)
    side.wait_stream(main)  # fork before either launch: neither waits on the other
    flushing()
    with torch.cuda.stream(side):
        others()
    main.wait_stream(side)  # join: what the caller runs next waits for both
    return out


_SIDE_STREAMS: dict[int, torch.cuda.Stream] = {}


def _side_stream(device: torch.device) -> torch.cuda.Stream:
    """One second stream per device for the split step's other launch (graph capture joins it by its events)."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _SIDE_STREAMS:
        _SIDE_STREAMS[index] = torch.cuda.Stream(device=index)
    return _SIDE_STREAMS[index]


def _launch_step(mixed_qkv, a, b, A_log, dt_bias, out, pool, ring, slot_indices, fill, flush, next_fill_out, scale,
                 H, batch, order, block_v, block_rows, num_warps, pipeline, *, flush_all=False, rows="any"):
    """One launch of the step kernel over ``batch`` rows (``order``'s first ``batch`` when given)."""
    grid, sizes = launch_shape(batch, H, pool.shape, block_v)
    block_rows = min(block_rows, sizes["BV"])
    if sizes["BV"] % block_rows:
        raise ValueError(f"block_rows={block_rows} must divide block_v={sizes['BV']}")
    _deferred_decode_kernel[grid](
        mixed_qkv,
        a,
        b,
        A_log,
        dt_bias,
        out,
        pool,
        slot_indices,
        ring.d,
        ring.k,
        ring.g,
        fill,
        fill if flush is None else flush,
        fill if next_fill_out is None else next_fill_out,
        fill if order is None else order,
        scale,
        mixed_qkv.stride(0),
        a.stride(0),
        b.stride(0),
        out.stride(0),
        out.stride(1),
        *pool.stride(),
        BR=block_rows,
        L=ring.length,
        LP=ring_pad(ring.length),
        HAS_FLUSH=flush is not None,
        HAS_ORDER=order is not None and not flush_all,  # every program flushes: nothing to reorder
        FLUSH_ALL=flush_all,
        FLUSHING=rows == "flushing",
        FORCED=rows == "forced",
        NO_FLUSH=rows == "deferred",
        WRITE_FILL=next_fill_out is not None,
        PIPELINE=pipeline,
        **sizes,
        num_warps=num_warps,
    )


@triton.jit
def _fold_kernel(
    pool_ptr,
    idx_ptr,
    ring_d_ptr,
    ring_k_ptr,
    ring_g_ptr,
    fill_ptr,
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
):
    """Fold each row's ``fill`` live ring entries into its checkpoint: ``decay h + (D w) K_ring``, one fp32
    product per ``[BV, K]`` tile; rows without entries (or padding) return at once."""
    i_b, i_hv, i_h, o_v = program_tile(tl.program_id(0), H, HV, V, BV)
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    n = tl.minimum(tl.load(fill_ptr + i_b), L - 1)
    if (slot < 0) | (n <= 0):
        return
    o_k = tl.arange(0, BK)
    m_v = o_v < V
    m_k = o_k < K
    m_h = m_v[:, None] & m_k[None, :]
    p_h = pool_ptr + slot * s_pn + i_hv * s_ph + o_v[:, None] * s_pv + o_k[None, :] * s_pk
    h = tl.load(p_h, mask=m_h, other=0.0, eviction_policy="evict_first").to(tl.float32)
    d_row, k_row, g_row = ring_rows(ring_d_ptr, ring_k_ptr, ring_g_ptr, slot, i_hv, i_h, HV, H, L, V, K)
    o_j = tl.arange(0, LP)
    decay, w = ring_decays(0.0, g_row, n, LP)
    d_ring = tl.load(d_row + o_j[None, :] * V + o_v[:, None], mask=m_v[:, None] & (o_j < n)[None, :], other=0.0)
    h = decay * h + ring_product(d_ring, w, n, d_row, k_row, o_v, m_v, o_k, m_k, V, K, BK, LP, BV)
    tl.store(p_h, h.to(pool_ptr.dtype.element_ty), mask=m_h, cache_modifier=".cs")


def ring_pad(length: int) -> int:
    """Ring entries as a power-of-two tile of at least 16 (``tl.dot``'s smallest side)."""
    return max(16, triton.next_power_of_2(length))


def fold_ring(pool: torch.Tensor, ring: StateRing, slot_indices: torch.Tensor, fill: torch.Tensor, *,
              num_k_heads: int) -> None:
    """Write each row's live ring entries into its pool checkpoint (no token) and set its ``fill`` to 0.

    For a state the pool must hold now: a prefix-cache snapshot between steps, an eviction, a prefill that
    continues the request, or an in-place kernel that knows nothing of rings. Padding rows are skipped.
    """
    B = slot_indices.shape[0]
    if fill.shape != (B,):
        raise ValueError("slot_indices and fill must both be [B]")
    ring.check(pool, num_k_heads)
    if B == 0:
        return
    block_v, num_warps = FOLD_TILE
    grid, sizes = launch_shape(B, num_k_heads, pool.shape, block_v)
    _fold_kernel[grid](
        pool, slot_indices, ring.d, ring.k, ring.g, fill, *pool.stride(), L=ring.length, LP=ring_pad(ring.length),
        **{k: sizes[k] for k in ("H", "HV", "K", "V", "BK", "BV")}, num_warps=num_warps,
    )
    fill.masked_fill_(slot_indices >= 0, 0)
