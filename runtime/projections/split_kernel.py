"""One Triton copy kernel for ``qkvz, ba -> mixed_qkv, z, b, a`` (the fused split/reshape/cat).

Replaces the view/split/reshape/cat chain of :func:`.naive.split_interleaved` (#18917 enabled the
fused copy in prefill too) and :func:`.naive.split_contiguous` (#21019). Each program copies a
``BLOCK_T x BLOCK_C`` tile of the output column space ``[mixed_qkv | z]``, computing for every output
column the input column it comes from; programs of column block 0 also copy ``b`` and ``a``.

Inputs may be column slices of a wider tensor (row strides are arguments), so the two halves of one
fused ``qkvz+ba`` GEMM output feed it without a copy. It is a pure copy: outputs are bit-exact. SGLang 0.5.23's
kernels for the same two layouts: ``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: fused_qkvzba_split_reshape_cat, fused_qkvzba_split_reshape_cat_contiguous``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import triton
import triton.language as tl

from .naive import GDNShape

SplitLayout = Literal["interleaved", "contiguous"]


@triton.jit
def _split_qkvzba_kernel(
    qkvz_ptr,
    ba_ptr,
    qkv_ptr,
    z_ptr,
    b_ptr,
    a_ptr,
    T,
    qkvz_stride,
    ba_stride,
    NK: tl.constexpr,
    NV: tl.constexpr,
    DK: tl.constexpr,
    DV: tl.constexpr,
    INTERLEAVED: tl.constexpr,
    VEC: tl.constexpr,
    BLOCK_T: tl.constexpr,
    BLOCK_C: tl.constexpr,
    BLOCK_HV: tl.constexpr,
):
    pid_t = tl.program_id(0)
    pid_c = tl.program_id(1)
    R: tl.constexpr = NV // NK
    QK: tl.constexpr = NK * DK
    QKV_W: tl.constexpr = 2 * QK + NV * DV
    OUT_W: tl.constexpr = QKV_W + NV * DV
    GW: tl.constexpr = 2 * DK + 2 * R * DV

    rows = pid_t * BLOCK_T + tl.arange(0, BLOCK_T)
    row_ok = rows < T
    rows = rows.to(tl.int64)
    cols = pid_c * BLOCK_C + tl.arange(0, BLOCK_C)
    if INTERLEAVED:
        is_k = (cols >= QK) & (cols < 2 * QK)
        qk_col = tl.where(is_k, cols - QK, cols)
        src_qk = (qk_col // DK) * GW + tl.where(is_k, DK, 0) + qk_col % DK
        is_z = cols >= QKV_W
        vz_col = tl.where(is_z, cols - QKV_W, cols - 2 * QK)
        v_head = vz_col // DV
        src_vz = (v_head // R) * GW + 2 * DK + tl.where(is_z, R * DV, 0) + (v_head % R) * DV + vz_col % DV
        src = tl.where(cols < 2 * QK, src_qk, src_vz)
    else:
        src = cols  # [q | k | v | z] is already mixed_qkv followed by z
    src = tl.max_contiguous(tl.multiple_of(src, VEC), VEC)

    col_ok = cols < OUT_W
    tile_ok = row_ok[:, None] & col_ok[None, :]
    vals = tl.load(qkvz_ptr + rows[:, None] * qkvz_stride + src[None, :], mask=tile_ok)
    tl.store(qkv_ptr + rows[:, None] * QKV_W + cols[None, :], vals, mask=tile_ok & (cols < QKV_W)[None, :])
    tl.store(
        z_ptr + rows[:, None] * (NV * DV) + (cols - QKV_W)[None, :],
        vals,
        mask=tile_ok & (cols >= QKV_W)[None, :],
    )

    if pid_c == 0:
        heads = tl.arange(0, BLOCK_HV)
        if INTERLEAVED:
            src_b = (heads // R) * (2 * R) + heads % R
            src_a = src_b + R
        else:
            src_b = heads
            src_a = heads + NV
        ba_ok = row_ok[:, None] & (heads < NV)[None, :]
        ba_row = ba_ptr + rows[:, None] * ba_stride
        out_off = rows[:, None] * NV + heads[None, :]
        tl.store(b_ptr + out_off, tl.load(ba_row + src_b[None, :], mask=ba_ok), mask=ba_ok)
        tl.store(a_ptr + out_off, tl.load(ba_row + src_a[None, :], mask=ba_ok), mask=ba_ok)


def _pow2_divisor(n: int, cap: int) -> int:
    return min(n & -n, cap)


def split_outputs(
    t: int,
    shape: GDNShape,
    like: torch.Tensor,
    ba_dtype: torch.dtype,
    out: tuple[torch.Tensor, ...] | None = None,
) -> tuple[torch.Tensor, ...]:
    """Output tensors ``mixed_qkv [T, qkv]``, ``z [T, HV, V]`` (dtype and device of ``like``) and ``b``,
    ``a [T, HV]`` (``ba_dtype``): fresh, or ``out`` after checking it."""
    want = [
        (t, shape.qkv_width),
        (t, shape.num_v_heads, shape.head_v),
        (t, shape.num_v_heads),
        (t, shape.num_v_heads),
    ]
    dtypes = [like.dtype, like.dtype, ba_dtype, ba_dtype]
    if out is None:
        return tuple(torch.empty(s, dtype=d, device=like.device) for s, d in zip(want, dtypes, strict=True))
    if (
        [tuple(o.shape) for o in out] != want
        or [o.dtype for o in out] != dtypes
        or not all(o.is_contiguous() and o.device == like.device for o in out)
    ):
        raise ValueError(f"out tensors must be contiguous with shapes {want} and dtypes {dtypes}")
    return tuple(out)


def split_qkvzba(
    qkvz: torch.Tensor,
    ba: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    block_c: int = 512,
    block_t: int | None = None,
):
    """Split one rank's projection outputs into ``mixed_qkv [T, qkv]``, ``z [T, HV, V]``, ``b``/``a [T, HV]``.

    ``shape`` is the per-rank shape; ``qkvz`` / ``ba`` need unit column stride (any row stride).
    ``out`` optionally supplies the four (contiguous) output tensors.
    """
    if layout not in ("interleaved", "contiguous"):
        raise ValueError(f"unknown layout {layout!r}")
    t = qkvz.shape[0]
    if qkvz.shape != (t, shape.qkvz_width) or ba.shape != (t, shape.ba_width):
        raise ValueError(
            f"expected qkvz [T, {shape.qkvz_width}] and ba [T, {shape.ba_width}], "
            f"got {tuple(qkvz.shape)} and {tuple(ba.shape)}"
        )
    if qkvz.stride(1) != 1 or ba.stride(1) != 1:
        raise ValueError("qkvz and ba need unit column stride")
    mixed_qkv, z, b, a = split_outputs(t, shape, qkvz, ba.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    if block_t is None:
        block_t = 1 if t <= 64 else 8
    # Source columns come in aligned runs of gcd(head_k, head_v) (capped at 8 elements = 16 bytes).
    vec = _pow2_divisor(math.gcd(shape.head_k, shape.head_v, block_c), 8)
    grid = (triton.cdiv(t, block_t), triton.cdiv(shape.qkvz_width, block_c))
    _split_qkvzba_kernel[grid](
        qkvz,
        ba,
        mixed_qkv,
        z,
        b,
        a,
        t,
        qkvz.stride(0),
        ba.stride(0),
        NK=shape.num_k_heads,
        NV=shape.num_v_heads,
        DK=shape.head_k,
        DV=shape.head_v,
        INTERLEAVED=layout == "interleaved",
        VEC=vec,
        BLOCK_T=block_t,
        BLOCK_C=block_c,
        BLOCK_HV=triton.next_power_of_2(shape.num_v_heads),
        num_warps=4,
    )
    return mixed_qkv, z, b, a
