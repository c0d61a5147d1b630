"""Packed GDN decode on a ``[slots, HV, V, K]`` state pool (#15631, #17981; the 0.5.23 default on H100).

One kernel takes the conv output ``mixed_qkv: [B, 2 H K + HV V]`` and the raw gate inputs ``a, b: [B, HV]``
and does split, gating (#12508), L2 normalisation of q and k (epsilon inside the root, #10466), the
delta-rule update and the output, updating the pool in place through per-request slot indices (negative
index: padding, zero output, no state traffic). Each program owns a ``[block_v, K]`` tile of one
state; with K contiguous every tile row is one coalesced 512-byte read and write. The grid is 1-D with
the v-blocks of one state fastest, so neighbouring programs stream one state's contiguous 64 KiB. The
tile load is issued first so its latency covers the prologue and is marked evict-first; the updated
tile goes back with streaming stores (``.cs``): this step reads neither again. Both reductions, ``M k``
and ``M q``, are taken on the decayed *old* state, so ``o = e^g M q + u (k.q)`` needs no second pass
over the updated tile.

The kernel moves ``2 * B * HV * V * K * 4`` state bytes and little else, so its floor is that over the
measured copy bandwidth; the bench reports the fraction reached.

SGLang 0.5.23's counterpart: ``sglang/kernels/ops/attention/fla/fused_recurrent.py: fused_recurrent_gated_delta_rule_packed_decode``, which its Triton GDN backend runs for every decode with
``--enable-linear-replayssm`` off (the CUDA default on SM90; SM100 with a bf16 state defaults to FlashInfer)
(``sglang/srt/layers/attention/linear/kernels/gdn_triton.py: TritonGDNKernel.packed_decode``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate, l2_normalize
from runtime.gdn.state_tile import delta_rule_rows, launch_shape, program_tile


@dataclass(frozen=True)
class DecodeConfig:
    """Tile of one program: ``block_v`` rows of one ``[V, K]`` state, ``num_warps`` warps.

    The default won or tied every H100 sweep shape (``runtime/gdn/NOTES.md``): many one-warp 4-row
    programs keep the most state loads in flight, from B=1 to B=1024 at TP1 and TP4."""

    block_v: int = 4
    num_warps: int = 1


@triton.jit
def _packed_decode_kernel(
    qkv_ptr,
    a_ptr,
    b_ptr,
    A_log_ptr,
    dt_bias_ptr,
    out_ptr,
    pool_ptr,
    idx_ptr,
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
    THRESHOLD: tl.constexpr,
    EPS: tl.constexpr,
):
    i_b, i_hv, i_h, o_v = program_tile(tl.program_id(0), H, HV, V, BV)
    o_k = tl.arange(0, BK)
    m_v = o_v < V
    m_k = o_k < K
    m_h = m_v[:, None] & m_k[None, :]
    p_out = out_ptr + i_b.to(tl.int64) * s_ob + i_hv * s_oh + o_v
    slot = tl.load(idx_ptr + i_b).to(tl.int64)
    if slot < 0:
        tl.store(p_out, tl.zeros([BV], dtype=tl.float32).to(out_ptr.dtype.element_ty), mask=m_v)
        return
    # the state tile is the only large read: issue it before the prologue so its latency hides the math
    p_h = pool_ptr + slot * s_pn + i_hv * s_ph + o_v[:, None] * s_pv + o_k[None, :] * s_pk
    h = tl.load(p_h, mask=m_h, other=0.0, eviction_policy="evict_first").to(tl.float32)
    p_row = qkv_ptr + i_b.to(tl.int64) * s_qkv
    q = tl.load(p_row + i_h * K + o_k, mask=m_k, other=0.0).to(tl.float32)
    k = tl.load(p_row + (H + i_h) * K + o_k, mask=m_k, other=0.0).to(tl.float32)
    v = tl.load(p_row + 2 * H * K + i_hv * V + o_v, mask=m_v, other=0.0).to(tl.float32)
    g, beta = gdn_gate(
        tl.load(a_ptr + i_b.to(tl.int64) * s_a + i_hv),
        tl.load(b_ptr + i_b.to(tl.int64) * s_b + i_hv),
        tl.load(A_log_ptr + i_hv),
        tl.load(dt_bias_ptr + i_hv),
        THRESHOLD,
    )
    q = l2_normalize(q, EPS) * scale
    k = l2_normalize(k, EPS)
    h, o = delta_rule_rows(h, q, k, v, g, beta)
    tl.store(p_h, h.to(pool_ptr.dtype.element_ty), mask=m_h, cache_modifier=".cs")
    tl.store(p_out, o.to(out_ptr.dtype.element_ty), mask=m_v)


def packed_decode(
    mixed_qkv: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    *,
    num_k_heads: int,
    scale: float | None = None,
    out: torch.Tensor | None = None,
    config: DecodeConfig | None = None,
) -> torch.Tensor:
    """One decode token per request; updates ``pool [slots, HV, V, K]`` in place, returns ``[B, HV, V]``.

    ``mixed_qkv: [B, 2 H K + HV V]``, ``a, b: [B, HV]`` (any row stride, last dim contiguous);
    ``slot_indices: [B]`` distinct among non-negative entries. ``out`` (default: ``mixed_qkv``'s dtype)
    may be any ``[B, HV, V]`` tensor with a contiguous last dim.
    """
    if pool.ndim != 4:
        raise ValueError("pool must be [slots, HV, V, K]")
    _, HV, V, K = pool.shape
    B = mixed_qkv.shape[0]
    H = num_k_heads
    if mixed_qkv.ndim != 2 or mixed_qkv.shape[1] != 2 * H * K + HV * V:
        raise ValueError(f"mixed_qkv must be [B, {2 * H * K + HV * V}], got {tuple(mixed_qkv.shape)}")
    if HV % H != 0:
        raise ValueError(f"HV={HV} must be a multiple of H={H}")
    if a.shape != (B, HV) or b.shape != (B, HV) or slot_indices.shape != (B,):
        raise ValueError("a, b must be [B, HV] and slot_indices [B]")
    if any(t.stride(-1) != 1 for t in (mixed_qkv, a, b)):
        raise ValueError("mixed_qkv, a and b must be contiguous in the last dim")
    if out is None:
        out = torch.empty(B, HV, V, dtype=mixed_qkv.dtype, device=mixed_qkv.device)
    elif out.shape != (B, HV, V) or out.stride(-1) != 1:
        raise ValueError(f"out must be [{B}, {HV}, {V}] with a contiguous last dim")
    if B == 0:
        return out
    cfg = config or DecodeConfig()
    grid, sizes = launch_shape(B, H, pool.shape, cfg.block_v)
    _packed_decode_kernel[grid](
        mixed_qkv,
        a,
        b,
        A_log.contiguous(),
        dt_bias.contiguous(),
        out,
        pool,
        slot_indices,
        K**-0.5 if scale is None else scale,
        mixed_qkv.stride(0),
        a.stride(0),
        b.stride(0),
        out.stride(0),
        out.stride(1),
        *pool.stride(),
        **sizes,
        num_warps=cfg.num_warps,
    )
    return out
