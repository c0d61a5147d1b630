"""Deferred-write decode (#28451 class): checkpoint + ring against the step-by-step ring replay and the in-place step."""

import pytest
import torch

from runtime.gdn import naive
from runtime.gdn.deferred_decode import (
    IN_PLACE,
    DeferredConfig,
    FlushTile,
    StateRing,
    deferred_decode,
    deferred_writes_pay,
    flush_first_order,
    flush_split,
    flushes,
    fold_ring,
    next_fill,
    slot_order,
    split_by_slot,
    step_config,
)

from ._gdn_cases import (
    DEVICE,
    ODD,
    TINY,
    TP1,
    TP4,
    nan_like,
    params,
    pool,
    randn,
    rel_err,
    slot_indices,
    step_inputs,
)
from ._gdn_cases import gen as make_gen

CASES = [  # (shape, L, config, row order: None, "flush-first" (flush_first_order), "random" (any permutation),
    # "split" (flush_split) or "split-slot" (flush_split in slot order))
    pytest.param(TINY, 4, DeferredConfig(block_v=16, block_rows=4, num_warps=1, pipeline=True), None, id="tiny-L4"),
    pytest.param(ODD, 3, DeferredConfig(block_v=64, block_rows=16, num_warps=1), "random", id="odd-L3-random-order"),
    pytest.param(TINY, 5, DeferredConfig(block_v=16, block_rows=4, num_warps=1, pipeline=False), "flush-first",
                 id="tiny-L5-flush-first"),
    pytest.param(TINY, 4, DeferredConfig(16, 4, 1, flush_tile=FlushTile(16, 16, 1, unrolled=False)), "split",
                 id="tiny-L4-split-wide-loop"),
    pytest.param(TINY, 5, DeferredConfig(16, 4, 1, pipeline=False, flush_tile=FlushTile(8, 8, 1)), "split",
                 id="tiny-L5-split-narrow"),
    pytest.param(TINY, 6, DeferredConfig(16, 4, 1, flush_tile=FlushTile(8, 4, 1, pipeline=True)), "split",
                 id="tiny-L6-split-pipelined"),
    pytest.param(ODD, 5, DeferredConfig(64, 16, 1, pipeline=False, flush_tile=FlushTile(32, 8, 2)), "split",
                 id="odd-L5-split-two-warps"),
    pytest.param(TINY, 5, DeferredConfig(16, 4, 1, flush_tile=FlushTile(8, 8, 1)), "split-slot", id="tiny-L5-split-slot"),
    pytest.param(ODD, 4, DeferredConfig(64, 16, 1, flush_tile=FlushTile(16, 8, 1, unrolled=False)), "split-slot",
                 id="odd-L4-split-slot"),
    pytest.param(TP4, 16, None, None, id="tp4-L16", marks=pytest.mark.gpu),
    pytest.param(TP4, 16, None, "split", id="tp4-L16-split", marks=pytest.mark.gpu),
    pytest.param(TP4, 16, DeferredConfig(32, 8, 1, pipeline=False, flush_tile=FlushTile(8, 8, 1)), "split",
                 id="tp4-L16-split-32", marks=pytest.mark.gpu),
    pytest.param(TP4, 16, DeferredConfig(64, 8, 1, flush_tile=FlushTile(8, 8, 1)), "split",
                 id="tp4-L16-split-64p", marks=pytest.mark.gpu),
    pytest.param(TP1, 8, DeferredConfig(64, 8, 1, flush_tile=FlushTile(16, 8, 1)), "split", id="tp1-L8-split-16",
                 marks=pytest.mark.gpu),
    pytest.param(TP1, 8, DeferredConfig(), "flush-first", id="tp1-L8-flush-first", marks=pytest.mark.gpu),
    pytest.param(TP4, 16, DeferredConfig(64, 8, 1, pipeline=False, flush_tile=FlushTile(64, 8, 1, unrolled=False)),
                 "split", id="tp4-L16-split-loop-64", marks=pytest.mark.gpu),
    pytest.param(TP1, 16, DeferredConfig(64, 8, 1, flush_tile=FlushTile(32, 8, 1, unrolled=False)), "split",
                 id="tp1-L16-split-loop-32", marks=pytest.mark.gpu),
    pytest.param(TP4, 16, None, "split-slot", id="tp4-L16-split-slot", marks=pytest.mark.gpu),
    pytest.param(TP1, 16, DeferredConfig(64, 8, 1, flush_tile=FlushTile(64, 8, 1, unrolled=False)), "split-slot",
                 id="tp1-L16-split-loop-64-slot", marks=pytest.mark.gpu),
]


