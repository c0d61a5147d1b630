"""The radix tree of the unified cache, reduced to its full-KV and Mamba components.

Rules, as read in SGLang 0.5.23:

- A node carries a Mamba state only for the prefix ending at its last token ("point state"): the Mamba
  component attaches the donated slot to the insert's target node
  (``sglang/srt/mem_cache/unified_cache/unified_tree_core.py: UnifiedTreeCore._insert_commit_step``;
  ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.commit_insert_component_data``), and when the node already has one the
  donated slot is reported back as ``mamba_exist`` for the caller to free.
- A match walks page-aligned keys and splits a node it only partly matches; the usable prefix ends at the
  deepest node every component validates, i.e. the deepest node holding a state
  (``sglang/srt/mem_cache/unified_cache/unified_tree_core.py: UnifiedTreeCore._match_prefix_helper``;
  ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.create_match_validator``). The full-KV hit can run deeper; its
  checkpoint-grid floor past the usable prefix is the branching point
  (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.finalize_match_result_in_tree_core``).
- Splitting leaves the new parent without a state
  (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.redistribute_on_node_split``).
- Inserting the request's KV row frees the request's duplicates of positions the tree already holds and
  hands the rest to the tree (``sglang/srt/mem_cache/unified_radix_cache.py: UnifiedRadixCache.checkpoint_into_tree``,
  where the Mamba prefix cache is one component of the unified radix cache).
- Locks: a request locks the KV of its whole path but the state of its own node only
  (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.acquire_component_lock`` locks the one node). Eviction: dropping the
  state of an inner or KV-locked node leaves a tombstone that keeps its KV
  (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.evict_component``); evicting an unlocked leaf frees its KV and state.
- Two LRUs: KV recency is refreshed on a match for its best node and that node's ancestors only (deeper
  ones newer; nodes walked past the best node keep theirs), on an insert for every node it walks and the
  node its state lands on, and on a split for the new parent and then the suffix
  (``sglang/srt/mem_cache/unified_cache/unified_tree_core.py: UnifiedTreeCore._match_post_processor, UnifiedTreeCore._touch_node, UnifiedTreeCore._split_node``;
  ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.commit_insert_component_data`` refreshes the target). Mamba
  recency only for the state a match uses (its best node) and for a state as it enters the tree or is donated again
  (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.refresh_lru``: ``MATCH_END`` only, ``WALKDOWN``/``INSERT_END``
  no-ops; ``commit_insert_component_data``: ``insert_mru`` / ``reset_node_mru``). State eviction follows the Mamba
  LRU, KV eviction the KV one.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import torch

from runtime.scheduling.pools import KVPool, StatePool

_ids = itertools.count(1)


@dataclass(eq=False)
class Node:
    key: tuple[int, ...]
    kv: list[int]
    parent: Node | None
    state: torch.Tensor | None = None
    children: dict[tuple[int, ...], Node] = field(default_factory=dict)
    lock_ref: int = 0  # KV lock, counted along the whole path
    state_lock: int = 0  # Mamba lock, on the locked node only
    last_access: int = 0  # KV LRU
    mamba_access: int = 0  # Mamba LRU
    id: int = field(default_factory=lambda: next(_ids))


@dataclass
class Match:
    node: Node  # deepest node with a state on the matched path (or the root)
    prefix_len: int
    kv: list[int]
    full_hit: int  # tokens of the key the tree holds KV for, state or not


@dataclass
class TreeStats:
    donated: int = 0
    duplicate_states: int = 0
    tombstoned: int = 0
    leaves_evicted: int = 0
    kv_evicted: int = 0


class RadixTree:
    """Token-keyed radix tree whose nodes own KV slots and, at their end, optionally a state slot."""

    def __init__(self, page_size: int, kv_pool: KVPool, state_pool: StatePool) -> None:
        self.page = page_size
        self.kv_pool, self.state_pool = kv_pool, state_pool
        self.root = Node((), [], None, lock_ref=1)
        self.clock = 0
        self.stats = TreeStats()

    def _touch(self, node: Node) -> None:
        self.clock += 1
        node.last_access = self.clock

    def _touch_state(self, node: Node) -> None:
        self.clock += 1
        node.mamba_access = self.clock

    def _child_key(self, tokens: tuple[int, ...], pos: int) -> tuple[int, ...]:
        return tokens[pos:pos + self.page]

    def _common(self, key: tuple[int, ...], tokens: tuple[int, ...], pos: int) -> int:
        n = 0
        limit = min(len(key), len(tokens) - pos)
        while n + self.page <= limit and key[n:n + self.page] == tokens[pos + n:pos + n + self.page]:
            n += self.page
        return n

    def _split(self, node: Node, at: int) -> Node:
        """Cut ``node`` after ``at`` tokens: the new parent is a fresh node, and the suffix's KV recency is
        refreshed after it (``sglang/srt/mem_cache/unified_cache/unified_tree_core.py: UnifiedTreeCore._split_node``)."""
        parent = node.parent
        top = Node(node.key[:at], node.kv[:at], parent, lock_ref=node.lock_ref)
        self._touch(top)
        self._touch(node)
        parent.children[self._child_key(node.key, 0)] = top
        node.key, node.kv, node.parent = node.key[at:], node.kv[at:], top
        top.children[self._child_key(node.key, 0)] = node
        return top

    def match(self, tokens: tuple[int, ...] | list[int], limit: int) -> Match:
        """Longest usable prefix of ``tokens[:limit]``.

        ``sglang/srt/mem_cache/unified_cache/unified_tree_core.py: UnifiedTreeCore._match_prefix_helper, UnifiedTreeCore._match_post_processor``.
        """
        tokens = tuple(tokens[: limit // self.page * self.page])
        node, pos, kv = self.root, 0, []
        best = Match(self.root, 0, [], 0)
        while pos < len(tokens):
            child = node.children.get(self._child_key(tokens, pos))
            if child is None:
                break
            n = self._common(child.key, tokens, pos)
            partial = n < len(child.key)
            if partial:
                child = self._split(child, n)
            kv.extend(child.kv)
            pos += n
            node = child
            if node.state is not None:
                best = Match(node, pos, list(kv), pos)
            if partial:
                break
        best.full_hit = pos
        if best.node is not self.root:
            self._touch_state(best.node)
        path, n = [], best.node
        while n is not None:  # KV recency: the best node and its ancestors only, deeper ones newer
            path.append(n)
            n = n.parent
        for n in reversed(path):
            self._touch(n)
        return best

    def insert(self, tokens: tuple[int, ...], row: list[int], protected_len: int,
               state: torch.Tensor | None) -> tuple[Node, bool]:
        """Insert ``tokens`` (page aligned) with the request's KV ``row``; attach ``state`` at the end.

        Rewrites ``row`` in place to the tree's slots where the tree already held the position and frees
        the request's duplicates. Returns the target node and whether ``state`` was kept.

        ``sglang/srt/mem_cache/unified_cache/unified_tree_core.py: UnifiedTreeCore._insert_walk_step, UnifiedTreeCore._insert_commit_step``.
        """
        assert len(tokens) % self.page == 0 and len(tokens) >= protected_len
        node, pos = self.root, 0
        while pos < len(tokens):
            child = node.children.get(self._child_key(tokens, pos))
            if child is None:
                break
            self._touch(child)
            n = self._common(child.key, tokens, pos)
            if n < len(child.key):
                child = self._split(child, n)
            dup = [p for p in range(max(pos, protected_len), pos + n) if row[p] != child.kv[p - pos]]
            self.kv_pool.free([row[p] for p in dup])
            for p in range(pos, pos + n):
                row[p] = child.kv[p - pos]
            node, pos = child, pos + n
        is_new_leaf = pos < len(tokens)
        if is_new_leaf:
            leaf = Node(tokens[pos:], row[pos:len(tokens)], node)
            node.children[self._child_key(tokens, pos)] = leaf
            node = leaf
            self._touch(node)
        if state is None:
            return node, False
        self._touch_state(node)
        if node.parent is not None and not is_new_leaf:
            self._touch(node)
        if node.state is None:
            node.state = state
            self.stats.donated += 1
            return node, True
        self.stats.duplicate_states += 1
        return node, False

    def lock(self, node: Node) -> None:
        """The KV of the path (``sglang/srt/mem_cache/unified_cache/components/full.py: FullComponent.acquire_component_lock``)
        and this node's state (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.acquire_component_lock``).
        """
        node.state_lock += 1
        while node is not None and node is not self.root:
            node.lock_ref += 1
            node = node.parent

    def unlock(self, node: Node) -> None:
        """``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.release_component_lock``."""
        node.state_lock -= 1
        while node is not None and node is not self.root:
            node.lock_ref -= 1
            assert node.lock_ref >= 0
            node = node.parent

    def nodes(self) -> list[Node]:
        out, stack = [], [self.root]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(n.children.values())
        return out

    def path(self, node: Node) -> tuple[int, ...]:
        parts = []
        while node is not None:
            parts.append(node.key)
            node = node.parent
        return tuple(itertools.chain.from_iterable(reversed(parts)))

    def _remove_leaf(self, node: Node) -> None:
        self.kv_pool.free(node.kv)
        self.stats.kv_evicted += len(node.kv)
        self.stats.leaves_evicted += 1
        if node.state is not None:
            self.state_pool.free(node.state)
            node.state = None
        del node.parent.children[self._child_key(node.key, 0)]

    def evict_kv(self, need: int) -> None:
        """Evict unlocked leaves, least recently used first, until ``need`` KV slots are free.

        ``sglang/srt/mem_cache/unified_cache/components/full.py: FullComponent._evict_device_start, FullComponent._evict_device_next_node``.
        """
        heap = [(n.last_access, n.id, n) for n in self.nodes() if self._evictable_leaf(n)]
        heapq.heapify(heap)
        while heap and self.kv_pool.allocator.available() < need:
            _, _, leaf = heapq.heappop(heap)
            parent = leaf.parent
            self._remove_leaf(leaf)
            if self._evictable_leaf(parent):
                heapq.heappush(heap, (parent.last_access, parent.id, parent))

    def evict_states(self, need: int) -> None:
        """Drop unlocked states, least recently used first: tombstone inner nodes, remove leaves.

        ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent._evict_device_next_node, MambaComponent.evict_component``.
        """
        cands = sorted((n for n in self.nodes() if n.state is not None and n.state_lock == 0),
                       key=lambda n: (n.mamba_access, n.id))
        for node in cands:
            if self.state_pool.allocator.available() >= need:
                return
            if self._evictable_leaf(node):
                self._remove_leaf(node)
            else:
                self.state_pool.free(node.state)
                node.state = None
                self.stats.tombstoned += 1

    def _evictable_leaf(self, node: Node) -> bool:
        return node is not self.root and not node.children and node.lock_ref == 0
