"""What the pool-updating GDN kernels (decode, verify) share: which state tile a program owns, and one
delta-rule step on that tile's rows."""

import triton
import triton.language as tl


@triton.jit
def program_tile(pid, H: tl.constexpr, HV: tl.constexpr, V: tl.constexpr, BV: tl.constexpr):
    """``(request, v-head, k-head, v rows)`` of program ``pid`` on a 1-D grid of :func:`grid_size` programs.

    The v-blocks of one state are neighbours, so consecutive programs stream one contiguous state (faster
    on the H100 sweep, ``runtime/gdn/NOTES.md``); a 2-D grid would also cap ``B * HV`` at 65535.
    """
    NVB: tl.constexpr = (V + BV - 1) // BV
    i_bh = pid // NVB
    i_hv = i_bh % HV
    return i_bh // HV, i_hv, i_hv // (HV // H), pid % NVB * BV + tl.arange(0, BV)


@triton.jit
def delta_rule_rows(h, q, k, v, g, beta):
    """One gated delta-rule step on rows ``h [BV, K]`` of a ``[V, K]`` state; returns the new rows and their
    outputs. Both reductions use the decayed old rows, so ``o = e^g h q + u (k.q)`` needs no second pass."""
    h *= tl.exp(g)
    u = beta * (v - tl.sum(h * k[None, :], axis=1))
    o = tl.sum(h * q[None, :], axis=1) + u * tl.sum(q * k, axis=0)
    return h + u[:, None] * k[None, :], o


def grid_size(batch: int, num_v_heads: int, head_v: int, block_v: int) -> tuple[int]:
    """The 1-D launch grid :func:`program_tile` decodes."""
    return (triton.cdiv(head_v, block_v) * batch * num_v_heads,)
