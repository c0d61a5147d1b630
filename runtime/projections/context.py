"""The kernel that runs right before the GDN input projection in a decode step, for the bench's in-context timing.

In SGLang 0.5.23's Qwen3-Next layer (``sglang/srt/models/qwen3_next.py: Qwen3HybridLinearDecoderLayer.forward``)
the projection's input is written by ``input_layernorm``
(``sglang/srt/layers/layernorm.py: GemmaRMSNorm._forward_impl``): sgl_kernel's ``gemma_fused_add_rmsnorm``, in place
on the hidden states and the residual, with programmatic dependent launch on by default on Hopper. Its kernel (flashinfer ``norm.cuh``,
``FusedAddRMSNormKernel``) waits for the previous grid first and lets its dependents launch only after its stores.
sgl_kernel is a compiled extension the device's image does not carry, so :func:`gemma_add_rmsnorm` is a Triton
kernel of that shape (one program per token, the same PDL points): a projection launched after it can start its
weight loads only once the norm has stored, as in a decode step, not during the previous projection as in a graph of
back-to-back projections.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .pdl import pdl_launch

EPS = 1e-6


@triton.jit
def _gemma_add_rmsnorm_kernel(x_ptr, res_ptr, w_ptr, y_ptr, s_ptr, eps, N: tl.constexpr, BLOCK: tl.constexpr,
                              USE_PDL: tl.constexpr):
    if USE_PDL:  # as flashinfer's kernel: wait for the previous grid before reading anything
        tl.extra.cuda.gdc_wait()
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    ok = cols < N
    s = tl.load(x_ptr + row * N + cols, mask=ok, other=0.0).to(tl.float32)
    s += tl.load(res_ptr + row * N + cols, mask=ok, other=0.0).to(tl.float32)
    tl.store(s_ptr + row * N + cols, s.to(s_ptr.dtype.element_ty), mask=ok)
    rms = tl.rsqrt(tl.sum(s * s, axis=0) / N + eps)
    w = tl.load(w_ptr + cols, mask=ok, other=0.0).to(tl.float32)
    tl.store(y_ptr + row * N + cols, (s * rms * (1.0 + w)).to(y_ptr.dtype.element_ty), mask=ok)
    if USE_PDL:  # dependents launch only once this program has stored
        tl.extra.cuda.gdc_launch_dependents()


def gemma_add_rmsnorm_reference(x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float = EPS):
    """Plain PyTorch: ``s = x + residual`` (fp32); returns ``(s / rms(s) * (1 + weight), s)`` in the inputs' dtypes."""
    s = x.float() + residual.float()
    y = s * torch.rsqrt(s.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + weight.float())
    return y.to(x.dtype), s.to(residual.dtype)


def gemma_add_rmsnorm(
    x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float = EPS, pdl: bool | None = None,
    *, out: torch.Tensor | None = None, residual_out: torch.Tensor | None = None,
) -> None:
    """In place, as sgl_kernel's ``gemma_fused_add_rmsnorm``: ``residual += x``, ``x = norm(residual) * (1 + w)``
    (rows of contiguous ``[T, hidden]``); ``out`` / ``residual_out``: write there instead (contiguous, x's shape);
    ``pdl`` as :func:`.pdl.pdl_launch` (default: on where the GPU has it)."""
    t, n = x.shape
    out = x if out is None else out
    residual_out = residual if residual_out is None else residual_out
    if any(v.shape != x.shape or not v.is_contiguous() for v in (x, residual, out, residual_out)) or weight.shape != (n,):
        raise ValueError("need contiguous x, residual and outputs [T, hidden] and weight [hidden]")
    if t:
        _gemma_add_rmsnorm_kernel[(t,)](
            x, residual, weight, out, residual_out, eps, N=n, BLOCK=triton.next_power_of_2(n), num_warps=4,
            **pdl_launch(x, pdl)
        )


class DecodeContext:
    """A residual stream and norm weight beside the projection input ``x``: :meth:`norm` runs the layer's input norm
    on ``x`` in place, :meth:`then` a norm followed by one call of a path."""

    def __init__(self, x: torch.Tensor, g: torch.Generator) -> None:
        self.x = x
        self.residual = torch.randn(x.shape, device=x.device, generator=g).to(x.dtype)
        self.weight = (torch.randn(x.shape[1], device=x.device, generator=g) * 0.1).to(x.dtype)

    def norm(self) -> None:
        gemma_add_rmsnorm(self.x, self.residual, self.weight)

    def then(self, path):
        def step():
            self.norm()
            return path()

        return step
