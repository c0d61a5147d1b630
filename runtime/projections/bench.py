"""Benchmark: GDN input projection against the path SGLang 0.5.23 really runs (bf16, CUDA graphs).

``python -m runtime.projections.bench [--json PATH] [--tp 1 4 8] [--tokens ...] [--batches ...]``

Two tables, every path a captured CUDA graph (:mod:`.paths` says what each path is):

* ``projection``, per model and TP: Qwen3-Next-80B (interleaved checkpoint) and Qwen3.5-397B (contiguous),
  ``sglang_us`` (SGLang's real CUDA path: two GEMMs, ``ba`` on a second stream below 1024 tokens, then its
  split kernel / prefill views / fused split + conv1d decode kernel), ``fallback_us`` (what SGLang runs when
  those kernels do not apply, labelled as such), ``fused_us`` (ours; ``fused_nopdl_us``: our path without
  programmatic dependent launch, where ours is a Triton kernel: up to 128 tokens, cuBLAS + split where the
  Triton launch wins only with PDL; ``gemm_split_us``: the Triton GEMM's launch on the row-major weight alone,
  round 4's, next to ours on the tile-major copy), ``speedup = sglang / fused``, the weight
  floor (weight bytes over the measured copy rate) and a full floor (bytes or FLOPs). ``sglang_serial_us``: SGLang's
  path with both GEMMs on one stream (as it runs outside capture). Qwen3-Next decode rows up to ``CONTEXT_MAX_TOKENS``
  also time each path right after the layer's input norm (:mod:`.context`; ``<path>_ctx_us`` = graph of norm + path
  minus graph of the norm alone): back to back, a PDL launch of ours overlaps its weight loads with the previous
  projection, which no decode step has before it (NOTES.md round 12). Targets judge those rows in context
  (``speedup_ctx`` against the faster of SGLang's two stream arrangements, ``fused_ctx_x_wfloor``), the dispatch
  too: our path against the fastest *other* launch it could have taken (:func:`dispatch_check`; the launch it took,
  ``fused_launch``, timed in a second graph differs only by the run's noise, which the run reports). The same rows
  also time the norm and the projection as one span on each side (``<side>_span_us``: graph of a norm-shaped
  predecessor, then the norm and SGLang's path, or our :func:`.norm_projection.norm_then_project`, which folds the norm
  into the projection's launch where :func:`.norm_projection.folds`, minus graph of the predecessor alone):
  ``speedup_span``, ``fused_span_x_wfloor``, judged by their own ``span_`` targets beside the issue's, which judge
  the projection alone and are unchanged. SGLang's second stream is one of its own (:func:`.paths.alt_stream`: a torch
  pool stream could be the capture stream, which cost the overlap in rounds 18 and 20); a row whose SGLang path still
  reads its one-stream time (:func:`overlap_lost`) is measured again in the same run (:func:`remeasure_lost_overlap`),
  and if it stays so it is flattered: the ``>= 1.3x`` targets fail over it and the summary leaves it out. Qwen3.5 rows up to
  ``DECODE_MAX_TOKENS`` are decode steps (conv-state update included: B sequences of one token), larger ones
  prefill (views, no conv).
* ``split_conv``: the fused split + conv1d update kernel alone, ours vs SGLang's
  (``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: fused_qkvzba_causal_conv1d_update_contiguous``), against its byte floor;
  ``launch_bound`` where one empty launch of the same run plus the bytes at the copy rate already exceed 1.3x the
  floor; ``copy_us``, torch's device-to-device copy of the row's bytes in the same graphs (a memcpy node), for
  comparison only: at these sizes it is no lower bound (NOTES.md round 10: slower than ours at TP8 B=256 / 512);
  ``stream_us``, one plain Triton copy kernel of the same bytes on the SMs (:func:`stream_launch`): what a single
  streaming launch of that size reaches, launch and ramp included (also no lower bound, NOTES.md round 12). The floor
  counts every byte the step must move: projection row in; conv window read and written; conv output, z, b, a out;
  conv weight once (the slot indices, 4 bytes a row, are left out).

Weights, conv-state slots and kernel inputs rotate among copies spanning 3x L2, so every call reads them from
HBM as in a full decode step. Each graph holds at least 20 calls (cycling the copies whole), and a row's graphs,
with one of an empty Triton kernel (``empty_us``: what a launch costs before it moves a byte), are replayed
interleaved, 100 rounds in random order, each replay timed from when the GPU reaches it (a short spin kernel
first, so the host's enqueueing is not timed), median per path (:func:`runtime.benchkit.cuda_graph_medians_us`). SGLang's kernels are loaded from the installed package (:mod:`.sglang_peer`);
without it the SGLang columns and the targets that need them are skipped, and the run says so.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from runtime import benchkit, sglang_files
from runtime.benchkit import (
    copy_bandwidth_gbs,
    cuda_graph_medians_us,
    gemm_tflops,
    print_table,
    print_targets,
    write_results,
)

from . import (
    context,
    fused,
    gemv_mma,
    gemv_split,
    norm_projection,
    paths,
    sglang_peer,
    split_conv_kernel,
    stream_mma,
)
from .gemm_split import gemm_split, launch_config, reads_tile_major
from .naive import CONV_WIDTH, QWEN3_5_397B, QWEN3_NEXT_80B, GDNShape
from .split_kernel import split_qkvzba

MODELS = {"qwen3-next": (QWEN3_NEXT_80B, "interleaved"), "qwen3.5": (QWEN3_5_397B, "contiguous")}
TOKENS = (1, 2, 3, 4, 8, 32, 128, 512, 2048, 8192)
BATCHES = (1, 8, 32, 64, 128, 256, 512)
TPS = (1, 4, 8)
DECODE_MAX_TOKENS = 512
GEMM_SPLIT_COLUMN_MAX_TOKENS = 512
DISPATCH_CHECK_MAX_TOKENS = 128  # decode rows where every Triton launch is timed beside ours
CONTEXT_MAX_TOKENS = 128  # Qwen3-Next decode rows also timed after the layer's input norm (:mod:`.context`)
GEMV_MMA_COLUMN_MAX_TOKENS = 16  # the tensor-core GEMV pads tokens to 8 or 16 (more loses everywhere, round 9)
STREAM_MMA_COLUMN_MAX_TOKENS = stream_mma.MAX_TOKENS  # the persistent tensor-core GEMV: every batch it accepts (rounds 15, 16)
DISPATCH_SLACK = 1.02  # ours may read this much over the fastest other launch of its row (run-to-run of one launch)
# SGLang's path within this fraction of its one-stream form: its ba GEMM (5 us alone) did not overlap (NOTES.md round 18)
OVERLAP_LOST = 0.95
OVERLAP_RETRIES = 2  # re-measurements of such rows in the same run, each on a new second stream
ALTERNATIVES = ("cublas_split_us", "gemm_split_us", "gemm_split_tm_us", "gemv_split_us", "gemv_mma_us", "stream_mma_us")
LAUNCH_COLUMNS = {"gemv_mma": "gemv_mma_us", "gemv_split": "gemv_split_us", "cublas+split": "cublas_split_us",
                  "stream_mma": "stream_mma_us"}
MAX_GRAPH_CALLS = 256  # distinct rotated inputs captured in one graph
GRAPH_CALLS = 20  # calls per graph at least (cycling the distinct inputs), so a replay's own cost is amortised
REPS = 100  # interleaved replays of each row's graphs (:func:`runtime.benchkit.cuda_graph_medians_us`)
PROJECTION_COLUMNS = (
    "model", "tp", "tokens", "phase", "sglang_us", "fallback_us", "fused_us", "speedup", "x_fallback",
    "weight_floor_us", "fused_x_wfloor", "floor_us", "cublas_split_us", "gemm_split_us", "gemm_split_tm_us",
    "gemv_split_us", "gemv_mma_us", "stream_mma_us", "fused_nopdl_us", "empty_us", "sglang_serial_us", "norm_us",
    "fused_ctx_us", "sglang_ctx_us", "sglang_serial_ctx_us", "speedup_ctx", "fused_ctx_x_wfloor",
    "fused_span_us", "sglang_span_us", "speedup_span", "fused_span_x_wfloor",
)
# norm + projection on each side after the same norm-shaped predecessor (``<side>_span_us``, minus that predecessor)
SPAN_PATHS = ("fused_span_us", "sglang_span_us")
# timed after the layer's input norm too (``<name>_ctx_us``: graph of norm + path minus graph of the norm alone)
CONTEXT_PATHS = ("fused_us", "sglang_us", "sglang_serial_us", "fused_nopdl_us", *ALTERNATIVES)


def ctx_name(name: str) -> str:
    """``fused_us`` -> ``fused_ctx_us``: the in-context timing of a path."""
    return name.removesuffix("_us") + "_ctx_us"


def judged_speedup(row: dict) -> float:
    """The speedup a target judges: in context where the row has it (``speedup_ctx``), else back to back."""
    return row.get("speedup_ctx", row["speedup"])


def judged_wfloor(row: dict) -> float:
    """Our time over the weight floor as a target judges it: in context where measured, else back to back."""
    return row.get("fused_ctx_x_wfloor", row["fused_x_wfloor"])


def launch_column(kernel: str, tile_major: bool) -> str:
    """The column timing the launch our dispatch took (``fused_kernel``) on its own: ``gemm_split`` reads the
    tile-major copy where ``tile_major`` (the layer keeps one and the launch reads it,
    :func:`.gemm_split.reads_tile_major`: ``gemm_split_tm_us``), else the row-major weight."""
    if kernel == "gemm_split":
        return "gemm_split_tm_us" if tile_major else "gemm_split_us"
    return LAUNCH_COLUMNS[kernel]


def dispatch_check(times: dict[str, float], launch: str, suffix: str = "") -> dict:
    """Our path against the fastest *other* launch of its row (``launch``, our dispatch's own column, is left out: the
    same launch timed in a second graph differs only by the run's noise), timed the same way (``suffix``: ``""``
    back to back, ``"_ctx"`` after the norm). ``same_launch<suffix>_ratio``: our path over its launch's own column,
    that noise."""
    col = ctx_name if suffix else (lambda name: name)
    ours = times[col("fused_us")]
    others = {k: times[col(k)] for k in ALTERNATIVES if k != launch and col(k) in times}
    out = {}
    if others:
        best = min(others, key=others.get)
        out[f"fastest_other{suffix}"], out[f"fused{suffix}_x_fastest_other"] = best, ours / others[best]
    if col(launch) in times:
        out[f"same_launch{suffix}_ratio"] = ours / times[col(launch)]
    return out


def overlap_lost(row: dict) -> bool:
    """Whether SGLang's path read within ``OVERLAP_LOST`` of its one-stream form (after the norm where timed there): its
    ``ba`` GEMM on the second stream did not overlap in that run (some lends, NOTES.md rounds 12 and 18), so the row's
    ratios against SGLang are flattered and no target or summary takes them."""
    ctx = "sglang_ctx_us" in row and "sglang_serial_ctx_us" in row
    ours, serial = ("sglang_ctx_us", "sglang_serial_ctx_us") if ctx else ("sglang_us", "sglang_serial_us")
    return ours in row and serial in row and row[ours] >= OVERLAP_LOST * row[serial]


def remeasure_lost_overlap(rows: list[dict], measure: Callable[[list[int]], list[dict]],
                           tries: int = OVERLAP_RETRIES) -> list[dict]:
    """``rows`` of one model and TP with those whose SGLang path read its one-stream time (:func:`overlap_lost`) measured
    again, all of their paths, by ``measure(tokens)`` (:func:`projection_rows`, which takes a new second stream), up to
    ``tries`` times; a replaced row carries ``overlap_retries``, the try that measured it. A row still lost after that
    stays, and :func:`check_targets` fails the targets over it."""
    for attempt in range(1, tries + 1):
        lost = [r["tokens"] for r in rows if overlap_lost(r)]
        if not lost:
            break
        print(f"  SGLang's second stream did not overlap at T={lost}: measuring those rows again ({attempt}/{tries})",
              flush=True)
        again = {r["tokens"]: r | {"overlap_retries": attempt} for r in measure(lost)}
        rows = [again.get(r["tokens"], r) for r in rows]
    return rows


def judged_dispatch(row: dict) -> float:
    """Our path over the fastest other launch as the dispatch target judges it: after the norm where measured."""
    return row.get("fused_ctx_x_fastest_other", row["fused_x_fastest_other"])
SPLIT_CONV_COLUMNS = (
    "tp", "batch", "sglang_us", "ours_us", "speedup", "floor_us", "ours_x_floor", "sglang_x_floor", "empty_us",
    "copy_us", "stream_us", "stream_x_floor", "budget_us",
)


def _copies(bytes_each: int, factor: float = 3.0) -> int:
    """Copies of a working set needed to span ``factor`` x the L2 cache."""
    return max(2, math.ceil(factor * torch.cuda.get_device_properties(0).L2_cache_size / bytes_each))


@triton.jit
def _empty_kernel(out_ptr):
    """Does nothing: what one launch costs in a graph before it moves a byte."""
    pass


def empty_launch(out: torch.Tensor) -> Callable[[], object]:
    """One launch of an empty Triton kernel (timed beside each row's paths, in the same harness)."""
    return lambda: _empty_kernel[(1,)](out)


def copy_launch(nbytes: int) -> Callable[[], object]:
    """One device-to-device copy moving ``nbytes`` (half read, half written; the copy the floor's rate is measured
    with, at 1 GiB), rotating source/destination pairs spanning 3x L2."""
    n = nbytes // 8  # fp32 elements per side: nbytes / 2 read, nbytes / 2 written
    pairs = [(torch.empty(n, device="cuda").uniform_(), torch.empty(n, device="cuda")) for _ in range(_copies(nbytes))]
    pick = _cycle(pairs)

    def fn():
        src, dst = pick()
        return dst.copy_(src)

    return fn


STREAM_BLOCK = 2048  # 32-bit words per program of :func:`stream_launch`


@triton.jit
def _stream_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    """Copies ``n`` 32-bit words, ``BLOCK`` a program: the plainest single kernel moving a row's bytes."""
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=ok), mask=ok)


