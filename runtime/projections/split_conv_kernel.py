"""One Triton kernel for the decode step ``qkvz, ba -> conv1d(mixed_qkv), z, b, a`` with the conv-state update.

The kernel form of :func:`.conv_update.split_conv_update`, SGLang 0.5.23's counterpart being
``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: fused_qkvzba_causal_conv1d_update_contiguous`` (same numerics: products in the input dtype,
fp32 accumulation in tap order, SiLU as ``acc / (1 + exp(-acc))``). ``ba`` may be any strided view (a column slice
of one fused GEMM output), ``qkvz`` any row stride. Two launches, one row and a block of channels per program;
programs of the first channel blocks also copy ``z`` and ``b``/``a``, whose loads are issued with the row's, before
any store: after one, ptxas keeps them there (the pointers may alias), a further dependent round trip to memory
(NOTES.md round 22: 0.5 to 7% on the H200):

* paired (:func:`_split_conv_pairs_kernel`, taken where :func:`pairs_apply`: 16-bit data, W = 4, windows of exactly
  3 positions, as Qwen3.5 decodes): each thread owns two adjacent channels, whose two windows are 12 contiguous
  bytes, and moves everything as 32-bit words: half the loads and stores, and twice the bytes per register, of
  one 16-bit access per value. On the H200 (NOTES.md round 7, same-run sweep) TP1 B=512 45.3 -> 33.9 us, B=128
  12.9 -> 9.5, TP4 B=512 12.8 -> 9.6; 256 channels on 4 warps (one pair per thread) beat 512 on 8 by 0 to 2%, and
  two pairs per thread were 30 to 40% slower;
* one channel per thread (:func:`_split_conv_kernel`, any W from 2 to 4, dtype and window stride): each program
  owns ``BLOCK`` channels and reads a window one strided vector per tap. 256 channels on 8 warps won the earlier
  tuners; more rows per program (with or without an L2 bulk prefetch of their runs, round 7), more channels per
  thread, one vector load/store of the window run with gathered taps, and one contiguous store of the shifted
  window run were all slower or level (NOTES.md).

Programmatic dependent launch (``pdl``) is an option, off by default.
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
PAIRS_BLOCK = 256  # channels per program of the paired launch: one pair per thread
PAIRS_WARPS = 4


@triton.jit
def _product(a, b):
    """``a * b`` rounded to the input dtype, in fp32: the fp32 product of two 16-bit floats is exact, so rounding
    it once is the 16-bit multiply (and the interpreter has no 16-bit float arithmetic)."""
    return (a.to(tl.float32) * b.to(tl.float32)).to(a.dtype).to(tl.float32)


@triton.jit
def _load_ba(ba_ptr, row, pid_c, ba_stride_row, ba_stride_col, NV: tl.constexpr, BLOCK_HV: tl.constexpr):
    """One row's ``b`` and ``a`` out of the strided ``ba`` view, loaded by the row's first program only (the mask
    :func:`_store_ba` takes)."""
    heads = tl.arange(0, BLOCK_HV)
    h_ok = heads < tl.where(pid_c == 0, NV, 0)
    ba_row = ba_ptr + row * ba_stride_row
    b = tl.load(ba_row + heads * ba_stride_col, mask=h_ok)
    return b, tl.load(ba_row + (NV + heads) * ba_stride_col, mask=h_ok), h_ok


@triton.jit
def _store_ba(b_ptr, a_ptr, row, b, a, h_ok, NV: tl.constexpr, BLOCK_HV: tl.constexpr):
    """The row's ``b`` and ``a`` as :func:`_load_ba` loaded them, to the contiguous ``[B, NV]`` outputs."""
    heads = tl.arange(0, BLOCK_HV)
    tl.store(b_ptr + row * NV + heads, b, mask=h_ok)
    tl.store(a_ptr + row * NV + heads, a, mask=h_ok)


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
    # z and b / a loaded with x, before any store (ptxas keeps loads behind stores that may alias)
    z_ok = cols < VD
    z = tl.load(qkvz_ptr + row * qkvz_stride + QKV + cols, mask=z_ok)
    b, a, h_ok = _load_ba(ba_ptr, row, pid_c, ba_stride_row, ba_stride_col, NV, BLOCK_HV)
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

    tl.store(z_ptr + row * VD + cols, z, mask=z_ok)
    _store_ba(b_ptr, a_ptr, row, b, a, h_ok, NV, BLOCK_HV)


