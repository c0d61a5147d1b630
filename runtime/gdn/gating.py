"""Fused GDN gating (#12508): ``g = -exp(A_log) softplus(a + dt_bias)``, ``beta = sigmoid(b)``, one launch.

The unfused path is about seven elementwise kernels (upcast, add, softplus, exp, negate, multiply,
sigmoid). Here one program handles ``block_t`` tokens by all value heads, so a 16k-token prefill is a
few hundred programs rather than one per token; ``a`` and ``b`` may be strided views of the projection
output (any token stride, heads contiguous).

SGLang 0.5.23's kernel (``sglang/kernels/ops/attention/linear/fused_gdn_gating.py: fused_gdn_gating``) runs one
program per token and 8 heads, softplus linear above 20 as here, and rounds ``beta`` through ``b``'s dtype
before storing it in fp32; ours keeps ``beta`` in fp32 (at most one bf16 ulp apart).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from runtime.gdn.activations import gdn_gate
from runtime.gdn.naive import SOFTPLUS_THRESHOLD


@triton.jit
def _gating_kernel(
    a_ptr,
    b_ptr,
    A_log_ptr,
    dt_bias_ptr,
    g_ptr,
    beta_ptr,
    T,
    s_a,
    s_b,
    HV: tl.constexpr,
    BH: tl.constexpr,
    BT: tl.constexpr,
    THRESHOLD: tl.constexpr,
):
    o_t = tl.program_id(0) * BT + tl.arange(0, BT)
    o_h = tl.arange(0, BH)
    m_h = o_h < HV
    mask = (o_t < T)[:, None] & m_h[None, :]
    rows = o_t.to(tl.int64)[:, None]
    a = tl.load(a_ptr + rows * s_a + o_h[None, :], mask=mask, other=0.0)
    b = tl.load(b_ptr + rows * s_b + o_h[None, :], mask=mask, other=0.0)
    A_log = tl.load(A_log_ptr + o_h, mask=m_h, other=0.0)
    dt_bias = tl.load(dt_bias_ptr + o_h, mask=m_h, other=0.0)
    g, beta = gdn_gate(a, b, A_log[None, :], dt_bias[None, :], THRESHOLD)
    out = rows * HV + o_h[None, :]
    tl.store(g_ptr + out, g, mask=mask)
    tl.store(beta_ptr + out, beta, mask=mask)


def fused_gating(
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    *,
    out: tuple[torch.Tensor, torch.Tensor] | None = None,
    block_t: int | None = None,
    num_warps: int = 4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(g, beta)`` as contiguous fp32 ``[T, HV]`` from ``a, b: [T, HV]`` (last dim contiguous).

    ``out`` may supply the two contiguous fp32 ``[T, HV]`` result tensors.
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"a and b must both be [T, HV], got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.stride(-1) != 1 or b.stride(-1) != 1:
        raise ValueError("a and b must be contiguous over heads")
    T, HV = a.shape
    if A_log.numel() != HV or dt_bias.numel() != HV:
        raise ValueError(f"A_log and dt_bias need {HV} elements")
    if out is None:
        g = torch.empty(T, HV, dtype=torch.float32, device=a.device)
        beta = torch.empty_like(g)
    else:
        g, beta = out
        if any(t.shape != (T, HV) or t.dtype != torch.float32 or not t.is_contiguous() for t in out):
            raise ValueError(f"out must be two contiguous fp32 [{T}, {HV}] tensors")
    if T == 0:
        return g, beta
    BH = triton.next_power_of_2(HV)
    if block_t is None:
        block_t = max(1, min(triton.next_power_of_2(T), 512 // BH))
    _gating_kernel[(triton.cdiv(T, block_t),)](
        a,
        b,
        A_log.contiguous(),
        dt_bias.contiguous(),
        g,
        beta,
        T,
        a.stride(0),
        b.stride(0),
        HV=HV,
        BH=BH,
        BT=block_t,
        THRESHOLD=SOFTPLUS_THRESHOLD,
        num_warps=num_warps,
    )
    return g, beta
