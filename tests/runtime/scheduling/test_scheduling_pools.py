"""Slot 0 stays reserved, freed slots are poisoned, and stored indices own their storage (#21684 class)."""

import math

import torch

from runtime.scheduling.config import Knobs
from runtime.scheduling.model import shared
from runtime.scheduling.pools import (
    POISON,
    UNWRITTEN,
    KVPool,
    SlotAllocator,
    StatePool,
    owns_storage,
    pinned_bytes,
)
from runtime.scheduling.scheduler import Simulator
from runtime.scheduling.workload import expected_outputs, shared_prefix


def test_allocator_never_hands_out_slot_zero_and_runs_dry():
    alloc = SlotAllocator(5)
    got = torch.cat([alloc.alloc(2), alloc.alloc(3)]).tolist()
    assert sorted(got) == [1, 2, 3, 4, 5]
    assert alloc.alloc(1) is None
    alloc.free(torch.tensor([4]))
    assert alloc.alloc(1).tolist() == [4]


def test_state_pool_fresh_zero_clear_and_poison():
    model, _ = shared()
    pool = StatePool(4, model.empty_states())
    slot = int(pool.alloc(1))
    assert pool.prov[slot] == UNWRITTEN and pool.read(slot).close_to(model.empty_states(), 0.0)
    pool.write(slot, model.empty_states(), (1, 2, 3))
    other = int(pool.alloc(1))
    pool.copy(slot, other)
    assert pool.prov[other] == (1, 2, 3)
    pool.free(torch.tensor([slot]))
    assert pool.prov[slot] == POISON
    assert torch.isnan(pool.read(slot).ssm).all() and torch.isnan(pool.read(slot).conv).all()
    pool.clear(other)
    assert pool.prov[other] == () and not torch.isnan(pool.read(other).ssm).any()


def test_kv_pool_poisons_freed_slots():
    model, _ = shared()
    pool = KVPool(8, model.dims, model.dtype)
    slots = pool.alloc(3)
    pool.write(slots, torch.ones(3, model.dims.attn_dim, dtype=model.dtype),
               torch.ones(3, model.dims.attn_dim, dtype=model.dtype), [7, 8, 9], 0)
    assert [pool.prov[s] for s in slots] == [(7,), (7, 8), (7, 8, 9)]
    pool.free(slots[:1])
    k, _ = pool.gather(slots)
    assert torch.isnan(k[0]).all() and not torch.isnan(k[1:]).any()


def test_aliased_indices_keep_the_whole_free_list_alive():
    """#21684 class: a one-slot index that is a view pins the storage of the entire free list."""
    size = 4096
    owning, aliasing = SlotAllocator(size), SlotAllocator(size, views=True)
    a, b = owning.alloc(1), aliasing.alloc(1)
    assert owns_storage(a) and not owns_storage(b)
    assert b.untyped_storage().nbytes() == size * 8  # 32 KiB pinned to hold 8 bytes
    held = [aliasing.alloc(1) for _ in range(8)]
    pinned = {t.untyped_storage().data_ptr() for t in held}
    assert len(pinned) == 1 and math.prod(held[0].shape) == 1
    assert pinned_bytes(held) == size * 8 and pinned_bytes([a]) == 0


def test_views_pin_storage_but_corrupt_nothing():
    """0.5.23's views (``MambaSlotAllocator._do_alloc``) keep old free-list storage alive; the free list is
    never written in place, so the tokens are right either way. Cloning frees that storage."""
    specs = shared_prefix()[:3]
    views = Simulator(Knobs(), specs).run()
    clones = Simulator(Knobs(variants=frozenset({"clone_alloc"})), specs).run()
    assert views.outputs() == clones.outputs() == expected_outputs(specs)
    assert views.stats.peak_pinned_bytes >= 8 * views.sp.allocator.size and clones.stats.peak_pinned_bytes == 0
