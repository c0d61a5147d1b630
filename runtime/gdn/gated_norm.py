"""Gated RMSNorm over 128-wide head rows, many rows per program (#19434).

``y = x * rsqrt(mean(x^2) + eps) * weight * silu(z)`` in fp32, stored in ``x``'s dtype. A row is one
(token, value-head) pair; with one row per program a 16k-token prefill launches half a million tiny
programs, so each program here takes ``block_rows`` rows as one ``[block_rows, D]`` tile. ``x`` and ``z``
are ``[T, G, D]`` (or ``[N, D]``) with any token and head strides, so ``z`` can stay a view of the
projection output.

SGLang 0.5.23 runs ``sglang/kernels/ops/attention/fla/fused_norm_gate.py: FusedRMSNormGated`` for Qwen3-Next (32
rows per program at ``D <= 512``) and ``sglang/kernels/ops/attention/fla/layernorm_gated.py: RMSNorm`` (up to
``MAX_ROWS_PER_BLOCK`` = 4 rows per program) for Qwen3.5 and under piecewise prefill graphs
(``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet.__init__``).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from runtime.gdn.naive import NORM_EPS


@triton.jit
def _gated_rmsnorm_kernel(
    x_ptr,
    z_ptr,
    w_ptr,
    y_ptr,
    N,
    s_xt,
    s_xg,
    s_zt,
    s_zg,
    eps,
    G: tl.constexpr,
    D: tl.constexpr,
    BD: tl.constexpr,
    BR: tl.constexpr,
):
    rows = tl.program_id(0).to(tl.int64) * BR + tl.arange(0, BR)
    cols = tl.arange(0, BD)
    m_d = cols < D
    mask = (rows < N)[:, None] & m_d[None, :]
    t, h = rows // G, rows % G
    x = tl.load(x_ptr + (t * s_xt + h * s_xg)[:, None] + cols[None, :], mask=mask, other=0.0)
    z = tl.load(z_ptr + (t * s_zt + h * s_zg)[:, None] + cols[None, :], mask=mask, other=0.0)
    w = tl.load(w_ptr + cols, mask=m_d, other=0.0).to(tl.float32)
    x = x.to(tl.float32)
    z = z.to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=1) / D + eps)
    y = x * rstd[:, None] * w[None, :] * (z * tl.sigmoid(z))
    tl.store(y_ptr + rows[:, None] * D + cols[None, :], y.to(y_ptr.dtype.element_ty), mask=mask)


def _as_3d(t: torch.Tensor) -> torch.Tensor:
    if t.ndim == 2:
        return t[:, None, :]
    if t.ndim == 3:
        return t
    return t.reshape(-1, *t.shape[-2:])


def gated_rmsnorm(
    x: torch.Tensor,
    z: torch.Tensor,
    weight: torch.Tensor,
    eps: float = NORM_EPS,
    *,
    out: torch.Tensor | None = None,
    block_rows: int | None = None,
    num_warps: int = 8,
) -> torch.Tensor:
    """Gated RMSNorm of ``x`` by gate ``z`` (same shape, last dim ``D`` contiguous); returns ``x``'s shape.

    ``out`` may supply a contiguous result tensor (any float dtype) of ``x``'s shape.
    """
    if x.shape != z.shape:
        raise ValueError(f"x and z shapes differ: {tuple(x.shape)} vs {tuple(z.shape)}")
    if x.stride(-1) != 1 or z.stride(-1) != 1:
        raise ValueError("x and z must be contiguous in the last dim")
    D = x.shape[-1]
    if weight.numel() != D:
        raise ValueError(f"weight needs {D} elements")
    x3, z3 = _as_3d(x), _as_3d(z)
    T, G = x3.shape[:2]
    if out is None:
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    elif out.shape != x.shape or not out.is_contiguous():
        raise ValueError(f"out must be contiguous with shape {tuple(x.shape)}")
    else:
        y = out
    N = T * G
    if N == 0:
        return y
    BD = triton.next_power_of_2(D)
    if block_rows is None:
        block_rows = max(1, min(triton.next_power_of_2(N), 1024 // BD))
    _gated_rmsnorm_kernel[(triton.cdiv(N, block_rows),)](
        x3,
        z3,
        weight.contiguous(),
        y,
        N,
        x3.stride(0),
        x3.stride(1),
        z3.stride(0),
        z3.stride(1),
        eps,
        G=G,
        D=D,
        BD=BD,
        BR=block_rows,
        num_warps=num_warps,
    )
    return y
