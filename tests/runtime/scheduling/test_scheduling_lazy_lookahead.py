"""extra_buffer_lazy (one track slot, a second only across a decode boundary) and the overlap lookahead
(result processing one decode batch behind swaps the ping-pong one step early)."""

import random

import pytest

from runtime.scheduling.config import ConfigError, Knobs, resolve
from runtime.scheduling.invariants import InvariantViolation
from runtime.scheduling.request import ReqSpec
from runtime.scheduling.scheduler import Simulator
from runtime.scheduling.workload import expected_outputs, shared_prefix

LAZY = Knobs(strategy="extra_buffer_lazy", chunk_size=8)


def _prompt(seed, n):
    rng = random.Random(seed)
    return tuple(rng.randrange(64) for _ in range(n))


def test_lazy_resolves_to_extra_buffer_with_one_slot():
    r = resolve(LAZY)
    assert (r.mode, r.lazy, r.ping_pong, r.overlap) == ("extra_buffer", True, 1, True)
    assert not resolve(Knobs()).lazy  # auto never picks lazy


def test_lazy_without_the_overlap_schedule_is_refused():
    """KVCacheConfigurator._calculate_mamba_ratio asserts lazy needs the overlap schedule: without it the pool
    builds a one-position buffer that the boundary step (mamba_lazy_prealloc_at_boundary) indexes at position 1."""
    with pytest.raises(ConfigError, match="overlap"):
        resolve(LAZY.with_(overlap=False))
    with pytest.raises(ConfigError):
        Simulator(LAZY.with_(overlap=False), shared_prefix())
    assert resolve(LAZY.with_(radix=False, overlap=False)).mode == "none"  # no radix cache: no buffer to refuse


def test_lazy_holds_fewer_slots_and_returns_the_same_tokens():
    specs = shared_prefix()
    lazy = Simulator(LAZY.with_(state_slots=64), specs).run()
    eager = Simulator(LAZY.with_(strategy="extra_buffer", state_slots=64), specs).run()
    assert lazy.outputs() == eager.outputs() == expected_outputs(specs)
    assert lazy.stats.lazy_prealloc > 0
    # eager holds two track slots per request all the time under overlap, lazy one
    assert lazy.stats.peak_state_slots < eager.stats.peak_state_slots


def test_lazy_boundary_slot_lives_for_one_step():
    """Overlap: the boundary step (seq 16) is launched with a second slot, which the result processing
    keeps while freeing the first; the finish donates the newest checkpoint."""
    sim = Simulator(LAZY, [ReqSpec(0, _prompt(60, 10), 12)])
    held = {}
    while not sim.requests.get(0) or not sim.requests[0].done:
        sim.step()
        req = sim.requests[0]
        if not req.done:
            held[len(req.kv_row)] = sum(s is not None for s in req.ping_pong)
    assert held[16] == 2 and held[15] == held[17] == 1
    assert ("finish", 16) in [(d.kind, d.depth) for d in sim.stats.donations]


def _boundary_rides_a_mixed_batch():
    return [ReqSpec(0, _prompt(70, 6), 20), ReqSpec(1, _prompt(71, 20), 2, arrival=9)]


def test_lazy_gives_the_slot_back_when_the_boundary_rides_a_mixed_batch():
    knobs = LAZY.with_(mixed=True)
    specs = _boundary_rides_a_mixed_batch()
    sim = Simulator(knobs, specs).run()
    assert sim.stats.lazy_undone == 1 and sim.outputs() == expected_outputs(specs)
    with pytest.raises(InvariantViolation) as err:
        Simulator(knobs.with_(variants=frozenset({"lazy_keep_prealloc_on_mix"})), specs).run()
    assert err.value.name == "track-slots"


def test_lazy_tracks_in_place_without_a_free_slot():
    """With the pool full the boundary step overwrites the kept checkpoint, which is then forgotten; no
    stale slot is donated, and the tokens are right."""
    specs = [ReqSpec(0, _prompt(60, 10), 30)]
    sim = Simulator(LAZY.with_(state_slots=3), specs).run()
    assert sim.stats.lazy_in_place > 0 and sim.outputs() == expected_outputs(specs)


def test_lookahead_swaps_one_step_early_under_overlap():
    """When the boundary step (seq 16) is launched, processing the result of seq 15 already points
    next_track_idx at the other slot (the boundary step was prepared with the old one); processing the
    boundary's own result then names its slot and depth 16."""
    sim = Simulator(Knobs(chunk_size=8), [ReqSpec(0, _prompt(61, 10), 12)])
    seen = {}  # KV prepared (the newest launched step's seq_len) -> (next, last, last depth)
    while not sim.requests.get(0) or not sim.requests[0].done:
        sim.step()
        req = sim.requests[0]
        if not req.done:
            seen[len(req.kv_row)] = (req.next_track_idx, req.last_track_idx, req.last_track_seqlen)
    assert seen[15] == (1, 0, None)  # after the prefill: the 8-token chunk was donated, next is slot 1
    assert seen[16] == (0, 0, None)  # boundary step in flight, writing slot 1: next already swapped
    assert seen[17] == (0, 1, 16)  # its result: slot 1 holds depth 16 (kv_committed_len 17 - lookahead 1)


def test_without_overlap_the_swap_follows_the_boundary():
    sim = Simulator(Knobs(chunk_size=8, overlap=False, page_size=4), [ReqSpec(0, _prompt(61, 10), 12)])
    seen = {}
    while not sim.requests.get(0) or not sim.requests[0].done:
        sim.step()
        req = sim.requests[0]
        if not req.done:
            seen[len(req.outputs) + 9] = (req.next_track_idx, req.last_track_seqlen)
    assert seen[15] == seen[14] and seen[16] == (seen[15][0], 16)


def test_lookahead_seqlen_bug_is_caught():
    """Taking the checkpoint depth from kv_committed_len without the lookahead keys it one token deep."""
    specs = [ReqSpec(0, _prompt(61, 10), 12)]
    with pytest.raises(InvariantViolation) as err:
        Simulator(Knobs(chunk_size=8, variants=frozenset({"lookahead_seqlen"})), specs).run()
    assert err.value.name == "write-before-donate" and "donated at depth 17" in str(err.value)
    ok = Simulator(Knobs(chunk_size=8, overlap=False, page_size=4, variants=frozenset({"lookahead_seqlen"})),
                   specs).run()  # no overlap, no lookahead: the variant changes nothing
    assert ok.outputs() == expected_outputs(specs)


def test_lookahead_invariant():
    sim = Simulator(Knobs(), [ReqSpec(0, _prompt(62, 5), 3)])
    sim.step()
    with pytest.raises(InvariantViolation) as err:
        sim.checker.on_lookahead(sim.requests[0], 2)
    assert err.value.name == "lookahead"
