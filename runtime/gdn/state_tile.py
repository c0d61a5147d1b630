"""What the pool-updating GDN kernels (decode, verify) share: which state tile a program owns, and one
delta-rule step on that tile's rows."""

import triton
import triton.language as tl

from runtime.gdn.naive import L2_EPS, SOFTPLUS_THRESHOLD

DOT_PRECISION = tl.constexpr("tf32x3")


@triton.jit
def program_tile(pid, H: tl.constexpr, HV: tl.constexpr, V: tl.constexpr, BV: tl.constexpr):
    """``(request, v-head, k-head, v rows)`` of program ``pid`` on the 1-D grid of :func:`launch_shape`.

    The v-blocks of one state are neighbours, so consecutive programs stream one contiguous state (faster
    on the H100 sweep, ``runtime/gdn/NOTES.md``); a 2-D grid would also cap ``B * HV`` at 65535.
    """
    i_b, i_hv, i_h, v0 = program_rows(pid, H, HV, V, BV)
    return i_b, i_hv, i_h, v0 + tl.arange(0, BV)


@triton.jit
def program_rows(pid, H: tl.constexpr, HV: tl.constexpr, V: tl.constexpr, BV: tl.constexpr):
    """``(request, v-head, k-head, first v row)`` of program ``pid`` owning ``BV`` rows (see :func:`program_tile`)."""
    NVB: tl.constexpr = (V + BV - 1) // BV
    i_bh = pid // NVB
    i_hv = i_bh % HV
    return i_bh // HV, i_hv, i_hv // (HV // H), pid % NVB * BV


@triton.jit
def delta_rule_update(h, q, k, v, g, beta):
    """:func:`delta_rule_rows` that also returns the rows' update ``u`` (what a ring records)."""
    h *= tl.exp(g)
    u = beta * (v - tl.sum(h * k[None, :], axis=1))
    o = tl.sum(h * q[None, :], axis=1) + u * tl.sum(q * k, axis=0)
    return h + u[:, None] * k[None, :], o, u


@triton.jit
def delta_rule_rows(h, q, k, v, g, beta):
    """One gated delta-rule step on rows ``h [BV, K]`` of a ``[V, K]`` state; returns the new rows and their
    outputs. Both reductions use the decayed old rows, so ``o = e^g h q + u (k.q)`` needs no second pass."""
    h, o, _ = delta_rule_update(h, q, k, v, g, beta)
    return h, o


def launch_shape(batch: int, num_k_heads: int, pool_shape: tuple[int, ...], block_v: int) -> tuple[tuple[int], dict]:
    """The 1-D grid that :func:`program_tile` decodes and the compile-time sizes of a kernel stepping
    ``batch`` requests of a ``[slots, HV, V, K]`` pool (``block_v`` clipped to the padded ``V``)."""
    _, HV, V, K = pool_shape
    block_v = min(block_v, triton.next_power_of_2(V))
    sizes = {"H": num_k_heads, "HV": HV, "K": K, "V": V, "BK": triton.next_power_of_2(K), "BV": block_v}
    return (triton.cdiv(V, block_v) * batch * HV,), sizes | {"THRESHOLD": SOFTPLUS_THRESHOLD, "EPS": L2_EPS}


@triton.jit
def ring_rows(ring_d, ring_k, ring_g, slot, i_hv, i_h, HV: tl.constexpr, H: tl.constexpr, L: tl.constexpr,
              V: tl.constexpr, K: tl.constexpr):
    """Pointers to one slot's ring for v-head ``i_hv``: ``d [L, V]``, ``k [L, K]`` (its k-head), ``g [L]``
    (contiguous ``[slots, HV, L, V]``, ``[slots, H, L, K]``, ``[slots, HV, L]`` ring tensors)."""
    return (
        ring_d + (slot * HV + i_hv) * (L * V),
        ring_k + (slot * H + i_h) * (L * K),
        ring_g + (slot * HV + i_hv) * L,
    )


@triton.jit
def replay_rows(h, o_v, m_v, o_k, m_k, d_row, k_row, g_row, n, V: tl.constexpr, K: tl.constexpr):
    """Checkpoint rows ``h [BV, K]`` advanced through the first ``n`` ring entries in order
    (``h = e^g_j h + d_j k_j^T``): the state the ring stands for, materialised (flush, fold, verify)."""
    for j in range(n):
        d_j = tl.load(d_row + j * V + o_v, mask=m_v, other=0.0)
        k_j = tl.load(k_row + j * K + o_k, mask=m_k, other=0.0)
        h = h * tl.exp(tl.load(g_row + j)) + d_j[:, None] * k_j[None, :]
    return h


@triton.jit
def ring_weights(g, o_k, m_k, k_row, g_row, n, K: tl.constexpr, LP: tl.constexpr):
    """What ``n`` ring entries weigh in ``S' = e^g (checkpoint replayed through them)``:
    ``S' = decay h + sum_j w_j d_j k_j^T`` with ``decay = e^(g + sum g_i)``, ``w_j = e^(g + sum_{i>j} g_i)``
    (sums of the entries' own log decays: no cancellation). Returns ``decay``, ``w [LP]`` and the ring's keys
    ``[LP, BK]`` (zero past ``n``), read once per program however many rows it owns."""
    o_j = tl.arange(0, LP)
    decay, w = ring_decays(g, g_row, n, LP)
    k_ring = tl.load(k_row + o_j[:, None] * K + o_k[None, :], mask=(o_j < n)[:, None] & m_k[None, :], other=0.0)
    return decay, w, k_ring


