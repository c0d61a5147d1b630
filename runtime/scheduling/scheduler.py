"""The scheduler loop: admission with prefix match, chunked prefill, mixed chunks, overlap, caching.

One :meth:`Simulator.step` follows SGLang 0.5.23's event loop
(``sglang/srt/managers/scheduler.py: Scheduler.event_loop_overlap, Scheduler.get_next_batch_to_run``):

1. the request being chunk-prefilled is checkpointed into the tree
   (``sglang/srt/managers/scheduler.py: Scheduler.stash_chunked_request`` ->
   ``sglang/srt/mem_cache/common.py: checkpoint_kv_cache``);
2. a prefill batch is built: the chunked request continues, then waiting requests are matched
   (at most ``len - 1`` tokens, ``sglang/srt/managers/schedule_batch.py: Req._compute_max_prefix_len``) and
   admitted while the chunk budget lasts; with ``--enable-mixed-chunk`` the budget is first reduced by one
   token per running request, including one whose last token is already in flight
   (``rem_chunk_tokens -= num_mixed_decode_tokens`` in ``sglang/srt/managers/schedule_policy.py: PrefillAdder.__init__``,
   with ``running_bs`` counted in ``sglang/srt/managers/scheduler.py: Scheduler._get_new_batch_prefill_raw``
   before ``Scheduler._reqs_finishing_inflight`` filters the rows that ride) and the decode rows ride along
   (``sglang/srt/managers/scheduler.py: Scheduler._get_new_batch_prefill_raw`` ->
   ``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mix_with_running``); otherwise a decode batch runs;
3. the batch is launched; with overlap the previous batch's result is processed only now, so the batch
   was built from a CPU view one result behind (its tokens come from the device, like SGLang's future map);
4. results commit tokens, update the decode ping-pong, checkpoint finished prefills
   (``checkpoint_kv_cache``) and release finished requests
   (``sglang/srt/mem_cache/common.py: release_kv_cache``).

Caching
(``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.prepare_for_caching_req, MambaComponent._select_finished_checkpoint``;
``sglang/srt/mem_cache/unified_radix_cache.py: UnifiedRadixCache.checkpoint_into_tree``):

- ``no_buffer``: each checkpoint copies the working state into a new slot keyed at the chunk end; at
  finish the working slot itself is donated at the KV length (with ReplaySSM: at the last ring flush,
  :meth:`Simulator._replay_cut`).
- ``extra_buffer``: the slot at ``last_track_idx`` is donated without a copy, keyed at
  ``last_track_seqlen``, and replaced by a fresh slot
  (``sglang/srt/mem_cache/memory_pool.py: HybridReqToTokenPool.donate_mamba_ping_pong_slot``); nothing is
  donated when nothing was tracked.
- The key is cut to the effective length (``min(up_to, state depth)``, page aligned); KV past the cut
  stays with the request.

Chunk cuts follow 0.5.23: an admission ends on the page grid, a continuation takes the raw budget
(:meth:`Simulator._admission_cut`, :meth:`Simulator._continuation_cut`); with mixed chunk and page > 1
this keys a later snapshot below its depth (the page-grid finding, ``runtime/scheduling/findings.py``).

Decode tracking results follow 0.5.23's overlap lookahead (:meth:`Simulator._track_result`), and
``extra_buffer_lazy`` allocates, keeps or gives back its second slot as 0.5.23 does
(:meth:`Simulator._lazy_prealloc`, :meth:`Simulator._lazy_undo`).

As 0.5.23's overlap loop does, requests whose last token is already in flight are left out of the next batch
(``sglang/srt/managers/scheduler.py: Scheduler._reqs_finishing_inflight``).

Modelling choices (documented, not upstream): requests join the running batch when their prefill result
is processed; there is no retraction, so admission reserves KV for every admitted request's remaining tokens.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from runtime.scheduling.batch import Batch, Row, mix_with_running, prepare_for_decode, prepare_for_extend
from runtime.scheduling.config import Knobs, resolve
from runtime.scheduling.invariants import Checker
from runtime.scheduling.model import Oracle, TinyHybrid, shared
from runtime.scheduling.pools import KVPool, StatePool, pinned_bytes
from runtime.scheduling.radix import RadixTree
from runtime.scheduling.request import ReqSpec, Request
from runtime.scheduling.runner import forward
from runtime.scheduling.track import page_floor


@contextmanager
def one_thread() -> Iterator[None]:
    """Run on one intra-op thread: the tensors are tiny, and spinning OpenMP threads on a busy 2-core
    machine makes each op milliseconds slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class SimulationError(RuntimeError):
    """The simulated server cannot proceed (out of slots, or no progress)."""