def _ring(s, slots, L, g0):
    """A ring of random live-looking entries (any content is a valid history)."""
    ring = StateRing.allocate(slots, s.H, s.HV, s.K, s.V, length=L, device=DEVICE)
    ring.d.copy_(randn(*ring.d.shape, gen=g0, scale=0.3))
    ring.k.copy_(torch.nn.functional.normalize(randn(*ring.k.shape, gen=g0), dim=-1))
    ring.g.copy_(-torch.rand(*ring.g.shape, generator=g0, device=DEVICE) * 2)
    return ring


def _clone(ring):
    return StateRing(ring.d.clone(), ring.k.clone(), ring.g.clone())


def _odd_step(seed, B, L):
    """One step's inputs on the ODD shape (its token inputs and gate parameters), a pool of ``2B`` slots with rings
    of length ``L``, and ``B`` slot indices, one of them padding."""
    g0 = make_gen(seed)
    qkv, a, b = step_inputs(ODD, B, g0)
    A_log, dt_bias = params(ODD, g0)
    states = pool(ODD, 2 * B, g0)
    return (qkv, a, b, A_log, dt_bias), states, _ring(ODD, 2 * B, L, g0), slot_indices(B, 2 * B, g0, padding=1)


def _live_states(states, ring, idx, fill):
    """The state each named slot stands for: checkpoint replayed through its live ring entries."""
    s = idx.long()
    return naive.replay_ring(states[s], ring.d[s], ring.k[s], ring.g[s], fill.long())


