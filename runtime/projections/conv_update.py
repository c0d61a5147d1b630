"""Plain PyTorch reference for the decode step between the projection and the GDN core: split + conv1d update.

At decode, Qwen3.5's contiguous projection outputs ``qkvz [B, qkv | v]`` and ``ba [B, b | a]`` feed a
depthwise causal conv1d over the ``qkv`` channels whose last ``W - 1`` inputs live in a state pool
``[slots, qkv, L]`` (``L >= W - 1``; only the first ``W - 1`` positions are used), addressed per row by
``conv_state_indices``. Per channel::

    out = act(bias + state[0] * w[0] + ... + state[W-2] * w[W-2] + x * w[W-1])

with each product rounded to the input dtype and the sum accumulated in fp32 in that order (the numerics of
SGLang 0.5.23's ``sglang/kernels/ops/mamba/causal_conv1d_triton.py: causal_conv1d_update`` and
``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: fused_qkvzba_causal_conv1d_update_contiguous``);
``act`` is SiLU or nothing. The state then shifts left by one and takes ``x`` at position ``W - 2``. A row
whose slot is padding (``pad_slot_id``, or any index outside ``[0, slots)``) passes ``x`` through unchanged
and writes no state, as SGLang's fused kernel does (its ``causal_conv1d_update`` skips only ``pad_slot_id`` rows
and leaves their output unwritten, ``torch.empty_like``). ``z``, ``b``, ``a`` are copies.

:func:`causal_conv1d_update` is the conv step alone; :func:`split_conv_update` is the fused step, written
independently (it indexes ``qkvz`` directly), so that the two can be checked against each other bit for bit.
"""

from __future__ import annotations

from typing import Literal

import torch

from .naive import GDNShape

Activation = Literal["silu"] | None
PAD_SLOT_ID = -1


def _silu(acc: torch.Tensor) -> torch.Tensor:
    return acc / (1.0 + torch.exp(-acc))


def check_conv_args(
    qkv_dim: int, conv_state: torch.Tensor, conv_weight: torch.Tensor, bias: torch.Tensor | None,
    indices: torch.Tensor, batch: int, activation: Activation,
) -> None:
    """Shapes and options both conv paths accept; raises ``ValueError`` naming the first mismatch."""
    width = conv_weight.shape[-1]
    if conv_weight.shape != (qkv_dim, width) or not 2 <= width <= 4:
        raise ValueError(f"conv weight must be [{qkv_dim}, W] with W in 2..4, got {tuple(conv_weight.shape)}")
    if conv_state.ndim != 3 or conv_state.shape[1] != qkv_dim or conv_state.shape[2] < width - 1:
        raise ValueError(f"conv state must be [slots, {qkv_dim}, L >= {width - 1}], got {tuple(conv_state.shape)}")
    if bias is not None and bias.shape != (qkv_dim,):
        raise ValueError(f"conv bias must be [{qkv_dim}], got {tuple(bias.shape)}")
    if indices.shape != (batch,) or indices.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"conv_state_indices must be int32/int64 [{batch}], got {tuple(indices.shape)} {indices.dtype}")
    if activation not in (None, "silu"):
        raise ValueError(f"activation must be None or 'silu', got {activation!r}")


def causal_conv1d_update(
    x: torch.Tensor,
    conv_state: torch.Tensor,
    conv_weight: torch.Tensor,
    bias: torch.Tensor | None,
    conv_state_indices: torch.Tensor,
    activation: Activation = "silu",
    pad_slot_id: int = PAD_SLOT_ID,
) -> torch.Tensor:
    """One decode step of the indexed depthwise causal conv: returns ``out [B, dim]``, updates ``conv_state``."""
    batch, dim = x.shape
    check_conv_args(dim, conv_state, conv_weight, bias, conv_state_indices, batch, activation)
    width = conv_weight.shape[1]
    out = x.clone()
    for row, slot in enumerate(conv_state_indices.tolist()):
        if slot == pad_slot_id or not 0 <= slot < conv_state.shape[0]:
            continue
        window = conv_state[slot, :, : width - 1]
        acc = torch.zeros(dim, dtype=torch.float32, device=x.device)
        if bias is not None:
            acc += bias.float()
        for p in range(width - 1):
            acc += (window[:, p] * conv_weight[:, p]).float()
        acc += (x[row] * conv_weight[:, width - 1]).float()
        out[row] = (_silu(acc) if activation == "silu" else acc).to(x.dtype)
        conv_state[slot, :, : width - 2] = window[:, 1:].clone()
        conv_state[slot, :, width - 2] = x[row]
    return out


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
):
    """Fused reference: contiguous ``qkvz [B, qkv + v]``, ``ba [B, 2 HV]`` (any strides) -> conv output
    ``mixed_qkv [B, qkv]``, ``z [B, HV, V]``, ``b``, ``a [B, HV]``; updates ``conv_state`` in place."""
    batch, qkv, nv = qkvz.shape[0], shape.qkv_width, shape.num_v_heads
    if qkvz.shape != (batch, shape.qkvz_width) or ba.shape != (batch, shape.ba_width):
        raise ValueError(f"need qkvz [B, {shape.qkvz_width}] and ba [B, {shape.ba_width}]")
    check_conv_args(qkv, conv_state, conv_weight, bias, conv_state_indices, batch, activation)
    width = conv_weight.shape[1]
    mixed_qkv = torch.empty(batch, qkv, dtype=qkvz.dtype, device=qkvz.device)
    for row in range(batch):
        x = qkvz[row, :qkv]
        slot = int(conv_state_indices[row])
        if slot == pad_slot_id or not 0 <= slot < conv_state.shape[0]:
            mixed_qkv[row] = x
            continue
        acc = bias.float() if bias is not None else torch.zeros(qkv, dtype=torch.float32, device=qkvz.device)
        taps = [conv_state[slot, :, p] for p in range(width - 1)] + [x]
        for p, tap in enumerate(taps):
            acc = acc + (tap * conv_weight[:, p]).float()
        mixed_qkv[row] = (_silu(acc) if activation == "silu" else acc).to(qkvz.dtype)
        for p in range(width - 1):
            conv_state[slot, :, p] = taps[p + 1]
    z = qkvz[:, qkv:].reshape(batch, nv, shape.head_v).clone()
    return mixed_qkv, z, ba[:, :nv].contiguous(), ba[:, nv:].contiguous()
