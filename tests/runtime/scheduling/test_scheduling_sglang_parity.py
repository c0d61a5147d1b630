"""The model's rules next to SGLang 0.5.23's own code, run from the installed files (``sglang_source``).

Each test feeds the same inputs to the model and to the installed SGLang function (compiled on its own, with
the few globals it reads stood in) and requires the same decision. Skipped only when SGLang is not installed.
"""

import functools
import math
import random
from types import SimpleNamespace as NS
from typing import NamedTuple

import pytest
import torch

from runtime import sglang_files
from runtime.scheduling.batch import Row, prepare_for_extend
from runtime.scheduling.config import Knobs, resolve
from runtime.scheduling.request import ReqSpec, Request
from runtime.scheduling.scheduler import Simulator
from runtime.scheduling.track import kernel_source, prefill_track
from runtime.scheduling.workload import expected_outputs, random_workload, shared_prefix
from tests.runtime import _sglang_source as sglang_source

pytestmark = pytest.mark.skipif(sglang_files.package_dir() is None, reason="SGLang is not installed")

SCHEDULE_BATCH = "srt/managers/schedule_batch.py"
RESULTS = "srt/managers/scheduler_components/batch_result_processor.py"
MAMBA = "srt/mem_cache/unified_cache/components/mamba.py"


def _pool(size: int) -> NS:
    """The ping-pong helpers of ``HybridReqToTokenPool`` for a buffer of ``size`` positions."""
    return NS(mamba_ping_pong_track_buffer_size=size,
              get_mamba_ping_pong_other_idx=lambda i: 1 - i if size == 2 else i,
              get_mamba_ping_pong_keep_idx=lambda req: req.kv.mamba_last_track_idx)


class _TrackEntry(NamedTuple):  # the shape of schedule_batch.py's _MambaRadixCacheV2TrackEntry
    track_mask: bool
    track_position: int
    track_seqlen: int


@pytest.mark.parametrize("state_chunk,page,lazy", [(4, 1, False), (4, 4, True), (4, 8, False), (8, 4, False),
                                                   (64, 128, False), (64, 1, True)])
