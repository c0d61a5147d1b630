"""Every invariant fires when what it guards is broken (so a passing run means something)."""

import pytest
import torch

from runtime.scheduling.batch import prepare_for_decode
from runtime.scheduling.config import Knobs
from runtime.scheduling.invariants import InvariantViolation
from runtime.scheduling.scheduler import Simulator
from runtime.scheduling.workload import shared_prefix


def _midway(steps=14, **knobs):
    sim = Simulator(Knobs(chunk_size=8, **knobs), shared_prefix())
    for _ in range(steps):
        sim.step()
    sim.checker.after_step()
    return sim


def _fires(name, fn):
    with pytest.raises(InvariantViolation) as err:
        fn()
    assert err.value.name == name


def _tree_state_node(sim):
    return next(n for n in sim.tree.nodes() if n.state is not None)


def test_tree_state_content():
    sim = _midway()
    slot = int(_tree_state_node(sim).state)
    states = sim.sp.read(slot)
    states.ssm[0, 0, 0, 0] += 1e-6
    sim.sp.write(slot, states, tuple(sim.sp.prov[slot]))  # right label, wrong numbers
    _fires("tree-state", sim.checker.after_step)


def test_tree_kv_content():
    sim = _midway()
    node = next(n for n in sim.tree.nodes() if n.kv)
    path = sim.tree.path(node)
    k, v = sim.kv.gather(node.kv[:1])
    sim.kv.write(node.kv[:1], k + 1e-6, v, list(path), len(path) - len(node.kv))
    _fires("tree-kv", sim.checker.after_step)


def test_working_state_content():
    sim = _midway()
    req = next(r for r in sim.active_requests() if r.working is not None)
    slot = int(req.working)
    states = sim.sp.read(slot)
    states.conv[-1, 0, 0] -= 1e-6
    sim.sp.write(slot, states, tuple(sim.sp.prov[slot]))
    _fires("working-state", sim.checker.after_step)


def test_state_and_kv_conservation():
    sim = _midway()
    sim.sp.alloc(1)  # allocated and held by nobody: a leak
    _fires("state-conservation", sim.checker.after_step)
    sim = _midway()
    sim.kv.allocator.free(torch.tensor([_tree_state_node(sim).kv[0]]))  # freed while the tree owns it
    _fires("kv-conservation", sim.checker.after_step)


def test_launch_target():
    sim = _midway(steps=25)
    req = sim.running[0]
    req.ping_pong[req.next_track_idx] = _tree_state_node(sim).state.clone()  # aim at a tree slot
    while len(req.tokens) % sim.res.track_grid:
        req.tokens.append(0)  # force the next decode onto the track grid
    req.kv_row.extend(sim.kv.alloc(len(req.tokens) - 1 - len(req.kv_row)))
    req.state_len = len(req.tokens) - 1
    batch = prepare_for_decode([req], sim.res)
    batch.write_targets = {slot: () for _, slot, _ in batch.decode_track}
    _fires("launch-target", lambda: sim.checker.on_launch(batch))


def test_outputs():
    sim = _midway()
    req = next(r for r in sim.requests.values() if r.outputs)
    req.outputs[-1] = (req.outputs[-1] + 1) % 64
    _fires("outputs", lambda: sim.checker.on_output(req))
