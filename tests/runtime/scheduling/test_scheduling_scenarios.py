"""Deterministic scenarios: each strategy's flow, the mixed-chunk lane, and every bug variant caught.

Card links: #22876 and #39526 -> ``test_mixed_chunk_with_extra_buffer_reuses_the_tracked_state``;
#39342 -> ``test_drop_track_on_mix_is_caught``; #23075 -> ``test_track_meta_short_*``;
#14792 (extra_buffer) -> ``test_extra_buffer_donates_the_tracked_slot_without_a_copy`` and
``test_overlap_needs_two_track_slots``.
"""

import random

import pytest

from runtime.scheduling.config import Knobs
from runtime.scheduling.invariants import InvariantViolation
from runtime.scheduling.model import oracle_generate
from runtime.scheduling.request import ReqSpec
from runtime.scheduling.scheduler import SimulationError, Simulator
from runtime.scheduling.workload import expected_outputs, mixed_repro, shared_prefix

MIXED = Knobs(strategy="extra_buffer", mixed=True, chunk_size=32)


def _prompt(seed, n):
    rng = random.Random(seed)
    return tuple(rng.randrange(64) for _ in range(n))


def _violation(knobs, specs):
    with pytest.raises(InvariantViolation) as err:
        Simulator(knobs, specs).run()
    return err.value.name


def test_no_buffer_checkpoints_every_chunk_and_donates_the_working_slot():
    sim = Simulator(Knobs(strategy="no_buffer", overlap=False, chunk_size=8), [ReqSpec(0, _prompt(0, 20), 5)])
    sim.run()
    assert [(d.kind, d.depth) for d in sim.stats.donations] == [("chunk", 8), ("chunk", 16), ("chunk", 20),
                                                                 ("finish", 24)]
    assert sim.sp.allocator.available() == sim.sp.allocator.size - 4  # the tree holds 4 states, nothing leaks


def test_extra_buffer_donates_the_tracked_slot_without_a_copy():
    """#14792: the snapshot slot written by the forward is the very slot the tree keys, no copy in between."""
    knobs = Knobs(strategy="extra_buffer", chunk_size=8, overlap=False)
    sim = Simulator(knobs, [ReqSpec(0, _prompt(1, 22), 3)])
    req = None
    written = {}
    while sim.pending or sim.waiting or sim.running or sim.chunked:
        sim.step()
        req = req or sim.requests.get(0)
        if req is not None and not req.done and req.last_track_seqlen is not None:
            written[req.last_track_seqlen] = int(req.ping_pong[req.last_track_idx])
    states = {len(sim.tree.path(n)): int(n.state) for n in sim.tree.nodes() if n.state is not None}
    assert written and all(states[depth] == slot for depth, slot in written.items())
    assert sorted(states) == [8, 16, 20]  # chunk ends 8 and 16; the last chunk (16..22) floors to 20


def test_mixed_chunk_budget_and_page_cut():
    """With r decoding requests a mixed step prefills at most chunk - r tokens. 0.5.23 floors the admission
    to the page grid (16 - 3 = 13 -> 12, ``_select_prefill_admission``) but cuts every continuation to the raw
    budget (``add_chunked_req``): the chunks end at 12, 25, 38, off the 4-token page grid."""
    decoders = [ReqSpec(i, _prompt(10 + i, 5), 30) for i in range(3)]
    late = ReqSpec(3, _prompt(20, 40), 2, arrival=4)
    knobs = Knobs(mixed=True, chunk_size=16, page_size=4, overlap=False)

    def chunk_ends(knobs):
        sim = Simulator(knobs, decoders + [late], check=False)
        ends = [0]
        while 3 not in sim.requests or not sim.requests[3].done:
            before = sim.stats.batches["mixed"]
            sim.step()
            req = sim.requests.get(3)
            if req is not None and sim.stats.batches["mixed"] > before and req.extend_end > ends[-1]:
                ends.append(req.extend_end)
        return ends

    assert chunk_ends(knobs) == [0, 12, 25, 38, 40]
    fixed = chunk_ends(knobs.with_(variants=frozenset({"page_grid_cut"})))
    assert fixed == [0, 12, 24, 36, 40]  # the fix keeps every cut on the grid


def test_mixed_chunk_with_extra_buffer_reuses_the_tracked_state():
    """#22876 guard not needed in 0.5.23 (#39526 equivalent inline): B's prefill is mixed with A's decode,
    tracked at 16, donated, and C restores it; every output matches the oracle."""
    specs = mixed_repro()
    for knobs in (MIXED, MIXED.with_(overlap=False), MIXED.with_(row_order="decode_first")):
        sim = Simulator(knobs, specs).run()
        assert sim.stats.batches["mixed"] > 0
        assert ("chunk", 16) in [(d.kind, d.depth) for d in sim.stats.donations if d.rid == 1 and d.kept]
        assert sim.requests[2].hit_tokens == 16
        assert sim.outputs() == expected_outputs(specs)


