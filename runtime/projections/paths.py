"""The GDN input-projection paths the benchmark times, each returning what the GDN core consumes.

SGLang 0.5.23 on CUDA (``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet._forward_input_proj, Qwen3GatedDeltaNet.forward``,
``sglang/srt/models/qwen3_5.py: Qwen3_5GatedDeltaNet._forward_input_proj, Qwen3_5GatedDeltaNet.forward``): two GEMMs,
the ``ba`` one on ``alt_stream`` inside the captured graph when ``T < 1024``; then

* Qwen3-Next (interleaved): ``fused_qkvzba_split_reshape_cat`` at head ratios 1/2/4;
* Qwen3.5 (contiguous): at prefill, zero-copy strided views (``qwen3_5_gdn_prefill_projection_views``); at
  decode, ``fused_qkvzba_causal_conv1d_update_contiguous`` (split folded into the conv-state update,
  ``sglang/srt/environ.py: Envs.SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV``, default on; called from
  ``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_decode``). The kernels:
  ``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: fused_qkvzba_split_reshape_cat, fused_qkvzba_split_reshape_cat_contiguous``,
  ``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: qwen3_5_gdn_prefill_projection_views, fused_qkvzba_causal_conv1d_update_contiguous``.

The ``fallback`` paths are what SGLang runs when those kernels do not apply (other platforms, head ratios,
or the environment switch off): the PyTorch split chain (Qwen3-Next), the contiguous split kernel followed
by ``causal_conv1d_update`` (Qwen3.5 decode). Ours: one GEMM over ``[qkvz; ba]``, then the split in the GEMM's
epilogue or the split kernel (Qwen3-Next, :func:`.fused.fused_forward`), views (Qwen3.5 prefill) or our fused
split + conv kernel reading the GEMM's two column slices (Qwen3.5 decode).

Qwen3.5 prefill of ours is SGLang's two GEMMs and views with the ``ba`` GEMM overlapped at every size (SGLang
never overlaps it at prefill: only under decode graph capture, below 1024 tokens).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import split_conv_kernel
from .fused import fused_forward
from .naive import GDNShape, split_interleaved

ALT_STREAM_MAX_TOKENS = 1023  # SGLang's DUAL_STREAM_TOKEN_THRESHOLD = 1024 (seq_len < threshold)
_CU_STREAM_NON_BLOCKING = 1


def alt_stream() -> torch.cuda.ExternalStream:
    """The second stream of SGLang's ``ba`` GEMM, as a CUDA stream of its own (``cuStreamCreate``, non-blocking, default
    priority: what torch's pool streams are). SGLang takes one torch pool stream at model init
    (``sglang/srt/models/qwen3_next.py: Qwen3NextModel``, through
    ``sglang/srt/runtime_context.py: RuntimeContext.get_stream``) and captures its graphs on another
    (``sglang/srt/distributed/parallel_state.py: GroupCoordinator.graph_capture``). torch hands out its 32 pool streams
    round robin (``c10::cuda::getStreamFromPool``), and a bench drawing a pool stream per graph and per TP could draw
    the very stream ``torch.cuda.graph`` captures on (its ``default_capture_stream``): then the ``ba`` GEMM is captured
    in line, SGLang's one-stream time (the TP4 rows of rounds 18 and 20's full runs, NOTES.md round 21). This stream is
    none of them. It lives as long as the process (a few a run)."""
    from torch.cuda import _utils

    torch.cuda.synchronize()  # a runtime call: the primary context exists and is current on this thread
    handle = ctypes.c_void_p()
    lib = _utils._get_gpu_runtime_library()
    _utils._check_cuda(lib.cuStreamCreate(ctypes.byref(handle), ctypes.c_uint(_CU_STREAM_NON_BLOCKING)))
    return torch.cuda.ExternalStream(handle.value)


def two_gemms(
    x: torch.Tensor, qkvz_w: torch.Tensor, ba_w: torch.Tensor, alt: torch.cuda.Stream | None,
    max_overlap_tokens: int | None = ALT_STREAM_MAX_TOKENS,
):
    """SGLang's ``_forward_input_proj``: ``ba`` on ``alt`` overlapping ``qkvz`` when given, up to
    ``max_overlap_tokens`` (SGLang: T < 1024 while capturing; ``None``: at every size)."""
    if alt is None or (max_overlap_tokens is not None and x.shape[0] > max_overlap_tokens):
        return F.linear(x, qkvz_w), F.linear(x, ba_w)
    current = torch.cuda.current_stream()
    alt.wait_stream(current)
    qkvz = F.linear(x, qkvz_w)
    with torch.cuda.stream(alt):
        ba = F.linear(x, ba_w)
    current.wait_stream(alt)
    return qkvz, ba


@dataclass
class ConvState:
    """A decode step's conv inputs: the state pool, indices of this batch's slots, the conv weight."""

    pool: torch.Tensor
    indices: torch.Tensor
    weight: torch.Tensor


def sglang_next(peer, x, qkvz_w, ba_w, rs: GDNShape, alt):
    qkvz, ba = two_gemms(x, qkvz_w, ba_w, alt)
    return peer.fused_qkvzba_split_reshape_cat(qkvz, ba, rs.num_k_heads, rs.num_v_heads, rs.head_k, rs.head_v)


def fallback_next(x, qkvz_w, ba_w, rs: GDNShape, alt):
    qkvz, ba = two_gemms(x, qkvz_w, ba_w, alt)
    return split_interleaved(qkvz, ba, rs)


def ours_next(x, fused_w, rs: GDNShape, tiles=None, pdl: bool | None = None, units=None):
    return fused_forward(x, fused_w, rs, "interleaved", tiles=tiles, pdl=pdl, units=units)


def sglang_prefill_35(peer, x, qkvz_w, ba_w, rs: GDNShape, alt):
    qkvz, ba = two_gemms(x, qkvz_w, ba_w, alt)
    return peer.qwen3_5_gdn_prefill_projection_views(qkvz, ba, rs.num_k_heads, rs.num_v_heads, rs.head_k, rs.head_v)


def fallback_prefill_35(peer, x, qkvz_w, ba_w, rs: GDNShape, alt):
    qkvz, ba = two_gemms(x, qkvz_w, ba_w, alt)
    return peer.fused_qkvzba_split_reshape_cat_contiguous(
        qkvz, ba, rs.num_k_heads, rs.num_v_heads, rs.head_k, rs.head_v
    )


def prefill_views(qkvz: torch.Tensor, ba: torch.Tensor, rs: GDNShape):
    """Contiguous-layout projection outputs as zero-copy views ``mixed_qkv, z, b, a`` (strided)."""
    t, qkv, nv = qkvz.shape[0], rs.qkv_width, rs.num_v_heads
    return qkvz[:, :qkv], qkvz[:, qkv:].view(t, nv, rs.head_v), ba[:, :nv], ba[:, nv:]


def ours_prefill_35(x, qkvz_w, ba_w, rs: GDNShape, alt):
    """SGLang's prefill (two GEMMs, views) with the ``ba`` GEMM on ``alt`` at every size: one merged GEMM was
    slower than two at some prefill sizes (H200 bench, 2026-11-30, TP8 T=2048: 78.9 vs 65.8 us), as SGLang's own
    comment on its ROCm merged GEMM says for cuBLAS above about 1k rows."""
    return prefill_views(*two_gemms(x, qkvz_w, ba_w, alt, max_overlap_tokens=None), rs)


def sglang_decode_35(peer, x, qkvz_w, ba_w, rs: GDNShape, alt, conv: ConvState):
    qkvz, ba = two_gemms(x, qkvz_w, ba_w, alt)
    return peer.fused_qkvzba_causal_conv1d_update_contiguous(
        qkvz, ba, conv.pool, conv.weight, None, conv.indices, qkv_dim=rs.qkv_width, v_dim=rs.value_dim,
        num_v_heads=rs.num_v_heads, head_v_dim=rs.head_v, activation="silu",
    )


def fallback_decode_35(peer, conv_peer, x, qkvz_w, ba_w, rs: GDNShape, alt, conv: ConvState):
    qkvz, ba = two_gemms(x, qkvz_w, ba_w, alt)
    mixed_qkv, z, b, a = peer.fused_qkvzba_split_reshape_cat_contiguous(
        qkvz, ba, rs.num_k_heads, rs.num_v_heads, rs.head_k, rs.head_v
    )
    out = conv_peer.causal_conv1d_update(mixed_qkv, conv.pool, conv.weight, None, "silu", conv_state_indices=conv.indices)
    return out, z, b, a


def ours_decode_35(x, fused_w, rs: GDNShape, conv: ConvState):
    out = F.linear(x, fused_w)
    return split_conv_kernel.split_conv_update(
        out[:, : rs.qkvz_width], out[:, rs.qkvz_width :], conv.pool, conv.weight, None, conv.indices, rs, "silu"
    )
