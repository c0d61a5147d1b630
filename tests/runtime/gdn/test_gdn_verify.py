"""MTP target-verify (#23273): T draft tokens == T sequential decode steps, with the pool left unchanged."""

import pytest
import torch

from runtime.gdn import naive
from runtime.gdn.bench_spec_verify import SPEC_TILES
from runtime.gdn.decode import packed_decode
from runtime.gdn.deferred_decode import DeferredConfig, StateRing, deferred_decode
from runtime.gdn.ring_verify import ring_verify, ring_verify_tile
from runtime.gdn.verify import (
    CommitTile,
    accepted_slots,
    commit_accepted,
    commit_records,
    commit_tile,
    verify,
    verify_tile,
)

from ._gdn_cases import (
    DEVICE,
    SHAPES,
    SMALL,
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


def _case(s, seed):
    g0 = make_gen(seed)
    B, T = (32, 4) if s.K == 128 else (4, 3)
    qkv, a, b = step_inputs(s, B * T, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 3 * B, g0)
    idx = slot_indices(B, 3 * B, g0, padding=1)
    buf_idx = torch.randperm(B + 2, generator=g0, device=DEVICE)[:B].to(torch.int32)
    buffer = nan_like((B + 2, T + 1, s.HV, s.V, s.K))
    return g0, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer


def _random_ring(s, slots, L, g0):
    """Rings of length ``L`` for ``slots`` slots with random entries: updates, unit keys, log decays in (-1, 0]."""
    ring = StateRing.allocate(slots, s.H, s.HV, s.K, s.V, length=L, device=DEVICE)
    ring.d.copy_(randn(*ring.d.shape, gen=g0, scale=0.3))
    ring.k.copy_(torch.nn.functional.normalize(randn(*ring.k.shape, gen=g0), dim=-1))
    ring.g.copy_(-torch.rand(*ring.g.shape, generator=g0, device=DEVICE))
    return ring


def _verify(s, B, T, qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx):
    """The kernel under test on one case, output poisoned with NaN."""
    return verify(qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx, num_k_heads=s.H, num_tokens=T,
                  out=nan_like((B * T, s.HV, s.V)))


@pytest.mark.parametrize("s", SHAPES)
def test_verify_equals_sequential_decode(s):
    """Per-token outputs and per-step states equal T packed_decode calls (rel < 1e-6), pool bit-for-bit
    unchanged; padding rows give zeros and leave their buffer (and every step >= T) unwritten (NaN)."""
    _, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer = _case(s, 200 + s.K)
    frozen = states.clone()
    out = _verify(s, B, T, qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx)
    assert torch.equal(states, frozen)
    out = out.view(B, T, s.HV, s.V)
    valid = idx >= 0
    assert torch.equal(out[~valid], torch.zeros_like(out[~valid]))
    assert torch.isnan(buffer[buf_idx[~valid].long()]).all() and torch.isnan(buffer[:, T]).all()
    seq_pool = frozen.clone()
    for t in range(T):
        rows = torch.arange(B, device=DEVICE) * T + t
        o_t = packed_decode(
            qkv[rows],
            a[rows],
            b[rows],
            A_log,
            dt_bias,
            seq_pool,
            idx,
            num_k_heads=s.H,
            out=nan_like((B, s.HV, s.V)),
        )
        assert rel_err(out[:, t], o_t) < 1e-6
        assert rel_err(buffer[buf_idx[valid].long(), t], seq_pool[idx[valid].long()]) < 1e-6


@pytest.mark.parametrize("s", SHAPES)
def test_verify_matches_reference(s, parity):
    """Outputs and intermediate states within 1e-5 relative of naive.verify_gdn (split, gate, L2 composed)."""
    _, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer = _case(s, 210 + s.K)
    out = _verify(s, B, T, qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx)
    q, k, v = naive.split_qkv(qkv.view(B, T, -1), s.H, s.K, s.HV, s.V)
    g, beta = naive.gdn_gating(a.view(B, T, -1), b.view(B, T, -1), A_log, dt_bias)
    o_ref, inter_ref = naive.verify_gdn(naive.l2norm(q), naive.l2norm(k), v, g, beta, states, idx)
    valid = idx >= 0
    parity("verify output", out.view(B, T, s.HV, s.V), o_ref, 1e-5)
    parity("verify intermediate states", buffer[buf_idx[valid].long(), :T], inter_ref[valid], 1e-5)


@pytest.mark.parametrize("s", SHAPES)
def test_commit_accepted_steps(s):
    """commit_accepted copies buffer[buf, step] into pool[slot] exactly; step -1 and padding rows commit
    nothing, and slots outside the batch stay bit-for-bit unchanged."""
    g0, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer = _case(s, 220 + s.K)
    verify(qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx, num_k_heads=s.H, num_tokens=T)
    before = states.clone()
    last = torch.randint(-1, T, (B,), generator=g0, device=DEVICE).to(torch.int32)
    last[0] = T - 1  # at least one full acceptance and, below, one rejection
    last[1] = -1
    commit_accepted(states, idx, buffer, buf_idx, last)
    expect = before.clone()
    for i in range(B):
        if idx[i] >= 0 and last[i] >= 0:
            expect[idx[i]] = buffer[buf_idx[i], last[i]]
    assert torch.equal(states, expect)
    assert (idx >= 0).logical_and(last >= 0).any()


@pytest.mark.parametrize("s", SHAPES)
def test_zero_copy_accept_rounds_equal_commit_accepted(s):
    """Three verify rounds two ways from the same states: SGLang's contract (pool slot per request, intermediate buffer,
    ``commit_accepted``) and the drafts written into the requests' own pool slots, the next round reading
    ``accepted_slots`` (no copy; every round reads a slot of the group it overwrites). Outputs and accepted states
    equal bit for bit each round; accepted steps from 0 to T - 1; a padding request; groups out of request order."""
    g0, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer = _case(s, 235 + s.K)
    groups = torch.randperm(B + 1, generator=g0, device=DEVICE)[:B].to(torch.int32)
    groups[idx < 0] = -1
    slots = nan_like((B + 1, T, s.HV, s.V, s.K))
    first = torch.randint(0, T, (B,), generator=g0, device=DEVICE).to(torch.int32)
    live = (idx >= 0).nonzero().flatten()
    slots[groups[live].long(), first[live].long()] = states[idx[live].long()]
    at = accepted_slots(groups, first, T)
    flat = slots.view(-1, s.HV, s.V, s.K)
    for r in range(3):
        rows = torch.arange(B * T, device=DEVICE)
        q, a_r, b_r = qkv[rows.roll(r * 5)], a[rows.roll(r * 3)], b[rows.roll(r * 7)]
        ours = verify(q, a_r, b_r, A_log, dt_bias, flat, at, slots, groups, num_k_heads=s.H, num_tokens=T,
                      out=nan_like((B * T, s.HV, s.V)))
        theirs = verify(q, a_r, b_r, A_log, dt_bias, states, idx, buffer, buf_idx, num_k_heads=s.H, num_tokens=T,
                        out=nan_like((B * T, s.HV, s.V)))
        last = torch.randint(0, T, (B,), generator=g0, device=DEVICE).to(torch.int32)
        last[0], last[-1] = 0, T - 1
        commit_accepted(states, idx, buffer, buf_idx, last)
        at = accepted_slots(groups, last, T)
        assert torch.equal(ours, theirs), f"round {r}: outputs"
        assert torch.equal(flat[at[live].long()], states[idx[live].long()]), f"round {r}: accepted states"
    assert (at[idx < 0] == -1).all() and (idx < 0).any()


def test_verify_rejects_mismatched_buffer():
    s = SHAPES[0].values[0]
    g0 = make_gen(230)
    qkv, a, b = step_inputs(s, 6, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 4, g0)
    idx = torch.tensor([0, 2], dtype=torch.int32, device=DEVICE)
    small = randn(2, 2, s.HV, s.V, s.K, gen=g0)
    with pytest.raises(ValueError):
        verify(qkv, a, b, A_log, dt_bias, states, idx, small, idx, num_k_heads=s.H, num_tokens=3)


@pytest.mark.parametrize("s", SHAPES)
def test_verify_on_checkpoint_plus_ring(s, parity):
    """MTP verify on a deferred-write pool: outputs and intermediate states equal verify on a pool holding
    the replayed states (1e-5), the ring replayed in a loop or unrolled; the checkpoint is untouched; commit_accepted then leaves the pool at the
    accepted step and zeroes the fill of committed rows only, and a deferred decode step afterwards matches
    the in-place step from the committed states."""
    g0, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer = _case(s, 240 + s.K)
    L = 8
    ring = _random_ring(s, states.shape[0], L, g0)
    fill = torch.randint(1, L, (B,), generator=g0, device=DEVICE).to(torch.int32)
    valid = idx >= 0
    used = idx[valid].long()
    folded = states.clone()
    folded[used] = naive.replay_ring(states[used], ring.d[used], ring.k[used], ring.g[used], fill[valid].long())
    checkpoint = states.clone()
    out = verify(qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx, num_k_heads=s.H, num_tokens=T,
                 out=nan_like((B * T, s.HV, s.V)), ring=ring, fill=fill)
    ref_buffer = nan_like(tuple(buffer.shape))
    ref = _verify(s, B, T, qkv, a, b, A_log, dt_bias, folded, idx, ref_buffer, buf_idx)
    assert torch.equal(states, checkpoint)
    parity("ring verify output", out, ref, 1e-5)
    unrolled = verify(qkv, a, b, A_log, dt_bias, states, idx, nan_like(tuple(buffer.shape)), buf_idx, num_k_heads=s.H,
                      num_tokens=T, out=nan_like((B * T, s.HV, s.V)), ring=ring, fill=fill, unroll_ring=True)
    parity("ring verify output, ring unrolled", unrolled, ref, 1e-5)
    parity("ring verify states", buffer[buf_idx[valid].long(), :T], ref_buffer[buf_idx[valid].long(), :T], 1e-5)
    last = torch.randint(0, T, (B,), generator=g0, device=DEVICE).to(torch.int32)
    last[0] = -1
    kept = fill.clone()
    commit_accepted(states, idx, buffer, buf_idx, last, fill=fill)
    committed = valid & (last >= 0)
    assert torch.equal(fill[committed], torch.zeros_like(fill[committed]))
    assert torch.equal(fill[~committed], kept[~committed])
    q2, a2, b2 = step_inputs(s, B, g0)
    plain = states.clone()
    plain[used] = naive.replay_ring(states[used], ring.d[used], ring.k[used], ring.g[used], fill[valid].long())
    o_ref = naive.gdn_decode_step(q2, a2, b2, A_log, dt_bias, plain, idx, num_k_heads=s.H)
    o = deferred_decode(q2, a2, b2, A_log, dt_bias, states, ring, idx, fill, num_k_heads=s.H,
                        out=nan_like((B, s.HV, s.V)), config=DeferredConfig(block_v=8, num_warps=1))
    parity("deferred decode after commit", o, o_ref, 1e-5)


COMMITS = [CommitTile(), CommitTile(block_v=128), CommitTile("fused", 8, 8, 1)]  # commit_tile's three


@pytest.mark.parametrize("tile", COMMITS, ids=str)
@pytest.mark.parametrize("s", SHAPES)
def test_verify_to_draft_records_then_commit(s, tile, parity):
    """Verify writing draft records (no intermediate states) gives exactly the outputs of verify with a state
    buffer and leaves the pool alone; commit_records then leaves every slot standing for the buffer's state at
    its last accepted step (1e-5), by appending to the ring where the drafts fit and folding where they do not;
    rows that accept nothing and padding rows keep pool, ring and fill. Every commit :func:`commit_tile` picks: the fold as products (64- and 128-row 4-warp programs of 16-row
    blocks) and replayed (8-row one-warp programs)."""
    g0, B, T, qkv, a, b, A_log, dt_bias, states, idx, buf_idx, buffer = _case(s, 250 + s.K)
    L = 6
    ring = _random_ring(s, states.shape[0], L, g0)
    fill = torch.randint(0, L, (B,), generator=g0, device=DEVICE).to(torch.int32)
    fill[:4] = torch.tensor([L - 1, 0, 1, 0], dtype=torch.int32)
    last = torch.randint(-1, T, (B,), generator=g0, device=DEVICE).to(torch.int32)
    last[:4] = torch.tensor([T - 1, 0, 1, -1], dtype=torch.int32)  # fold, append, append, nothing
    ref = verify(qkv, a, b, A_log, dt_bias, states, idx, buffer, buf_idx, num_k_heads=s.H, num_tokens=T,
                 out=nan_like((B * T, s.HV, s.V)), ring=ring, fill=fill)
    records = StateRing.allocate(buffer.shape[0], s.H, s.HV, s.K, s.V, length=T, device=DEVICE)
    for t in (records.d, records.k, records.g):
        t.fill_(float("nan"))
    frozen, ring_before, fill_before = states.clone(), StateRing(ring.d.clone(), ring.k.clone(), ring.g.clone()), fill.clone()
    out = verify(qkv, a, b, A_log, dt_bias, states, idx, records, buf_idx, num_k_heads=s.H, num_tokens=T,
                 out=nan_like((B * T, s.HV, s.V)), ring=ring, fill=fill)
    valid = idx >= 0
    rows = torch.arange(B * T, device=DEVICE) // T
    assert torch.equal(out[valid[rows]], ref[valid[rows]]) and torch.equal(states, frozen)
    commit_records(states, ring, idx, fill, records, buf_idx, last, num_k_heads=s.H, tile=tile)
    keep = valid & (last >= 0)
    used = idx[keep].long()
    now = naive.replay_ring(states[used], ring.d[used], ring.k[used], ring.g[used], fill[keep].long())
    parity("committed draft records", now, buffer[buf_idx[keep].long(), last[keep].long()], 1e-5)
    grown = fill_before[keep] + last[keep] + 1
    assert torch.equal(fill[keep], torch.where(grown <= L - 1, grown, 0).to(torch.int32))
    assert (fill[keep] == 0).any() and (fill[keep] > 0).any()  # both paths ran
    same = ~keep
    assert torch.equal(fill[same], fill_before[same])
    untouched = torch.ones(states.shape[0], dtype=torch.bool, device=DEVICE)
    untouched[used] = False
    assert torch.equal(states[untouched], frozen[untouched]) and torch.equal(ring.d[untouched], ring_before.d[untouched])


@pytest.mark.parametrize("verifier", ["replayed", "output-only"])
@pytest.mark.parametrize("s", SHAPES)
def test_draft_record_rounds_match_sequential_reference(s, verifier, parity):
    """Five rounds of verify on checkpoint + ring writing draft records, each followed by commit_records with a
    double-buffered fill (``next_fill_out``), against naive.verify_gdn on the states the rows stand for: every
    round's outputs within 1e-5, and after the last round each slot's checkpoint replayed through its ring equals
    the reference state within 1e-5. Random acceptance (none to all drafts) drives appends, folds and ring wrap;
    a padding row keeps zeros out and touches nothing; ``fill`` itself is never written. Round r commits with
    ``COMMITS[r % 3]`` (products at two tiles, replayed), so each runs. ``replayed``: verify with
    the ring replayed into the state, unrolled (``unroll_ring``) in odd rounds, in a loop in even ones;
    ``output-only``: ring_verify, which builds no state (two 8-row blocks a program in even rounds, its default tile in
    odd ones)."""
    g0, B, T, _, _, _, A_log, dt_bias, states, idx, buf_idx, _ = _case(s, 260 + s.K)
    L = 6
    ring = _random_ring(s, states.shape[0], L, g0)
    fills = [torch.randint(0, L, (B,), generator=g0, device=DEVICE).to(torch.int32), nan_like((B,)).int()]
    valid = idx >= 0
    used = idx[valid].long()
    ref = naive.replay_ring(states[used], ring.d[used], ring.k[used], ring.g[used], fills[0][valid].long())
    records = StateRing.allocate(buf_idx.max().item() + 1, s.H, s.HV, s.K, s.V, length=T, device=DEVICE)
    folded = appended = 0
    for r in range(5):
        fill, fill_next = fills[r % 2], fills[1 - r % 2]
        kept = fill.clone()
        qkv, a, b = step_inputs(s, B * T, g0)
        if verifier == "output-only":
            tile = {} if r % 2 else {"block_v": 16, "block_rows": 8}
            out = ring_verify(qkv, a, b, A_log, dt_bias, states, ring, idx, fill, records, buf_idx, num_k_heads=s.H,
                              num_tokens=T, out=nan_like((B * T, s.HV, s.V)), **tile)
        else:
            out = verify(qkv, a, b, A_log, dt_bias, states, idx, records, buf_idx, num_k_heads=s.H, num_tokens=T,
                         out=nan_like((B * T, s.HV, s.V)), ring=ring, fill=fill, unroll_ring=r % 2 == 1)
        q, k, v = naive.split_qkv(qkv.view(B, T, -1), s.H, s.K, s.HV, s.V)
        g, beta = naive.gdn_gating(a.view(B, T, -1), b.view(B, T, -1), A_log, dt_bias)
        rows = torch.arange(B, device=DEVICE)
        o_ref, inter = naive.verify_gdn(naive.l2norm(q)[valid], naive.l2norm(k)[valid], v[valid], g[valid],
                                        beta[valid], ref, rows[: int(valid.sum())].to(torch.int32))
        out = out.view(B, T, s.HV, s.V)
        parity(f"round {r} output", out[valid], o_ref, 1e-5)
        assert torch.equal(out[~valid], torch.zeros_like(out[~valid]))
        last = torch.randint(-1, T, (B,), generator=g0, device=DEVICE).to(torch.int32)
        commit_records(states, ring, idx, fill, records, buf_idx, last, num_k_heads=s.H, next_fill_out=fill_next,
                       tile=COMMITS[r % len(COMMITS)])
        assert torch.equal(fill, kept)
        lv = last[valid].long()
        ref = torch.where((lv >= 0)[:, None, None, None], inter[torch.arange(lv.numel(), device=DEVICE), lv.clamp_min(0)], ref)
        acc = torch.where(valid & (last >= 0), last + 1, 0)
        grown = kept + acc
        assert torch.equal(fill_next, torch.where(acc > 0, torch.where(grown <= L - 1, grown, 0), kept).int())
        folded += int(((acc > 0) & (grown > L - 1)).sum())
        appended += int(((acc > 0) & (grown <= L - 1)).sum())
    fill = fills[1]  # written by the fifth round
    now = naive.replay_ring(states[used], ring.d[used], ring.k[used], ring.g[used], fill[valid].long())
    parity("state after five rounds", now, ref, 1e-5)
    assert folded and appended  # both commit paths ran


@pytest.mark.parametrize("T, dtype, s", [
    (1, torch.bfloat16, SMALL), (2, torch.bfloat16, SMALL), (5, torch.bfloat16, SMALL), (3, torch.float32, SMALL),
    pytest.param(5, torch.bfloat16, TP4, marks=pytest.mark.gpu, id="5-tp4"),
])
def test_ring_verify_any_draft_count(T, dtype, s, parity):
    """ring_verify at draft counts other than the bench's 4 (one draft: no recurrence; five: 8 padded columns of
    keys and 8 of queries, where compiled Triton once turned the small broadcast products into tf32 dots) and on fp32
    inputs (the split Gram product) against naive.verify_gdn on the replayed states: outputs within 1e-5, each
    draft's record ``g`` the gate and its ``k`` the unit key; pool, ring and fill unchanged."""
    g0 = make_gen(300 + T)
    B, L = 3, 8
    qkv, a, b = step_inputs(s, B * T, g0, dtype=dtype)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * B, g0)
    idx = slot_indices(B, 2 * B, g0)
    ring = _random_ring(s, 2 * B, L, g0)
    fill = torch.randint(0, L, (B,), generator=g0, device=DEVICE).to(torch.int32)
    frozen, ring_d, kept = states.clone(), ring.d.clone(), fill.clone()
    records = StateRing.allocate(B, s.H, s.HV, s.K, s.V, length=T, device=DEVICE)
    out = ring_verify(qkv, a, b, A_log, dt_bias, states, ring, idx, fill, records,
                      torch.arange(B, device=DEVICE, dtype=torch.int32), num_k_heads=s.H, num_tokens=T,
                      out=nan_like((B * T, s.HV, s.V)))
    used = idx.long()
    ref = naive.replay_ring(states[used], ring.d[used], ring.k[used], ring.g[used], fill.long())
    q, k, v = naive.split_qkv(qkv.view(B, T, -1), s.H, s.K, s.HV, s.V)
    g, beta = naive.gdn_gating(a.view(B, T, -1), b.view(B, T, -1), A_log, dt_bias)
    o_ref, _ = naive.verify_gdn(naive.l2norm(q), naive.l2norm(k), v, g, beta, ref,
                                torch.arange(B, device=DEVICE, dtype=torch.int32))
    parity(f"T={T} outputs", out.view(B, T, s.HV, s.V), o_ref, 1e-5)
    parity(f"T={T} record gates", records.g, g.transpose(1, 2), 1e-6)
    parity(f"T={T} record keys", records.k, naive.l2norm(k).float().transpose(1, 2), 1e-6)
    assert torch.equal(states, frozen) and torch.equal(ring.d, ring_d) and torch.equal(fill, kept)


