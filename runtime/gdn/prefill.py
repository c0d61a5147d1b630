"""Chunked GDN prefill on the ``[slots, HV, V, K]`` pool: delegated to fla-core, not written here.

Decision: delegate. The chunked kernel (WY representation, triangular solve of ``I + A`` per 64-token chunk,
chunk-to-chunk state passing, tensor-core products) is the one piece of this layer where SGLang's Triton backend
runs fla's code (on SM90 and SM100 0.5.23's default prefill is FlashInfer's, where installed; not modelled here):
``sglang/kernels/ops/attention/fla/chunk.py: chunk_gated_delta_rule`` is a vendored fork of fla's, and the PRs this
lane tracks (#12508, #19434, #10466, #15631, #17981, #23273) change gating, norm, decode and verify around it, not
the chunk math. A rewrite here could at best match a kernel that already ships (the issue's 0.9x-of-fla bar), while
its correctness risk would land on the one path whose output every later decode step inherits. What this module
adds is what SGLang adds around the call: the fused gating from raw ``a, b`` (:mod:`runtime.gdn.gating`), L2 norm
of q/k inside fla, the slot gather into fla's ``state_v_first`` (V-major, i.e. the pool's own) layout and the
scatter of final states back into the pool, with SGLang's padding rule: a slot below 0 starts from a zero state and
writes nothing back (SGLang gathers and writes back inside the kernel, through ``initial_state_indices`` and
``inplace_update``; here they are tensor indexing around it):
``sglang/kernels/ops/attention/fla/chunk_delta_h.py: chunk_gated_delta_rule_fwd_kernel_h_blockdim64``.

What runs is upstream fla-core's kernel, not SGLang's fork of it, and the two round differently: fla-core 0.6.0
takes the cumulative gates in log2 space (``exp2``, the gate scaled by 1/ln 2 in its cumsum), SGLang's copy in
natural-log space (``exp``). The math is the same; outputs agree to rounding, not bit for bit. Parity is checked
two ways in ``tests/runtime/gdn/test_gdn_prefill.py``: bit-for-bit against a direct fla-core call on the same
inputs, and within a stated tolerance against the fp32 token-by-token reference
(:func:`runtime.gdn.naive.recurrent_gdn`; :func:`runtime.gdn.naive.chunk_gdn` documents the chunked math in plain
PyTorch).

fla-core is optional: :func:`load_fla` returns ``None`` when it is not importable (CPU CI), and the
tests that need it skip.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from runtime.gdn.gating import fused_gating


def load_fla() -> Callable | None:
    """fla-core's ``chunk_gated_delta_rule``, or ``None`` when fla is not importable."""
    try:
        from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    except (ImportError, RuntimeError):
        return None
    return chunk_gated_delta_rule


def chunk_prefill(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    cu_seqlens: torch.Tensor | None = None,
    *,
    scale: float | None = None,
) -> torch.Tensor:
    """Prefill packed sequences from their pool states; writes final states back, returns ``o [T, HV, V]``.

    ``q, k: [T, H, K]`` (un-normalised), ``v: [T, HV, V]``, ``a, b: [T, HV]`` raw gate inputs;
    ``cu_seqlens: [N + 1]`` int64 offsets (``None``: one sequence), ``slot_indices: [N]``; a slot below 0 is
    padding (a zero initial state, no write-back), as in SGLang.
    """
    chunk = load_fla()
    if chunk is None:
        raise RuntimeError("chunk_prefill delegates to fla-core, which is not importable here")
    n = 1 if cu_seqlens is None else cu_seqlens.numel() - 1
    if slot_indices.shape != (n,):
        raise ValueError(f"slot_indices must be [{n}]")
    slots = slot_indices.long()
    if bool((slots >= pool.shape[0]).any()):
        raise ValueError(f"slot_indices must be below the pool's {pool.shape[0]} slots (or negative: padding)")
    g, beta = fused_gating(a, b, A_log, dt_bias)
    o, final = chunk(
        q[None],
        k[None],
        v[None],
        g[None],
        beta[None],
        scale=scale,
        initial_state=initial_states(pool, slots),
        output_final_state=True,
        use_qk_l2norm_in_kernel=True,
        state_v_first=True,
        cu_seqlens=cu_seqlens,
    )
    write_back(pool, slots, final)
    return o[0]


def initial_states(pool: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
    """Each sequence's starting state: its slot's pool state, zero for a padding slot (below 0)."""
    states = pool[slots.clamp(min=0)]
    return torch.where((slots >= 0)[:, None, None, None], states, torch.zeros((), dtype=states.dtype,
                                                                               device=states.device))


def write_back(pool: torch.Tensor, slots: torch.Tensor, final: torch.Tensor) -> None:
    """Store each sequence's final state in its slot; a padding slot (below 0) writes nothing."""
    valid = slots >= 0
    pool.index_copy_(0, slots[valid], final[valid].to(pool.dtype))