@pytest.mark.parametrize("s, L, cfg, order", CASES)
def test_deferred_decode_tracks_replay_and_in_place(s, L, cfg, order, parity):
    """3L + 2 steps with mixed starting fills (rows at different ring positions, some already non-empty),
    forced flushes on random rows at random steps, one padding row, ring wrap-around for every row; with a
    row order (``order``: rebuilt every step, flushing rows first, or a fresh random permutation) or without.

    Every step: outputs (NaN-poisoned) within 1e-5 relative of ``naive.deferred_decode_step`` (the ring
    replayed one step at a time), fill advanced by ``next_fill_out`` as ``next_fill`` says. At the end the
    pool and the live ring entries agree with the reference to 1e-5, the state each slot stands for agrees
    with the plain in-place recurrence run from the start to 1e-4, and slots outside the batch and the
    padding row's slot are bit-for-bit unchanged.
    """
    g0 = make_gen(300 + s.K + L)
    B = 16 if s.K == 128 else 4
    A_log, dt_bias = params(s, g0)
    states = pool(s, 3 * B, g0)
    ring = _ring(s, 3 * B, L, g0)
    idx = slot_indices(B, 3 * B, g0, padding=1)
    fill = (torch.arange(B, device=DEVICE) % L).to(torch.int32)  # staggered: every ring position present
    ref_pool, ref_ring = states.clone(), _clone(ring)
    outside = torch.ones(3 * B, dtype=torch.bool, device=DEVICE)
    outside[idx[idx >= 0].long()] = False
    frozen = states[outside].clone(), ring.d[outside].clone(), ring.k[outside].clone()
    valid = idx >= 0
    plain = states.clone()
    plain[idx[valid].long()] = _live_states(states, ring, idx[valid], fill[valid])
    outs, refs, worst, flushed_any = [], [], 0.0, 0
    flush_all = (cfg or step_config(B, s.HV)).flush_all
    for _step in range(3 * L + 2):
        qkv, a, b = step_inputs(s, B, g0)
        force = (torch.rand(B, generator=g0, device=DEVICE) < 0.2).to(torch.int32)
        nxt = torch.full((B,), -7, dtype=torch.int32, device=DEVICE)
        rows, split = {None: (None, None), "flush-first": (flush_first_order(fill, L, force), None),
                       "random": (torch.randperm(B, generator=g0, device=DEVICE).to(torch.int32), None),
                       "split": flush_split(fill, L, force),
                       "split-slot": flush_split(fill, L, force, slots=idx)}[order]
        out = deferred_decode(qkv, a, b, A_log, dt_bias, states, ring, idx, fill, num_k_heads=s.H, flush=force,
                              next_fill_out=nxt, order=rows, flush_rows=split, out=nan_like((B, s.HV, s.V)), config=cfg)
        ref = naive.deferred_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, ref_ring.d, ref_ring.k, ref_ring.g,
                                         idx, fill, flushes(fill, L, force, flush_all=flush_all), num_k_heads=s.H)
        naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, plain, idx, num_k_heads=s.H)
        worst = max(worst, rel_err(out, ref))
        outs.append(out)
        refs.append(ref)
        assert torch.equal(out[~valid], torch.zeros_like(out[~valid]))
        assert torch.equal(nxt[valid], next_fill(fill, L, force, flush_all=flush_all)[valid])
        flushed_any += int(flushes(fill, L, force, flush_all=flush_all)[valid].sum())
        fill = nxt
    assert flushed_any >= B  # every row wrapped at least once on average
    parity("deferred decode outputs", torch.stack(outs), torch.stack(refs), 1e-5)
    assert worst < 1e-5
    used = idx[valid].long()
    parity("deferred decode checkpoints", states[used], ref_pool[used], 1e-5)
    live = torch.arange(L, device=DEVICE)[None, :] < fill[valid, None].long()
    parity("deferred decode ring d", ring.d[used].transpose(1, 2)[live], ref_ring.d[used].transpose(1, 2)[live], 1e-5)
    parity("deferred decode vs in-place", _live_states(states, ring, idx[valid], fill[valid]), plain[used], 1e-4)
    assert torch.equal(states[outside], frozen[0])
    assert torch.equal(ring.d[outside], frozen[1]) and torch.equal(ring.k[outside], frozen[2])


@pytest.mark.parametrize(
    "cfg", [IN_PLACE, DeferredConfig(4, 4, 1, pipeline=False), DeferredConfig(32, 8, 4, pipeline=True), DeferredConfig(),
            DeferredConfig(64, 64, 4), DeferredConfig(64, 16, 2, pipeline=True),
            DeferredConfig(32, 8, 1, pipeline=False), DeferredConfig(4, 4, 1, flush_all=True, pipeline=True)],
    ids=str
)
def test_tilings_and_in_place_mode_agree(cfg):
    """Each tiling, and the flush-every-row mode the dispatch uses for small batches, gives the reference's
    outputs and states (1e-5) from rings at mixed fills; the in-place mode leaves every row's ring empty."""
    s, L, B = ODD, 4, 5
    (qkv, a, b, A_log, dt_bias), states, ring, idx = _odd_step(310, B, L)
    fill = torch.tensor([0, 1, 2, 3, 1], dtype=torch.int32, device=DEVICE)
    before = _live_states(states, ring, idx[idx >= 0], fill[idx >= 0])
    force = torch.ones(B, dtype=torch.int32, device=DEVICE) if cfg.flush_all else None
    ref_pool, ref_ring = states.clone(), _clone(ring)
    ref = naive.deferred_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, ref_ring.d, ref_ring.k, ref_ring.g, idx,
                                     fill, force, num_k_heads=s.H)
    out = deferred_decode(qkv, a, b, A_log, dt_bias, states, ring, idx, fill, num_k_heads=s.H,
                          out=nan_like((B, s.HV, s.V)), config=cfg)
    assert rel_err(out, ref) < 1e-5
    assert rel_err(states, ref_pool) < 1e-5
    if cfg.flush_all:
        plain = states.clone()
        plain[idx[idx >= 0].long()] = before
        o_plain = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, plain, idx, num_k_heads=s.H)
        assert rel_err(out, o_plain) < 1e-5 and rel_err(states, plain) < 1e-5
        assert not next_fill(fill, L, flush_all=True).any()