def test_prefill_track_rule_is_sglangs(state_chunk, page, lazy):
    """``track.prefill_track`` and the slot claim of ``batch.prepare_for_extend`` against
    ``ScheduleBatch._mamba_radix_cache_v2_req_prepare_for_extend`` (non-DCP) on random extends, prefixes on and
    off the grid, and branching points inside, outside, on and off the cache-chunk grid."""
    res = resolve(Knobs(strategy="extra_buffer_lazy" if lazy else "extra_buffer", state_chunk=state_chunk,
                        page_size=page, chunk_size=math.lcm(page, 8), overlap=True, track_interval=math.lcm(page, 16)))
    grid, cache_chunk = res.checkpoint_grid, res.cache_chunk
    theirs = sglang_source.function(SCHEDULE_BATCH, "ScheduleBatch._mamba_radix_cache_v2_req_prepare_for_extend", {
        "mamba_cache_chunk_size": lambda: cache_chunk,
        "mamba_checkpoint_grid": lambda tree_page: math.lcm(cache_chunk, tree_page),
        "get_parallel": lambda: NS(dcp_enabled=False),
        "get_exec": lambda: NS(mamba=NS(enable_mamba_extra_buffer_lazy=lazy)),
        "_MambaRadixCacheV2TrackEntry": _TrackEntry,
    })
    batch = NS(model_config=NS(hf_text_config=NS(mamba_chunk_size=state_chunk)), tree_cache=NS(page_size=page),
               req_to_token_pool=_pool(2 if res.ping_pong == 2 else 1))
    rng = random.Random(state_chunk * 1000 + page)
    for _ in range(300):
        prefix, extend = rng.randrange(0, 4 * grid), rng.randrange(1, 5 * grid)
        branching = rng.choice([None, prefix + rng.randrange(1, 5 * grid),
                                prefix + cache_chunk * rng.randrange(1, 5 * grid // cache_chunk + 1)])
        next_idx = rng.randrange(res.ping_pong or 1)
        kv = NS(mamba_next_track_idx=next_idx, mamba_last_track_idx=None, mamba_last_track_seqlen=None)
        req = NS(prefix_len=prefix, extend_end=prefix + extend, extend_len=extend, kv=kv,
                 mamba_branching_seqlen=branching)
        entry = theirs(batch, req)

        ours = Request(ReqSpec(0, tuple(range(prefix + extend)), 1))
        ours.ping_pong = [torch.tensor(7), torch.tensor(8)] if res.ping_pong == 2 else [torch.tensor(7)]
        ours.ping_pong += [None] if lazy else []
        ours.next_track_idx, ours.branching = next_idx, branching
        mine = prepare_for_extend([Row(ours, prefix, extend, False)], res).track[0].track
        case = (prefix, extend, branching)
        assert mine == prefill_track(prefix, extend, grid, state_chunk, cache_chunk, branching)
        assert (mine.mask, mine.kernel_seqlen) == (entry.track_mask, entry.track_seqlen), case
        assert (mine.depth if mine.mask else None) == kv.mamba_last_track_seqlen, case
        if mine.mask:
            assert (ours.last_track_idx, ours.next_track_idx) == (kv.mamba_last_track_idx, kv.mamba_next_track_idx)


def test_kernel_snapshot_source_is_sglangs():
    """``track.kernel_source`` (and the runner's flat ``h`` offsets) against
    ``prefill_track_metadata.build_prefill_track_plan``: which rows copy the final state and which ``h`` entry
    each other tracked row copies, for batches of random rows."""
    plan_module = sglang_files.load("srt/layers/attention/mamba/prefill_track_metadata.py", {})
    rng = random.Random(1)
    for chunk in (4, 8, 64):
        for _ in range(200):
            n = rng.randrange(1, 6)
            extend = [rng.randrange(1, 5 * chunk) for _ in range(n)]
            prefix = [rng.randrange(0, 3 * chunk) for _ in range(n)]
            mask = [rng.random() < 0.7 for _ in range(n)]
            seqlen = [p + rng.randrange(1, e + 1) for p, e in zip(prefix, extend, strict=True)]
            plan = plan_module.build_prefill_track_plan(mask, seqlen, extend, prefix, chunk, mamba2=False)
            offsets = [sum(-(-e // chunk) for e in extend[:i]) for i in range(n)]
            final, h_rows, h_src = [], [], []
            for i in range(n):
                if mask[i]:
                    source, j = kernel_source(seqlen[i], prefix[i], chunk)
                    (final if source == "final" else h_rows).append(i)
                    h_src += [offsets[i] + j] if source == "h" else []
            assert (plan.final_rows, plan.h_rows, plan.h_src) == (final, h_rows, h_src)


def test_tracking_slots_are_sglangs():
    """``config.resolve``'s ping-pong count against ``allocation_sizing.get_mamba_tracking_slots``."""
    sizing = sglang_files.load("srt/mem_cache/allocation_sizing.py", {"sglang.srt.runtime_context": {
        n: None for n in ("get_parallel", "get_schedule", "get_spec", "max_speculative_num_draft_tokens")}})
    for strategy in ("no_buffer", "extra_buffer", "extra_buffer_lazy"):
        for overlap in (False, True):
            if (strategy, overlap) in (("no_buffer", True), ("extra_buffer_lazy", False)):
                continue  # both refused at start-up (test_config_refuses_what_sglang_refuses)
            res = resolve(Knobs(strategy=strategy, overlap=overlap))
            assert res.ping_pong == sizing.get_mamba_tracking_slots(
                extra_buffer=res.mode == "extra_buffer", overlap=res.overlap, lazy=res.lazy), (strategy, overlap)


def test_finished_checkpoint_choice_is_sglangs():
    """``Simulator._finished_checkpoint`` against ``MambaComponent._select_finished_checkpoint`` over every
    combination of latest / previous depth, key length, buffer size and keep position."""
    theirs = sglang_source.function(MAMBA, "MambaComponent._select_finished_checkpoint", {})
    for lazy in (False, True):
        for size in ((2,) if lazy else (1, 2)):
            comp = NS(cache=NS(req_to_token_pool=_pool(size)))
            for last in (None, 0, 8, 16, 24):
                for prev in ((None,) if lazy else (None, 8, 16)):
                    for up_to in (7, 8, 15, 16, 23, 30):
                        for keep in range(size):
                            kv = NS(mamba_last_track_seqlen=last, mamba_prev_track_seqlen=prev,
                                    mamba_last_track_idx=keep)
                            req = NS(last_track_seqlen=last, prev_track_seqlen=prev, last_track_idx=keep,
                                     ping_pong=[object()] * size, other=lambda i, s=size: 1 - i if s == 2 else i)
                            mine = Simulator._finished_checkpoint(NS(res=NS(lazy=lazy)), req, up_to)
                            assert mine == theirs(comp, NS(kv=kv), up_to), (lazy, size, last, prev, up_to, keep)


# -- decode result processing, mirrored step by step on real runs -----------------------------------------


@functools.cache
def _result_processor(lazy: bool, grid: int, page: int) -> tuple[object, list[int], list[bool]]:
    """SGLang's ``SchedulerBatchResultProcessor`` reduced to the methods decode result processing runs for a
    non-speculative Mamba request, each compiled from the installed file; the rest are no-ops. Returns it with
    the lists its allocator frees and its ``release_kv_cache`` calls (``checkpoint``) are recorded in."""
    freed, released = [], []
    glob = {
        "get_exec": lambda: NS(mamba=NS(enable_mamba_extra_buffer_lazy=lazy)),
        "get_disagg": lambda: NS(disaggregation_decode_enable_offload_kvcache=False),
        "get_memory": lambda: NS(enable_hisparse=False),
        "mamba_track_grid": lambda tree_page: grid,
        "BaseSpecWorker": type("BaseSpecWorker", (), {}),
        "FINISH_MATCHED_TOKEN": type("FINISH_MATCHED_TOKEN", (), {}),
        "release_kv_cache": lambda req, tree_cache, *, checkpoint: released.append(checkpoint),
    }
    names = ("_handle_finish_state_updated_req", "_mamba_prefix_cache_update", "_mamba_check_track_boundary",
             "_mamba_assert_committed_len_lookahead", "mamba_lazy_post_decode_at_boundary")
    methods = {n: sglang_source.function(RESULTS, f"SchedulerBatchResultProcessor.{n}", glob) for n in names}
    methods["_mamba_assert_committed_len_lookahead"] = staticmethod(methods["_mamba_assert_committed_len_lookahead"])
    noop = lambda *a, **k: None  # noqa: E731
    methods |= {n: noop for n in ("_maybe_collect_routed_experts", "_maybe_collect_indexer_topk",
                                  "_prepare_kv_cache_release", "_maybe_collect_customized_info")}
    methods["_mamba_can_cache_finished_req"] = lambda self, req, result, i: True
    proc = type("Processor", (), methods)()
    proc.draft_worker, proc.tree_cache = None, NS(page_size=page)
    proc.free = lambda t: freed.append(int(t))
    return proc, freed, released


def _their_req(req: Request, finished: bool) -> NS:
    buf = [int(s) if s is not None else -1 for s in req.ping_pong]
    kv = NS(mamba_ping_pong_track_buffer=torch.tensor(buf), mamba_ping_pong_empty=[s is None for s in req.ping_pong],
            mamba_next_track_idx=req.next_track_idx, mamba_last_track_idx=req.last_track_idx,
            mamba_last_track_seqlen=req.last_track_seqlen, mamba_prev_track_seqlen=req.prev_track_seqlen,
            mamba_untracked_decode_batch_idx=req.untracked_decode_batch_idx, kv_committed_len=len(req.kv_row))
    return NS(kv=kv, rid=req.rid, decode_batch_idx=req.decode_batch_idx, output_ids=list(req.outputs),
              origin_input_ids=list(req.spec.prompt), finished=lambda: finished, multimodal_inputs=None,
              mamba_lazy_checkpoint=req.lazy_checkpoint, skip_radix_cache_insert=False,
              time_stats=NS(set_completion_time=lambda: None))


def _mirror_track_results(monkeypatch, knobs: Knobs) -> list[tuple]:
    """Run ``Simulator._track_result`` and SGLang's decode result processing side by side on every decode
    result of a run; return the (model, SGLang) bookkeeping pairs that differ."""
    res = resolve(knobs)
    mine_fn, diffs = Simulator._track_result, []

    def both(sim, batch, row, tracked_idx):
        req = row.req
        proc, freed, released = _result_processor(res.lazy, res.track_grid, knobs.page_size)
        freed.clear()
        released.clear()
        theirs = _their_req(req, req.finished)

        def set_slot(r, idx, value):
            r.kv.mamba_ping_pong_track_buffer[idx] = value
            r.kv.mamba_ping_pong_empty[idx] = int(value) == -1

        pool = _pool(len(req.ping_pong))
        pool.mamba_allocator, pool.set_mamba_ping_pong_slot = NS(free=proc.free), set_slot
        idx = {id(r): i for r, _, i in batch.decode_track}.get(id(row), req.next_track_idx)
        their_batch = NS(mamba_track_mask_cpu=[tracked_idx is not None],
                         mamba_decode_batch_idx_cpu=[batch.decode_batch_idx[id(row)]],
                         mamba_track_mask_next_cpu=[id(row) in batch.track_next] if res.overlap else None,
                         mamba_track_buffer_indices=[idx], spec_algorithm=NS(is_none=lambda: True),
                         req_to_token_pool=pool)
        proc._handle_finish_state_updated_req(theirs, their_batch, NS(), 0, None)
        held = [int(s) for s in req.ping_pong if s is not None]
        mine_fn(sim, batch, row, tracked_idx)
        mine_freed = sorted(set(held) - {int(s) for s in req.ping_pong if s is not None})
        kv = theirs.kv
        mine = (req.next_track_idx, req.last_track_idx, req.last_track_seqlen, req.prev_track_seqlen, mine_freed,
                req.lazy_checkpoint)
        their = (kv.mamba_next_track_idx, kv.mamba_last_track_idx, kv.mamba_last_track_seqlen,
                 kv.mamba_prev_track_seqlen, sorted(freed), theirs.mamba_lazy_checkpoint)
        if mine != their:
            diffs.append((req.rid, len(req.kv_row), mine, their))
        if released:  # SGLang released the finished request: the model must release it with the same flag
            assert req.finished and released == [req.lazy_checkpoint if res.lazy else True]

    monkeypatch.setattr(Simulator, "_track_result", both)
    return diffs


@pytest.mark.parametrize("strategy,overlap,slots", [
    ("extra_buffer", False, 64), ("extra_buffer", True, 64), ("extra_buffer_lazy", True, 64),
    ("extra_buffer_lazy", True, 3)])
def test_decode_result_bookkeeping_is_sglangs(monkeypatch, strategy, overlap, slots):
    """``Simulator._track_result`` against ``SchedulerBatchResultProcessor._handle_finish_state_updated_req``
    (with ``_mamba_prefix_cache_update``, ``_mamba_check_track_boundary`` and
    ``mamba_lazy_post_decode_at_boundary``) on every decode result of real runs: shared prefixes, random
    arrivals with stop tokens, and a pool too small for the lazy boundary slot (it then tracks in place).
    Both must leave the same ping-pong indices, depths, freed slots and lazy-checkpoint flag."""
    knobs = Knobs(strategy=strategy, overlap=overlap, chunk_size=8, state_slots=slots)
    diffs = _mirror_track_results(monkeypatch, knobs)
    if slots == 3:
        specs = [ReqSpec(0, tuple(random.Random(60).randrange(64) for _ in range(10)), 30)]
    else:
        specs = shared_prefix() + [ReqSpec(s.rid + 100, s.prompt, s.max_new, s.arrival, stop=s.stop)
                                   for s in random_workload(random.Random(5), n_requests=4)]
    sim = Simulator(knobs, specs).run()
    assert sim.outputs() == expected_outputs(specs)
    assert not diffs, diffs[:3]
    if slots == 3:  # in place, and the finish still donates (as SGLang)
        assert sim.stats.lazy_in_place > 0
        assert [d.kind for d in sim.stats.donations if d.rid == 0][-1] == "finish"