def stream_launch(
    nbytes: int, device: str = "cuda", block: int = STREAM_BLOCK, num_warps: int = 4
) -> Callable[[], object]:
    """One launch of a Triton copy kernel moving ``nbytes`` (half read, half written) on the SMs, rotating
    source/destination pairs spanning 3x L2 (one pair off the GPU): what one streaming kernel of a row's bytes costs at
    that size, launch and ramp included, where torch's copy is a memcpy node. ``block`` (32-bit words a program) and
    ``num_warps``: the bench's launch by default; the sweep (``copy14``) tries others."""
    n = nbytes // 8
    count = _copies(nbytes) if device == "cuda" else 1
    pairs = [(torch.empty(n, device=device).uniform_(), torch.full((n,), float("nan"), device=device))
             for _ in range(count)]
    pick = _cycle(pairs)

    def fn():
        src, dst = pick()
        _stream_kernel[(triton.cdiv(n, block),)](src, dst, n, BLOCK=block, num_warps=num_warps)
        return dst

    return fn


def _cycle(items: list) -> Callable[[], object]:
    it = itertools.cycle(items)
    return lambda: next(it)


def _weight_sets(rs: GDNShape, seed: int) -> list[tuple]:
    """``(qkvz, ba, [qkvz; ba], its tile-major copy or None, its unit-major copy or None)`` bf16 weight copies spanning
    3x L2 (as each call reads one of the last three, the packed copies do not count towards the span)."""
    g = torch.Generator(device="cuda").manual_seed(seed)
    sets = []
    for _ in range(_copies((rs.qkvz_width + rs.ba_width) * rs.hidden * 2)):
        qkvz = (torch.randn(rs.qkvz_width, rs.hidden, device="cuda", generator=g) * rs.hidden**-0.5).bfloat16()
        ba = (torch.randn(rs.ba_width, rs.hidden, device="cuda", generator=g) * rs.hidden**-0.5).bfloat16()
        fused_w = torch.cat([qkvz, ba]).contiguous()
        sets.append((qkvz, ba, fused_w, fused.tile_major_weight(fused_w), fused.unit_major_weight(fused_w)))
    return sets


