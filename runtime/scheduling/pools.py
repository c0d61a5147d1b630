"""State and KV pools with a slot allocator, poison on free and provenance.

Slot 0 of each pool is a reserved dummy write target, as in SGLang's ``MambaSlotAllocator.clear``
(``srt/mem_cache/allocator/mamba.py``), whose free list starts at 1. Fresh state slots are zeros, like
SGLang's zero-initialised mamba pool; a freed slot is filled with NaN so that any later read of it
shows up. Every slot records its provenance: the token sequence whose state (or whose last token's KV)
it holds, :data:`UNWRITTEN` for a fresh slot, :data:`POISON` for a freed one and :data:`GARBAGE` for a
snapshot assembled from mismatched rows. Every write bumps the slot's ``version``, so a checker can
verify a slot once and trust it until the next write.

The #21684 class (indices stored without owning their storage): 0.5.23's ``MambaSlotAllocator._do_alloc``
(``srt/mem_cache/allocator/mamba.py``) still returns ``free_slots[:n]``, a view that pins the whole
free-list storage for as long as a holder keeps it. Some holders clone (``MambaComponent.
prepare_for_caching_req``), others keep the view (the request's ``mamba_pool_idx`` set in
``MambaComponent.finalize_match_result_in_cache``). The ``alias`` flag hands out views;
:func:`owns_storage` is the check that catches them. (#21684 itself was closed with no recoverable diff.)
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


class SlotAllocator:
    """Free list of slot ids ``1..size``."""

    def __init__(self, size: int, alias: bool = False) -> None:
        self.size, self.alias = size, alias
        self.free_slots = torch.arange(1, size + 1, dtype=torch.int64)

    def available(self) -> int:
        return len(self.free_slots)

    def alloc(self, n: int) -> torch.Tensor | None:
        if n > len(self.free_slots):
            return None
        out = self.free_slots[:n]
        self.free_slots = self.free_slots[n:]
        return out if self.alias else out.clone()

    def free(self, index: torch.Tensor) -> None:
        self.free_slots = torch.cat((self.free_slots, index.reshape(-1)))

    def free_set(self) -> set[int]:
        return set(self.free_slots.tolist())


class StatePool:
    """Per-slot GDN states ``conv[L, slot, conv_dim, kernel-1]`` and ``ssm[L, slot, HV, V, K]``."""

    def __init__(self, size: int, template: States, alias: bool = False) -> None:
        self.allocator = SlotAllocator(size, alias)
        self.conv = template.conv.new_zeros(template.conv.shape[0], size + 1, *template.conv.shape[1:])
        self.ssm = template.ssm.new_zeros(template.ssm.shape[0], size + 1, *template.ssm.shape[1:])
        self.prov: list[tuple] = [UNWRITTEN] * (size + 1)
        self.version = [0] * (size + 1)

    def alloc(self, n: int) -> torch.Tensor | None:
        return self.allocator.alloc(n)

    def _mark(self, slot: int, prov: tuple) -> None:
        self.prov[slot] = prov
        self.version[slot] += 1

    def read(self, slot: int) -> States:
        return States(self.conv[:, slot].clone(), self.ssm[:, slot].clone())

    def write(self, slot: int, states: States, prov: tuple) -> None:
        self.conv[:, slot] = states.conv
        self.ssm[:, slot] = states.ssm
        self._mark(slot, prov)

    def copy(self, src: int, dst: int) -> None:
        self.conv[:, dst] = self.conv[:, src]
        self.ssm[:, dst] = self.ssm[:, src]
        self._mark(dst, self.prov[src])

    def clear(self, slot: int) -> None:
        """The empty-prefix state (what SGLang's ``mamba_needs_clear`` produces)."""
        self.conv[:, slot] = 0
        self.ssm[:, slot] = 0
        self._mark(slot, ())

    def free(self, index: torch.Tensor) -> None:
        for slot in index.reshape(-1).tolist():
            self.conv[:, slot] = float("nan")
            self.ssm[:, slot] = float("nan")
            self._mark(slot, POISON)
        self.allocator.free(index)


class KVPool:
    """Per-token attention keys and values of the single attention layer."""

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
