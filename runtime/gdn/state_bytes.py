"""A GDN step's state bytes moved with no arithmetic (:func:`move_state`): the ceiling a kernel of that access
pattern reaches at a size, measured beside our kernels by ``runtime.gdn.bench`` and ``runtime.gdn.byte_pattern``.

Each program owns ``block_v`` rows of one request's ``[V, K]`` state for one v-head (the decode's and verify's 1-D
grid: the v-blocks of one state neighbours), reads them from the request's pool slot, ``block_rows`` at a time, and,
by ``mode``: ``read`` stores each row's sum (``V`` floats a state: the deferred decode's read-only stream);
``in_place`` writes them back (the in-place decode); ``copies`` writes them to ``T`` entries of an intermediate
buffer ``[buffers, T, HV, V, K]`` (MTP verify: one read, ``T`` writes).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

MODES = {"read": 0, "in_place": 1, "copies": 2}


@triton.jit
def _move_state_kernel(pool_ptr, idx_ptr, dst_ptr, dst_idx_ptr, sum_ptr, s_pn, s_dn,
                       HV: tl.constexpr, V: tl.constexpr, K: tl.constexpr, BV: tl.constexpr, BR: tl.constexpr,
                       MODE: tl.constexpr, T: tl.constexpr, INDEXED: tl.constexpr, STORE_CM: tl.constexpr):
    pid = tl.program_id(0)
    NVB: tl.constexpr = V // BV
    i_bh = pid // NVB
    i_b = i_bh // HV
    i_hv = i_bh % HV
    if INDEXED:  # the decode's dependent load: the slot (and the buffer entry) from an index
        slot = tl.load(idx_ptr + i_b).to(tl.int64)
        entry = tl.load(dst_idx_ptr + i_b).to(tl.int64)
    else:
        slot = i_b.to(tl.int64)
        entry = i_b.to(tl.int64)
    o_k = tl.arange(0, K)
    for r in range(0, BV, BR):
        o_v = (pid % NVB) * BV + r + tl.arange(0, BR)
        offs = i_hv * (V * K) + o_v[:, None] * K + o_k[None, :]
        h = tl.load(pool_ptr + slot * s_pn + offs, eviction_policy="evict_first")
        if MODE == 0:
            tl.store(sum_ptr + i_bh.to(tl.int64) * V + o_v, tl.sum(h, axis=1))
        elif MODE == 1:
            tl.store(pool_ptr + slot * s_pn + offs, h, cache_modifier=STORE_CM)
        else:
            for t in tl.static_range(T):
                tl.store(dst_ptr + entry * s_dn + t * (HV * V * K) + offs, h, cache_modifier=STORE_CM)


def move_state(pool: torch.Tensor, idx: torch.Tensor | None, mode: str, *, batch: int | None = None,
               buffer: torch.Tensor | None = None, buffer_indices: torch.Tensor | None = None,
               sums: torch.Tensor | None = None, block_v: int = 4, block_rows: int | None = None, num_warps: int = 1,
               store_modifier: str = ".cs") -> None:
    """Move one step's state bytes for the slots ``idx`` of a contiguous pool ``[slots, HV, V, K]`` (``idx`` None:
    slots ``0..batch-1``, no index load). ``copies``: ``buffer[buffer_indices[i], t] = pool[idx[i]]`` for every
    ``t`` (entry ``i`` without ``idx``); ``in_place``: the pool rewritten unchanged; ``read``: ``sums [B, HV, V]``
    gets each row's sum. ``store_modifier``: the stores' cache modifier (``.cs`` streaming, ``""`` write-back)."""
    _, HV, V, K = pool.shape
    B = batch if idx is None else idx.shape[0]
    if not pool.is_contiguous() or mode not in MODES or B is None:
        raise ValueError(f"a contiguous pool, a mode of {', '.join(MODES)} and slots (idx or batch)")
    copies, read = mode == "copies", mode == "read"
    if copies and (buffer is None or not buffer.is_contiguous() or tuple(buffer.shape[2:]) != (HV, V, K)):
        raise ValueError("copies needs a contiguous buffer [buffers, T, HV, V, K]")
    if read and (sums is None or tuple(sums.shape) != (B, HV, V)):
        raise ValueError("read needs sums [B, HV, V]")
    block_rows = block_rows or block_v
    if V % block_v or block_v % block_rows:
        raise ValueError("block_rows must divide block_v and block_v divide V")
    index = idx if idx is not None else torch.empty(1, dtype=torch.int32, device=pool.device)
    entries = buffer_indices if buffer_indices is not None else index
    _move_state_kernel[(B * HV * (V // block_v),)](
        pool, index, buffer if copies else pool, entries, sums if read else pool, pool.stride(0),
        buffer.stride(0) if copies else 0, HV=HV, V=V, K=K, BV=block_v, BR=block_rows, MODE=MODES[mode],
        T=buffer.shape[1] if copies else 1, INDEXED=idx is not None, STORE_CM=store_modifier, num_warps=num_warps)
