"""The layer's input norm and the GDN input projection as one decode step: ``s = x + residual`` (the new residual),
``y = s * rsqrt(mean(s^2) + eps) * (1 + w)`` (sgl_kernel's ``gemma_fused_add_rmsnorm``, which SGLang 0.5.23 runs in
place right before ``in_proj_qkvz`` / ``in_proj_ba``: ``sglang/srt/layers/layernorm.py: GemmaRMSNorm._forward_impl``),
then ``mixed_qkv, z, b, a`` of ``y @ [qkvz; ba].T``.

Where :func:`folds` says so the norm runs inside the projection's launch (:func:`.stream_mma.stream_mma` with
``norm=``: each CTA normalises the rows it loads, CTA 0 stores the residual), which removes the hand-off between two
kernels (the norm lets its dependents launch only after its stores, NOTES.md round 14); elsewhere the Triton stand-in
norm (:mod:`.context`) runs first, out of place, then :func:`.fused.fused_forward`. Either way ``residual_out``
receives ``s`` and the normalised ``y`` is not returned (SGLang's layer reads it only in these two projections).
"""

from __future__ import annotations

import torch

from . import context, stream_mma
from .fused import fused_forward
from .naive import GDNShape, project, split_contiguous, split_interleaved
from .pdl import pdl_launch
from .split_kernel import SplitLayout


def folds(t: int, n: int, k: int, sms: int, pdl: bool) -> bool:
    """Whether the norm runs inside the projection's launch for ``T`` tokens over an ``[n, k]`` weight on ``sms`` SMs
    (with PDL, the shapes :func:`.stream_mma.wins` takes). H200 sweep ``nf18`` (NOTES.md round 18), each side timed
    from the same norm-shaped predecessor to the projection's end: where a CTA's whole share is in flight at once
    (three units, TP4) 1 to 8 tokens (T=1 / 2 / 4 / 8 5.02 / 5.18 / 5.34 / 5.64 us against the norm then our path's
    5.76 / 6.05 / 6.15 / 6.41); where a CTA streams at most two units (TP8) 2 to 4 tokens (4.36 / 4.56 against 4.61 /
    4.70; T=1 and T=8 tie, 4.33 / 4.89 against 4.33 / 4.93). Not where a CTA streams more than it holds in flight
    (TP1: 16.0-16.7 against 14.1-16.1, the norm's barrier stalls the stream) nor above 8 tokens (TP4 T=16 9.99 against
    6.58: two rows a thread, 128 registers with spills). T=3 and 5..7 are not timed: inside the spans that won."""
    if not pdl or n % stream_mma.UNIT or k % 512:
        return False
    per = stream_mma.units_per_cta(n, sms)
    if per == 3:
        return 1 <= t <= 8
    if per <= 2:
        return 2 <= t <= 4
    return False


def norm_then_project(
    x: torch.Tensor, residual: torch.Tensor, norm_weight: torch.Tensor, residual_out: torch.Tensor,
    weight: torch.Tensor, shape: GDNShape, layout: SplitLayout, *, eps: float = context.EPS,
    pdl: bool | None = None, tiles: torch.Tensor | None = None, units: torch.Tensor | None = None,
):
    """``mixed_qkv, z, b, a`` of the normalised ``x + residual`` through ``weight = [qkvz; ba]`` (one rank), the sum
    stored to ``residual_out`` (contiguous ``[T, K]``, apart from ``residual`` and ``x``; ``x`` and ``residual`` are
    left as they were); ``tiles`` / ``units`` as :func:`.fused.fused_forward`."""
    t, k = x.shape
    use_pdl = pdl_launch(x, pdl)["USE_PDL"]
    if (x.is_cuda and stream_mma.accepts(x, weight) and folds(t, weight.shape[0], k, _sms(x), use_pdl)):
        norm = stream_mma.AddNorm(residual, norm_weight, residual_out, eps)
        return stream_mma.stream_mma(x, weight, shape, layout, packed=units, norm=norm)
    y = torch.empty_like(x)
    context.gemma_add_rmsnorm(x, residual, norm_weight, eps, pdl, out=y, residual_out=residual_out)
    return fused_forward(y, weight, shape, layout, pdl=pdl, tiles=tiles, units=units)


def norm_then_project_reference(
    x: torch.Tensor, residual: torch.Tensor, norm_weight: torch.Tensor, weight: torch.Tensor, shape: GDNShape,
    layout: SplitLayout, eps: float = context.EPS,
):
    """Plain PyTorch: ``(mixed_qkv, z, b, a)`` in fp32 from the norm's output in x's dtype, and the new residual."""
    y, s = context.gemma_add_rmsnorm_reference(x, residual, norm_weight, eps)
    full = project(y, weight)
    split = split_interleaved if layout == "interleaved" else split_contiguous
    return split(full[:, : shape.qkvz_width], full[:, shape.qkvz_width :], shape), s


def _sms(x: torch.Tensor) -> int:
    return torch.cuda.get_device_properties(x.device).multi_processor_count