@dataclass(frozen=True)
class Donation:
    step: int
    rid: int
    depth: int
    kind: str  # "chunk" (checkpoint after a prefill chunk) or "finish"
    kept: bool  # False when the node already had a state


@dataclass
class Stats:
    steps: int = 0
    batches: dict[str, int] = field(default_factory=lambda: {"extend": 0, "decode": 0, "mixed": 0})
    prompt_tokens: int = 0
    hit_tokens: int = 0
    snapshots: int = 0
    discarded_rows: int = 0
    lazy_prealloc: int = 0  # extra_buffer_lazy second slots handed out at a boundary
    lazy_in_place: int = 0  # ... not handed out (no free slot): the step tracks over the kept checkpoint
    lazy_undone: int = 0  # ... given back because the decode rows rode a mixed batch
    peak_state_slots: int = 0
    peak_tree_states: int = 0
    peak_kv_slots: int = 0
    peak_pinned_bytes: int = 0  # free-list storage kept alive by held index views (housekeeping, #21684)
    donations: list[Donation] = field(default_factory=list)
    snapshot_log: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        return self.hit_tokens / self.prompt_tokens if self.prompt_tokens else 0.0


class Simulator:
    """A scheduler, runner and cache over :class:`TinyHybrid` for one knob combination."""

    def __init__(self, knobs: Knobs, workload: Sequence[ReqSpec], *, model: TinyHybrid | None = None,
                 oracle: Oracle | None = None, check: bool = True) -> None:
        self.res = resolve(knobs)
        if model is None:
            model, oracle = shared()
        self.model, self.oracle = model, oracle or Oracle(model)
        self.sp = StatePool(knobs.state_slots, model.empty_states(), views=not self.res.has("clone_alloc"))
        self.kv = KVPool(knobs.kv_slots, model.dims, model.dtype, model.device)
        self.tree = RadixTree(knobs.page_size, self.kv, self.sp) if self.res.mode != "none" else None
        self.pending = sorted(workload, key=lambda s: (s.arrival, s.rid))
        if len({s.rid for s in workload}) != len(workload):
            raise ValueError("request ids must be unique")
        self.requests: dict[int, Request] = {}
        self.waiting: list[Request] = []
        self.running: list[Request] = []
        self.chunked: Request | None = None
        self._stash = False
        self.in_flight: Batch | None = None
        self.finished_rids: set[int] = set()
        self.stats = Stats()
        self.checker = Checker(self) if check else None

    # -- public --------------------------------------------------------------------------------------

    def run(self, max_steps: int = 20000) -> Simulator:
        with one_thread():
            while self.pending or self.waiting or self.running or self.chunked or self.in_flight:
                if self.stats.steps >= max_steps:
                    raise SimulationError(f"no completion after {max_steps} steps")
                self.step()
        return self

    def outputs(self) -> dict[int, tuple[int, ...]]:
        return {rid: tuple(r.outputs) for rid, r in self.requests.items()}

    def active_requests(self) -> list[Request]:
        return [r for r in self.requests.values() if not r.done and (r.working is not None or r.kv_row)]

    def in_flight_batches(self) -> list[Batch]:
        return [self.in_flight] if self.in_flight is not None else []

    def step(self) -> None:
        """One iteration of ``sglang/srt/managers/scheduler.py: Scheduler.event_loop_overlap, Scheduler.event_loop_normal``."""
        self._arrivals()
        if self.chunked is not None and self._stash:
            self._stash = False
            self._checkpoint(self.chunked)
        batch = self._schedule()
        if batch is None and self.waiting and not (self.running or self.chunked or self.in_flight):
            raise SimulationError(f"req {self.waiting[0].rid} cannot be admitted even on an idle server")
        if batch is not None:
            forward(batch, self.model, self.sp, self.kv, self.res)
            self.stats.batches[batch.mode] += 1
            self.stats.snapshots += len(batch.snapshots)
            self.stats.snapshot_log.extend(batch.snapshots)
            if self.checker:
                self.checker.on_launch(batch)
        if self.res.overlap:
            previous, self.in_flight = self.in_flight, batch
            if previous is not None:
                self._process(previous)
        elif batch is not None:
            self._process(batch)
        self.stats.steps += 1
        self._record_usage()
        if self.checker:
            self.checker.after_step()

    # -- scheduling ----------------------------------------------------------------------------------

    def _arrivals(self) -> None:
        ready = [s for s in self.pending
                 if s.arrival <= self.stats.steps and (s.after is None or s.after in self.finished_rids)]
        for spec in ready:
            self.pending.remove(spec)
            req = Request(spec)
            self.requests[spec.rid] = req
            self.waiting.append(req)

    def _admission_cut(self, prefix: int, remaining: int, budget: int) -> int:
        """Tokens a newly admitted request prefills: all of them when their page-ceiled length fits,
        else the budget floored so that the chunk *ends* on the page grid
        (``sglang/srt/managers/schedule_policy.py: PrefillAdder._select_prefill_admission``:
        ``chunk_fit_tokens`` is the page-ceiled length, the cut ``(prefix + page_floor(limit)) // page * page
        - prefix``)."""
        page = self.res.knobs.page_size
        if self._paged(remaining) <= budget:
            return remaining
        return page_floor(prefix + page_floor(budget, page), page) - prefix

    def _continuation_cut(self, prefix: int, remaining: int, budget: int) -> int:
        """Tokens the chunked request prefills next: the raw budget
        (``sglang/srt/managers/schedule_policy.py: PrefillAdder.add_chunked_req, PrefillAdder.floor_chunked_tokens``;
        it rounds only under DCP, ``sglang/srt/managers/schedule_policy.py: mamba_prefill_chunk_grid``). With mixed chunk the budget is ``chunk - running`` and the chunk
        ends off the page grid. The ``page_grid_cut`` fix ends it on the grid like an admission."""
        if remaining <= budget:
            return remaining
        if self.res.has("page_grid_cut"):
            return page_floor(prefix + budget, self.res.knobs.page_size) - prefix
        return budget

    def _schedule(self) -> Batch | None:
        """``sglang/srt/managers/scheduler.py: Scheduler._get_new_batch_prefill_raw``, else the decode batch of
        ``sglang/srt/managers/scheduler.py: Scheduler.update_running_batch``.
        """
        decodable = [r for r in self.running if r.sampled < r.spec.max_new]
        mix = self.res.knobs.mixed and bool(decodable)
        # the chunk budget is cut by every running request, also one whose last token is in flight and
        # will not ride the mixed batch (``running_bs`` is counted before ``_reqs_finishing_inflight``)
        budget = self.res.knobs.chunk_size - (len(self.running) if self.res.knobs.mixed else 0)
        rows: list[Row] = []
        if self.chunked is not None:
            req = self.chunked
            take = self._continuation_cut(req.prefix_len, req.prompt_len - req.prefix_len, budget)
            if take > 0:
                rows.append(self._extend_row(req, req.prefix_len, take))
                budget -= self._paged(take)
        while self.waiting and budget > 0 and self.chunked is None:
            row = self._admit(self.waiting[0], budget)
            if row is None:
                break
            self.waiting.pop(0)
            rows.append(row)
            budget -= self._paged(row.extend_len)
        if rows:
            batch = prepare_for_extend(rows, self.res)
            if mix:
                if self.res.knobs.replayssm and self.res.has("replayssm_fold_before_mix"):
                    for req in decodable:  # the extend path reads the checkpoint only
                        self.sp.fold(int(req.working))
                decode = self._decode_batch(decodable)
                if self.res.lazy:
                    self._lazy_undo(decode)
                batch = mix_with_running(batch, decode, self.res)
            return batch
        return self._decode_batch(decodable) if decodable else None

    def _paged(self, n: int) -> int:
        """``sglang/srt/managers/schedule_policy.py: PrefillAdder.ceil_paged_tokens``."""
        page = self.res.knobs.page_size
        return -(-n // page) * page

    def _extend_row(self, req: Request, prefix_len: int, take: int) -> Row:
        self._alloc_kv(req, take)
        req.extend_end = prefix_len + take
        if req.extend_end < req.prompt_len:
            self.chunked, self._stash = req, True
        elif self.chunked is req:
            self.chunked = None
        return Row(req, prefix_len, take, False)

    def _decode_batch(self, reqs: list[Request]) -> Batch:
        for req in reqs:
            self._alloc_kv(req, 1)
        if self.res.lazy:
            self._lazy_prealloc(reqs)
        return prepare_for_decode(reqs, self.res)

    def _lazy_prealloc(self, reqs: list[Request]) -> None:
        """extra_buffer_lazy: a request whose next step tracks gets its second slot now, and tracks into it
        (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mamba_lazy_prealloc_at_boundary``). No eviction is tried; without a free slot the
        step tracks in place, over the kept checkpoint, which is then forgotten (``last_track_seqlen = None``).
        """
        for req in reqs:
            if len(req.tokens) % self.res.track_grid:
                continue
            other = 1 - req.next_track_idx
            if req.ping_pong[other] is not None:  # the previous boundary's slot is not freed yet
                continue
            slot = self.sp.alloc(1)
            if slot is None:
                req.last_track_seqlen = None
                self.stats.lazy_in_place += 1
                continue
            req.ping_pong[other], req.next_track_idx = slot, other
            self.stats.lazy_prealloc += 1

    def _lazy_undo(self, decode: Batch) -> None:
        """A lazy decode batch that rides a mixed batch is not tracked: give back its boundary slots
        (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mamba_lazy_undo_prealloc_at_boundary``, called from ``mix_with_running``)."""
        for row, _, idx in decode.decode_track:
            req = row.req
            req.untracked_decode_batch_idx = req.decode_batch_idx
            if req.ping_pong[1 - idx] is None:  # the prealloc failed: it would have tracked in place
                continue
            if not self.res.has("lazy_keep_prealloc_on_mix"):
                self.sp.free(req.ping_pong[idx])
                req.ping_pong[idx], req.next_track_idx = None, 1 - idx
                self.stats.lazy_undone += 1

    def _admit(self, req: Request, budget: int) -> Row | None:
        """Match, reserve and allocate for a waiting request; None leaves it waiting.

        ``sglang/srt/managers/schedule_batch.py: Req.init_next_round_input``; the state copy is
        ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.finalize_match_result_in_cache``.
        """
        res, tree = self.res, self.tree
        match = tree.match(req.spec.prompt, req.prompt_len - 1) if tree is not None else None
        prefix = match.prefix_len if match else 0
        take = self._admission_cut(prefix, req.prompt_len - prefix, budget)
        if take <= 0:
            return None
        if match is not None:
            tree.lock(match.node)
        need_kv = self._kv_reserve() + req.prompt_len + req.spec.max_new - prefix
        need_states = 1 + res.ping_pong + len(self.active_requests()) + 1
        if not (self._ensure_kv(need_kv) and self._ensure_states(need_states)):
            if match is not None:
                tree.unlock(match.node)
            return None
        req.working = self._alloc_state()
        if prefix:
            self.sp.copy(int(match.node.state), int(req.working))
        else:
            self.sp.clear(int(req.working))
        req.ping_pong = [self._alloc_state() for _ in range(res.ping_pong)] + ([None] if res.lazy else [])
        # ``sglang/srt/mem_cache/memory_pool.py: HybridReqToTokenPool._alloc_ping_pong_buffer``
        req.next_track_idx = 0
        req.last_track_idx = 0 if res.lazy else req.other(0)
        req.prefix_len = req.state_len = req.protected_len = prefix
        req.kv_row = list(match.kv) if match else []
        req.last_node = match.node if match else None
        if match is not None and res.mode == "extra_buffer":
            branching = match.full_hit // res.checkpoint_grid * res.checkpoint_grid
            req.branching = branching if branching > prefix else None
        req.hit_tokens = prefix
        self.stats.hit_tokens += prefix
        self.stats.prompt_tokens += req.prompt_len
        return self._extend_row(req, prefix, take)

    def _kv_reserve(self) -> int:
        return sum(max(r.prompt_len + r.spec.max_new - 1 - len(r.kv_row), 0) for r in self.active_requests())

    def _ensure_kv(self, n: int) -> bool:
        """Evict, then allocate (``sglang/srt/mem_cache/common.py: evict_from_tree_cache``)."""
        if self.kv.allocator.available() < n and self.tree is not None:
            self.tree.evict_kv(n)
        return self.kv.allocator.available() >= n

    def _ensure_states(self, n: int) -> bool:
        """Evict, then allocate (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent._alloc_mamba_slot``)."""
        if self.sp.allocator.available() < n and self.tree is not None:
            self.tree.evict_states(n)
        return self.sp.allocator.available() >= n

    def _alloc_kv(self, req: Request, n: int) -> None:
        if not self._ensure_kv(n):
            raise SimulationError("out of KV slots (retraction is not modelled)")
        req.kv_row.extend(self.kv.alloc(n))

    def _alloc_state(self) -> torch.Tensor:
        if not self._ensure_states(1):
            raise SimulationError("out of state slots")
        return self.sp.alloc(1)

    # -- results and caching -------------------------------------------------------------------------

    def _process(self, batch: Batch) -> None:
        """``sglang/srt/managers/scheduler_components/batch_result_processor.py: SchedulerBatchResultProcessor.process_batch_result_prefill, SchedulerBatchResultProcessor.process_batch_result_decode``."""
        tracked = {id(row): idx for row, _, idx in batch.decode_track}
        for row, token in zip(batch.rows, batch.outputs, strict=True):
            req = row.req
            if req.done:  # finished while this batch was in flight (a stop token): result discarded
                self.stats.discarded_rows += 1
                continue
            if row.is_decode:
                self._append(req, token)
                if self.res.mode == "extra_buffer" and batch.mode == "decode":
                    self._track_result(batch, row, tracked.get(id(row)))
                self._release_if_finished(req)
            elif row.end == req.prompt_len:
                self._append(req, token)
                self._release_if_finished(req)
                if not req.done:
                    self._checkpoint(req)
                    self.running.append(req)

    def _track_result(self, batch: Batch, row: Row, tracked_idx: int | None) -> None:
        """Ping-pong bookkeeping when a decode row's result is processed
        (``sglang/srt/managers/scheduler_components/batch_result_processor.py: SchedulerBatchResultProcessor._handle_finish_state_updated_req``,
        ``sglang/srt/managers/scheduler_components/batch_result_processor.py: SchedulerBatchResultProcessor._mamba_prefix_cache_update``,
        ``sglang/srt/managers/scheduler_components/batch_result_processor.py: SchedulerBatchResultProcessor.mamba_lazy_post_decode_at_boundary``).

        ``lookahead`` is how many decode batches were prepared for the request after this one (0, or 1
        under overlap). A completed boundary names the slot it wrote and the depth
        ``kv_committed_len - lookahead``. Non-lazy swaps ``next_track_idx`` when the boundary is *known*:
        this row's own boundary without lookahead, the next row's (``mamba_track_mask_next_cpu``) with it,
        i.e. one step early. Lazy acts on completed boundaries only: it keeps the new slot and frees the
        old one; and a request finishing while its in-flight next step tracks in place, over the kept
        slot, donates nothing (``mamba_lazy_checkpoint = False``, set only for a request this very result
        finishes). Runs after the row's token is appended and before a finished request is released, as
        0.5.23 runs it after ``update_finish_state``.
        """
        req = row.req
        lookahead = req.decode_batch_idx - batch.decode_batch_idx[id(row)]
        if self.checker:
            self.checker.on_lookahead(req, lookahead)
        committed = len(req.kv_row) - (0 if self.res.has("lookahead_seqlen") else lookahead)
        known = tracked_idx is not None if lookahead == 0 else id(row) in batch.track_next
        if self.res.lazy:
            if tracked_idx is not None:
                req.last_track_seqlen = committed
                req.last_track_idx = req.next_track_idx = tracked_idx
                old = req.ping_pong[1 - tracked_idx]
                if old is not None:
                    self.sp.free(old)
                    req.ping_pong[1 - tracked_idx] = None
            elif (req.finished and lookahead == 1 and known and req.next_track_idx == req.last_track_idx
                  and req.untracked_decode_batch_idx != req.decode_batch_idx):
                req.lazy_checkpoint = False
            return
        if tracked_idx is not None:
            req.last_track_idx = tracked_idx
            req.prev_track_seqlen = req.last_track_seqlen
            req.last_track_seqlen = committed
        if known:
            req.next_track_idx = req.other(req.next_track_idx)

    def _append(self, req: Request, token: int) -> None:
        """Commit a sampled token (``req.output_ids.append`` then ``update_finish_state``)."""
        req.outputs.append(token)
        if self.checker:
            self.checker.on_output(req)

    def _release_if_finished(self, req: Request) -> None:
        if req.finished:
            self._release(req)

    def _checkpoint(self, req: Request) -> None:
        """Insert what an unfinished request has computed (after each prefill chunk).

        ``sglang/srt/mem_cache/common.py: checkpoint_kv_cache``.
        """
        up_to = req.extend_end
        if self.tree is not None:
            if self.res.mode == "no_buffer":
                slot = self._alloc_state()
                self.sp.copy(int(req.working), int(slot))
                self._insert(req, up_to, up_to, slot, "chunk")
            elif req.last_track_seqlen is not None:
                idx = req.last_track_idx
                slot, req.ping_pong[idx] = req.ping_pong[idx], self._alloc_state()
                self._insert(req, req.last_track_seqlen, up_to, slot, "chunk")
            req.last_track_seqlen = req.prev_track_seqlen = None
        req.prefix_len = up_to

    def _release(self, req: Request) -> None:
        """Finish: donate the final checkpoint, free everything else, drop the lock.

        ``sglang/srt/mem_cache/common.py: release_kv_cache``.
        """
        up_to = req.prompt_len + len(req.outputs) - 1  # committed KV; an in-flight row may hold more
        if self.tree is not None:
            if self.res.mode == "no_buffer":
                slot, req.working = req.working, None
                self._insert(req, self._replay_cut(int(slot), up_to), up_to, slot, "finish")
            elif not (self.res.lazy and not req.lazy_checkpoint):  # release_kv_cache(checkpoint=False)
                chosen = self._finished_checkpoint(req, up_to)
                if chosen is not None:
                    depth, idx = chosen
                    slot, req.ping_pong[idx] = req.ping_pong[idx], None
                    self._insert(req, depth, up_to, slot, "finish")
        for slot in req.held_state_slots():
            self.sp.free(slot)
        req.working, req.ping_pong = None, []
        self.kv.free(req.kv_row[req.protected_len:])
        req.kv_row = req.kv_row[:req.protected_len]
        if req.last_node is not None:
            self.tree.unlock(req.last_node)
        req.done = True
        self.finished_rids.add(req.rid)
        if req in self.running:
            self.running.remove(req)

    def _replay_cut(self, slot: int, up_to: int) -> int:
        """The length a finishing no_buffer request donates its working slot at. With ReplaySSM 0.5.23 cuts
        it back to the last flush and drops the ring (``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.prepare_for_caching_req``:
        ``cache_len -= write_pos[slot]``, then ``write_pos[slot] = 0``): right for the recurrent checkpoint,
        but the conv state was advanced every step (``causal_conv1d_update`` in
        ``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_decode``) and still holds ``up_to`` tokens. The
        ``replayssm_fold_at_finish`` fix folds the ring and donates at ``up_to``."""
        if not self.res.knobs.replayssm:
            return up_to
        if self.res.has("replayssm_fold_at_finish"):
            self.sp.fold(slot)
            return up_to
        cut = up_to - self.sp.fill(slot)
        self.sp.reset_ring(slot)
        return cut

    def _finished_checkpoint(self, req: Request, up_to: int) -> tuple[int, int] | None:
        """``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent._select_finished_checkpoint``: the latest checkpoint if the key can name it, else
        the other ping-pong slot's (non-lazy, two slots), else nothing."""
        depth = req.last_track_seqlen or 0
        if depth <= up_to:
            return depth, req.last_track_idx
        prev = req.prev_track_seqlen
        if len(req.ping_pong) == 2 and not self.res.lazy and prev is not None and prev <= up_to:
            return prev, req.other(req.last_track_idx)
        return None

    def _insert(self, req: Request, depth: int, up_to: int, slot, kind: str) -> None:
        """Key ``slot`` (a state of ``depth`` tokens) and the KV before it into the tree.

        ``sglang/srt/mem_cache/unified_radix_cache.py: UnifiedRadixCache.checkpoint_into_tree``.
        """
        length = page_floor(min(depth, up_to), self.res.knobs.page_size)
        if length <= 0:
            self.sp.free(slot)
            return
        if self.checker:
            self.checker.on_donate(int(slot), tuple(req.tokens[:length]))
        node, kept = self.tree.insert(tuple(req.tokens[:length]), req.kv_row, req.protected_len, slot)
        if not kept:
            self.sp.free(slot)
        self.tree.lock(node)
        if req.last_node is not None:
            self.tree.unlock(req.last_node)
        req.last_node, req.protected_len = node, length
        self.stats.donations.append(Donation(self.stats.steps, req.rid, length, kind, kept))

    def _record_usage(self) -> None:
        s = self.stats
        s.peak_state_slots = max(s.peak_state_slots, self.sp.allocator.size - self.sp.allocator.available())
        s.peak_kv_slots = max(s.peak_kv_slots, self.kv.allocator.size - self.kv.allocator.available())
        held = [slot for r in self.active_requests() for slot in r.held_state_slots()]
        if self.tree is not None:
            held += [n.state for n in self.tree.nodes() if n.state is not None]
        s.peak_pinned_bytes = max(s.peak_pinned_bytes, pinned_bytes(held))
        if self.tree is not None:
            held = sum(1 for n in self.tree.nodes() if n.state is not None)
            s.peak_tree_states = max(s.peak_tree_states, held)