def test_flush_first_order_puts_the_longest_programs_first():
    """A permutation: flushing rows (full ring or forced) before the others, each group by live entries, most
    first, ties in row order."""
    fill = torch.tensor([0, 3, 1, 3, 2, 0, 1], dtype=torch.int32)
    force = torch.tensor([0, 0, 1, 0, 0, 0, 0], dtype=torch.int32)
    assert flush_first_order(fill, 4, force).tolist() == [1, 3, 2, 4, 6, 0, 5]
    assert flush_first_order(fill, 4).tolist() == [1, 3, 4, 2, 6, 0, 5]
    assert flush_first_order(fill, 4).dtype == torch.int32
    fill[2] = -7  # a padding row's fill is never advanced by the kernel: any value, still first when forced
    assert flush_first_order(fill, 4, force).tolist()[:3] == [1, 3, 2]


def test_slot_order_walks_each_group_by_slot():
    """A permutation: the rows marked first (flushing) before the others, each group in ascending slot, a padding
    row (-1) first in its group; ``flush_split(..., slots=)`` gives it with the count of flushing rows; the slot
    order is the split's below 8192 batch x v-heads."""
    slots = torch.tensor([40, 7, -1, 12, 3, 25, 9], dtype=torch.int32)
    fill = torch.tensor([0, 3, 1, 3, 2, 0, 1], dtype=torch.int32)
    force = torch.tensor([0, 0, 1, 0, 0, 0, 0], dtype=torch.int32)
    assert slot_order(slots).tolist() == [2, 4, 1, 6, 3, 5, 0]
    assert slot_order(slots).dtype == torch.int32
    order, count = flush_split(fill, 4, force, slots=slots)
    assert count == 3 and order.tolist() == [2, 1, 3, 4, 6, 5, 0]
    assert flush_split(fill, 4, force)[1] == count
    assert split_by_slot(256, 8) and split_by_slot(16, 32) and not split_by_slot(256, 32)


def test_dispatch_rule_picks_in_place_below_threshold():
    """batch x v-heads picks the mode: in place (every row flushes) below the threshold, deferred from it."""
    assert step_config(16, 32).flush_all and step_config(64, 8).flush_all
    assert not step_config(64, 32).flush_all and not step_config(256, 8).flush_all
    assert step_config(256, 8).block_v < step_config(1024, 8).block_v  # shorter programs where the grid is ~1 wave
    assert not step_config(1024, 32).pipeline and step_config(1024, 32, ring_length=8).pipeline
    fill = torch.zeros(4, dtype=torch.int32)
    assert flushes(fill, 16, flush_all=True).all() and not flushes(fill, 16).any()
    assert flushes(fill, 1).all()  # L = 1: every step is a flush


