"""Radix tree: point states, match cut, split, duplicate handling, locks, tombstones and leaf eviction."""

import torch

from runtime.scheduling.model import shared
from runtime.scheduling.pools import KVPool, StatePool
from runtime.scheduling.radix import RadixTree


def _tree(page=1, kv=64, states=8):
    model, _ = shared()
    kv_pool = KVPool(kv, model.dims, model.dtype)
    sp = StatePool(states, model.empty_states())
    return RadixTree(page, kv_pool, sp), kv_pool, sp


def _insert(tree, kv_pool, sp, tokens, with_state=True, row=None, protected=0):
    row = row if row is not None else kv_pool.alloc(len(tokens))
    state = sp.alloc(1) if with_state else None
    node, kept = tree.insert(tuple(tokens), row, protected, state)
    return node, kept, row, state


def test_match_stops_at_the_deepest_state_and_recomputes_one_token():
    tree, kv, sp = _tree()
    toks = list(range(12))
    _insert(tree, kv, sp, toks[:8])
    _insert(tree, kv, sp, toks, row=None)
    full = tree.match(toks, len(toks) - 1)  # a prompt equal to the cached path: at most len - 1 tokens
    assert full.prefix_len == 8 and full.full_hit == 11
    assert tree.match(toks + [99], 12).prefix_len == 12


def test_split_leaves_the_new_parent_without_state():
    tree, kv, sp = _tree()
    node, *_ = _insert(tree, kv, sp, list(range(10)))
    m = tree.match(list(range(6)) + [50, 51], 7)
    assert m.prefix_len == 0 and m.full_hit == 6  # split at 6: no state there, nothing usable
    parent = node.parent
    assert len(parent.key) == 6 and parent.state is None and node.state is not None
    assert tree.path(node) == tuple(range(10))


def test_page_aligned_keys():
    tree, kv, sp = _tree(page=4)
    _insert(tree, kv, sp, list(range(8)))
    m = tree.match(list(range(7)) + [60, 61, 62], 9)  # shares 7 tokens: only one page is comparable
    assert m.full_hit == 4 and m.prefix_len == 0


def test_duplicate_state_and_kv_are_given_back():
    tree, kv, sp = _tree()
    toks = tuple(range(6))
    _, kept, row, _ = _insert(tree, kv, sp, toks)
    assert kept
    free_before = kv.allocator.available()
    node, kept2, row2, _ = _insert(tree, kv, sp, toks)
    assert not kept2 and tree.stats.duplicate_states == 1
    assert row2 == row  # the new row was rewritten to the tree's slots and its own were freed
    assert kv.allocator.available() == free_before


def test_locked_paths_survive_eviction_and_lru_order():
    tree, kv, sp = _tree(kv=20, states=8)
    a, *_ = _insert(tree, kv, sp, [1, 2, 3, 4, 5])
    b, *_ = _insert(tree, kv, sp, [7, 8, 9, 10, 11])
    c, *_ = _insert(tree, kv, sp, [13, 14, 15, 16, 17])
    tree.lock(a)
    tree.match([7, 8, 9, 10, 11, 12], 6)  # touch b: c is now least recently used
    tree.evict_kv(kv.allocator.available() + 5)
    children = list(tree.root.children.values())
    assert a in children and b in children and c not in children
    tree.evict_kv(20)
    assert list(tree.root.children.values()) == [a]  # the locked one stays
    tree.unlock(a)
    tree.evict_kv(20)
    assert not tree.root.children and kv.allocator.available() == 20


def test_state_eviction_tombstones_inner_nodes_and_removes_leaves():
    tree, kv, sp = _tree(states=4)
    inner, *_ = _insert(tree, kv, sp, [1, 2, 3])
    leaf, _, _, leaf_slot = _insert(tree, kv, sp, [1, 2, 3, 4, 5])
    assert leaf.parent is inner
    tree.evict_states(sp.allocator.available() + 1)  # the inner node is older
    assert inner.state is None and inner.kv and tree.stats.tombstoned == 1
    assert tree.match([1, 2, 3, 4, 5, 6], 6).prefix_len == 5
    tree.evict_states(sp.allocator.available() + 1)
    assert tree.stats.leaves_evicted == 1 and not inner.children
    assert torch.isnan(sp.read(int(leaf_slot)).ssm).all()


def test_state_eviction_follows_the_mamba_lru_not_the_path():
    """A match walks A (depth 4) on its way to B (depth 8) but uses only B's state: the Mamba LRU refreshes
    B alone (``MambaComponent.refresh_lru``), so A's state is evicted before the unrelated, older C's,
    while the KV LRU saw A walked after C."""
    tree, kv, sp = _tree(states=6)
    toks = list(range(8))
    a, *_ = _insert(tree, kv, sp, toks[:4])
    c, *_ = _insert(tree, kv, sp, [40, 41, 42])
    b, *_ = _insert(tree, kv, sp, toks)
    assert tree.match(toks + [9], 9).node is b
    assert a.last_access > c.last_access and a.mamba_access < c.mamba_access
    tree.evict_states(sp.allocator.available() + 1)
    assert a.state is None and c.state is not None and b.state is not None


def _kv_lru_setup():
    """Prefix ``a`` with a state, then two leaves below it: ``a + b`` (older) and ``a + c`` (newer)."""
    tree, kv, sp = _tree()
    a, b, c = [1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]
    _insert(tree, kv, sp, a)
    return tree, kv, sp, a, b, c


def test_a_match_refreshes_kv_recency_only_up_to_its_best_node():
    """``UnifiedTreeCore._match_post_processor`` refreshes the best node and its ancestors; a stateless node
    the walk passes beyond the best one keeps its age, so it is still the first leaf KV eviction takes."""
    tree, kv, sp, a, b, c = _kv_lru_setup()
    older, *_ = _insert(tree, kv, sp, a + b, with_state=False)
    newer, *_ = _insert(tree, kv, sp, a + c)
    m = tree.match(a + b + [99], 9)
    assert m.prefix_len == 4 and m.full_hit == 8  # best: the state at 4; the walk went through a + b
    tree.evict_kv(kv.allocator.available() + 1)
    assert older.parent is None or older not in older.parent.children.values()
    assert tree.match(a + c + [99], 9).prefix_len == 8 and newer.state is not None


def test_a_split_refreshes_the_suffix():
    """``UnifiedTreeCore._split_node`` gives the cut-off suffix a fresh KV time, so after a match splits the
    older leaf the other one is the least recently used."""
    tree, kv, sp, a, b, c = _kv_lru_setup()
    older, *_ = _insert(tree, kv, sp, a + b)
    newer, *_ = _insert(tree, kv, sp, a + c)
    assert tree.match(a + b[:2] + [98, 99], 7).full_hit == 6  # splits a + b after 6 tokens
    tree.evict_kv(kv.allocator.available() + 1)
    assert tree.match(a + b + [99], 9).prefix_len == 8  # the split suffix survived
    assert tree.match(a + c + [99], 9).prefix_len == 4  # a + c was evicted