@triton.jit
def _halves(word):
    """The low and high 16-bit halves (``uint16`` bit patterns) of 32-bit words (``uint32``)."""
    return (word & 0xFFFF).to(tl.uint16), (word >> 16).to(tl.uint16)


@triton.jit
def _word(lo, hi):
    """Two 16-bit patterns (``uint16``) packed into one 32-bit word, ``lo`` in the low half."""
    return lo.to(tl.uint32) | (hi.to(tl.uint32) << 16)


@triton.jit
def _tap(bits, w_bits, DTYPE: tl.constexpr):
    """``_product`` of a state/x value and a weight given as 16-bit patterns."""
    return _product(bits.to(DTYPE, bitcast=True), w_bits.to(DTYPE, bitcast=True))


@triton.jit
def _conv_out(acc, SILU: tl.constexpr, DTYPE: tl.constexpr):
    if SILU:
        acc = acc / (1.0 + tl.exp(-acc))
    return acc.to(DTYPE).to(tl.uint16, bitcast=True)


@triton.jit
def _split_conv_pairs_kernel(
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
    slots,
    pad_slot,
    QKV: tl.constexpr,
    VD: tl.constexpr,
    NV: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SILU: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_HV: tl.constexpr,
    USE_PDL: tl.constexpr,
):
    """W = 4 over 16-bit data, conv windows of exactly 3 positions: each thread takes a pair of adjacent channels,
    whose two windows are 12 contiguous bytes, so every access is a 32-bit word (3 for the windows, 1 each for x,
    z, the conv output, 2 x 2 for the weights) holding two values, twice the bytes per load and per register of
    one 16-bit access per value. Same numerics as :func:`_split_conv_kernel`."""
    if USE_PDL:
        tl.extra.cuda.gdc_launch_dependents()
    DTYPE: tl.constexpr = qkv_ptr.dtype.element_ty
    words = tl.pointer_type(tl.uint32)
    row = tl.program_id(0).to(tl.int64)
    pid_c = tl.program_id(1)
    pairs = pid_c * BLOCK_P + tl.arange(0, BLOCK_P)
    ok = pairs < QKV // 2
    # weights [QKV, 4]: words 2c, 2c + 1 of channel c = (w0, w1), (w2, w3)
    w_pairs = w_ptr.to(words, bitcast=True) + pairs * 4
    w00, w01 = _halves(tl.load(w_pairs, mask=ok, other=0))
    w02, w03 = _halves(tl.load(w_pairs + 1, mask=ok, other=0))
    w10, w11 = _halves(tl.load(w_pairs + 2, mask=ok, other=0))
    w12, w13 = _halves(tl.load(w_pairs + 3, mask=ok, other=0))
    if HAS_BIAS:
        b0, b1 = _halves(tl.load(bias_ptr.to(words, bitcast=True) + pairs, mask=ok, other=0))
        acc0 = b0.to(DTYPE, bitcast=True).to(tl.float32)
        acc1 = b1.to(DTYPE, bitcast=True).to(tl.float32)
    else:
        acc0 = tl.zeros((BLOCK_P,), dtype=tl.float32)
        acc1 = tl.zeros((BLOCK_P,), dtype=tl.float32)
    if USE_PDL:
        tl.extra.cuda.gdc_wait()
    x_row = qkvz_ptr.to(words, bitcast=True) + row * (qkvz_stride // 2)
    xw = tl.load(x_row + pairs, mask=ok, other=0)
    z_ok = pairs < VD // 2
    z = tl.load(x_row + QKV // 2 + pairs, mask=z_ok)
    b, a, h_ok = _load_ba(ba_ptr, row, pid_c, ba_stride_row, ba_stride_col, NV, BLOCK_HV)
    slot = tl.zeros((BLOCK_P,), dtype=tl.int64) + tl.load(idx_ptr + row).to(tl.int64)
    valid = ok & (slot != pad_slot) & (slot >= 0) & (slot < slots)
    # the pair's windows: c0 (t0, t1, t2), c1 (t0, t1, t2) in three words
    window = state_ptr.to(words, bitcast=True) + slot * (state_stride_slot // 2) + pairs * 3
    s0 = tl.load(window, mask=valid, other=0)
    s1 = tl.load(window + 1, mask=valid, other=0)
    s2 = tl.load(window + 2, mask=valid, other=0)
    c0t0, c0t1 = _halves(s0)
    c0t2, c1t0 = _halves(s1)
    c1t1, c1t2 = _halves(s2)
    x0, x1 = _halves(xw)
    acc0 += _tap(c0t0, w00, DTYPE)
    acc0 += _tap(c0t1, w01, DTYPE)
    acc0 += _tap(c0t2, w02, DTYPE)
    acc0 += _tap(x0, w03, DTYPE)
    acc1 += _tap(c1t0, w10, DTYPE)
    acc1 += _tap(c1t1, w11, DTYPE)
    acc1 += _tap(c1t2, w12, DTYPE)
    acc1 += _tap(x1, w13, DTYPE)
    # shifted windows: c0 (t1, t2, x0), c1 (t1, t2, x1)
    tl.store(window, _word(c0t1, c0t2), mask=valid)
    tl.store(window + 1, _word(x0, c1t1), mask=valid)
    tl.store(window + 2, _word(c1t2, x1), mask=valid)
    out = tl.where(valid, _word(_conv_out(acc0, SILU, DTYPE), _conv_out(acc1, SILU, DTYPE)), xw)
    tl.store(qkv_ptr.to(words, bitcast=True) + row * (QKV // 2) + pairs, out, mask=ok)

    tl.store(z_ptr.to(words, bitcast=True) + row * (VD // 2) + pairs, z, mask=z_ok)
    _store_ba(b_ptr, a_ptr, row, b, a, h_ok, NV, BLOCK_HV)


def pairs_apply(qkvz, conv_state, conv_weight, bias, shape: GDNShape) -> bool:
    """Whether :func:`_split_conv_pairs_kernel` can run these tensors: 16-bit floats, W = 4, conv windows of exactly
    3 contiguous positions, and every 32-bit word it reads or writes aligned (even channel counts and row strides,
    4-byte aligned bases, contiguous weight and bias)."""
    tensors = [qkvz, conv_state, conv_weight] + ([bias] if bias is not None else [])
    return (
        qkvz.element_size() == 2 and conv_weight.shape[1] == 4 and conv_state.stride()[1:] == (3, 1)
        and conv_weight.is_contiguous() and (bias is None or bias.is_contiguous())
        and all(t.data_ptr() % 4 == 0 for t in tensors)
        and all(n % 2 == 0 for n in (shape.qkv_width, shape.value_dim, qkvz.stride(0), conv_state.stride(0)))
    )


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
    block: int | None = None,
    num_warps: int | None = None,
    pairs: bool | None = None,
    pdl: bool = False,
):
    """Kernel twin of :func:`.conv_update.split_conv_update` (same arguments and outputs; ``conv_state``
    updated in place). ``qkvz`` needs unit column stride; ``conv_state``, ``conv_weight`` and ``bias`` share
    ``qkvz``'s dtype. Rows naming the same slot twice race (as in SGLang). ``pairs``: the paired launch (default:
    where :func:`pairs_apply`; ``True`` elsewhere raises); ``block`` (channels per program) and ``num_warps`` default
    to the chosen launch's. ``pdl``: programmatic dependent launch (:func:`.pdl.pdl_launch`; the conv weight is read
    before the wait), off by default (NOTES.md)."""
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
    common = dict(QKV=qkv, VD=shape.value_dim, NV=nv, HAS_BIAS=bias is not None, SILU=activation == "silu",
                  BLOCK_HV=triton.next_power_of_2(nv), **pdl_launch(qkvz, pdl))
    tensors = (qkvz, ba, conv_state, conv_weight, bias if bias is not None else conv_weight, conv_state_indices,
               mixed_qkv, z, b, a, qkvz.stride(0), ba.stride(0), ba.stride(1))
    if pairs is None:
        pairs = pairs_apply(qkvz, conv_state, conv_weight, bias, shape)
    elif pairs and not pairs_apply(qkvz, conv_state, conv_weight, bias, shape):
        raise ValueError("pairs=True needs 16-bit data, W=4, [slots, qkv, 3] windows and 32-bit aligned words")
    if pairs:
        block = block or PAIRS_BLOCK
        _split_conv_pairs_kernel[(batch, triton.cdiv(qkv // 2, block // 2))](
            *tensors, conv_state.stride(0), conv_state.shape[0], pad_slot_id,
            BLOCK_P=block // 2, num_warps=num_warps or PAIRS_WARPS, **common,
        )
        return mixed_qkv, z, b, a
    block = block or BLOCK
    _split_conv_kernel[(batch, triton.cdiv(qkv, block))](
        *tensors, *conv_state.stride(), *conv_weight.stride(), conv_state.shape[0], pad_slot_id,
        W=width, BLOCK=block, num_warps=num_warps or NUM_WARPS, **common,
    )
    return mixed_qkv, z, b, a