def _conv_states(rs: GDNShape, batch: int, sets: int, g: torch.Generator) -> list[paths.ConvState]:
    """``sets`` batches of distinct slots in one pool (every slot used once per cycle), one shared conv weight."""
    pool = torch.randn(sets * batch, rs.qkv_width, CONV_WIDTH - 1, device="cuda", generator=g).bfloat16()
    weight = (torch.randn(rs.qkv_width, CONV_WIDTH, device="cuda", generator=g) * 0.5).bfloat16()
    order = torch.randperm(sets * batch, device="cuda", generator=g).to(torch.int32)
    return [paths.ConvState(pool, order[i * batch : (i + 1) * batch], weight) for i in range(sets)]


def _floors(rs: GDNShape, t: int, bw_gbs: float, tflops: float) -> tuple[float, float]:
    """(weight floor, full floor) in us: weight bytes / copy rate; max(all bytes / copy rate, FLOPs / GEMM rate)."""
    n = rs.qkvz_width + rs.ba_width
    weight_bytes = n * rs.hidden * 2
    io_bytes = t * (rs.hidden + rs.qkv_width + rs.value_dim + 2 * rs.num_v_heads) * 2
    return weight_bytes / (bw_gbs * 1e3), max(
        (weight_bytes + io_bytes) / (bw_gbs * 1e3), 2 * t * rs.hidden * n / (tflops * 1e6)
    )


