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
def _prefetch_run_l2(addr, nbytes, first):
    """Ask L2 for ``nbytes`` (a multiple of 16; none if 0) from the 16-byte aligned ``addr``, one bulk request issued
    by the thread(s) holding element 0 of ``first`` (``arange == 0``): a hint, no registers or shared memory."""
    tl.inline_asm_elementwise(
        "{ .reg .pred p; setp.ne.b32 p, $3, 0; @p cp.async.bulk.prefetch.L2.global [$1], $2; mov.u32 $0, 0; }",
        "=r,l,r,r", [addr, nbytes, first & (nbytes > 0).to(tl.int32)], dtype=tl.int32, is_pure=False, pack=1,
    )


@triton.jit
def _slot_of(idx_ptr, row, slots, pad_slot):
    """The row's conv-state slot and whether it names one (padding and out-of-range indices do not)."""
    slot = tl.load(idx_ptr + row).to(tl.int64)
    return slot, (slot != pad_slot) & (slot >= 0) & (slot < slots)


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
    batch,
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
    ROWS: tl.constexpr,
    PREFETCH: tl.constexpr,
    USE_PDL: tl.constexpr,
):
    if USE_PDL:  # the next kernel may launch now; it waits for this one before reading what this one writes
        tl.extra.cuda.gdc_launch_dependents()
    row0 = tl.program_id(0).to(tl.int64) * ROWS
    pid_c = tl.program_id(1)
    cols = pid_c * BLOCK + tl.arange(0, BLOCK)
    ok = cols < QKV
    # the conv weight and bias (which no kernel in the step writes) before the wait for the previous kernel, once
    # for the program's ROWS rows
    w_cols = w_ptr + cols * w_stride_dim
    w0 = tl.load(w_cols, mask=ok, other=0.0)
    if W >= 3:
        w1 = tl.load(w_cols + w_stride_pos, mask=ok, other=0.0)
    if W >= 4:
        w2 = tl.load(w_cols + 2 * w_stride_pos, mask=ok, other=0.0)
    w_x = tl.load(w_cols + (W - 1) * w_stride_pos, mask=ok, other=0.0)
    if HAS_BIAS:
        bias = tl.load(bias_ptr + cols, mask=ok, other=0.0).to(tl.float32)
    else:
        bias = tl.zeros((BLOCK,), dtype=tl.float32)
    if USE_PDL:
        tl.extra.cuda.gdc_wait()
    if PREFETCH:
        # every row's conv-window run, x and z runs asked into L2 at once, so that the rows below (whose loads wait
        # on the previous row's stores, which may alias them) find them there; the launcher checks the alignment
        first = (tl.arange(0, BLOCK) == 0).to(tl.int32)
        ES: tl.constexpr = state_ptr.dtype.element_ty.primitive_bitwidth // 8
        c0 = pid_c * BLOCK
        n_cols = tl.minimum(BLOCK, QKV - c0)
        for r in tl.static_range(ROWS):
            row = row0 + r
            if row < batch:
                slot, named = _slot_of(idx_ptr, row, slots, pad_slot)
                if named:
                    run = state_ptr + slot * state_stride_slot + c0 * state_stride_dim
                    _prefetch_run_l2(run, (n_cols * state_stride_dim * ES) // 16 * 16, first)
                x_run = qkvz_ptr + row * qkvz_stride + c0
                _prefetch_run_l2(x_run, (n_cols * ES) // 16 * 16, first)
                if c0 < VD:
                    _prefetch_run_l2(x_run + QKV, (tl.minimum(BLOCK, VD - c0) * ES) // 16 * 16, first)
    for r in tl.static_range(ROWS):
        row = row0 + r
        if row < batch:
            x = tl.load(qkvz_ptr + row * qkvz_stride + cols, mask=ok, other=0.0)
            slot, named = _slot_of(idx_ptr, row, slots, pad_slot)
            # broadcast per channel (a scalar mask does not combine with a block one everywhere)
            valid = ok & ((tl.zeros((BLOCK,), dtype=tl.int32) + named.to(tl.int32)) != 0)
            window = state_ptr + slot * state_stride_slot + cols * state_stride_dim

            # one strided vector per tap (W is 2 to 4); every load comes before the shifted window is stored
            acc = bias
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
                tl.store(a_ptr + row * NV + heads, tl.load(ba_row + (NV + heads) * ba_stride_col, mask=h_ok),
                         mask=h_ok)


def prefetch_aligned(qkvz: torch.Tensor, conv_state: torch.Tensor, qkv: int, block: int) -> bool:
    """Whether the L2 bulk prefetch (``prefetch=True``) can ask for a program's runs: on a Hopper-or-later GPU,
    each window run contiguous (unit position stride) and every run's start and length 16-byte aligned."""
    es = qkvz.element_size()
    return (
        qkvz.is_cuda and torch.cuda.get_device_capability(qkvz.device)[0] >= 9 and conv_state.stride(2) == 1
        and all(p % 16 == 0 for p in (qkvz.data_ptr(), conv_state.data_ptr()))
        and all(n * es % 16 == 0 for n in (qkvz.stride(0), qkv, block, conv_state.stride(0),
                                            block * conv_state.stride(1)))
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
    block: int = BLOCK,
    num_warps: int = NUM_WARPS,
    rows: int = 1,
    prefetch: bool = False,
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
    prefetch = prefetch and prefetch_aligned(qkvz, conv_state, qkv, block)
    _split_conv_kernel[(triton.cdiv(batch, rows), triton.cdiv(qkv, block))](
        qkvz, ba, conv_state, conv_weight, bias if bias is not None else conv_weight, conv_state_indices,
        mixed_qkv, z, b, a,
        batch, qkvz.stride(0), ba.stride(0), ba.stride(1),
        *conv_state.stride(), *conv_weight.stride(),
        conv_state.shape[0], pad_slot_id,
        QKV=qkv, VD=shape.value_dim, NV=nv, W=width, HAS_BIAS=bias is not None, SILU=activation == "silu",
        BLOCK=block, BLOCK_HV=triton.next_power_of_2(nv), ROWS=rows, PREFETCH=prefetch, num_warps=num_warps,
        **pdl_launch(qkvz, pdl),
    )
    return mixed_qkv, z, b, a

