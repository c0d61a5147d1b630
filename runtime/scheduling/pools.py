"""State and KV pools with a slot allocator, poison on free and provenance.

Slot 0 of each pool is a reserved dummy write target, as in SGLang's allocator
(``sglang/srt/mem_cache/allocator/mamba.py: MambaSlotAllocator.clear``), whose free list starts at 1. Fresh state slots are zeros, like
SGLang's zero-initialised mamba pool; a freed slot is filled with NaN so that any later read of it
shows up. Every slot records its provenance: the token sequence whose state (or whose last token's KV)
it holds, :data:`UNWRITTEN` for a fresh slot, :data:`POISON` for a freed one and :data:`GARBAGE` for a
snapshot assembled from mismatched rows. Every write bumps the slot's ``version``, so a checker can
verify a slot once and trust it until the next write.

The #21684 class (indices stored without owning their storage): 0.5.23's allocator
(``sglang/srt/mem_cache/allocator/mamba.py: MambaSlotAllocator._do_alloc``) still returns ``free_slots[:n]``, a view that pins the whole
free-list storage for as long as a holder keeps it. Some holders clone
(``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.prepare_for_caching_req``), others keep the view (the request's
``mamba_pool_idx`` set in ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.finalize_match_result_in_cache``). The allocator hands out views, as 0.5.23 does; the
free list never changes in place, so a view is never overwritten: the cost is stale storage kept alive,
not corruption. :func:`pinned_bytes` measures it (a housekeeping number, not an invariant); the
``clone_alloc`` variant clones. (#21684 itself was closed with no recoverable diff.)
"""

from __future__ import annotations

import torch

from runtime.scheduling.model import Dims, States

UNWRITTEN = ("<unwritten>",)
POISON = ("<poison>",)
GARBAGE = ("<garbage>",)


def owns_storage(index: torch.Tensor) -> bool:
    """Whether an index tensor owns exactly its own storage (is not a view into a larger free list)."""
    return index.untyped_storage().nbytes() == index.numel() * index.element_size()


def pinned_bytes(indices: list[torch.Tensor]) -> int:
    """Bytes of free-list storage that held index views keep alive beyond their own size."""
    storages = {}
    for index in indices:
        if not owns_storage(index):
            storage = index.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


class SlotAllocator:
    """Free list of slot ids ``1..size``.

    ``sglang/srt/mem_cache/allocator/mamba.py: MambaSlotAllocator._do_alloc, MambaSlotAllocator.free``; with
    ``views`` it hands out slices of the free list, as 0.5.23 does.
    """

    def __init__(self, size: int, views: bool = False) -> None:
        self.size, self.views = size, views
        self.free_slots = torch.arange(1, size + 1, dtype=torch.int64)

    def available(self) -> int:
        return len(self.free_slots)

    def alloc(self, n: int) -> torch.Tensor | None:
        if n > len(self.free_slots):
            return None
        out = self.free_slots[:n]
        self.free_slots = self.free_slots[n:]
        return out if self.views else out.clone()

    def free(self, index: torch.Tensor) -> None:
        self.free_slots = torch.cat((self.free_slots, index.reshape(-1)))

    def free_set(self) -> set[int]:
        return set(self.free_slots.tolist())