def _paths(model: str, phase: str, x: torch.Tensor, rs: GDNShape, sets, peer, conv_peer, alt, g) -> dict:
    """The timed callables of one row: ours, SGLang's real path and its fallback (each rotating weight sets)."""
    layout = MODELS[model][1]
    pick = _cycle(sets)
    timed: dict[str, Callable[[], object]] = {}
    if model == "qwen3-next":
        def ours(pdl: bool | None = None):
            _, _, fused_w, tiles, units = pick()
            return paths.ours_next(x, fused_w, rs, tiles, pdl=pdl, units=units)

        timed["fused_us"] = ours
        timed["fallback_us"] = lambda: paths.fallback_next(x, *pick()[:2], rs, alt)
        if peer is not None:
            timed["sglang_us"] = lambda: paths.sglang_next(peer, x, *pick()[:2], rs, alt)
            if phase == "decode":  # both GEMMs on one stream, as SGLang outside capture: the baseline's other form
                timed["sglang_serial_us"] = lambda: paths.sglang_next(peer, x, *pick()[:2], rs, None)
                # its parts alone (JSON only): where SGLang's time goes
                timed["qkvz_gemm_us"] = lambda: F.linear(x, pick()[0])
                timed["ba_gemm_us"] = lambda: F.linear(x, pick()[1])
        n = rs.qkvz_width

        def cublas_split():
            out = F.linear(x, pick()[2])
            return split_qkvzba(out[:, :n], out[:, n:], rs, layout)

        timed["cublas_split_us"] = cublas_split
        if x.shape[0] <= GEMM_SPLIT_COLUMN_MAX_TOKENS:
            timed["gemm_split_us"] = lambda: gemm_split(x, pick()[2], rs, layout)
        if x.shape[0] <= DISPATCH_CHECK_MAX_TOKENS:  # every other launch the dispatch could have taken
            w = sets[0][2]
            if sets[0][3] is not None:
                def gemm_split_tm():
                    _, _, fused_w, tiles, _ = pick()
                    return gemm_split(x, fused_w, rs, layout, tile_major=tiles)

                timed["gemm_split_tm_us"] = gemm_split_tm
            if gemv_split.accepts(x, w):
                timed["gemv_split_us"] = lambda: gemv_split.gemv_split(x, pick()[2], rs, layout)
            if gemv_mma.accepts(x, w) and x.shape[0] <= GEMV_MMA_COLUMN_MAX_TOKENS:
                timed["gemv_mma_us"] = lambda: gemv_mma.gemv_mma(x, pick()[2], rs, layout)
            if stream_mma.accepts(x, w) and x.shape[0] <= STREAM_MMA_COLUMN_MAX_TOKENS:
                def stream():
                    _, _, fused_w, _, units = pick()
                    return stream_mma.stream_mma(x, fused_w, rs, layout, packed=units)

                timed["stream_mma_us"] = stream
        if fused.fused_kernel(x, sets[0][2]) != "cublas+split":  # our path without PDL (maybe cuBLAS + split)
            timed["fused_nopdl_us"] = lambda: ours(pdl=False)
        return timed
    if phase == "prefill":
        timed["fused_us"] = lambda: paths.ours_prefill_35(x, *pick()[:2], rs, alt)
        if peer is not None:
            timed["sglang_us"] = lambda: paths.sglang_prefill_35(peer, x, *pick()[:2], rs, alt)
            timed["fallback_us"] = lambda: paths.fallback_prefill_35(peer, x, *pick()[:2], rs, alt)
        return timed
    convs = _conv_states(rs, x.shape[0], 20, g)  # the graph holds 20 calls: one slot batch each
    both = _cycle(list(zip(itertools.islice(itertools.cycle(sets), len(convs)), convs, strict=True)))

    def step(fn: Callable) -> Callable[[], object]:
        """A call that takes the next (weight set, conv state) pair."""
        return lambda: fn(*both())

    timed["fused_us"] = step(lambda w, c: paths.ours_decode_35(x, w[2], rs, c))
    if peer is not None:
        timed["sglang_us"] = step(lambda w, c: paths.sglang_decode_35(peer, x, w[0], w[1], rs, alt, c))
        if conv_peer is not None:
            timed["fallback_us"] = step(
                lambda w, c: paths.fallback_decode_35(peer, conv_peer, x, w[0], w[1], rs, alt, c)
            )
    return timed


