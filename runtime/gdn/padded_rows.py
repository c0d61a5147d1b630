"""CUDA-graph padding rows (slot index -1) in a GDN decode step that gathers and scatters the state pool.

What is modelled, from SGLang 0.5.23:

- A captured decode batch is padded with rows whose Mamba slot index is -1
  (``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._replay_metadata``).
- The pool holds ``size + 1`` rows; row 0 is the reserved dummy target for padded writes and requests get rows
  ``1..size`` (``sglang/srt/mem_cache/allocator/mamba.py: MambaSlotAllocator.clear``).
- The Triton decode kernels skip a negative index. FlashInfer's SM90 decode does not hand the pool to its kernel:
  it gathers ``ssm_states[cache_indices]`` and scatters ``ssm_states[cache_indices] = new_state``
  (``sglang/srt/layers/attention/linear/kernels/gdn_flashinfer.py: FlashInferGDNKernel.decode``), and PyTorch
  indexing reads -1 as the last row, row ``size``: a slot the allocator hands out.

``gather_scatter_decode`` is that step over the plain-PyTorch recurrence (:func:`runtime.gdn.naive.recurrent_gdn`);
``padding`` says where a padding row's state goes.
"""

from __future__ import annotations

import torch

from runtime.gdn.naive import recurrent_gdn

#: where a padding row (slot index -1) is read from and written to
PADDINGS = (
    "torch",  # SGLang 0.5.23's SM90 FlashInfer decode: PyTorch indexing, -1 is the pool's last row (a live slot)
    "slot0",  # the fix: route -1 to the reserved row 0, as the SM100 FlashInfer prefill branch clamps it
    "skip",  # drop the row, as the Triton kernels do
)


def gather_scatter_decode(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    *,
    padding: str = "torch",
) -> torch.Tensor:
    """One decode token for every row: gather the rows' states, recur, scatter them back (``pool`` in place).

    ``q, k: [B, 1, H, K]`` (normalised), ``v: [B, 1, HV, V]``, ``g, beta: [B, 1, HV]``, ``pool: [size + 1, HV, V,
    K]``. Returns ``o [B, 1, HV, V]``; a skipped row's output is zeros.
    """
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, not {padding!r}")
    if padding == "skip":
        return recurrent_gdn(q, k, v, g, beta, pool, slot_indices)
    rows = slot_indices.long()
    if padding == "slot0":
        rows = rows.clamp(min=0)
    states = pool[rows]  # -1 under "torch": the last row, whoever holds it
    scratch = states.clone()
    o = recurrent_gdn(q, k, v, g, beta, scratch, torch.arange(len(rows), device=rows.device))
    pool[rows] = scratch  # a row written twice (a padding row on a live slot): undefined, element by element
    return o
