"""One Triton kernel for the decode step ``qkvz, ba -> conv1d(mixed_qkv), z, b, a`` with the conv-state update.

The kernel form of :func:`.conv_update.split_conv_update` (same numerics: products in the input dtype,
fp32 accumulation in tap order, SiLU as ``acc / (1 + exp(-acc))``). Each program owns ``BLOCK`` channels of
one row and reads that row's conv window one strided vector per tap; programs of the first channel blocks also
copy ``z`` and ``b``/``a``. ``ba`` may be any strided view (a column slice of one fused GEMM output), ``qkvz``
any row stride.

Launch: 256 channels and 8 warps per program. In two H200 runs a tuner over this layout and a ``[BLOCK, W]``-tile
layout, at 256 to 1024 channels and 4 or 8 warps, picked it for 17 of the 18 batches of 64 or more (TP 1/4/8)
and for 7 of the 12 smaller ones, so it is fixed; later sweeps of more rows or channels per program, of one
vector load/store of the window run with gathered taps, and of one contiguous store of the shifted window run
were all slower or level (NOTES.md). Programmatic dependent launch (``pdl``) is an option, off by default.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .conv_update import PAD_SLOT_ID, Activation, check_conv_args
from .naive import GDNShape
from .pdl import pdl_launch

BLOCK = 256  # channels per program
NUM_WARPS = 8


@triton.jit
def _product(a, b):
    """``a * b`` rounded to the input dtype, in fp32: the fp32 product of two 16-bit floats is exact, so rounding
    it once is the 16-bit multiply (and the interpreter has no 16-bit float arithmetic)."""
    return (a.to(tl.float32) * b.to(tl.float32)).to(a.dtype).to(tl.float32)


@triton.jit
def _split_conv_kernel(
    qkvz_ptr,
    ba_ptr,
    state_ptr,
    w_ptr,
    bias_ptr,
    idx_ptr,
    qkv_ptr,
    z_ptr,
    b_ptr,
    a_ptr,
    qkvz_stride,
    ba_stride_row,
    ba_stride_col,
    state_stride_slot,
    state_stride_dim,
    state_stride_pos,
    w_stride_dim,
    w_stride_pos,
    slots,
    pad_slot,
    QKV: tl.constexpr,
    VD: tl.constexpr,
    NV: tl.constexpr,
    W: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SILU: tl.constexpr,
    BLOCK: tl.constexpr,
    BLOCK_HV: tl.constexpr,
    USE_PDL: tl.constexpr,
):
    if USE_PDL:  # the next kernel may launch now; it waits for this one before reading what this one writes
        tl.extra.cuda.gdc_launch_dependents()
    row = tl.program_id(0).to(tl.int64)
    pid_c = tl.program_id(1)
    cols = pid_c * BLOCK + tl.arange(0, BLOCK)
    ok = cols < QKV
    # the conv weight and bias (which no kernel in the step writes) before the wait for the previous kernel
    w_cols = w_ptr + cols * w_stride_dim
    w0 = tl.load(w_cols, mask=ok, other=0.0)
    if W >= 3:
        w1 = tl.load(w_cols + w_stride_pos, mask=ok, other=0.0)
    if W >= 4:
        w2 = tl.load(w_cols + 2 * w_stride_pos, mask=ok, other=0.0)
    w_x = tl.load(w_cols + (W - 1) * w_stride_pos, mask=ok, other=0.0)
    if HAS_BIAS:
        acc = tl.load(bias_ptr + cols, mask=ok, other=0.0).to(tl.float32)
    else:
        acc = tl.zeros((BLOCK,), dtype=tl.float32)
    if USE_PDL:
        tl.extra.cuda.gdc_wait()
    x = tl.load(qkvz_ptr + row * qkvz_stride + cols, mask=ok, other=0.0)
    # the row's slot, broadcast per channel (a scalar mask does not combine with a block one everywhere)
    slot = tl.zeros((BLOCK,), dtype=tl.int64) + tl.load(idx_ptr + row).to(tl.int64)
    valid = ok & (slot != pad_slot) & (slot >= 0) & (slot < slots)
    window = state_ptr + slot * state_stride_slot + cols * state_stride_dim

    # one strided vector per tap (W is 2 to 4); every load comes before the shifted window is stored
    t0 = tl.load(window, mask=valid, other=0.0)
    acc += _product(t0, w0)
    if W >= 3:
        t1 = tl.load(window + state_stride_pos, mask=valid, other=0.0)
        acc += _product(t1, w1)
    if W >= 4:
        t2 = tl.load(window + 2 * state_stride_pos, mask=valid, other=0.0)
        acc += _product(t2, w2)
    acc += _product(x, w_x)
    if W >= 3:
        tl.store(window, t1, mask=valid)
    if W >= 4:
        tl.store(window + state_stride_pos, t2, mask=valid)
    tl.store(window + (W - 2) * state_stride_pos, x, mask=valid)

    if SILU:
        acc = acc / (1.0 + tl.exp(-acc))
    out = tl.where(valid, acc, x.to(tl.float32))
    tl.store(qkv_ptr + row * QKV + cols, out.to(qkv_ptr.dtype.element_ty), mask=ok)

    z_ok = cols < VD
    z = tl.load(qkvz_ptr + row * qkvz_stride + QKV + cols, mask=z_ok)
    tl.store(z_ptr + row * VD + cols, z, mask=z_ok)
    if pid_c == 0:
        heads = tl.arange(0, BLOCK_HV)
        h_ok = heads < NV
        ba_row = ba_ptr + row * ba_stride_row
        tl.store(b_ptr + row * NV + heads, tl.load(ba_row + heads * ba_stride_col, mask=h_ok), mask=h_ok)
        tl.store(a_ptr + row * NV + heads, tl.load(ba_row + (NV + heads) * ba_stride_col, mask=h_ok), mask=h_ok)


def split_conv_update(
    qkvz: torch.Tensor,
    ba: torch.Tensor,
    conv_state: torch.Tensor,
    conv_weight: torch.Tensor,
    bias: torch.Tensor | None,
    conv_state_indices: torch.Tensor,
    shape: GDNShape,
    activation: Activation = "silu",
    pad_slot_id: int = PAD_SLOT_ID,
    *,
    block: int = BLOCK,
    num_warps: int = NUM_WARPS,
    pdl: bool = False,
):
    """Kernel twin of :func:`.conv_update.split_conv_update` (same arguments and outputs; ``conv_state``
    updated in place). ``qkvz`` needs unit column stride; ``conv_state``, ``conv_weight`` and ``bias`` share
    ``qkvz``'s dtype. Rows naming the same slot twice race (as in SGLang). ``pdl``: programmatic dependent launch
    (:func:`.pdl.pdl_launch`; the conv weight is read before the wait), off by default (NOTES.md)."""
    batch, qkv, nv = qkvz.shape[0], shape.qkv_width, shape.num_v_heads
    if qkvz.shape != (batch, shape.qkvz_width) or ba.shape != (batch, shape.ba_width):
        raise ValueError(f"need qkvz [B, {shape.qkvz_width}] and ba [B, {shape.ba_width}]")
    check_conv_args(qkv, conv_state, conv_weight, bias, conv_state_indices, batch, activation)
    if qkvz.stride(1) != 1:
        raise ValueError("qkvz needs unit column stride")
    dtypes = {qkvz.dtype, conv_state.dtype, conv_weight.dtype} | ({bias.dtype} if bias is not None else set())
    if len(dtypes) != 1:
        raise ValueError(f"qkvz, conv state, weight and bias must share one dtype, got {sorted(map(str, dtypes))}")
    mixed_qkv = torch.empty(batch, qkv, dtype=qkvz.dtype, device=qkvz.device)
    z = torch.empty(batch, nv, shape.head_v, dtype=qkvz.dtype, device=qkvz.device)
    b = torch.empty(batch, nv, dtype=ba.dtype, device=ba.device)
    a = torch.empty_like(b)
    if batch == 0:
        return mixed_qkv, z, b, a
    width = conv_weight.shape[1]
    _split_conv_kernel[(batch, triton.cdiv(qkv, block))](
        qkvz, ba, conv_state, conv_weight, bias if bias is not None else conv_weight, conv_state_indices,
        mixed_qkv, z, b, a,
        qkvz.stride(0), ba.stride(0), ba.stride(1),
        *conv_state.stride(), *conv_weight.stride(),
        conv_state.shape[0], pad_slot_id,
        QKV=qkv, VD=shape.value_dim, NV=nv, W=width, HAS_BIAS=bias is not None, SILU=activation == "silu",
        BLOCK=block, BLOCK_HV=triton.next_power_of_2(nv), num_warps=num_warps,
        **pdl_launch(qkvz, pdl),
    )
    return mixed_qkv, z, b, a

