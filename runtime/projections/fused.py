"""The projection paths the benchmark compares, all producing ``mixed_qkv, z, b, a``.

* :func:`unfused_forward`: two GEMMs (qkvz, ba) + the PyTorch split/reshape/cat chain.
* :func:`two_gemm_forward`: two GEMMs + the split kernel.
* :func:`fused_forward` / :class:`FusedGDNProjection`: one GEMM over the row-concatenated ``[qkvz; ba]``
  weight (#19321 fused the two projections into one GEMM; the split kernel is #18917 / #21019's). On a
  GPU, one launch whose epilogue does the split: the CUDA-core GEMV for a few tokens
  (:func:`.gemv_split.gemv_split`, up to 4 tokens within ``MAX_TOKEN_ROWS``), the Triton GEMM where
  :func:`.gemm_split.wins` (up to 32 tokens, and up to 128 on ranks wide enough to swap A and B); larger batches
  run cuBLAS, whose two column slices feed the split kernel directly (strided, no copy). The crossovers come
  from the H200 sweeps (``NOTES.md``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import gemm_split, gemv_split
from .pdl import pdl_launch
from .layer import GDNInputProjection
from .naive import GDNShape, split_contiguous, split_interleaved
from .split_kernel import SplitLayout, split_qkvzba


def unfused_forward(
    x: torch.Tensor, qkvz_weight: torch.Tensor, ba_weight: torch.Tensor, shape: GDNShape, layout: SplitLayout
):
    split = split_interleaved if layout == "interleaved" else split_contiguous
    return split(F.linear(x, qkvz_weight), F.linear(x, ba_weight), shape)


def two_gemm_forward(
    x: torch.Tensor, qkvz_weight: torch.Tensor, ba_weight: torch.Tensor, shape: GDNShape, layout: SplitLayout
):
    return split_qkvzba(F.linear(x, qkvz_weight), F.linear(x, ba_weight), shape, layout)


def fused_kernel(x: torch.Tensor, weight: torch.Tensor, pdl: bool | None = None) -> str:
    """The launch :func:`fused_forward` takes for these tensors and ``pdl``: ``gemv_split``, ``gemm_split`` or
    ``cublas+split``."""
    if gemv_split.accepts(x, weight):
        return "gemv_split"
    if gemm_split.accepts(x, weight) and gemm_split.wins(
        x.shape[0], weight.shape[0], x.shape[1], torch.cuda.get_device_properties(x.device).multi_processor_count,
        pdl=pdl_launch(x, pdl)["USE_PDL"],
    ):
        return "gemm_split"
    return "cublas+split"


def fused_forward(
    x: torch.Tensor, weight: torch.Tensor, shape: GDNShape, layout: SplitLayout, *, pdl: bool | None = None
):
    """``mixed_qkv, z, b, a`` from one GEMM over ``weight = [qkvz; ba]`` (one rank, ``[N, hidden]``); ``pdl``
    for the Triton kernels as :func:`.pdl.pdl_launch` (default: on where the GPU has it)."""
    kernel = fused_kernel(x, weight, pdl)
    if kernel == "gemv_split":
        return gemv_split.gemv_split(x, weight, shape, layout, pdl=pdl)
    if kernel == "gemm_split":
        return gemm_split.gemm_split(x, weight, shape, layout, pdl=pdl)
    out = F.linear(x, weight)
    n = shape.qkvz_width
    return split_qkvzba(out[:, :n], out[:, n:], shape, layout)


class FusedGDNProjection:
    """One GEMM for both projections of one rank, split on the way out (:func:`fused_forward`)."""

    def __init__(
        self, qkvz_weight: torch.Tensor, ba_weight: torch.Tensor, shape: GDNShape, layout: SplitLayout
    ) -> None:
        if qkvz_weight.shape[0] != shape.qkvz_width or ba_weight.shape[0] != shape.ba_width:
            raise ValueError("weights do not match the per-rank shape")
        self.weight = torch.cat([qkvz_weight, ba_weight]).contiguous()
        self.shape, self.layout = shape, layout

    @classmethod
    def from_layer(cls, layer: GDNInputProjection) -> FusedGDNProjection:
        """Fuse a loaded unquantized layer's weights (FP8 layers are not fused here)."""
        if layer.in_proj_qkvz.fp8 is not None or layer.in_proj_ba.fp8 is not None:
            raise NotImplementedError("fusing FP8 projections (weights and scales) is not implemented")
        return cls(
            layer.in_proj_qkvz.weight.data, layer.in_proj_ba.weight.data, layer.rank_shape, layer.layout
        )

    def __call__(self, x: torch.Tensor):
        return fused_forward(x, self.weight, self.shape, self.layout)
