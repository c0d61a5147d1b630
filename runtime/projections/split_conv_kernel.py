"""One Triton kernel for the decode step ``qkvz, ba -> conv1d(mixed_qkv), z, b, a`` with the conv-state update.

The kernel form of :func:`.conv_update.split_conv_update` (same numerics: products in the input dtype,
fp32 accumulation in tap order, SiLU as ``acc / (1 + exp(-acc))``). Each program owns ``BLOCK`` channels of
one row and reads that row's conv window either as one ``[BLOCK, W]`` tile (``TILED``: the pool's
``[channel, position]`` rows are contiguous, so the tile is one contiguous run of bytes) or as one strided
vector per tap; programs of the first channel blocks also copy ``z`` and ``b``/``a``. ``ba`` may be any strided view (a column slice of
one fused GEMM output), ``qkvz`` any row stride.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from .conv_update import PAD_SLOT_ID, Activation, check_conv_args
from .naive import GDNShape

DEFAULT_CONFIG = {"TILED": False, "BLOCK": 512, "num_warps": 4}  # off the GPU, or when none is given

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
    rows_bucket,  # the batch rounded up to a power of two: a tuning key only
    QKV: tl.constexpr,
    VD: tl.constexpr,
    NV: tl.constexpr,
    W: tl.constexpr,
    WP: tl.constexpr,
    HAS_BIAS: tl.constexpr,
    SILU: tl.constexpr,
    TILED: tl.constexpr,
    BLOCK: tl.constexpr,
    BLOCK_HV: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    pid_c = tl.program_id(1)
    cols = pid_c * BLOCK + tl.arange(0, BLOCK)
    ok = cols < QKV
    x = tl.load(qkvz_ptr + row * qkvz_stride + cols, mask=ok, other=0.0)
    # the row's slot, broadcast per channel (a scalar mask does not combine with a block one everywhere)
    slot = tl.zeros((BLOCK,), dtype=tl.int64) + tl.load(idx_ptr + row).to(tl.int64)
    valid = ok & (slot != pad_slot) & (slot >= 0) & (slot < slots)
    window = state_ptr + slot * state_stride_slot + cols * state_stride_dim
    if HAS_BIAS:
        acc = tl.load(bias_ptr + cols, mask=ok, other=0.0).to(tl.float32)
    else:
        acc = tl.zeros((BLOCK,), dtype=tl.float32)

    if TILED:  # the window as one [BLOCK, W] tile: position p of channel c, then x in the last column
        pos = tl.arange(0, WP)
        in_state = valid[:, None] & (pos < W - 1)[None, :]
        state = tl.load(window[:, None] + pos[None, :] * state_stride_pos, mask=in_state, other=0.0)
        weight = tl.load(
            w_ptr + cols[:, None] * w_stride_dim + pos[None, :] * w_stride_pos,
            mask=ok[:, None] & (pos < W)[None, :],
            other=0.0,
        )
        taps = tl.where((pos == W - 1)[None, :], x[:, None], state)
        prod = _product(taps, weight)
        for p in tl.static_range(W):  # tap order, one exact column pick per tap
            acc += tl.sum(tl.where((pos == p)[None, :], prod, 0.0), axis=1)
        later = tl.load(
            window[:, None] + (pos[None, :] + 1) * state_stride_pos, mask=in_state & (pos < W - 2)[None, :]
        )
        shifted = tl.where((pos == W - 2)[None, :], x[:, None], later)
        tl.store(window[:, None] + pos[None, :] * state_stride_pos, shifted, mask=in_state)
    else:  # one strided vector per tap (W is 2 to 4)
        t0 = tl.load(window, mask=valid, other=0.0)
        acc += _product(t0, tl.load(w_ptr + cols * w_stride_dim, mask=ok, other=0.0))
        if W >= 3:
            t1 = tl.load(window + state_stride_pos, mask=valid, other=0.0)
            acc += _product(t1, tl.load(w_ptr + cols * w_stride_dim + w_stride_pos, mask=ok, other=0.0))
        if W >= 4:
            t2 = tl.load(window + 2 * state_stride_pos, mask=valid, other=0.0)
            acc += _product(t2, tl.load(w_ptr + cols * w_stride_dim + 2 * w_stride_pos, mask=ok, other=0.0))
        acc += _product(x, tl.load(w_ptr + cols * w_stride_dim + (W - 1) * w_stride_pos, mask=ok, other=0.0))
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


# Both layouts at a few block sizes; chosen per shape and batch size on the GPU. Tuning runs the kernel
# repeatedly, so the state pool is restored after each trial.
CONFIGS = [
    triton.Config({"TILED": tiled, "BLOCK": block}, num_warps=warps)
    for tiled in (False, True)
    for block, warps in ((256, 8), (512, 4), (1024, 4), (1024, 8))
]
_TUNED = triton.autotune(CONFIGS, key=["QKV", "W", "rows_bucket"], restore_value=["state_ptr"])(_split_conv_kernel)


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
    config: dict | None = None,
):
    """Kernel twin of :func:`.conv_update.split_conv_update` (same arguments and outputs; ``conv_state``
    updated in place). ``qkvz`` needs unit column stride; ``conv_state``, ``conv_weight`` and ``bias`` share
    ``qkvz``'s dtype. Rows naming the same slot twice race (as in SGLang). ``config`` (``TILED``, ``BLOCK``,
    ``num_warps``) fixes the launch; by default a GPU tunes it per shape and batch size."""
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
    args = (
        qkvz, ba, conv_state, conv_weight, bias if bias is not None else conv_weight, conv_state_indices,
        mixed_qkv, z, b, a,
        qkvz.stride(0), ba.stride(0), ba.stride(1),
        *conv_state.stride(), *conv_weight.stride(),
        conv_state.shape[0], pad_slot_id, triton.next_power_of_2(batch),
    )
    meta = {
        "QKV": qkv, "VD": shape.value_dim, "NV": nv, "W": width, "WP": triton.next_power_of_2(width),
        "HAS_BIAS": bias is not None, "SILU": activation == "silu", "BLOCK_HV": triton.next_power_of_2(nv),
    }
    if config is None and qkvz.is_cuda:
        _TUNED[lambda m: (batch, triton.cdiv(qkv, m["BLOCK"]))](*args, **meta)
    else:
        cfg = dict(DEFAULT_CONFIG if config is None else config)
        warps = cfg.pop("num_warps")
        _split_conv_kernel[(batch, triton.cdiv(qkv, cfg["BLOCK"]))](*args, **meta, **cfg, num_warps=warps)
    return mixed_qkv, z, b, a


def tuned_config(qkv: int, width: int, batch: int) -> str | None:
    """The configuration the GPU tuning picked for this shape and batch size (``None`` before any call)."""
    for key, config in _TUNED.cache.items():
        if tuple(key[:3]) == (qkv, width, triton.next_power_of_2(batch)):
            return str(config)
    return None
