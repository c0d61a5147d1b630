"""A request's scheduling state: its KV row, its working state slot and its ping-pong track slots.

Field names follow SGLang 0.5.23's ``Req`` / ``req.kv`` (``sglang/srt/managers/schedule_batch.py: Req, ReqKvInfo``):
``prefix_len`` and ``extend_end`` bound the next extend, ``protected_len`` is the tree-owned head of the
KV row (``sglang/srt/managers/schedule_batch.py: ReqKvInfo.cache_protected_len``), and ``next_track_idx`` / ``last_track_idx`` / ``last_track_seqlen`` /
``prev_track_seqlen`` are the ping-pong bookkeeping of extra_buffer (``mamba_*`` in SGLang); an
``extra_buffer_lazy`` buffer has two positions, the second ``None`` (SGLang's ``-1``) except across a decode
track boundary. ``decode_batch_idx`` counts the decode batches prepared for the request
(``sglang/srt/managers/schedule_batch.py: Req.decode_batch_idx``), which is how result processing knows how far overlap has run ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from runtime.scheduling.radix import Node


@dataclass(frozen=True)
class ReqSpec:
    """One request of a workload: its prompt, output budget and when it may arrive."""

    rid: int
    prompt: tuple[int, ...]
    max_new: int
    arrival: int = 0
    after: int | None = None  # only arrives once this request has finished (multi-turn)
    stop: tuple[int, ...] = ()  # stop tokens (a finish the scheduler cannot foresee)


@dataclass(eq=False)
class Request:
    """The fields of ``sglang/srt/managers/schedule_batch.py: Req, ReqKvInfo`` the model needs."""
    spec: ReqSpec
    tokens: list[int] = field(default_factory=list)  # prompt + sampled tokens, as the device sees them
    outputs: list[int] = field(default_factory=list)  # tokens the scheduler has committed
    prefix_len: int = 0
    extend_end: int = 0
    kv_row: list[int] = field(default_factory=list)
    protected_len: int = 0
    last_node: Node | None = None
    working: torch.Tensor | None = None
    state_len: int = 0  # tokens folded into the working state
    ping_pong: list[torch.Tensor | None] = field(default_factory=list)
    next_track_idx: int = 0
    last_track_idx: int = 0
    last_track_seqlen: int | None = None
    prev_track_seqlen: int | None = None
    branching: int | None = None
    decode_batch_idx: int = 0
    untracked_decode_batch_idx: int | None = None  # a lazy boundary undone by a mixed step (SGLang's req.kv.*)
    lazy_checkpoint: bool = True  # False: donate nothing at finish (SGLang's req.mamba_lazy_checkpoint)
    hit_tokens: int = 0
    done: bool = False

    def __post_init__(self) -> None:
        self.tokens = list(self.spec.prompt)

    @property
    def rid(self) -> int:
        return self.spec.rid

    @property
    def prompt_len(self) -> int:
        return len(self.spec.prompt)

    @property
    def sampled(self) -> int:
        return len(self.tokens) - self.prompt_len

    @property
    def finished(self) -> bool:
        """The length cap or a stop token (``sglang/srt/managers/schedule_batch.py: Req.update_finish_state``)."""
        if len(self.outputs) >= self.spec.max_new:
            return True
        return bool(self.outputs) and self.outputs[-1] in self.spec.stop

    def other(self, idx: int) -> int:
        """The other ping-pong position (the same one when there is only one).

        ``sglang/srt/mem_cache/memory_pool.py: HybridReqToTokenPool.get_mamba_ping_pong_other_idx``.
        """
        return 1 - idx if len(self.ping_pong) == 2 else idx

    def held_state_slots(self) -> list[torch.Tensor]:
        held = [self.working] if self.working is not None else []
        return held + [s for s in self.ping_pong if s is not None]