@triton.jit
def ring_decays(g, g_row, n, LP: tl.constexpr):
    """``decay = e^(g + sum g_i)`` and ``w_j = e^(g + sum_{i>j} g_i)`` over the first ``n`` entries."""
    o_j = tl.arange(0, LP)
    return decays_of(g, tl.load(g_row + o_j, mask=o_j < n, other=0.0), o_j < n)


@triton.jit
def decays_of(g, g_j, m_j):
    """:func:`ring_decays` from the entries' log decays as loaded ``g_j [LP]`` (``m_j``: the live ones; the rest may
    hold anything, so a caller can load them before it knows ``n``)."""
    o_j = tl.arange(0, g_j.shape[0])
    g_j = tl.where(m_j, g_j, 0.0)
    later = tl.where(o_j[None, :] > o_j[:, None], g_j[None, :], 0.0)  # [j, i]: g_i for i > j
    return tl.exp(g + tl.sum(g_j, axis=0)), tl.where(m_j, tl.exp(g + tl.sum(later, axis=1)), 0.0)


@triton.jit
def ring_product(d_ring, w, n, d_row, k_row, o_v, m_v, o_k, m_k, V: tl.constexpr, K: tl.constexpr,
                 BK: tl.constexpr, LP: tl.constexpr, BR: tl.constexpr):
    """``sum_j w_j d_j k_j^T`` on ``BR`` rows (the ring's share of a folded state). Blocks of 16 rows or more
    take one exact-fp32 ``tl.dot`` of the ``d`` tile in registers with the keys read again from cache;
    smaller blocks accumulate entry by entry (:func:`ring_accumulate`)."""
    o_j = tl.arange(0, LP)
    if BR >= 16:
        k_ring = tl.load(k_row + o_j[:, None] * K + o_k[None, :], mask=(o_j < n)[:, None] & m_k[None, :], other=0.0)
        acc = tl.dot(d_ring * w[None, :], k_ring, input_precision=DOT_PRECISION)
    else:
        acc = ring_accumulate(tl.zeros([BR, BK], dtype=tl.float32), w, n, d_row, k_row, o_v, m_v, o_k, m_k, V, K, LP)
    return acc


@triton.jit
def ring_accumulate(acc, w, n, d_row, k_row, o_v, m_v, o_k, m_k, V: tl.constexpr, K: tl.constexpr, LP: tl.constexpr):
    """``acc + sum_j w_j d_j k_j^T`` over the first ``n`` entries as rank-1 updates of the rows in registers:
    one FMA per element per entry, ``d_j`` and ``k_j`` re-read from cache (the caller just read both)."""
    o_j = tl.arange(0, LP)
    for j in range(n):
        w_j = tl.sum(tl.where(o_j == j, w, 0.0), axis=0)
        d_j = tl.load(d_row + j * V + o_v, mask=m_v, other=0.0)
        k_j = tl.load(k_row + j * K + o_k, mask=m_k, other=0.0)
        acc += (w_j * d_j)[:, None] * k_j[None, :]
    return acc


@triton.jit
def ring_accumulate_unrolled(acc, g, n, d_row, k_row, g_row, o_v, m_v, o_k, m_k, V: tl.constexpr, K: tl.constexpr,
                             L: tl.constexpr):
    """:func:`ring_accumulate` unrolled over the ring's ``L - 1`` slots (those from ``n`` on masked to zero), the
    weights ``w_j = e^(g + sum_{i>j} g_i)`` built on the way down from the entries' own log decays: no load waits on
    the accumulator, so a program issues all of them at once instead of one entry's per update."""
    s = g
    for i in tl.static_range(L - 1):
        j = L - 2 - i
        live = n > j
        w_j = tl.where(live, tl.exp(s), 0.0)
        s += tl.where(live, tl.load(g_row + j), 0.0)
        d_j = tl.load(d_row + j * V + o_v, mask=m_v & (o_v * 0 + j < n), other=0.0)  # vector masks: the
        k_j = tl.load(k_row + j * K + o_k, mask=m_k & (o_k * 0 + j < n), other=0.0)  # interpreter takes no scalar one
        acc += (w_j * d_j)[:, None] * k_j[None, :]
    return acc


@triton.jit
def prefetch_l2(ptr, nbytes):
    """Ask the L2 for the ``nbytes`` (a multiple of 16) contiguous bytes at ``ptr`` (16-byte aligned): one bulk
    prefetch, a uniform instruction (every lane gives the same address); a hint, with no registers, shared memory or
    wait. The interpreter runs no PTX."""
    one = tl.zeros([1], dtype=tl.int32)
    tl.inline_asm_elementwise("cp.async.bulk.prefetch.L2.global [$1], $2; mov.u32 $0, 0;", "=r,l,r",
                              [ptr + one, one + nbytes], dtype=tl.int32, is_pure=False, pack=1)


@triton.jit
def hi_part(x):
    """``x`` with the low 13 mantissa bits cleared: exact in tf32, so ``x - hi_part(x)`` is exact in fp32."""
    return (x.to(tl.int32, bitcast=True) & -8192).to(tl.float32, bitcast=True)


@triton.jit
def dot3(a, b_hi, b_lo, acc):
    """``acc + a @ b`` to about fp32 accuracy from three tf32 products (``b`` given split, ``a`` split here: one mask
    and one subtraction an element, where Triton's ``tf32x3`` rounds each part with several instructions)."""
    a_hi = hi_part(a)
    acc = tl.dot(a_hi, b_lo, acc, input_precision="tf32")
    acc = tl.dot(a - a_hi, b_hi, acc, input_precision="tf32")
    return tl.dot(a_hi, b_hi, acc, input_precision="tf32")