def test_split_step_only_where_it_won():
    """``split``: the split step at 8 < L <= 16 from 512 batch x v-heads (deferred there even below the one-launch
    threshold; narrow unrolled flushing programs below 8192 heads, wide ones on the entry loop from it), in place
    below, one launch at other L; without ``split`` never a flush tile."""
    for batch, hv in ((16, 32), (64, 8), (64, 32), (256, 8)):  # 512 and 2048 heads
        cfg = step_config(batch, hv, 16, split=True)
        assert cfg.flush_tile is not None and not cfg.flush_all and deferred_writes_pay(batch, hv, 16, split=True)
        assert cfg.flush_tile.unrolled and cfg.flush_tile.block_v == 8
    wide = [step_config(batch, hv, 16, split=True).flush_tile for batch, hv in ((256, 32), (1024, 8), (1024, 32))]
    assert [(t.block_v, t.unrolled) for t in wide] == [(64, False), (64, False), (32, False)]
    assert step_config(64, 32, 8, split=True).flush_tile is None and step_config(64, 32, 32, split=True).flush_tile is None
    assert step_config(16, 8, 16, split=True).flush_all  # 128 heads: in place
    assert step_config(16, 32, 8, split=True).flush_all and step_config(16, 32, 32, split=True).flush_all  # no split
    assert step_config(64, 8, 16).flush_all and not deferred_writes_pay(64, 8)  # one launch: in place below 2048
    assert all(step_config(b, hv, L).flush_tile is None for b in (64, 256, 1024) for hv in (8, 32) for L in (4, 8, 16))


def test_split_step_without_a_flush_tile_is_one_launch():
    """``flush_rows`` with a config that has no flush tile runs the one launch: the same outputs and states, bit
    for bit, as the call without it."""
    s, L, B = ODD, 4, 5
    (qkv, a, b, A_log, dt_bias), states, ring, idx = _odd_step(330, B, L)
    fill = torch.tensor([3, 1, 0, 3, 2], dtype=torch.int32, device=DEVICE)
    order, count = flush_split(fill, L)
    assert count == 2 and sorted(order[:count].tolist()) == [0, 3]
    cfg = DeferredConfig(16, 4, 1, pipeline=False)
    runs = []
    for rows in (None, count):
        st, rg = states.clone(), _clone(ring)
        out = deferred_decode(qkv, a, b, A_log, dt_bias, st, rg, idx, fill, num_k_heads=s.H, order=order,
                              flush_rows=rows, config=cfg)
        runs.append((out, st, rg.d))
    assert all(torch.equal(x, y) for x, y in zip(*runs, strict=True))


@pytest.mark.parametrize("s", [pytest.param(ODD, id="odd"), pytest.param(TP1, id="tp1", marks=pytest.mark.gpu)])
def test_fold_ring_writes_the_replayed_state(s, parity):
    """fold_ring leaves each named slot's checkpoint equal to its ring replay (1e-5), zeroes those rows'
    fill, and leaves padding and unnamed slots bit-for-bit unchanged."""
    g0 = make_gen(320 + s.K)
    B, L = (8, 16) if s.K == 128 else (4, 5)
    states = pool(s, 2 * B, g0)
    ring = _ring(s, 2 * B, L, g0)
    idx = slot_indices(B, 2 * B, g0, padding=1)
    fill = torch.randint(0, L, (B,), generator=g0, device=DEVICE).to(torch.int32)
    fill[0] = L - 1
    valid = idx >= 0
    want = _live_states(states, ring, idx[valid], fill[valid])
    before = states.clone()
    fold_ring(states, ring, idx, fill, num_k_heads=s.H)
    parity("fold_ring state", states[idx[valid].long()], want, 1e-5)
    assert torch.equal(fill[valid], torch.zeros_like(fill[valid])) and (fill[~valid] == fill[~valid]).all()
    untouched = torch.ones(2 * B, dtype=torch.bool, device=DEVICE)
    untouched[idx[valid].long()] = False
    assert torch.equal(states[untouched], before[untouched])


