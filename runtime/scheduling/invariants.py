"""Invariants checked after every scheduler step and at every launch, donation and output.

Each violation raises :class:`InvariantViolation` naming the invariant:

- ``outputs``: every committed token equals the oracle's greedy token.
- ``tree-state`` / ``tree-kv``: every state in the tree is the oracle state of its node's path, and every
  KV slot the tree owns holds the oracle KV of its position (checked once per node and slot; a later write
  changes the slot's provenance object and triggers a recheck).
- ``working-state``: each request's working slot holds the oracle state of the tokens it has folded in
  (with ReplaySSM: its checkpoint folded with its ring).
- ``write-before-donate``: a donated slot's conv state and recurrent state both hold exactly the prefix of
  the depth it is keyed at (checked separately: a ReplaySSM slot can hold them at different depths).
- ``in-flight-write``: no launched, unprocessed batch writes a donated slot anything else.
- ``launch-target``: a batch writes only slots its own requests hold (never a tree-owned or free slot).
- ``state-conservation`` / ``kv-conservation``: free + held by requests + held by the tree = every slot,
  disjointly, slot 0 never handed out.
- ``lookahead``: a decode result is processed at most one prepared decode batch behind (the assertion in
  ``_handle_finish_state_updated_req``).
- ``track-slots``: an extra_buffer_lazy request holds one track slot, two only while a decode step at a
  track boundary is launched and unprocessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from runtime.scheduling.batch import Batch
    from runtime.scheduling.request import Request
    from runtime.scheduling.scheduler import Simulator


class InvariantViolation(AssertionError):
    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"[{name}] {detail}")
        self.name = name


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-9) -> bool:
    return bool(torch.allclose(a, b, atol=tol, rtol=0))


class Checker:
    """Holds what has been verified so far; the simulator calls its hooks."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        # slot versions at verification: a slot is trusted until its next write
        self._states: dict[int, tuple[int, int]] = {}
        self._kv: dict[int, list[int]] = {}

    def on_output(self, req: Request) -> None:
        want = self.sim.oracle.generate(req.spec.prompt, len(req.outputs))
        if tuple(req.outputs) != want:
            raise InvariantViolation("outputs", f"req {req.rid}: got {req.outputs}, oracle {list(want)}")

    def on_launch(self, batch: Batch) -> None:
        held = {int(s) for row in batch.rows for s in row.req.held_state_slots()}
        tree = self._tree_state_slots()
        for slot in batch.write_targets:
            if slot not in held or slot in tree:
                raise InvariantViolation("launch-target", f"{batch.mode} batch writes slot {slot}, "
                                         "which it does not hold")
        for row in batch.rows:
            if row.prefix_len < row.req.protected_len:
                raise InvariantViolation("launch-target", f"req {row.req.rid} writes KV the tree owns")

    def on_lookahead(self, req: Request, lookahead: int) -> None:
        if lookahead not in (0, 1):
            raise InvariantViolation("lookahead", f"req {req.rid}: result processed {lookahead} decode batches "
                                     "behind (overlap runs one ahead at most)")

    def on_donate(self, slot: int, tokens: tuple[int, ...]) -> None:
        for batch in self.sim.in_flight_batches():
            if batch.write_targets.get(slot, tokens) != tokens and batch.overwrote.get(slot) == tokens:
                raise InvariantViolation("in-flight-write", f"slot {slot} donated at depth {len(tokens)} is "
                                         "overwritten by a batch still in flight")
        prov = self.sim.sp.prov[slot]
        if prov != tokens:
            raise InvariantViolation("write-before-donate",
                                     f"slot {slot} donated at depth {len(tokens)} holds {_describe(prov)}")

    def after_step(self) -> None:
        sim = self.sim
        self._check_tree()
        for req in sim.active_requests():
            if req.working is None:
                continue
            slot = int(req.working)
            prefix = tuple(req.tokens[:req.state_len])
            self._check_state(slot, prefix, "working-state", f"req {req.rid} working slot {slot}", live=True)
        self._check_conservation()
        if sim.res.lazy:
            self._check_lazy_slots()

    def _check_lazy_slots(self) -> None:
        boundary = {id(row.req) for b in self.sim.in_flight_batches() for row, _, _ in b.decode_track}
        for req in self.sim.active_requests():
            held = sum(s is not None for s in req.ping_pong)
            if held > (2 if id(req) in boundary else 1):
                raise InvariantViolation("track-slots", f"req {req.rid} holds {held} track slots outside a "
                                         "decode track boundary")

    def _check_state(self, slot: int, prefix: tuple[int, ...], name: str, what: str, live: bool = False) -> None:
        """``live``: the state a decode step would read (checkpoint folded with a ReplaySSM ring)."""
        sp = self.sim.sp
        prov = sp.live_prov(slot) if live else sp.prov[slot]
        stamp = (sp.version[slot], len(prefix), live)
        if self._states.get(slot) == stamp:
            return
        if prov != prefix:
            raise InvariantViolation(name, f"{what} should hold depth {len(prefix)}, holds {_describe(prov)}")
        want, got = self.sim.oracle.state(prefix), sp.live(slot) if live else sp.read(slot)
        if not (_close(got.conv, want.conv) and _close(got.ssm, want.ssm)):
            raise InvariantViolation(name, f"{what} differs from the oracle state of depth {len(prefix)}")
        self._states[slot] = stamp

    def _check_tree(self) -> None:
        tree = self.sim.tree
        if tree is None:
            return
        for node in tree.nodes():
            if node is tree.root:
                continue
            path = tree.path(node)
            if node.state is not None:
                self._check_state(int(node.state), path, "tree-state", f"node {node.id} (depth {len(path)})")
            kv = self.sim.kv
            stamp = [kv.version[s] for s in node.kv]
            if self._kv.get(node.id) == stamp:
                continue
            start = len(path) - len(node.kv)
            for i, slot in enumerate(node.kv):
                if kv.prov[slot] != path[:start + i + 1]:
                    raise InvariantViolation("tree-kv", f"node {node.id} position {start + i} holds "
                                             f"{_describe(kv.prov[slot])}")
            keys, values = self.sim.oracle.kv_path(path)
            got_k, got_v = kv.gather(node.kv)
            if not (_close(got_k, keys[start:]) and _close(got_v, values[start:])):
                raise InvariantViolation("tree-kv", f"node {node.id} KV differs from the oracle")
            self._kv[node.id] = stamp

    def _tree_state_slots(self) -> set[int]:
        tree = self.sim.tree
        if tree is None:
            return set()
        return {int(n.state) for n in tree.nodes() if n.state is not None}

    def _check_conservation(self) -> None:
        sim = self.sim
        req_states: list[int] = []
        req_kv: list[int] = []
        for req in sim.active_requests():
            req_states.extend(int(s) for s in req.held_state_slots())
            req_kv.extend(req.kv_row[req.protected_len:])
        tree_states: list[int] = []
        tree_kv: list[int] = []
        if sim.tree is not None:
            for node in sim.tree.nodes():
                tree_kv.extend(node.kv)
                if node.state is not None:
                    tree_states.append(int(node.state))
        for name, pool, req, tree in (
            ("state-conservation", sim.sp.allocator, req_states, tree_states),
            ("kv-conservation", sim.kv.allocator, req_kv, tree_kv),
        ):
            count = torch.zeros(pool.size + 1, dtype=torch.int64)
            for part in (pool.free_slots, torch.tensor(req + tree, dtype=torch.int64)):
                count.index_add_(0, part, torch.ones_like(part))
            if count[0] != 0 or not bool((count[1:] == 1).all()):
                raise InvariantViolation(name, f"free {len(pool.free_slots)} + requests {len(req)} + tree "
                                         f"{len(tree)} are not the {pool.size} slots, each once")


def _describe(prov: tuple) -> str:
    if prov and isinstance(prov[0], str):
        return prov[0]
    return f"the prefix of depth {len(prov)} ending {list(prov[-3:])}"
