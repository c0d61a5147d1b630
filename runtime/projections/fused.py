"""The projection paths the benchmark compares, all producing ``mixed_qkv, z, b, a``.

* :func:`unfused_forward`: two GEMMs (qkvz, ba) + the PyTorch split/reshape/cat chain.
* :func:`two_gemm_forward`: two GEMMs + the split kernel.
* :func:`fused_forward` / :class:`FusedGDNProjection`: one GEMM over the row-concatenated ``[qkvz; ba]``
  weight (#19321 fused the two projections into one GEMM; the split kernel is #18917 / #21019's). On a
  GPU, one launch whose epilogue does the split (:func:`launch_for`): with PDL, the persistent tensor-core GEMV
  (:func:`.stream_mma.stream_mma`, one CTA per SM streaming 8-row units) where :func:`.stream_mma.wins` (TP4 and
  TP8 T=2..32, above 16 tokens in two token groups, TP1 T=2..8 on the H200; 16-bit inputs), the
  tensor-core GEMV (:func:`.gemv_mma.gemv_mma`) where :func:`.gemv_mma.wins` and the persistent one does not (shapes
  whose K or rows it cannot split; 16-bit inputs); else the
  CUDA-core GEMV for a few tokens (:func:`.gemv_split.gemv_split`, up to 4 tokens within ``MAX_TOKEN_ROWS``, 2
  where the GEMM swaps A and B), the
  Triton GEMM where :func:`.gemm_split.wins` (up to 32 tokens, and up to 128 on ranks wide enough to swap A and
  B; reading a tile-major copy of the weight where one is given, :func:`tile_major_weight`, and the launch reads
  it, :func:`.gemm_split.reads_tile_major`); larger batches run cuBLAS, whose two column slices feed the split
  kernel directly (strided, no copy). The crossovers come from the H200 sweeps and, since round 13, the benches and
  sweeps after the layer's input norm (``NOTES.md`` rounds 13 to 15).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import gemm_split, gemv_mma, gemv_split, stream_mma
from .layer import GDNInputProjection
from .naive import GDNShape, split_contiguous, split_interleaved
from .pdl import pdl_launch
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


# On ranks where gemm_split swaps A and B, the GEMV takes at most this many tokens: at TP4 on the H200 after the
# layer's input norm (round 14's sweep, NOTES.md) the GEMV ran T=2 in 5.29 us against the tile-major GEMM's 6.32, and
# T=3 in 6.55 against 6.32 (round 13 had interpolated 6.06 for T=3 and kept three). At TP1 the GEMV's row limit stops
# at two tokens too (T=2 14.25 against 14.95).
GEMV_MAX_TOKENS_WHERE_SWAPPED = 2


def _sms(t: torch.Tensor) -> int:
    return torch.cuda.get_device_properties(t.device).multi_processor_count


def launch_for(t: int, n: int, k: int, sms: int, pdl: bool, *, mma: bool = True, gemm: bool = True,
               stream: bool = True) -> str:
    """The launch for ``T`` tokens over an ``[n, k]`` weight on ``sms`` SMs, ``pdl`` on or off, where the inputs suit
    every launch (16-bit on a GPU, contiguous weight; ``mma`` / ``gemm`` / ``stream``: whether
    :func:`.gemv_mma.accepts` / :func:`.gemm_split.accepts` / :func:`.stream_mma.accepts` them): ``stream_mma``,
    ``gemv_mma``, ``gemv_split``, ``gemm_split`` or ``cublas+split``. The rule was re-derived from round 12's H200 bench
    after the layer's input norm, as a decode step runs (NOTES.md round 13), at 2 / 3 tokens from round 14's sweep
    there, and for the persistent tensor-core GEMV from rounds 15 and 16's."""
    if stream and stream_mma.wins(t, n, k, sms, pdl):
        return "stream_mma"
    if mma and gemv_mma.wins(t, n, k, sms, pdl):
        return "gemv_mma"
    if gemv_split.takes(t, n, k) and (t <= GEMV_MAX_TOKENS_WHERE_SWAPPED or not gemm_split.swaps(n, k, sms)):
        return "gemv_split"
    if gemm and gemm_split.wins(t, n, k, sms, pdl=pdl):
        return "gemm_split"
    return "cublas+split"