def test_rejects_a_ring_that_does_not_fit_the_pool():
    s = ODD
    g0 = make_gen(330)
    qkv, a, b = step_inputs(s, 2, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 4, g0)
    wrong = StateRing.allocate(3, s.H, s.HV, s.K, s.V, length=4, device=DEVICE)
    idx = torch.tensor([0, 1], dtype=torch.int32, device=DEVICE)
    with pytest.raises(ValueError, match="ring.d"):
        deferred_decode(qkv, a, b, A_log, dt_bias, states, wrong, idx, idx, num_k_heads=s.H)
    with pytest.raises(ValueError, match="length"):
        StateRing.allocate(3, s.H, s.HV, s.K, s.V, length=0, device=DEVICE)


def test_in_place_mode_on_empty_rings_is_the_in_place_kernel():
    """With every ring empty (``rings_empty``), the in-place mode runs the in-place kernel itself: outputs
    and states match the plain decode step (1e-5), ring and ``fill`` are never read (poisoned here), padding
    rows stay zero and untouched, and ``next_fill_out`` reads 0 for every row."""
    s, L = ODD, 4
    g0 = make_gen(311)
    B = 6
    qkv, a, b = step_inputs(s, B, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * B, g0)
    ring = _ring(s, 2 * B, L, g0)
    ring_before = _clone(ring)
    idx = slot_indices(B, 2 * B, g0, padding=1)
    poisoned_fill = torch.full((B,), 10**6, dtype=torch.int32, device=DEVICE)  # read, it would fault or corrupt
    plain = states.clone()
    ref = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, plain, idx, num_k_heads=s.H)
    nxt = torch.full((B,), -7, dtype=torch.int32, device=DEVICE)
    out = deferred_decode(qkv, a, b, A_log, dt_bias, states, ring, idx, poisoned_fill, num_k_heads=s.H,
                          next_fill_out=nxt, out=nan_like((B, s.HV, s.V)), config=IN_PLACE, rings_empty=True)
    valid = idx >= 0
    assert rel_err(out[valid], ref[valid]) < 1e-5 and rel_err(states, plain) < 1e-5
    assert torch.equal(out[~valid], torch.zeros_like(out[~valid]))
    assert torch.equal(ring.d, ring_before.d) and torch.equal(ring.k, ring_before.k) and torch.equal(ring.g, ring_before.g)
    assert not nxt.any()


@pytest.mark.gpu
def test_profile_case_split_step_answers_as_the_one_launch_step():
    """``profile_case deferred_split`` profiles the step the dispatch runs with flushing rows counted (the split step at
    TP4 B=64, L=16): on the bench's first staggered step it answers as the one-launch step does on the same state
    (normwise relative error < 5e-3: bf16 outputs, the flushing rows replayed in another order), so the profiled
    launches are that step's."""
    from runtime.gdn.bench_deferred import RingCase

    case = RingCase("TP4", 64, 16)
    pool, d, k, g = (t.clone() for t in (case.pool, case.ring.d, case.ring.k, case.ring.g))
    case.calls("deferred")[0]()
    one_launch = case.out.float().clone()
    for t, saved in ((case.pool, pool), (case.ring.d, d), (case.ring.k, k), (case.ring.g, g)):
        t.copy_(saved)
    case.calls("deferred_split")[0]()
    assert rel_err(case.out.float(), one_launch) < 5e-3


@pytest.mark.gpu
def test_fixed_fill_steps_hold_every_row_at_that_fill():
    """``RingCase.fixed_fill`` (``--sweep fills``) names one pattern per fill, steps every row at it, and counts the
    rows a split step flushes as the fill says: none below ``L - 1``, every row at a full ring."""
    from runtime.gdn.bench_deferred import RingCase

    case = RingCase("TP4", 16, 16)
    name = case.fixed_fill(8)
    assert case.fixed_fill(8) == name and len(case.fills[name]) == 1
    steps = case._steps(name, "split")
    assert steps and all(torch.equal(f, torch.full_like(f, 8)) and split[1] == 0 for _, f, split in steps)
    assert all(split[1] == case.B for _, _, split in case._steps(case.fixed_fill(15), "split"))