def _spans(ctx: context.DecodeContext, x: torch.Tensor, rs: GDNShape, sets, timed: dict) -> dict:
    """The two sides of the norm + projection span, each after ``ctx``'s norm as predecessor: SGLang's in-place norm
    then its path, and our :func:`.norm_projection.norm_then_project` (the residual out of place)."""
    pick = _cycle(sets)
    residual_out = torch.empty_like(x)

    def ours():
        _, _, fused_w, tiles, units = pick()
        return norm_projection.norm_then_project(x, ctx.residual, ctx.weight, residual_out, fused_w, rs,
                                                 "interleaved", tiles=tiles, units=units)

    out = {"fused_span_us": ours}
    if "sglang_us" in timed:
        out["sglang_span_us"] = ctx.then(timed["sglang_us"])
    return out


def projection_rows(model: str, tp: int, tokens, peer, conv_peer, bw: float, rate: float) -> list[dict]:
    shape, _ = MODELS[model]
    rs = shape.per_rank(tp)
    sets = _weight_sets(rs, seed=tp)
    g = torch.Generator(device="cuda").manual_seed(1000 + tp)
    alt = paths.alt_stream()  # never the stream graphs are captured on (:func:`.paths.alt_stream`)
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    rows = []
    for t in tokens:
        x = torch.randn(t, rs.hidden, device="cuda", generator=g, dtype=torch.bfloat16)
        phase = "decode" if t <= DECODE_MAX_TOKENS else "prefill"
        timed = _paths(model, phase, x, rs, sets, peer, conv_peer, alt, g)
        timed["empty_us"] = empty_launch(x)
        in_context = model == "qwen3-next" and t <= CONTEXT_MAX_TOKENS
        if in_context:
            ctx = context.DecodeContext(x, g)
            timed["norm_us"] = ctx.norm
            timed.update({f"norm+{p}": ctx.then(timed[p]) for p in CONTEXT_PATHS if p in timed})
            timed.update({f"norm+{p}": ctx.then(fn) for p, fn in _spans(ctx, x, rs, sets, timed).items()})
        times = cuda_graph_medians_us(timed, replays=GRAPH_CALLS, reps=REPS)
        for p in (*CONTEXT_PATHS, *SPAN_PATHS):
            if f"norm+{p}" in times:
                times[p if p in SPAN_PATHS else ctx_name(p)] = times.pop(f"norm+{p}") - times["norm_us"]
        wfloor, floor = _floors(rs, t, bw, rate)
        row = {"model": model, "tp": tp, "tokens": t, "phase": phase, **times, "weight_floor_us": wfloor,
               "floor_us": floor, "fused_x_wfloor": times["fused_us"] / wfloor, "weight_copies": len(sets)}
        if model == "qwen3-next":
            n = rs.qkvz_width + rs.ba_width
            row["fused_kernel"] = fused.fused_kernel(x, sets[0][2])
            reads = sets[0][3] is not None and reads_tile_major(t, n, rs.hidden, sms)
            row["fused_launch"] = launch_column(row["fused_kernel"], reads)
            if t <= GEMM_SPLIT_COLUMN_MAX_TOKENS:
                row["gemm_split_config"] = launch_config(t, n, rs.hidden, sms)
            if t <= DISPATCH_CHECK_MAX_TOKENS:
                row.update(dispatch_check(times, row["fused_launch"]))
                if "fused_ctx_us" in times:
                    row.update(dispatch_check(times, row["fused_launch"], "_ctx"))
        if "sglang_us" in times:
            row["speedup"] = times["sglang_us"] / times["fused_us"]
        if "fused_ctx_us" in times:
            row["fused_ctx_x_wfloor"] = times["fused_ctx_us"] / wfloor
            baseline = [times[k] for k in ("sglang_ctx_us", "sglang_serial_ctx_us") if k in times]
            if baseline:  # the faster of SGLang's two stream arrangements
                row["speedup_ctx"] = min(baseline) / times["fused_ctx_us"]
        if "fused_span_us" in times:
            row["span_folds"] = norm_projection.folds(t, rs.qkvz_width + rs.ba_width, rs.hidden, sms, True)
            row["fused_span_x_wfloor"] = times["fused_span_us"] / wfloor
            if "sglang_span_us" in times:
                row["speedup_span"] = times["sglang_span_us"] / times["fused_span_us"]
        if "fallback_us" in times:
            row["x_fallback"] = times["fallback_us"] / times["fused_us"]
        rows.append(row)
        ctx_line = (f"; after the norm {times['fused_ctx_us']:.2f} / {times.get('sglang_ctx_us', float('nan')):.2f}"
                    if "fused_ctx_us" in times else "")
        print(f"  {model} tp={tp} T={t}: fused {times['fused_us']:.1f} us, "
              f"SGLang {times.get('sglang_us', float('nan')):.1f} us{ctx_line}", flush=True)
    return rows


