"""What the pool-updating GDN kernels (decode, verify) share: which state tile a program owns, and one
delta-rule step on that tile's rows."""

import triton
import triton.language as tl

from runtime.gdn.naive import L2_EPS, SOFTPLUS_THRESHOLD


@triton.jit
def program_tile(pid, H: tl.constexpr, HV: tl.constexpr, V: tl.constexpr, BV: tl.constexpr):
    """``(request, v-head, k-head, v rows)`` of program ``pid`` on the 1-D grid of :func:`launch_shape`.

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


def launch_shape(batch: int, num_k_heads: int, pool_shape: tuple[int, ...], block_v: int) -> tuple[tuple[int], dict]:
    """The 1-D grid that :func:`program_tile` decodes and the compile-time sizes of a kernel stepping
    ``batch`` requests of a ``[slots, HV, V, K]`` pool (``block_v`` clipped to the padded ``V``)."""
    _, HV, V, K = pool_shape
    block_v = min(block_v, triton.next_power_of_2(V))
    sizes = {"H": num_k_heads, "HV": HV, "K": K, "V": V, "BK": triton.next_power_of_2(K), "BV": block_v}
    return (triton.cdiv(V, block_v) * batch * HV,), sizes | {"THRESHOLD": SOFTPLUS_THRESHOLD, "EPS": L2_EPS}