class StatePool:
    """Per-slot GDN states ``conv[L, slot, conv_dim, kernel-1]`` and ``ssm[L, slot, HV, V, K]``, and the
    ReplaySSM decode ring of each slot.

    Conv state and recurrent state carry separate provenance (``prov_conv``, ``prov_ssm``); ``prov`` is
    their common prefix, or a ``<conv ... recurrent ...>`` marker when they disagree, which no key can name.

    The ring (``--enable-linear-replayssm``, 0.5.23:
    ``sglang/srt/mem_cache/memory_pool.py: MambaPool.State.replayssm_d, MambaPool.State.replayssm_k, MambaPool.State.replayssm_g``,
    cursor ``sglang/srt/mem_cache/memory_pool.py: MambaPool.replayssm_write_pos``): ``ssm`` is the checkpoint
    (``temporal[slot]``); a decode step that does not flush appends one record and leaves the checkpoint
    alone, so the live recurrent state is ``fold(checkpoint, ring)``. A record holds the step's scalar decay
    ``g`` and its rank-one update ``U = S_new - g S_old``, computed from the state the step really read,
    so folding it onto another checkpoint is wrong exactly as the kernel's replay would be.
    ``fill(slot)`` is the cursor (records pending).
    """

    def __init__(self, size: int, template: States, views: bool = True) -> None:
        self.allocator = SlotAllocator(size, views)
        self.conv = template.conv.new_zeros(template.conv.shape[0], size + 1, *template.conv.shape[1:])
        self.ssm = template.ssm.new_zeros(template.ssm.shape[0], size + 1, *template.ssm.shape[1:])
        self.prov_conv: list[tuple] = [UNWRITTEN] * (size + 1)
        self.prov_ssm: list[tuple] = [UNWRITTEN] * (size + 1)
        self.prov: list[tuple] = [UNWRITTEN] * (size + 1)
        self.version = [0] * (size + 1)
        self.ring: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        self.ring_prov: dict[int, tuple] = {}  # what the live state holds when the ring is intact
        self.ring_base: dict[int, tuple] = {}  # the checkpoint's provenance the ring was recorded on

    def alloc(self, n: int) -> torch.Tensor | None:
        return self.allocator.alloc(n)

    def _mark(self, slot: int, conv: tuple | None = None, ssm: tuple | None = None) -> None:
        if conv is not None:
            self.prov_conv[slot] = conv
        if ssm is not None:
            self.prov_ssm[slot] = ssm
        c, r = self.prov_conv[slot], self.prov_ssm[slot]
        self.prov[slot] = c if c == r else (f"<conv state {_depth(c)}, recurrent state {_depth(r)}>",)
        self.version[slot] += 1

    def read(self, slot: int) -> States:
        """The slot as stored: conv state and the recurrent checkpoint (what an extend reads)."""
        return States(self.conv[:, slot].clone(), self.ssm[:, slot].clone())

    def fill(self, slot: int) -> int:
        return len(self.ring.get(slot, ()))

    def live(self, slot: int) -> States:
        """Conv state and ``fold(checkpoint, ring)``: what a ReplaySSM decode step reads.

        The decode kernel's replay (``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_decode``).
        """
        states = self.read(slot)
        for g, update in self.ring.get(slot, ()):
            states.ssm = states.ssm * g[..., None, None] + update
        return states

    def live_prov(self, slot: int) -> tuple:
        if not self.fill(slot):
            return self.prov[slot]
        if self.ring_base[slot] != self.prov_ssm[slot]:
            return GARBAGE  # the checkpoint changed under the ring: the replay folds onto the wrong state
        return self.ring_prov[slot] if self.prov_conv[slot] == self.ring_prov[slot] else GARBAGE

    def write(self, slot: int, states: States, prov: tuple) -> None:
        """Overwrite conv state and checkpoint (an extend, a snapshot); the ring is left as it is."""
        self.conv[:, slot] = states.conv
        self.ssm[:, slot] = states.ssm
        self._mark(slot, prov, prov)

    def record(self, slot: int, new: States, decay: torch.Tensor, prov: tuple) -> None:
        """A ReplaySSM decode step that does not flush: conv state updated in place

        ``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_decode``.
        (``causal_conv1d_update``), one ring record appended, checkpoint untouched."""
        old = self.live(slot).ssm
        if not self.fill(slot):
            self.ring[slot], self.ring_base[slot] = [], self.prov_ssm[slot]
        self.ring[slot].append((decay, new.ssm - old * decay[..., None, None]))
        self.ring_prov[slot] = prov
        self.conv[:, slot] = new.conv
        self._mark(slot, conv=prov)

    def fold(self, slot: int) -> None:
        """Fold the ring into the checkpoint (a flush without a token); the cursor goes to 0.

        As a flush of ``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_decode``.
        """
        if self.fill(slot):
            prov = self.live_prov(slot)
            self.ssm[:, slot] = self.live(slot).ssm
            self.ring.pop(slot)
            self._mark(slot, ssm=prov)

    def reset_ring(self, slot: int) -> None:
        """Cursor to 0 without folding: the pending records are dropped.

        ``write_pos[slot] = 0`` in ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.prepare_for_caching_req``.
        """
        if self.ring.pop(slot, None) is not None:
            self._mark(slot)

    def copy(self, src: int, dst: int) -> None:
        """``sglang/srt/mem_cache/memory_pool.py: MambaPool.copy_from``: conv state and checkpoint only; the destination's cursor is reset."""
        self.conv[:, dst] = self.conv[:, src]
        self.ssm[:, dst] = self.ssm[:, src]
        self.ring.pop(dst, None)
        self._mark(dst, self.prov_conv[src], self.prov_ssm[src])

    def clear(self, slot: int) -> None:
        """The empty-prefix state (what SGLang's ``mamba_needs_clear`` produces), with an empty ring.

        ``sglang/srt/mem_cache/memory_pool.py: HybridReqToTokenPool.alloc`` (``mamba_needs_clear``, ``write_pos = 0``).
        """
        self.conv[:, slot] = 0
        self.ssm[:, slot] = 0
        self.ring.pop(slot, None)
        self._mark(slot, (), ())

    def free(self, index: torch.Tensor) -> None:
        for slot in index.reshape(-1).tolist():
            self.conv[:, slot] = float("nan")
            self.ssm[:, slot] = float("nan")
            self.ring.pop(slot, None)
            self._mark(slot, POISON, POISON)
        self.allocator.free(index)


def _depth(prov: tuple) -> str:
    return prov[0] if prov and isinstance(prov[0], str) else f"of depth {len(prov)}"


class KVPool:
    """Per-token attention keys and values of the single attention layer.

    Its free list as ``sglang/srt/mem_cache/allocator/token.py: TokenToKVPoolAllocator.alloc, TokenToKVPoolAllocator.free``.
    """

    def __init__(self, size: int, dims: Dims, dtype: torch.dtype, device: str = "cpu") -> None:
        self.allocator = SlotAllocator(size)
        self.k = torch.zeros(size + 1, dims.attn_dim, dtype=dtype, device=device)
        self.v = torch.zeros_like(self.k)
        self.prov: list[tuple] = [UNWRITTEN] * (size + 1)
        self.version = [0] * (size + 1)

    def alloc(self, n: int) -> list[int] | None:
        out = self.allocator.alloc(n)
        return None if out is None else out.tolist()

    def write(self, slots: list[int], k: torch.Tensor, v: torch.Tensor, tokens: list[int],
              start: int) -> None:
        idx = torch.tensor(slots, dtype=torch.int64)
        self.k[idx] = k
        self.v[idx] = v
        for i, slot in enumerate(slots):
            self.prov[slot] = tuple(tokens[: start + i + 1])
            self.version[slot] += 1

    def gather(self, slots: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.tensor(slots, dtype=torch.int64)
        return self.k[idx], self.v[idx]

    def free(self, slots: list[int]) -> None:
        if not slots:
            return
        idx = torch.tensor(slots, dtype=torch.int64)
        self.k[idx] = float("nan")
        self.v[idx] = float("nan")
        for slot in slots:
            self.prov[slot] = POISON
            self.version[slot] += 1
        self.allocator.free(idx)
