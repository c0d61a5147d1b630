"""Padding rows (slot -1) of a gather/scatter decode step: SGLang 0.5.23's SM90 FlashInfer decode lands them on the
pool's last row, a live slot (finding flashinfer-sm90-padding-last-slot); routed to the reserved row 0 or skipped,
no live slot changes. Pools are ``size + 1`` rows with row 0 reserved, as SGLang's MambaSlotAllocator hands them out.
"""

from __future__ import annotations

import pytest
import torch

from runtime.gdn import naive
from runtime.gdn.decode import packed_decode
from runtime.gdn.padded_rows import PADDINGS, gather_scatter_decode
from tests.runtime.gdn._gdn_cases import (
    DEVICE,
    SMALL,
    TP4,
    gen,
    nan_like,
    params,
    pool,
    randn,
    rel_err,
    step_inputs,
)

SIZE = 9  # allocatable slots 1..9; the pool has 10 rows


def _step(s, batch, g0):
    """One decode token's normalised q, k and v, gate g and beta, as the layer hands them to the recurrence."""
    qkv, a, b = step_inputs(s, batch, g0)
    A_log, dt_bias = params(s, g0)
    q, k, v = naive.split_qkv(qkv, s.H, s.K, s.HV, s.V)
    g, beta = naive.gdn_gating(a, b, A_log, dt_bias)
    return naive.l2norm(q)[:, None], naive.l2norm(k)[:, None], v[:, None], g[:, None], beta[:, None]


def _batch(last_slot_in_batch: bool) -> torch.Tensor:
    """Three live requests and two padding rows (a captured batch of 5 serving 3)."""
    live = [4, 2, SIZE] if last_slot_in_batch else [4, 2, 7]
    return torch.tensor([*live, -1, -1], dtype=torch.int32, device=DEVICE)


@pytest.mark.parametrize("s", [pytest.param(SMALL, id="small"), pytest.param(TP4, id="tp4", marks=pytest.mark.gpu)])
def test_torch_padding_overwrites_the_state_of_the_request_holding_the_last_slot(s):
    """The request on row `size` is not in this batch (it waits, or its slot is a radix checkpoint): under SGLang's
    SM90 gather/scatter its state changes anyway; the batch's own rows are right."""
    g0 = gen(801)
    states = pool(s, SIZE + 1, g0)
    before = states.clone()
    idx = _batch(last_slot_in_batch=False)
    inputs = _step(s, len(idx), g0)
    ref_pool = before.clone()
    ref = naive.recurrent_gdn(*inputs, ref_pool, idx)
    out = gather_scatter_decode(*inputs, states, idx, padding="torch")
    live = idx >= 0
    assert rel_err(out[live], ref[live]) < 1e-6
    assert rel_err(states[idx[live].long()], ref_pool[idx[live].long()]) < 1e-6
    assert rel_err(states[SIZE], before[SIZE]) > 1e-2  # a request outside the batch lost its state
    assert torch.equal(states[0], before[0])  # the reserved row, meant for exactly this, is never written


@pytest.mark.parametrize("padding", ["slot0", "skip"])
@pytest.mark.parametrize("last_slot_in_batch", [False, True])
def test_padding_routed_to_slot_zero_or_skipped_leaves_every_live_slot_right(padding, last_slot_in_batch):
    g0 = gen(802 + last_slot_in_batch)
    states = pool(SMALL, SIZE + 1, g0)
    before = states.clone()
    idx = _batch(last_slot_in_batch)
    inputs = _step(SMALL, len(idx), g0)
    ref_pool = before.clone()
    ref = naive.recurrent_gdn(*inputs, ref_pool, idx)
    out = gather_scatter_decode(*inputs, states, idx, padding=padding)
    live = idx >= 0
    assert rel_err(out[live], ref[live]) < 1e-6
    assert rel_err(states[1:], ref_pool[1:]) < 1e-6  # every allocatable slot: the batch's updated, the rest as before
    assert torch.equal(states[0], before[0]) == (padding == "skip")


def test_torch_padding_on_a_batch_holding_the_last_slot_may_store_a_padding_rows_state():
    """When the last slot's owner is in the batch too, the scatter writes that row three times (its own update and
    each padding row's). Which write lands is not defined, element by element (the CPU's parallel index_put mixes
    them): every stored element is one of the three writes', and the padding rows' states are not the owner's, so
    the owner may continue from a wrong state."""
    g0 = gen(805)
    states = pool(SMALL, SIZE + 1, g0)
    before = states.clone()
    idx = _batch(last_slot_in_batch=True)
    inputs = _step(SMALL, len(idx), g0)
    writes = []
    for row in (2, 3, 4):  # the owner's row and the two padding rows: the state each leaves on row `size`, alone
        alone = before.clone()
        naive.recurrent_gdn(*(x[row:row + 1] for x in inputs), alone, torch.tensor([SIZE], device=DEVICE))
        writes.append(alone[SIZE])
    owner = writes[0]
    assert all(rel_err(w, owner) > 1e-2 for w in writes[1:])
    gather_scatter_decode(*inputs, states, idx, padding="torch")
    stored = states[SIZE]
    assert bool(torch.stack([(stored - w).abs() <= 1e-6 for w in writes]).any(0).all())  # each element is a write's


def test_the_in_place_kernel_skips_padding_rows_like_the_triton_path():
    """runtime.gdn.decode (this repository's kernel, which SGLang's Triton decode matches on padding): row `size`
    is untouched and equals the "skip" routing."""
    g0 = gen(806)
    s = SMALL
    states = pool(s, SIZE + 1, g0)
    before = states.clone()
    idx = _batch(last_slot_in_batch=False)
    qkv, a, b = step_inputs(s, len(idx), g0)
    A_log, dt_bias = params(s, g0)
    packed_decode(qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H, out=nan_like((len(idx), s.HV, s.V)))
    assert torch.equal(states[SIZE], before[SIZE]) and torch.equal(states[0], before[0])


def test_an_unknown_padding_is_refused():
    with pytest.raises(ValueError, match="padding must be one of"):
        gather_scatter_decode(*(randn(1, gen=gen(1)),) * 5, pool(SMALL, 2, gen(2)), torch.tensor([0]),
                              padding="wrap")
    assert PADDINGS == ("torch", "slot0", "skip")