def test_drop_track_on_mix_is_caught():
    """#39342: the merge drops B's tracking after the slot was claimed; the never-written slot is donated."""
    specs = mixed_repro()
    bug = MIXED.with_(variants=frozenset({"drop_track_on_mix"}))
    assert _violation(bug, specs) == "write-before-donate"
    sim = Simulator(bug, specs, check=False).run()  # what users would see without the checks
    want = expected_outputs(specs)
    assert sim.requests[2].hit_tokens == 16
    assert sim.outputs()[0] == want[0] and sim.outputs()[1] == want[1]
    assert sim.outputs()[2] != want[2]


def test_drop_track_on_mix_is_latent_without_mixing():
    bug = Knobs(chunk_size=32, variants=frozenset({"drop_track_on_mix"}))
    assert Simulator(bug, mixed_repro()).run().outputs() == expected_outputs(mixed_repro())


def test_track_meta_short_is_caught_in_sglang_row_order():
    """#23075 class: the mixed batch keeps one track entry per prefill row; the decode row appended after
    B reads B's entry again and writes its own garbage snapshot into B's track slot, which B donates."""
    bug = MIXED.with_(variants=frozenset({"track_meta_short"}))
    assert _violation(bug, mixed_repro()) == "write-before-donate"
    sim = Simulator(bug, mixed_repro(), check=False).run()
    assert sim.requests[2].hit_tokens == 16
    assert sim.outputs()[2] != expected_outputs(mixed_repro())[2]


def test_track_meta_short_is_latent_without_mixing():
    bug = Knobs(chunk_size=32, variants=frozenset({"track_meta_short"}))
    specs = mixed_repro() + [ReqSpec(s.rid + 3, s.prompt, s.max_new, s.arrival) for s in shared_prefix()[:4]]
    assert Simulator(bug, specs).run().outputs() == expected_outputs(specs)


def test_snapshot_indexing_does_not_depend_on_row_order():
    """SGLang appends decode rows; the model's kernel view gives the same result with them first."""
    specs = mixed_repro()
    for knobs in (MIXED, MIXED.with_(row_order="decode_first")):
        assert Simulator(knobs, specs).run().outputs() == expected_outputs(specs)


def _stop_on_boundary_request():
    """A request that hits a stop token one step before a decode track boundary (prompt 10, boundary 32)."""
    for seed in range(100):
        prompt = _prompt(seed, 10)
        reply = oracle_generate(prompt, 24)
        if reply[21] not in reply[:21]:
            return ReqSpec(0, prompt, 24, stop=(reply[21],))
    raise AssertionError("no such prompt")


def test_overlap_needs_two_track_slots():
    """With overlap the finishing request still rides the next batch, which snapshots at seq 32 into the
    next ping-pong slot. Two slots keep the donated checkpoint (16) safe; one slot lets it be overwritten."""
    spec = _stop_on_boundary_request()
    sim = Simulator(Knobs(), [spec]).run()
    assert sim.stats.discarded_rows == 1
    assert ("finish", 16) in [(d.kind, d.depth) for d in sim.stats.donations]
    assert _violation(Knobs(variants=frozenset({"single_track_slot"})), [spec]) == "in-flight-write"
    assert Simulator(Knobs(overlap=False, page_size=4, variants=frozenset({"single_track_slot"})),
                     [spec]).run().outputs() == expected_outputs([spec])


@pytest.mark.parametrize("strategy,overlap", [("no_buffer", False), ("extra_buffer", True)])
def test_eviction_under_pool_pressure(strategy, overlap):
    specs = shared_prefix(1)
    sim = Simulator(Knobs(strategy=strategy, overlap=overlap, chunk_size=8, state_slots=10, kv_slots=160),
                    specs).run()
    t = sim.tree.stats
    assert t.tombstoned + t.leaves_evicted > 0 and t.kv_evicted > 0
    assert sim.outputs() == expected_outputs(specs)


def test_a_request_that_cannot_fit_is_reported_not_spun_on():
    with pytest.raises(SimulationError, match="cannot be admitted"):
        Simulator(Knobs(kv_slots=10), [ReqSpec(0, _prompt(40, 20), 3)]).run()


def test_mixed_chunk_budget_counts_a_request_whose_last_token_is_in_flight():
    """SGLang builds the PrefillAdder with ``running_bs`` (every running request) before
    ``_reqs_finishing_inflight`` drops the one whose last token is in flight: the chunk budget is 8 - 1 even
    though that request does not ride the batch (none does, so the batch is not mixed)."""
    specs = [ReqSpec(0, _prompt(80, 4), 2), ReqSpec(1, _prompt(81, 30), 2, arrival=3)]
    sim = Simulator(MIXED.with_(chunk_size=8), specs)
    first = None
    while first is None:
        sim.step()
        rows = sim.in_flight.rows if sim.in_flight else []
        first = next((r for r in rows if r.req.rid == 1), None)
        if first is not None:
            assert sim.in_flight.mode == "extend" and sim.requests[0].sampled == 2
    assert (first.prefix_len, first.extend_len) == (0, 7)
    assert sim.run().outputs() == expected_outputs(specs)