def split_conv_bytes(rs: GDNShape, batch: int) -> int:
    """Bytes the fused split + conv step must move: projection rows in; conv window read and written; conv
    output, z, b, a out; the conv weight once (bf16)."""
    row = (rs.qkvz_width + rs.ba_width) + 2 * (CONV_WIDTH - 1) * rs.qkv_width + (rs.qkvz_width + rs.ba_width)
    return 2 * (batch * row + rs.qkv_width * CONV_WIDTH)


def split_conv_row(rs: GDNShape, tp: int, batch: int, peer, bw: float, g: torch.Generator) -> dict:
    """One ``split_conv`` row: ours and SGLang's kernel on the same rotated inputs and state slots."""
    per_call = split_conv_bytes(rs, batch)
    n = min(MAX_GRAPH_CALLS, _copies(per_call))
    convs = _conv_states(rs, batch, n, g)
    inputs = [
        torch.randn(batch, rs.qkvz_width + rs.ba_width, device="cuda", generator=g, dtype=torch.bfloat16)
        for _ in range(n)
    ]
    both = _cycle(list(zip(inputs, convs, strict=True)))

    def ours():
        out, c = both()
        return split_conv_kernel.split_conv_update(
            out[:, : rs.qkvz_width], out[:, rs.qkvz_width :], c.pool, c.weight, None, c.indices, rs, "silu"
        )

    def theirs():
        out, c = both()
        return peer.fused_qkvzba_causal_conv1d_update_contiguous(
            out[:, : rs.qkvz_width], out[:, rs.qkvz_width :], c.pool, c.weight, None, c.indices,
            qkv_dim=rs.qkv_width, v_dim=rs.value_dim, num_v_heads=rs.num_v_heads, head_v_dim=rs.head_v,
            activation="silu",
        )

    floor = per_call / (bw * 1e3)
    # each graph cycles the n input sets whole (n calls alone was 2 at TP1 B=512 before round 8)
    calls = n * math.ceil(GRAPH_CALLS / n)
    timed = {"ours_us": ours, "empty_us": empty_launch(inputs[0]), "copy_us": copy_launch(per_call),
             "stream_us": stream_launch(per_call)}
    if peer is not None:
        timed["sglang_us"] = theirs
    row = {"table": "split_conv", "model": "qwen3.5", "tp": tp, "batch": batch, "floor_us": floor,
           "distinct_inputs": n, "graph_calls": calls, "budget_us": 1.3 * floor,
           **cuda_graph_medians_us(timed, replays=calls, reps=REPS)}
    row["ours_x_floor"] = row["ours_us"] / floor
    row["stream_x_floor"] = row["stream_us"] / floor
    row["launch_bound"] = launch_bound(row)
    if peer is not None:
        row["sglang_x_floor"] = row["sglang_us"] / floor
        row["speedup"] = row["sglang_us"] / row["ours_us"]
    return row


def launch_bound(row: dict) -> bool:
    """Whether one empty launch of the row's run plus its bytes at the copy rate, not overlapped, already exceed 1.3x
    its floor: then no single launch meets that target there. (A copy of the same bytes is no such bound: torch's,
    ``copy_us``, ran slower than our kernel at TP8 B=256 / 512 on the H200, NOTES.md round 10.)"""
    return row["floor_us"] + row["empty_us"] > row["budget_us"]


def split_conv_rows(tp: int, batches, peer, bw: float) -> list[dict]:
    rs = QWEN3_5_397B.per_rank(tp)
    g = torch.Generator(device="cuda").manual_seed(2000 + tp)
    return [split_conv_row(rs, tp, batch, peer, bw, g) for batch in batches]


