"""ReplaySSM's decode ring (#28451, #32692 read in 0.5.23): cursor, flushes, and the two provenances."""

import random

import pytest

from runtime.scheduling.config import ConfigError, Knobs, resolve
from runtime.scheduling.model import oracle_state
from runtime.scheduling.pools import GARBAGE
from runtime.scheduling.request import ReqSpec
from runtime.scheduling.scheduler import Simulator
from runtime.scheduling.workload import expected_outputs

RS = Knobs(strategy="no_buffer", overlap=False, replayssm=True, chunk_size=8, ring_len=4, track_interval=16)


def _prompt(seed, n):
    rng = random.Random(seed)
    return tuple(rng.randrange(64) for _ in range(n))


def test_replayssm_needs_no_buffer_and_a_ring():
    with pytest.raises(ConfigError, match="no_buffer"):
        resolve(RS.with_(strategy="extra_buffer"))
    with pytest.raises(ConfigError, match="no_buffer"):
        resolve(RS.with_(strategy="auto", overlap=True))  # auto resolves to extra_buffer under overlap
    with pytest.raises(ConfigError, match="cache-len"):
        resolve(RS.with_(ring_len=0))
    assert resolve(RS.with_(mixed=True)).mode == "no_buffer"  # 0.5.23 does not refuse mixed chunk
    assert resolve(RS.with_(radix=False, overlap=True)).mode == "none"


@pytest.mark.parametrize("ring_len", [1, 3, 4, 5])
def test_cursor_advances_once_per_decode_and_resets_at_each_flush(ring_len):
    """After a decode step at seq_len s the cursor is 0 when the ring was full (L - 1) or s % interval == 0,
    else one more; the live state (checkpoint folded with the ring) is the oracle's at every step."""
    knobs = RS.with_(ring_len=ring_len, radix=False)
    spec = ReqSpec(0, _prompt(1, 5), 30)
    sim = Simulator(knobs, [spec])
    fills, want, fill = [], [], 0
    while not sim.requests.get(0) or not sim.requests[0].done:
        sim.step()
        req = sim.requests[0]
        if req.done or len(req.outputs) < 2:
            continue
        seq_len = req.state_len
        fill = 0 if fill == ring_len - 1 or seq_len % 16 == 0 else fill + 1
        want.append(fill)
        fills.append(sim.sp.fill(int(req.working)))
        slot = int(req.working)
        live = sim.sp.live(slot)
        assert live.close_to(oracle_state(req.tokens[:seq_len]), 1e-9)
        assert sim.sp.prov_conv[slot] == tuple(req.tokens[:seq_len])  # conv advances every step
        assert sim.sp.prov_ssm[slot] == tuple(req.tokens[:seq_len - fill])  # checkpoint: last flush
    assert fills == want and len(fills) > 20
    assert 0 in fills and (ring_len == 1 or max(fills) == ring_len - 1)


def test_forced_flush_on_the_track_interval():
    """A ring longer than the gap to the next multiple of the interval is flushed there anyway."""
    knobs = RS.with_(ring_len=64, radix=False)
    sim = Simulator(knobs, [ReqSpec(0, _prompt(2, 10), 12)])
    seen = {}
    while not sim.requests.get(0) or not sim.requests[0].done:
        sim.step()
        req = sim.requests[0]
        if not req.done and req.working is not None:
            seen[req.state_len] = sim.sp.fill(int(req.working))
    assert [seen[n] for n in range(10, 21)] == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4]  # prefill ends at 10


def test_an_extend_over_a_pending_ring_leaves_a_garbage_live_state():
    sim = Simulator(RS.with_(radix=False), [ReqSpec(0, _prompt(3, 5), 6)], check=False)
    for _ in range(4):
        sim.step()
    req = sim.requests[0]
    slot = int(req.working)
    assert sim.sp.fill(slot) > 0
    sim.sp.write(slot, sim.sp.read(slot), tuple(req.tokens[:req.state_len]))  # the extend path's write
    assert sim.sp.live_prov(slot) == GARBAGE


def test_plain_decode_is_unchanged_by_the_ring():
    """With nothing cached and nothing mixed, the ring only changes where the state lives."""
    specs = [ReqSpec(i, _prompt(10 + i, 7), 20, arrival=i) for i in range(3)]
    assert Simulator(RS.with_(radix=False), specs).run().outputs() == expected_outputs(specs)