def test_ring_verify_tile_is_the_measured_winner():
    """The default (rows per program, rows per block, pipeline stages, L2 prefetch) is the fastest tile at each
    ring-verify bench shape ((batch, v-heads) at TP1 and TP4; H200, runtime/gdn/NOTES.md rounds seventeen, eighteen and
    twenty-one), the bench times each rule's tile, and a rule that prefetches has one-block programs."""
    measured = {(16, 32): (64, 16, 2, False), (64, 32): (128, 16, 3, False), (256, 32): (128, 16, 3, False),
                (16, 8): (32, 32, 2, True), (64, 8): (64, 16, 2, False), (256, 8): (128, 16, 3, False)}
    assert {shape: ring_verify_tile(*shape) for shape in measured} == measured
    assert {(t.block_v, t.block_rows, t.num_stages) for t in SPEC_TILES} == {m[:3] for m in measured.values()}


def test_verify_tile_is_the_measured_winner():
    """The default verify tile is the faster of 4 and 8 one-warp rows at each verify bench shape ((batch, v-heads)
    at TP1 and TP4; H200, runtime/gdn/NOTES.md rounds eleven, fifteen and sixteen)."""
    measured = {(16, 32): 4, (64, 32): 4, (256, 32): 8, (16, 8): 8, (64, 8): 4, (256, 8): 4}
    assert {shape: verify_tile(*shape)[0] for shape in measured} == measured
    assert all(verify_tile(*shape)[1] == 1 for shape in measured)


def test_commit_tile_is_the_measured_winner():
    """The default commit is the fastest of round eighteen's 13 at each ring-verify bench shape ((batch, v-heads) at
    TP1 and TP4; H200, runtime/gdn/NOTES.md round eighteen)."""
    fused, products = CommitTile("fused", 8, 8, 1), CommitTile(block_v=64)
    measured = {(16, 32): fused, (64, 32): products, (256, 32): CommitTile(block_v=128), (16, 8): fused,
                (64, 8): fused, (256, 8): products}
    assert {shape: commit_tile(*shape) for shape in measured} == measured
    with pytest.raises(ValueError):
        CommitTile("split")