def _select(rows, **where):
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def check_targets(rows: list[dict]) -> dict[str, bool]:
    """Issue 20's targets, judged from the rows (in context where a row has it: :func:`judged_speedup`,
    :func:`judged_wfloor`). A target whose SGLang column is missing everywhere is left out (the run says SGLang is
    absent); one whose rows are missing fails. Where the run timed the norm + projection span, the same Qwen3-Next
    decode targets judged over that span on both sides (``span_`` names): more than the issue's targets judge, not in
    their place."""
    proj = [r for r in rows if r.get("table", "projection") == "projection"]
    conv = [r for r in rows if r.get("table") == "split_conv"]
    targets: dict[str, bool] = {}

    def judge(name: str, values: list[float], ok: Callable[[list[float]], bool]) -> None:
        targets[name] = bool(values) and ok(values)

    have_sglang = any("sglang_us" in r for r in rows)
    if have_sglang:
        for tp in (1, 4):  # a row whose SGLang overlap was lost is not evidence: the target fails (a note says why)
            sel = [r for r in _select(proj, model="qwen3-next", tp=tp) if r["tokens"] <= 128 and "speedup" in r]
            judge(f"next_tp{tp}_decode_ge_1.3x_sglang", [judged_speedup(r) for r in sel],
                  lambda v, sel=sel: min(v) >= 1.3 and not any(map(overlap_lost, sel)))
        values = [r["speedup"] for r in proj if r["tokens"] >= 2048 and "speedup" in r]
        judge("prefill_ge_0.98x_sglang", values, lambda v: min(v) >= 0.98)
        values = [r["speedup"] for r in conv if r["batch"] >= 64 and "speedup" in r]
        judge("split_conv_ge_1.0x_sglang_at_B>=64", values, lambda v: min(v) >= 1.0)
    values = [judged_dispatch(r) for r in proj if "fused_x_fastest_other" in r]
    judge(f"next_dispatch_within_{DISPATCH_SLACK}x_of_fastest_other_launch", values,
          lambda v: max(v) <= DISPATCH_SLACK)
    values = [judged_wfloor(r) for r in _select(proj, model="qwen3-next", tp=4) if r["tokens"] <= 32]
    judge("next_tp4_T<=32_within_1.5x_weight_floor", values, lambda v: max(v) <= 1.5)
    values = [r["ours_x_floor"] for r in conv if r["batch"] >= 64]
    judge("split_conv_within_1.3x_floor_at_B>=64", values, lambda v: max(v) <= 1.3)
    if any("fused_span_us" in r for r in proj):  # the norm + projection span, where the run timed it
        for tp in (1, 4):
            sel = [r for r in _select(proj, model="qwen3-next", tp=tp) if r["tokens"] <= 128 and "speedup_span" in r]
            if have_sglang:
                judge(f"span_next_tp{tp}_decode_ge_1.3x_sglang", [r["speedup_span"] for r in sel],
                      lambda v, sel=sel: min(v) >= 1.3 and not any(map(overlap_lost, sel)))
        values = [r["fused_span_x_wfloor"] for r in _select(proj, model="qwen3-next", tp=4) if r["tokens"] <= 32]
        judge("span_next_tp4_T<=32_within_1.5x_weight_floor", values, lambda v: max(v) <= 1.5)
    return targets


def notes(rows: list[dict]) -> list[str]:
    """Where a floor target is missed, what one launch costs against its budget in the same run (plain lines): a
    split + conv row is launch-bound where one empty launch plus its bytes at the copy rate exceed 1.3x its floor
    (:func:`launch_bound`); torch's copy of the same bytes is shown beside. Where the dispatch loses to another
    launch, which and by how much (as judged, :func:`judged_dispatch`); and how far our path and its own launch's
    column, one launch timed in two graphs, differ in this run (the noise the dispatch check's slack allows)."""
    out = []
    for r in rows:
        if r.get("table") == "split_conv" and r["batch"] >= 64 and r["ours_x_floor"] > 1.3:
            bound = "launch-bound: floor + launch > budget" if r.get("launch_bound") else "not launch-bound"
            out.append(f"split + conv TP{r['tp']} B={r['batch']}: 1.3x its floor is {r['budget_us']:.2f} us, floor "
                       f"{r['floor_us']:.2f} + one empty launch {r['empty_us']:.2f} ({bound}); torch's copy of its "
                       f"bytes {r['copy_us']:.2f}, one Triton copy kernel of them {r['stream_us']:.2f}; ours "
                       f"{r['ours_us']:.2f}")
    for r in rows:
        if "fused_x_fastest_other" in r and judged_dispatch(r) > DISPATCH_SLACK:
            ctx = "fused_ctx_x_fastest_other" in r
            alt, ours = (r["fastest_other_ctx"], r["fused_ctx_us"]) if ctx else (r["fastest_other"], r["fused_us"])
            out.append(f"Qwen3-Next TP{r['tp']} T={r['tokens']} {'after the norm' if ctx else 'back to back'}: our "
                       f"dispatch ({r['fused_kernel']}, {ours:.2f} us) lost to {alt} "
                       f"({r[ctx_name(alt) if ctx else alt]:.2f} us, {judged_dispatch(r):.3f}x)")
    for suffix, where in (("", "back to back"), ("_ctx", "after the norm")):
        spread = [(abs(r[f"same_launch{suffix}_ratio"] - 1), r) for r in rows if f"same_launch{suffix}_ratio" in r]
        if spread:
            worst, r = max(spread, key=lambda p: p[0])
            out.append(f"dispatch check, {where}: our path and its own launch's column (one launch, two graphs) differ "
                       f"by up to {100 * worst:.1f}% (TP{r['tp']} T={r['tokens']}, {r['fused_launch']}); the check "
                       f"compares other launches only, with {100 * (DISPATCH_SLACK - 1):.0f}% slack")
    lost = [f"TP{r['tp']} T={r['tokens']}" for r in rows
            if r.get("model") == "qwen3-next" and r["tokens"] <= CONTEXT_MAX_TOKENS and overlap_lost(r)]
    if lost:
        out.append(f"SGLang's second stream did not overlap at {', '.join(lost)} (its path within "
                   f"{100 * (1 - OVERLAP_LOST):.0f}% of its one-stream form): those rows' ratios against SGLang are "
                   "flattered, so the >= 1.3x targets over them fail and the summary leaves them out")
    again = [f"TP{r['tp']} T={r['tokens']}" for r in rows if r.get("overlap_retries")]
    if again:
        out.append(f"measured again in this run because SGLang's second stream did not overlap the first time: "
                   f"{', '.join(again)} (all of each row's paths; the row kept is the later one)")
    folded = [f"TP{r['tp']} T={r['tokens']}" for r in rows if r.get("span_folds")]
    if any("fused_span_us" in r for r in rows):
        out.append("span = norm + projection, both sides timed from the same norm-shaped predecessor (the Triton "
                   "stand-in of sgl_kernel's norm, which releases its dependents after its stores) to the projection's "
                   "end: SGLang's side runs that stand-in norm then its path; ours folds the norm into the "
                   f"projection's launch at {', '.join(folded) or 'no row'} and runs the same norm then our path "
                   "elsewhere")
    for r in _select(rows, model="qwen3-next", tp=4):
        if r["tokens"] <= 32 and judged_wfloor(r) > 1.5:
            ctx = f", in context {r['fused_ctx_us']:.2f}" if "fused_ctx_us" in r else ""
            out.append(f"Qwen3-Next TP4 T={r['tokens']}: 1.5x the weight floor is {1.5 * r['weight_floor_us']:.2f} "
                       f"us; fused {r['fused_us']:.2f} back to back{ctx}, one empty launch {r['empty_us']:.2f}")
    return out