def fused_kernel(x: torch.Tensor, weight: torch.Tensor, pdl: bool | None = None) -> str:
    """The launch :func:`fused_forward` takes for these tensors and ``pdl``: ``stream_mma``, ``gemv_mma``,
    ``gemv_split``, ``gemm_split`` or ``cublas+split`` (:func:`launch_for`; off the GPU, ``cublas+split``)."""
    t, k = x.shape
    if not (x.is_cuda and x.stride(1) == 1 and weight.is_contiguous()):
        return "cublas+split"
    return launch_for(t, weight.shape[0], k, _sms(x), pdl_launch(x, pdl)["USE_PDL"],
                      mma=gemv_mma.accepts(x, weight), gemm=gemm_split.accepts(x, weight),
                      stream=stream_mma.accepts(x, weight))


def tile_major_weight(weight: torch.Tensor) -> torch.Tensor | None:
    """The tile-major copy of ``weight = [qkvz; ba]`` that :func:`.gemm_split.gemm_split`'s swapped launches read
    on this GPU (:func:`.gemm_split.packing`), or ``None`` where none does (off the GPU, narrow ranks)."""
    if not weight.is_cuda:
        return None
    tiles = gemm_split.packing(weight.shape[0], weight.shape[1], _sms(weight))
    return None if tiles is None else gemm_split.pack_weight(weight, *tiles)


def unit_major_weight(weight: torch.Tensor) -> torch.Tensor | None:
    """The unit-major copy of ``weight = [qkvz; ba]`` (:func:`.stream_mma.pack_weight`) that :func:`.stream_mma.stream_mma`
    reads where the dispatch takes it on this GPU at some batch, or ``None`` (off the GPU, other widths)."""
    if not weight.is_cuda:
        return None
    n, k = weight.shape
    sms = _sms(weight)
    if not any(stream_mma.wins(t, n, k, sms, True) for t in range(1, stream_mma.MAX_TOKENS + 1)):
        return None
    return stream_mma.pack_weight(weight)


def fused_forward(
    x: torch.Tensor, weight: torch.Tensor, shape: GDNShape, layout: SplitLayout, *, pdl: bool | None = None,
    tiles: torch.Tensor | None = None, units: torch.Tensor | None = None,
):
    """``mixed_qkv, z, b, a`` from one GEMM over ``weight = [qkvz; ba]`` (one rank, ``[N, hidden]``); ``pdl``
    for the kernels as :func:`.pdl.pdl_launch` (default: on where the GPU has it); ``tiles``: the
    weight's :func:`tile_major_weight` copy, which the swapped ``gemm_split`` launches read where they have a setting
    for it (faster on the H200, NOTES.md round 5); ``units``: its :func:`unit_major_weight` copy, which
    :func:`.stream_mma.stream_mma` reads in its place (0.5 us faster at TP4 on the H200, NOTES.md round 15)."""
    kernel = fused_kernel(x, weight, pdl)
    if kernel == "stream_mma":
        return stream_mma.stream_mma(x, weight, shape, layout, packed=units)
    if kernel == "gemv_mma":
        return gemv_mma.gemv_mma(x, weight, shape, layout, pdl=pdl)
    if kernel == "gemv_split":
        return gemv_split.gemv_split(x, weight, shape, layout, pdl=pdl)
    if kernel == "gemm_split":
        return gemm_split.gemm_split(x, weight, shape, layout, tile_major=tiles, pdl=pdl)
    out = F.linear(x, weight)
    n = shape.qkvz_width
    return split_qkvzba(out[:, :n], out[:, n:], shape, layout)


class FusedGDNProjection:
    """One GEMM for both projections of one rank, split on the way out (:func:`fused_forward`).

    On a GPU whose swapped launches read a tile-major copy (:func:`tile_major_weight`), the layer keeps one next to the
    row-major weight (which cuBLAS reads above 128 tokens): the projection weight's memory twice over, for
    0.3 to 1.1 us per decode call on the H200 (NOTES.md rounds 5 and 6); where :func:`.stream_mma.stream_mma` runs
    some batch, a unit-major copy too (:func:`unit_major_weight`: three times over, for 0.5 us at TP4, round 15);
    ``tile_major=False`` keeps the row-major one only."""

    def __init__(
        self, qkvz_weight: torch.Tensor, ba_weight: torch.Tensor, shape: GDNShape, layout: SplitLayout,
        tile_major: bool = True,
    ) -> None:
        if qkvz_weight.shape[0] != shape.qkvz_width or ba_weight.shape[0] != shape.ba_width:
            raise ValueError("weights do not match the per-rank shape")
        self.weight = torch.cat([qkvz_weight, ba_weight]).contiguous()
        self.tiles = tile_major_weight(self.weight) if tile_major else None
        self.units = unit_major_weight(self.weight) if tile_major else None
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
        return fused_forward(x, self.weight, self.shape, self.layout, tiles=self.tiles, units=self.units)