def summarize(rows: list[dict]) -> list[str]:
    """One-line findings from measured rows (shown in the rendered manual; never invented)."""

    def span(values: list[float]) -> str:
        return benchkit.span(values) + "x"

    out = []
    for tp in (1, 4):
        every = [r for r in _select(rows, model="qwen3-next", tp=tp) if r["tokens"] <= 128 and "speedup" in r]
        sel = [r for r in every if not overlap_lost(r)]
        if every and not sel:
            out.append(f"Qwen3-Next at TP{tp}: not summarized, SGLang's second stream did not overlap in this run")
        elif sel:
            where = " after the layer's input norm" if any("speedup_ctx" in r for r in sel) else ""
            out.append(f"Qwen3-Next fused projection {span([judged_speedup(r) for r in sel])} SGLang 0.5.23's decode "
                       f"path at TP{tp} (T<=128){where}")
            v = [r["speedup_span"] for r in sel if "speedup_span" in r]
            if v:
                out.append(f"norm + projection over the same span {span(v)} SGLang's norm + path at TP{tp}")
    v = [r["speedup"] for r in rows if r.get("phase") == "prefill" and "speedup" in r]
    if v:
        out.append(f"{span(v)} at prefill (T>=2048, both models)")
    v = [r["speedup"] for r in rows if r.get("table") == "split_conv" and r["batch"] >= 64 and "speedup" in r]
    if v:
        out.append(f"fused split + conv1d update {span(v)} SGLang's kernel at B>=64")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows here (runtime.benchkit JSON)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--tp", type=int, nargs="+", default=list(TPS))
    parser.add_argument("--tokens", type=int, nargs="+", default=list(TOKENS))
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES), help="split + conv kernel batches")
    parser.add_argument("--resummarize", metavar="FILE",
                        help="rewrite FILE's summary lines from its measured rows (no device needed) and exit")
    args = parser.parse_args(argv)
    if args.resummarize:
        print("\n".join(benchkit.resummarize(args.resummarize, summarize)))
        return
    if not torch.cuda.is_available():
        raise SystemExit("runtime.projections.bench needs a CUDA device")
    peer, conv_peer = sglang_peer.fused_proj(), sglang_peer.causal_conv1d()
    if peer is None:
        print("SGLang is not installed: its columns and the targets that need them are skipped")
    bw, rate = copy_bandwidth_gbs(), gemm_tflops()
    device = torch.cuda.get_device_name()
    rows = []
    for model in args.models:
        for tp in args.tp:
            def measure(tokens, model=model, tp=tp):
                return projection_rows(model, tp, tokens, peer, conv_peer, bw, rate)

            rows += remeasure_lost_overlap(measure(args.tokens), measure)
    print_table(
        rows, PROJECTION_COLUMNS,
        title=f"GDN input projection, bf16, {device} (copy {bw:.0f} GB/s, GEMM {rate:.0f} TFLOP/s); "
        "sglang = SGLang 0.5.23's CUDA path, fallback = SGLang's non-fused fallback, fused = ours",
    )
    conv_rows = [r for tp in args.tp for r in split_conv_rows(tp, args.batches, peer, bw)]
    print_table(conv_rows, SPLIT_CONV_COLUMNS, title=f"Fused split + conv1d update, Qwen3.5-397B, bf16, W=4, {device}")
    rows += conv_rows
    targets = check_targets(rows)
    print_targets(targets)
    for line in notes(rows):
        print(f"note: {line}")
    if args.json:
        path = write_results(
            args.json, "projections", rows, ceilings={"copy_gbs": bw, "gemm_tflops": rate}, targets=targets,
            summary=summarize(rows), notes=notes(rows), model="Qwen3-Next-80B and Qwen3.5-397B GDN", dtype="bfloat16",
            timing={"method": "CUDA graphs, replays interleaved in rotated order", "reps": REPS,
                    "min_calls_per_graph": GRAPH_CALLS},
            peer={"sglang": sglang_files.version()},
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
