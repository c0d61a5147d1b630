"""Launch-setting sweeps for the decode kernels, on a GPU: the data their launch policies are set from.

``python -m runtime.projections.sweep [--json PATH] [--only KIND ...]`` times, as CUDA graphs with weights and
states rotated past L2 (as :mod:`.bench` does):

* ``floor``: what one launch costs before it moves a byte (an empty kernel) and how fast one launch can stream
  a rank's projection weight (a read-and-sum kernel, no GEMM): the practical floor under the GEMV kernels;
* ``gemv``: :func:`.gemv_split.gemv_split` over rows per program, K step and warps (T <= 8);
* ``dot``: :func:`.gemm_split.gemm_split` over tiles, K step, stages, split-K and warps (T 8 to 128);
* ``swap``: the same kernel with weight rows on the MMA's M side (``swap_ab``: 64/128-row weight tiles, Hopper's
  warpgroup MMA), over the same settings;
* ``ref``: cuBLAS + our split kernel and SGLang 0.5.23's real path at the same sizes
  (:mod:`.paths`; ``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet._forward_input_proj``);
* ``split_conv``: :func:`.split_conv_kernel.split_conv_update` over channels per program, warps and PDL;
* ``pdl``: the default launches of both decode kernels with and without programmatic dependent launch;
* ``prewait``: the swapped ``gemm_split`` launches over what they request before the PDL wait (weight columns
  peeled into registers, further columns prefetched into L2, the peeled product before or after the K loop), and
  the TP1 T=8 launch on 133 / 193 / 266 weight tiles (11 / 16 / 22 key heads): time against tile count;
* ``packed``: the swapped ``gemm_split`` on a tile-major weight (:func:`.gemm_split.pack_weight`: each pipeline
  step one contiguous block) against the same launch on the row-major weight, over K step, stages and peeled
  steps (T 4 to 32), and over tiles, stages and split-K at T=128;
* ``splitpeel``: split-K with each program's whole K range requested before the PDL wait (the loop empty, as the
  GEMV does with its rows), row-major and tile-major, 4 and 8 warps;
* ``refine``: the round-5 follow-up around the tile-major winners: 128- and 32-row weight tiles, peeled steps and
  L2 prefetch on the tile-major weight, the TP4 T=128 tiles, the GEMV / GEMM cut-over at TP4, some without PDL;
* ``t128``: TP4 T=128 on the tile-major weight around its landed launch: 8 warps, 256-wide steps, two peeled
  steps, six stages;
* ``tma``: the tile-major launches with their weight steps (and x's) by bulk tensor copies (TMA) against the
  landed per-thread asynchronous copies, over stages and peeled steps; the bench's own fused path and SGLang's
  at the same sizes;
* ``tma2``: the follow-up: the landed launches at TP1 T=4 to 32 (TMA from round 6), TP1 T=32 on 8 warps, TP1 T=128
  on the tile-major weight by TMA, x alone by TMA at TP4;
* ``tma3``: TP1 T=24 / 32 in two 16-token blocks (386 programs) against the landed 32-token block;
* ``margins``: round 7, around the launches whose 1.3x margin is thin (TP1 T=32 / 128, TP4 T=128): 128-row tiles
  and 128-wide steps by TMA at TP1 T=32, 8 warps at TP1 T=128, 64-wide steps in 6 / 8 stages at TP4 T=128;
  SGLang's path and the bench's fused path beside;
* ``pairs``: the split + conv kernel's paired launch (a pair of channels per thread in 32-bit words) over channels
  per program and warps, against the one-channel-per-thread launch, B 64 to 512;
* ``steps32``: TP1 T=32 and T=128 on the tile-major weight in 32-wide K steps by TMA, 6 to 10 stages, against
  the landed 64-wide steps;
* ``l2tile``: round 8, TP4 on the tile-major weight with the rest of each program's tile (512, 1024 or all 1920
  columns past the peeled step, one contiguous run) asked into L2 before the PDL wait, against the landed launch
  (no prefetch); the GEMV at T=1, the bench's fused path and SGLang's beside;
* ``mma``: round 9, :func:`.gemv_mma.gemv_mma` (16 or 32 weight rows per program on ``mma.sync``, K slices split
  over the warps, 1 to 4 K steps requested before the PDL wait) at TP4 T 2 to 32 and TP1 T 2 to 32, over rows,
  K step, warps and steps before the wait; the bench's fused path, the GEMV and SGLang's path beside;
* ``mma2``: the follow-up on 4 warps (three programs per SM, so two calls' 193 TP4 programs are resident at once):
  steps before the wait, 16-token blocks, TP4 T 1 to 16 and TP8 T 1 to 16;
  (round 9's third sweep, ``mma3``: 2 to 4 token blocks per program reusing the loaded weight, T=16 / 32, lost
  everywhere and was removed: results/bench/projections-decode-sweep-mma3.json, the kernel of commit bdb0b39);
  (round 10's ``splitk`` and ``conv10``: the tensor-core GEMV with K split over 2 to 8 programs per 32/64-row block,
  the last to arrive summing the partials, and the split + conv paired launch with its grid in row order, lost
  everywhere and were removed: results/bench/projections-decode-sweep-splitk.json, the code of commit ec11ef2);
  (round 11's ``cluster``: a CUDA C++ kernel, K split over a 4-CTA cluster and summed in distributed shared memory,
  with a decomposition leaving out its MMA, reduction or x staging, lost everywhere and was removed:
  results/bench/projections-decode-sweep-cluster.json and -cluster2.json, the code of commit 32003fb);
* ``ctx14``: round 14, every case timed back to back and right after the layer's input norm (:mod:`.context`, as
  the bench's ``_ctx_us`` columns): where the TP4 / TP1 decode time goes after the norm (an empty launch with and
  without PDL; a kernel that only streams the weight, with PDL, in contiguous chunks of 4, 16, 32 and 64 rows or
  spread evenly over the SMs; the landed launches), the launches at T=2 / 3, and ``gemm_split`` on 16- and 32-row
  tile-major weight tiles and in 2 or 4 K ranges (TP4 T=4 / 8 / 32, TP1 T=4 / 32);
* ``copy14``: one Triton copy kernel (the bench's ``stream_us`` launch) over words a program and warps at the split +
  conv rows' byte counts, against that floor (copy rate measured in the same run): whether any single streaming launch
  reaches 1.3x the floor there;
* ``sm15``, ``sm15b``, ``sm15c``: round 15, :func:`.stream_mma.stream_mma` (one CTA per SM streaming 8-row units,
  x in registers, ``mma.sync``) over warps, units in flight and before the wait, accumulators, CTAs an SM and the
  unit-major weight, beside the landed path, SGLang's path and the weight stream on the GEMV's grid, all timed back to
  back and after the layer's input norm (``sm15``'s default then: 8 warps; ``sm15c`` ran after the final bench);
* ``sm16``: round 16, the same kernel with x staged through shared memory by a bulk copy multicast to each CTA of a
  2-, 4- or 8-CTA cluster (``CL``: L2 serves x once a cluster, not once a CTA) at TP1 T=4 to 32, TP4 T=4 to 32 and
  TP8 T=8 to 32, against the same launch without a cluster; TP1 T=2 and TP4 T=1 on the plain launch; the bench's
  fused path and SGLang's path beside, all after the layer's input norm;
* ``sm17``: round 17, the same kernel with its loads in the source's order (``PIN``; ptxas had put the PDL wait before
  every weight load) over the units requested before the wait, TP8 at 12 / 16 tokens, beside the fused path and
  SGLang's path, after the norm (two groups of warps a CTA sharing one copy of x, ``GR``, lost and were removed);
* ``nf18``: round 18, the layer's input norm folded into :func:`.stream_mma.stream_mma` (``norm=``) against the norm
  followed by our path or SGLang's, each side timed over the same span: from a norm-shaped predecessor (the stand-in
  norm, which releases its dependents after its stores) to the projection's end (``ctx_us``);
  (round 19's ``k19``: TP4 T=32 / 128 on the tile-major ``gemm_split`` in 256-wide K steps or eight 128-wide stages,
  after the norm, lost everywhere; the split + conv paired launch with cache hints won in this sweep and lost in the
  bench; both removed: results/bench/projections-decode-sweep-k19.json, the code of commits 8ef101e and
  99ddd10, NOTES.md round 19);
* ``th20``: round 20, :func:`.stream_mma.stream_mma` with the batch in two token groups (``TH=2``: each CTA pair reads
  its units twice, one half of x each) at TP4 T=16 / 24 / 32, TP1 T=16 / 32 and TP8 T=32, over the units before the
  wait and the load order; TP1 T=8 on one CTA an SM of 16 warps with the loads pinned; the landed launches, the
  bench's fused path and SGLang's path beside, after the norm;
* ``th20b``: its follow-up around the launches round 20 took (two token groups at TP4 / TP8 T=17 to 32 over units in
  flight, before the wait and load order; TP1 T=8 on one CTA an SM of 16 warps over units in flight), against the
  launches they replaced (the tile-major ``gemm_split``, the 8-CTA cluster, two CTAs an SM of 8 warps), the bench's
  fused path and SGLang's path beside, after the norm;
* ``r21``: round 21, SGLang's path with its second stream drawn as the graph's capture stream against a stream of its
  own (:func:`.paths.alt_stream`); TP8 in two token groups over units in flight; TP4 T=32 over load order; one CTA
  an SM of 32 warps at TP1 / TP4; the bench's fused path beside, after the norm;
  (round 22's ``r22`` / ``r22b``: the split + conv launches with their ``z`` and ``b``/``a`` loads before any store
  against the landed order, the copy kernel and SGLang's kernel interleaved as the bench times them, and a timing-only
  launch with no slot-index load; the early order was taken: results/bench/projections-decode-sweep-r22.json /
  -r22b.json, the code of commit a23b8bc; ``r22c``: several rows a program with the next row's inputs loaded ahead,
  lost everywhere: -r22c.json, commit c6c667c; ``r22d``: two pairs a thread and the index's round trip apart from
  where the slots lie: the index's wait is most of it, -r22d.json, commit adf3376 (run in session 23, its first
  run lost); NOTES.md round 22; round 23's ``r23`` / ``r23b``, two rows a program with every load before any store,
  lost 11-58%: -r23.json / -r23b.json, timed by a scratch module not kept, NOTES.md round 23);
* ``diag``: a handful of launches to profile (``--eager`` under ``ncu``): GEMV T=1/4, the swapped launch
  row-major / tile-major / split-K, T=128.

Compiling several hundred Triton variants dominates the run: ``--warm I/N`` compiles (and checks against the
reference, printing any mismatch) the I-th of N shares of the cases in one process, so N processes started
side by side fill Triton's on-disk cache before the timed run reads it.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
import triton
import triton.language as tl

from runtime.benchkit import (
    copy_bandwidth_gbs,
    cuda_graph_median_us,
    cuda_graph_medians_us,
    print_table,
    write_results,
)

from . import context, conv_update, naive, paths, sglang_peer, split_conv_kernel
from .bench import MODELS, _conv_states, _copies, _cycle, _weight_sets, split_conv_bytes, stream_launch
from .gemm_split import gemm_split, launch_config, pack_weight
from .gemv_mma import gemv_mma
from .gemv_split import gemv_split
from .naive import QWEN3_5_397B, QWEN3_NEXT_80B, GDNShape
from .split_kernel import split_qkvzba
from .stream_mma import AddNorm, stream_mma
from .stream_mma import pack_weight as pack_weight_units

KINDS = ("floor", "ref", "gemv", "split_conv", "dot", "swap", "pdl", "prewait", "packed", "splitpeel", "refine", "t128", "diag",
         "tma", "tma2", "tma3", "margins", "pairs", "steps32", "l2tile", "mma", "mma2", "ctx14", "copy14", "sm15", "sm15b", "sm15c", "sm16", "sm17", "nf18", "th20", "th20b", "r21")
SMEM = 227 * 1024  # shared memory one H100/H200 program may take


@dataclass(frozen=True)
class Case:
    kind: str
    tp: int
    size: int  # tokens, or batch for split_conv
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def row(self) -> dict:
        return {"kind": self.kind, "tp": self.tp, "size": self.size, **self.params}


def cases(only=KINDS) -> list[Case]:
    out = []
    if "floor" in only:
        out.append(Case("floor", 1, 0, {"variant": "empty"}))
        for tp, bn, bk, warps in itertools.product((1, 4, 8), (4, 8, 16), (1024, 2048), (4, 8)):
            if bn * bk <= 128 * 32 * warps:
                out.append(Case("floor", tp, 0, {"variant": "read", "block_n": bn, "block_k": bk, "warps": warps}))
    if "ref" in only:
        for tp, t in itertools.product((1, 4, 8), (1, 4, 8, 32, 128)):
            out += [Case("ref", tp, t, {"path": "cublas_split"}), Case("ref", tp, t, {"path": "sglang"})]
    if "gemv" in only:
        for tp, t in itertools.chain(itertools.product((1, 4, 8), (1, 8)), [(4, 4)]):
            for bn, bk, warps in itertools.product((2, 4, 8, 16), (512, 1024, 2048), (2, 4, 8)):
                if bn * bk <= 128 * 32 * warps:  # at most 128 fp32 weight values per thread
                    out.append(Case("gemv", tp, t, {"block_n": bn, "block_k": bk, "warps": warps}))
    if "split_conv" in only:
        for tp, batch in itertools.product((1, 4, 8), (64, 128, 512)):
            for block, warps, pdl in itertools.product((128, 256), (4, 8), (False, True)):
                if block >= 32 * warps:
                    out.append(Case("split_conv", tp, batch, {"block": block, "warps": warps, "pdl": pdl}))
    if "dot" in only:
        for tp, t in itertools.product((1, 4, 8), (8, 32)):
            for bn, bk, stages, sk in itertools.product((16, 32, 64), (128, 256, 512), (3, 4), (1, 2, 4)):
                bm = 16 if t == 8 else 32
                if (bm + bn) * bk * 2 * stages <= 200 * 1024:  # shared memory of the pipeline
                    out.append(Case("dot", tp, t, {"block_m": bm, "block_n": bn, "block_k": bk, "stages": stages,
                                                   "split_k": sk, "warps": 4}))
        for tp in (1, 4, 8):
            for bm, bn, bk, stages, sk in itertools.product((64, 128), (32, 64, 128), (64, 128), (3, 4), (1, 2)):
                if (bm + bn) * bk * 2 * stages <= 200 * 1024:
                    out.append(Case("dot", tp, 128, {"block_m": bm, "block_n": bn, "block_k": bk, "stages": stages,
                                                     "split_k": sk, "warps": 8 if bm * bn >= 8192 else 4}))
    if "swap" in only:
        out += _swap_cases()
    if "pdl" in only:
        for tp, t, pdl in itertools.product((1, 4, 8), (1, 2, 4, 8, 32, 128), (False, True)):
            out.append(Case("pdl", tp, t, {"kernel": "gemv" if t <= 4 else "dot", "pdl": pdl}))
    if "prewait" in only:
        out += _prewait_cases()
    if "packed" in only:
        out += _packed_cases()
    if "splitpeel" in only:
        out += _splitpeel_cases()
    if "refine" in only:
        out += _refine_cases()
    if "t128" in only:
        base = _landed(4, 128) | {"packed": True}
        out += [Case("t128", 4, 128, base | {"packed": False}), Case("t128", 4, 128, base)]
        out += [Case("t128", 4, 128, base | p) for p in (
            {"warps": 8}, {"block_k": 256, "peel_k": 256, "stages": 3}, {"peel_k": 256}, {"stages": 6},
            {"stages": 4, "peel_k": 256},
        )]
    if "margins" in only:
        out += _margin_cases()
    if "pairs" in only:
        for tp, batch in itertools.product((1, 4, 8), (64, 128, 256, 512)):
            out.append(Case("pairs", tp, batch, {"block": 256, "warps": 8, "pdl": False, "pairs": False}))
            for block, warps in ((512, 8), (1024, 8), (256, 4), (512, 4)):
                out.append(Case("pairs", tp, batch, {"block": block, "warps": warps, "pdl": False, "pairs": True}))
    if "steps32" in only:
        for t, stages in ((32, (8, 10)), (128, (6, 8))):
            landed = _landed(1, t, tile_major=True) | {"packed": True, "tma": True, "tma_x": True}
            out.append(Case("steps32", 1, t, landed))
            out += [Case("steps32", 1, t, landed | {"block_k": 32, "peel_k": 32, "stages": s}) for s in stages]
    if "l2tile" in only:
        for t in (4, 8, 32, 128):
            landed = _landed(4, t, tile_major=True) | {"packed": True}
            out += [Case("l2tile", 4, t, landed | {"prefetch_k": pf}) for pf in (0, 512, 1024, 1920)]
            out += [Case("fused_path", 4, t), Case("ref", 4, t, {"path": "sglang"})]
        out += [Case("gemv_default", 4, 1), Case("fused_path", 4, 1)]
    if "ctx14" in only:
        out += _ctx14_cases()
    if "copy14" in only:
        for tp, batch in ((1, 64), (1, 128), (1, 256), (1, 512), (4, 64)):
            for block, warps in itertools.product((1024, 2048, 4096, 8192, 16384), (4, 8, 16)):
                if block >= 128 * warps:  # at least four words a thread
                    out.append(Case("copy14", tp, batch, {"block": block, "warps": warps}))
    if "sm15" in only:
        out += _sm15_cases()
    if "sm15b" in only:
        out += _sm15b_cases()
    if "sm15c" in only:
        for tp, t in ((1, 3), (1, 4), (1, 8), (4, 1), (4, 8)):
            base = {"what": "stream_mma", "packed": True}
            out += [Case("sm15c", tp, t, base), Case("sm15c", tp, t, {"what": "fused_path"})]
            if tp == 1:
                out += [Case("sm15c", tp, t, base | {"PRE": 1}),
                        Case("sm15c", tp, t, base | {"W": 16, "D": 2, "MINB": 1, "PRE": 2})]
    if "sm16" in only:
        out += _sm16_cases()
    if "sm17" in only:
        out += _sm17_cases()
    if "nf18" in only:
        out += _nf18_cases()
    if "th20" in only:
        out += _th20_cases()
    if "th20b" in only:
        out += _th20b_cases()
    if "r21" in only:
        out += _r21_cases()
    if "mma" in only:
        out += _mma_cases()
    if "mma2" in only:
        out += _mma2_cases()
    if "diag" in only:
        out += _diag_cases()
    if "tma" in only:
        out += _tma_cases()
    if "tma2" in only:
        out += _tma2_cases()
    if "tma3" in only:
        for t in (24, 32):
            landed = _landed(1, t, tile_major=True) | {"packed": True, "tma": True, "tma_x": True}
            out += [Case("tma3", 1, t, landed)]
            out += [Case("tma3", 1, t, landed | {"block_m": 16, "peel_k": peel}) for peel in (64, 128)]
    return out


def _ctx14_cases() -> list[Case]:
    """Round 14 (NOTES.md): all timed after the layer's input norm as well as back to back."""
    out = []
    for tp, t in ((4, 4), (1, 4)):  # what a launch costs after the norm before it moves a byte
        out += [Case("ctx14", tp, t, {"what": "empty", "pdl": pdl}) for pdl in (False, True)]
    # streaming alone, PDL on, loads before the wait: contiguous chunks of `rows` weight rows a program (4: the GEMV's
    # grid, 64: gemm_split's), or the weight spread evenly over 132 or 264 programs
    for tp in (1, 4, 8):
        for rows, step_rows, stages, warps in ((4, 4, 1, 4), (16, 2, 4, 4), (32, 4, 4, 4), (64, 4, 6, 4),
                                               (64, 2, 5, 4), (0, 4, 6, 4), (-2, 4, 6, 4)):
            out.append(Case("ctx14", tp, 4, {"what": "stream", "rows": rows, "step_rows": step_rows,
                                             "stages": stages, "warps": warps}))
        out.append(Case("ctx14", tp, 4, {"what": "stream", "rows": 4, "step_rows": 4, "stages": 1, "warps": 4,
                                         "pdl": False}))
    for tp, t in itertools.product((1, 4, 8), (1, 2, 3, 4, 8, 32, 128)):
        if tp == 8 and t == 128 or tp == 1 and t == 1:
            continue
        out.append(Case("ctx14", tp, t, {"what": "fused_path"}))
        if t in (2, 3):  # every launch the dispatch could take there
            out.append(Case("ctx14", tp, t, {"what": "gemv_default"}))
            if tp > 1:
                out.append(Case("ctx14", tp, t, {"what": "mma_default"}))
            out.append(Case("ctx14", tp, t, {"what": "gemm", **_landed(tp, t, tile_major=tp < 8),
                                             "packed": tp < 8, "swap": tp < 8, **_tma_of(tp)}))
    tm = {"what": "gemm", "split_k": 1, "warps": 4, "prefetch_k": 0, "peel_last": True, "packed": True, "swap": True}
    for t in (4, 8, 32):
        bm = 16 if t <= 16 else 32
        out.append(Case("ctx14", 4, t, {"what": "gemm", **_landed(4, t, tile_major=True), "packed": True,
                                        "swap": True}))
        for bn, bk, stages in ((16, 128, 4), (16, 128, 6), (16, 256, 4), (16, 256, 6), (32, 128, 4), (32, 128, 6),
                               (32, 256, 4)):
            out.append(Case("ctx14", 4, t, tm | {"block_m": bm, "block_n": bn, "block_k": bk, "stages": stages,
                                                 "peel_k": bk}))
        for sk in (2, 4):
            out.append(Case("ctx14", 4, t, tm | {"block_m": bm, "block_n": 64, "block_k": 128, "stages": 4,
                                                 "peel_k": 128, "split_k": sk}))
    for t in (4, 32):
        bm = 16 if t <= 16 else 32
        landed = {"what": "gemm", **_landed(1, t, tile_major=True), "packed": True, "swap": True, **_tma_of(1)}
        out.append(Case("ctx14", 1, t, landed))
        out.append(Case("ctx14", 1, t, landed | {"block_n": 32}))
        out.append(Case("ctx14", 1, t, tm | {"block_m": bm, "block_n": 16, "block_k": 128, "stages": 6, "peel_k": 128}))
        out.append(Case("ctx14", 1, t, landed | {"split_k": 2}))
    # the rows 1 to 2% short of 1.3x SGLang after the norm in round 13 (TP4 T=32, TP1 T=128), and TP4 T=128
    for tp, t, changes in ((4, 32, ({"stages": 5}, {"stages": 7}, {"peel_k": 256})),
                           (1, 128, ({"stages": 3}, {"stages": 5}, {"block_m": 64}, {"peel_k": 128})),
                           (4, 128, ({"stages": 4}, {"stages": 6}, {"tma": True, "tma_x": True}))):
        landed = {"what": "gemm", **_landed(tp, t, tile_major=True), "packed": True, "swap": True, **_tma_of(tp)}
        out += [Case("ctx14", tp, t, landed | c) for c in ({}, *changes)]
    # the CUDA-core GEMV above one token on more warps (its fp32 rows cut occupancy, round 5)
    for t, warps in itertools.product((2, 3, 4), (4, 8)):
        out.append(Case("ctx14", 4, t, {"what": "gemv", "block_n": 4, "block_k": 2048, "warps": warps}))
    return out


def _sm15_cases() -> list[Case]:
    """Round 15: :func:`.stream_mma.stream_mma` (one CTA per SM, 8-row units dealt round robin, x in registers) at
    its default launch and over warps, units in flight and accumulators, beside the landed path, SGLang's path and the
    weight stream on the GEMV's grid; all timed back to back and after the layer's input norm."""
    out = []
    for tp, t in itertools.product((1, 4, 8), (1, 2, 3, 4, 8, 16, 32)):
        if tp == 8 and t in (2, 3, 16):
            continue
        # the launch this sweep ran as default: 8 warps, three units in flight (two and 16 warps above 16 tokens)
        w8 = {"what": "stream_mma", "W": 8, "D": 3} if t <= 16 else {"what": "stream_mma", "W": 16, "D": 2}
        out.append(Case("sm15", tp, t, w8))
        if tp < 8 and t > 16:
            out += [Case("sm15", tp, t, w8 | {"W": 8}), Case("sm15", tp, t, w8 | {"NACC": 1})]
        elif tp < 8 and t in (3, 4, 8):
            out += [Case("sm15", tp, t, w8 | {"NACC": 1}), Case("sm15", tp, t, w8 | {"W": 16})]
            if tp == 1:
                out += [Case("sm15", tp, t, w8 | {"D": d}) for d in (2, 4)]
        if tp == 4 and t == 4:
            out.append(Case("sm15", tp, t, w8 | {"pdl": False}))
        out += [Case("sm15", tp, t, {"what": "fused_path"}), Case("sm15", tp, t, {"what": "sglang"})]
    out += [Case("sm15", tp, 4, {"what": "stream", "rows": 4, "step_rows": 4, "stages": 1, "warps": 4})
            for tp in (1, 4)]
    return out


def _sm15b_cases() -> list[Case]:
    """Round 15's second sweep, around the 16-warp launch that won the first at TP4 / TP8: the unit-major weight
    (:func:`.stream_mma.pack_weight`), one unit before the PDL wait (the rest behind x), 32 warps, two CTAs an SM,
    units in flight at TP1."""
    out = []
    shapes = [(1, 3), (1, 4), (1, 8), (4, 1), (4, 2), (4, 3), (4, 4), (4, 8), (4, 16), (8, 3), (8, 4), (8, 8)]
    for tp, t in shapes:
        base = {"what": "stream_mma"}
        out += [Case("sm15b", tp, t, base), Case("sm15b", tp, t, base | {"packed": True}),
                Case("sm15b", tp, t, base | {"packed": True, "PRE": 1})]
        if t <= 8:
            out += [Case("sm15b", tp, t, base | {"packed": True, "W": 32, "D": 4 if tp == 1 else 3}),
                    Case("sm15b", tp, t, base | {"packed": True, "W": 8, "D": 2, "MINB": 2})]
        if tp == 1:
            out += [Case("sm15b", tp, t, base | {"packed": True, "D": d}) for d in (2, 4)]
            out.append(Case("sm15b", tp, t, base | {"packed": True, "W": 32, "D": 4, "PRE": 1}))
        out += [Case("sm15b", tp, t, {"what": "fused_path"}), Case("sm15b", tp, t, {"what": "sglang"})]
    out += [Case("sm15b", tp, 4, {"what": "stream", "rows": 4, "step_rows": 4, "stages": 1, "warps": 4})
            for tp in (1, 4)]
    return out


def _sm16_cases() -> list[Case]:
    """Round 16: :func:`.stream_mma.stream_mma` with x multicast to a cluster's CTAs (``CL`` 2 / 4 / 8) against the
    same launch without one, over the token counts x in registers lost at (TP1 T=8 / 32, TP4 T=32) and around them;
    the plain launch at TP1 T=2 and TP4 T=1; the bench's fused path and SGLang's path beside."""
    base = {"what": "stream_mma", "packed": True}
    out = [Case("sm16", 1, 2, base), Case("sm16", 4, 1, base)]
    for tp, t in ((1, 4), (1, 8), (1, 16), (1, 32), (4, 4), (4, 8), (4, 16), (4, 32), (8, 8), (8, 16), (8, 32)):
        out += [Case("sm16", tp, t, base | {"CL": cl}) for cl in (1, 2, 4, 8)]
        if tp == 1 and t <= 8:  # one CTA an SM of 16 warps
            out += [Case("sm16", tp, t, base | {"W": 16, "D": 2, "MINB": 1, "PRE": 2, "CL": cl}) for cl in (2, 4)]
    for tp, t in ((1, 2), (1, 8), (1, 32), (4, 1), (4, 8), (4, 32), (8, 32)):
        out += [Case("sm16", tp, t, {"what": "fused_path"}), Case("sm16", tp, t, {"what": "sglang"})]
    return out


def _sm17_cases() -> list[Case]:
    """Round 17: :func:`.stream_mma.stream_mma` with its loads issued in the source's order (``PIN=1``: the first
    ``PRE`` units before the PDL wait, then x, then the rest) against ptxas's order (``PIN=0``: the wait first), over
    the units requested before the wait; TP8 at 12 and 16 tokens; the bench's fused path and SGLang's path beside, all
    after the norm. (The committed run also timed two groups of 8 warps a CTA sharing one copy of x in shared memory,
    ``GR=2``, at TP1 T=2..8 and TP4 T=4 / 8: it lost everywhere and was removed, the kernel of commit 9628867.)"""
    base = {"what": "stream_mma", "packed": True}
    out = [Case("sm17", 1, 1, base), Case("sm17", 4, 1, base | {"PRE": 3})]
    for t in (2, 4, 8):
        out += [Case("sm17", 1, t, base | {"PIN": pin}) for pin in (0, 1)] + [Case("sm17", 1, t, base | {"PRE": 1})]
    for t in (2, 4, 8, 16):
        out += [Case("sm17", 4, t, base | {"PIN": 0})] + [Case("sm17", 4, t, base | {"PRE": pre}) for pre in (1, 2, 3)]
    for t in (4, 8, 12, 16, 32):
        out += [Case("sm17", 8, t, base | {"PIN": pin}) for pin in (0, 1)] + [Case("sm17", 8, t, base | {"PRE": 2})]
    for tp, t in ((1, 1), (1, 2), (1, 4), (1, 8), (4, 1), (4, 2), (4, 4), (4, 8), (4, 16), (8, 4), (8, 8), (8, 12),
                  (8, 16), (8, 32)):
        out += [Case("sm17", tp, t, {"what": "fused_path"}), Case("sm17", tp, t, {"what": "sglang"})]
    return out


def _th20_cases() -> list[Case]:
    """Round 20: :func:`.stream_mma.stream_mma` in two token groups (``TH=2``) against the landed launches, after the
    norm as the bench times them; TP1 T=8 on one CTA an SM of 16 warps, pinned."""
    base = {"what": "stream_mma", "packed": True}
    out = []
    for tp, t in ((4, 16), (4, 24), (4, 32), (1, 16), (1, 32), (8, 32)):
        out.append(Case("th20", tp, t, base | {"TH": 2}))
        if tp == 4 and t == 32:
            out += [Case("th20", tp, t, base | {"TH": 2} | p) for p in ({"PRE": 2}, {"PIN": 0}, {"D": 2})]
        if t == 16 or tp == 8:
            out.append(Case("th20", tp, t, base | {"TH": 1}))
    out += [Case("th20", 1, 8, base | {"TH": 1}), Case("th20", 1, 8, base | {"W": 16, "D": 2, "MINB": 1, "PRE": 2}),
            Case("th20", 1, 8, base | {"W": 16, "D": 3, "MINB": 1, "PRE": 1})]
    for tp, t in ((1, 8), (1, 16), (1, 32), (4, 16), (4, 24), (4, 32), (8, 32)):
        out += [Case("th20", tp, t, {"what": "fused_path"}), Case("th20", tp, t, {"what": "sglang"})]
    return out


def _th20b_cases() -> list[Case]:
    """Round 20's second sweep: around the launches the first set (see :func:`_th20_cases`), against the ones they
    replaced."""
    base = {"what": "stream_mma", "packed": True}
    out = []
    for t in (17, 24, 32):
        out.append(Case("th20b", 4, t, {"what": "gemm", **_landed(4, t, tile_major=True), "packed": True, "swap": True}))
        out += [Case("th20b", 4, t, base | {"TH": 2, "D": d}) for d in (1, 2, 3)]
        out += [Case("th20b", 8, t, base | {"TH": 2, "D": d}) for d in (2, 3)] + [Case("th20b", 8, t, base | {"TH": 1})]
    out += [Case("th20b", 4, 32, base | {"TH": 2, "D": 2} | p) for p in ({"PRE": 2}, {"PIN": 0})]
    out += [Case("th20b", 8, 32, base | {"TH": 2, "PIN": 1})]
    w8 = {"W": 8, "D": 2, "PRE": 2, "MINB": 2}
    out += [Case("th20b", 1, t, base | w8) for t in (4, 8)]
    out += [Case("th20b", 1, t, base | {"W": 16, "MINB": 1} | p) for t in (4, 8)
            for p in ({"D": 3, "PRE": 1}, {"D": 4, "PRE": 1}, {"D": 3, "PRE": 2}, {"D": 4, "PRE": 2})]
    for tp, t in ((1, 4), (1, 8), (4, 17), (4, 24), (4, 32), (8, 17), (8, 24), (8, 32)):
        out += [Case("th20b", tp, t, {"what": "fused_path"}), Case("th20b", tp, t, {"what": "sglang"})]
    return out


def _r21_cases() -> list[Case]:
    """Round 21: SGLang's path with its second stream drawn as the capture stream (``alt="capture"``: the collision
    :func:`.paths.alt_stream` rules out) against its own stream; TP8 in two token groups with two units in flight
    against three (round 20's lead); TP4 T=32 in groups with ptxas's load order; one CTA an SM of 32 warps at TP1 / TP4
    against the landed launches; the bench's fused path beside."""
    base = {"what": "stream_mma", "packed": True}
    out = [Case("r21", tp, 8, {"what": "sglang", "alt": alt}) for tp in (1, 4) for alt in ("own", "capture")]
    for t in (17, 24, 32):
        out += [Case("r21", 8, t, base | {"TH": 2, "D": d}) for d in (2, 3)] + [Case("r21", 8, t, {"what": "fused_path"})]
    out += [Case("r21", 4, 32, base | {"TH": 2, "D": 2, "PIN": p}) for p in (0, 1)] + [Case("r21", 4, 32, {"what": "fused_path"})]
    w32 = {"W": 32, "MINB": 1, "PRE": 1}
    for tp, t in ((1, 4), (1, 8), (4, 2), (4, 8)):
        out += [Case("r21", tp, t, base | w32 | {"D": d}) for d in (3, 4)] + [Case("r21", tp, t, {"what": "fused_path"})]
    out += [Case("r21", 8, 32, {"what": "sglang", "alt": "own"})]
    return out


def _nf18_cases() -> list[Case]:
    """Round 18: the input norm folded into :func:`.stream_mma.stream_mma` (``what="stream_norm"``, its launch
    settings, two CTAs of 8 warps at TP1 or one of 16) against the norm then our path (``ours_span``) or SGLang's
    (``sglang_span``), and the norm alone (``norm``), all after the same norm-shaped predecessor."""
    base = {"what": "stream_norm", "packed": True}
    out = []
    for tp, tokens in ((1, (1, 2, 4, 8, 16, 32)), (4, (1, 2, 4, 8, 16, 32)), (8, (1, 2, 4, 8, 16, 32))):
        for t in tokens:
            out += [Case("nf18", tp, t, base)] + [Case("nf18", tp, t, {"what": w})
                                                  for w in ("ours_span", "sglang_span", "norm")]
            if tp == 1 and t <= 8:
                out.append(Case("nf18", tp, t, base | {"W": 16, "D": 2, "MINB": 1, "PRE": 2}))
            if t == 32 and tp < 8:
                out.append(Case("nf18", tp, t, base | {"CL": 8}))
    return out


def _nf18_call(case: Case, ctx: _Context) -> tuple[Callable[[], object], Callable[[tuple], float] | None]:
    """The timed call of one ``nf18`` case (and its check, for the folded norm: the residual it writes bit for bit,
    the projection against the PyTorch norm then an fp32 GEMM + split)."""
    p = case.params
    rs = QWEN3_NEXT_80B.per_rank(case.tp)
    sets = ctx.weights("qwen3-next", case.tp)
    pick = _cycle(sets)
    dc = ctx.decode(rs.hidden, case.size)
    if p["what"] == "norm":
        return dc.norm, None
    if p["what"] == "ours_span":
        def fn():
            dc.norm()
            _, _, fused_w, tiles, units = pick()
            return paths.ours_next(dc.x, fused_w, rs, tiles, units=units)

        return fn, None
    if p["what"] == "sglang_span":
        def fn():
            dc.norm()
            return paths.sglang_next(ctx.peer, dc.x, *pick()[:2], rs, ctx.alt)

        return fn, None
    kw = {k: p[k] for k in p if k not in ("what", "packed")}
    res_out = torch.empty_like(dc.residual)
    norm = AddNorm(dc.residual, dc.weight, res_out, context.EPS)
    both = _cycle([(s[2], pk) for s, pk in zip(sets, ctx.stream_packed(rs, case.tp), strict=True)])

    def fn():
        w, pk = both()
        return stream_mma(dc.x, w, rs, "interleaved", packed=pk, norm=norm, **kw)

    def check(outs) -> float:
        y, s = context.gemma_add_rmsnorm_reference(dc.x, dc.residual, dc.weight)
        err = _split_check(y, sets[0][2], rs)(outs)
        return err if torch.equal(res_out, s) else float("inf")

    return fn, check


def _tma_of(tp: int) -> dict:
    """The TMA flags of the landed tile-major launch at ``tp`` (round 6: TP1 only)."""
    return {"tma": tp == 1, "tma_x": tp == 1}


def _mma_cases() -> list[Case]:
    """Round 9: the tensor-core GEMV around its compiled resource use (sm_90: 16 rows, 512-wide steps, 8 warps,
    all four steps before the wait: 100 registers, 24 KB shared, two programs per SM; NOTES.md)."""
    settings = [  # (rows, K step, warps, steps before the wait)
        (16, 512, 8, 4), (16, 512, 4, 4), (16, 1024, 8, 2), (16, 256, 8, 4), (16, 512, 8, 1), (32, 512, 8, 4),
        (16, 512, 16, 4),
    ]
    return [case for tp, t in ((4, 2), (4, 4), (4, 8), (4, 16), (4, 32), (1, 2), (1, 4), (1, 8), (1, 32))
            for case in _mma_shape(tp, t, settings)]


def _mma2_cases() -> list[Case]:
    """Round 9's second sweep: the 4-warp launch that won the first (TP4 T=4 4.52 us against the fused path's 6.02)."""
    settings = [(16, 512, 4, 4), (16, 512, 4, 3), (16, 1024, 4, 2), (16, 2048, 4, 1), (16, 512, 8, 4)]
    return [case for tp, t in ((4, 1), (4, 2), (4, 3), (4, 4), (4, 6), (4, 8), (4, 12), (4, 16), (8, 1), (8, 2),
                               (8, 4), (8, 8), (8, 16))
            for case in _mma_shape(tp, t, settings + [(16, 512, 4, 2)] * (_token_block(t) == 16), round=2)]


def _token_block(t: int) -> int:
    """The tensor-core GEMV's padded token count: 8 or the next power of two."""
    return max(8, 1 << (t - 1).bit_length())


def _mma_shape(tp: int, t: int, settings: list[tuple[int, int, int, int]], **extra) -> list[Case]:
    """One shape of an ``mma`` sweep: each (rows, K step, warps, steps before the wait), the fused path, SGLang's
    path and, up to four tokens, the GEMV."""
    out = [Case("mma", tp, t, {"block_n": bn, "block_k": bk, "block_t": _token_block(t), "warps": w, "pre": pre}
                | extra) for bn, bk, w, pre in settings]
    out += [Case("fused_path", tp, t), Case("ref", tp, t, {"path": "sglang"})]
    return out + [Case("gemv_default", tp, t)] * (t <= 4)


def _margin_cases() -> list[Case]:
    """Round 7: variants of the launches whose 1.3x margin over SGLang is thinner than run-to-run noise."""
    tma = {"packed": True, "tma": True, "tma_x": True}
    out = []
    t32 = _landed(1, 32, tile_major=True) | tma
    out.append(Case("margins", 1, 32, t32))
    out += [Case("margins", 1, 32, t32 | {"block_n": 128, "warps": 8, "stages": s}) for s in (4, 5)]
    out += [Case("margins", 1, 32, t32 | {"block_k": 128, "peel_k": 128, "stages": s}) for s in (3, 4)]
    t128 = _landed(1, 128, tile_major=True) | tma
    out += [Case("margins", 1, 128, t128), Case("margins", 1, 128, t128 | {"warps": 8})]
    tp4 = _landed(4, 128, tile_major=True) | {"packed": True}
    out.append(Case("margins", 4, 128, tp4))
    out += [Case("margins", 4, 128, tp4 | {"block_k": 64, "peel_k": 64, "stages": s}) for s in (6, 8)]
    out.append(Case("margins", 4, 128, tp4 | {"block_k": 64, "peel_k": 64, "stages": 8, "tma": True}))
    for tp, t in ((1, 32), (1, 128), (4, 128)):
        out += [Case("fused_path", tp, t), Case("ref", tp, t, {"path": "sglang"})]
    return out


def _tma2_cases() -> list[Case]:
    """Round 6's second sweep, around the TMA launch that won the first at TP1 (NOTES.md)."""
    out = [Case("tma2", 1, t, _landed(1, t, tile_major=True) | {"packed": True, "tma": True, "tma_x": True})
           for t in (4, 8, 16, 24, 32)]
    out.append(Case("tma2", 1, 32, out[-1].params | {"warps": 8}))
    out.append(Case("tma2", 1, 128, _landed(1, 128) | {"packed": False}))
    for bm, stages in ((64, 4), (64, 5), (128, 3), (128, 4)):
        out.append(Case("tma2", 1, 128, {"block_m": bm, "block_n": 64, "block_k": 64, "stages": stages, "split_k": 1,
                                         "warps": 4, "peel_k": 64, "prefetch_k": 0, "peel_last": True,
                                         "packed": True, "tma": True, "tma_x": True}))
    for t in (4, 8, 32, 128):
        base = _landed(4, t, tile_major=True) | {"packed": True}
        out += [Case("tma2", 4, t, base), Case("tma2", 4, t, base | {"tma_x": True})]
    out += [Case("ref", tp, t, {"path": "sglang"}) for tp, t in ((1, 4), (1, 32), (1, 128), (4, 128))]
    out += [Case("gemv_default", 4, 1), Case("fused_path", 4, 1)]
    return out


def _tma_cases() -> list[Case]:
    """Round 6: the landed tile-major launch at TP1 T=4/8/32 and TP4 T=4/8/32/128 with its loop's weight steps by
    TMA, then weight and x by TMA over stages and peeled steps; the bench's fused path and SGLang's beside."""
    out = []
    for tp, t in ((1, 4), (1, 8), (1, 32), (4, 4), (4, 8), (4, 32), (4, 128)):
        base = _landed(tp, t, tile_major=True) | {"packed": True}
        out += [Case("tma", tp, t, base), Case("tma", tp, t, base | {"tma": True}),
                Case("tma", tp, t, base | {"tma": True, "tma_x": True}),
                Case("fused_path", tp, t), Case("ref", tp, t, {"path": "sglang"})]
        for stages, steps in itertools.product((4, 5, 6, 8), (1, 2)):
            p = base | {"tma": True, "tma_x": True, "stages": stages, "peel_k": steps * base["block_k"]}
            if (p["stages"], p["peel_k"]) != (base["stages"], base["peel_k"]) and (
                (stages + 1) * (base["block_m"] + 64) * base["block_k"] * 2 <= SMEM
            ):
                out.append(Case("tma", tp, t, p))
    out.append(Case("gemv_default", 4, 1))
    out.append(Case("fused_path", 4, 1))
    return out


def _landed(tp: int, t: int, tile_major: bool = False) -> dict:
    """The launch :func:`launch_config` takes at Qwen3-Next ``tp``, ``t`` on 132 SMs (with a tile-major copy where
    ``tile_major``), as sweep parameters."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    cfg = launch_config(t, rs.qkvz_width + rs.ba_width, rs.hidden, 132, tile_major=tile_major)
    return {"block_m": cfg["BLOCK_M"], "block_n": cfg["BLOCK_N"], "block_k": cfg["BLOCK_K"],
            "stages": cfg["num_stages"], "split_k": cfg["SPLIT_K"], "warps": cfg["num_warps"], "peel_k": cfg["PEEL_K"],
            "prefetch_k": cfg["PREFETCH_K"], "peel_last": cfg["PEEL_LAST"]}


def _packed_cases() -> list[Case]:
    """Row-major vs tile-major weight for the swapped launch: the landed launch on each, then tile-major over K step
    (64/128), stages (4/5/6/8) and one or two peeled steps (T 4 to 32); at T=128, tile-major over tiles, K step,
    stages and split-K (the peeled step multiplied after the loop)."""
    out = []
    for tp, t in ((1, 4), (1, 8), (1, 32), (4, 4), (4, 8), (4, 32), (1, 128), (4, 128)):
        base = _landed(tp, t)
        out += [Case("packed", tp, t, base | {"packed": False}), Case("packed", tp, t, base | {"packed": True})]
        if t == 128 and tp == 1:  # TP1 T=128 meets its target: the landed launch on both layouts only
            continue
        if t < 128:
            for bk, stages, steps in itertools.product((64, 128), (4, 5, 6, 8), (1, 2)):
                if (stages + 1) * (base["block_m"] + 64) * bk * 2 <= SMEM:
                    out.append(Case("packed", tp, t, base | {"block_k": bk, "stages": stages, "peel_k": steps * bk,
                                                             "prefetch_k": 0, "packed": True}))
            continue
        tiles = ((64, 64), (128, 64), (128, 128))
        for (bm, bn), bk, stages, sk in itertools.product(tiles, (64, 128), (3, 4, 5), (1, 2, 4)):
            if (stages + 1) * (bm + bn) * bk * 2 <= SMEM and 2048 // (bk * sk) >= 2:
                out.append(Case("packed", tp, t, {"block_m": bm, "block_n": bn, "block_k": bk, "stages": stages,
                                                  "split_k": sk, "warps": 8 if bm * bn > 8192 else 4, "peel_k": bk,
                                                  "prefetch_k": 0, "peel_last": True, "packed": True}))
    return out


def _splitpeel_cases() -> list[Case]:
    """Swapped 64-row tiles in 4, 8 or 16 K ranges, each range's whole weight loaded before the PDL wait."""
    out = []
    for tp, t in ((1, 4), (1, 8), (1, 32), (4, 4), (4, 8), (4, 32)):
        bm = 16 if t <= 16 else 32
        for sk, warps, packed in itertools.product((4, 8, 16), (4, 8), (False, True)):
            bk = 2048 // sk
            if 64 * bk * 2 // (32 * warps) > 256:  # peeled weight bytes per thread
                continue
            out.append(Case("splitpeel", tp, t, {"block_m": bm, "block_n": 64, "block_k": bk, "stages": 1,
                                                 "split_k": sk, "warps": warps, "peel_k": bk, "prefetch_k": 0, "peel_last": True,
                                                 "packed": packed}))
    return out


def _refine_cases() -> list[Case]:
    """Round 5's second sweep: around the tile-major (``packed``) launches that won the first (NOTES.md)."""
    out = []

    def add(tp, t, **p):
        p = {"split_k": 1, "prefetch_k": 0, "peel_last": True, "packed": True, "warps": 4} | p
        p.setdefault("peel_k", p["block_k"])
        out.append(Case("refine", tp, t, p))

    for t in (4, 8, 32):
        bm = 16 if t <= 16 else 32
        out.append(Case("refine", 1, t, _landed(1, t) | {"packed": False}))
        for steps, pf in ((1, 0), (2, 0), (2, 256)):
            add(1, t, block_m=bm, block_n=64, block_k=64, stages=5, peel_k=64 * steps, prefetch_k=pf)
        for stages, steps in itertools.product((4, 5, 6), (1, 2)):
            add(1, t, block_m=bm, block_n=128, block_k=64, stages=stages, peel_k=64 * steps, warps=8)
        if t < 32:
            for bk, stages in itertools.product((64, 128), (4, 6)):
                add(1, t, block_m=bm, block_n=32, block_k=bk, stages=stages)
    for t in (2, 4, 8, 32):
        bm = 16 if t <= 16 else 32
        out.append(Case("refine", 4, t, _landed(4, t) | {"packed": False}))
        out.append(Case("refine", 4, t, _landed(4, t) | {"packed": True}))
        for stages, pf in itertools.product((5, 6, 7), (0, 128, 256)):
            add(4, t, block_m=bm, block_n=64, block_k=128, stages=stages, prefetch_k=pf)
        for bk, stages in itertools.product((128, 256), (4, 6)):
            add(4, t, block_m=bm, block_n=32, block_k=bk, stages=stages)
        add(4, t, block_m=bm, block_n=64, block_k=512, stages=1, split_k=4, warps=8)
        add(4, t, block_m=bm, block_n=64, block_k=128, stages=6, pdl=False)
        out.append(Case("refine", 4, t, _landed(4, t) | {"packed": False, "pdl": False}))
        if t <= 4:
            out.append(Case("gemv_default", 4, t))
    out.append(Case("refine", 4, 128, _landed(4, 128) | {"packed": False}))
    for pf in (0, 128, 256):
        add(4, 128, block_m=64, block_n=64, block_k=128, stages=5, prefetch_k=pf)
    for stages in (5, 6):
        add(4, 128, block_m=32, block_n=64, block_k=128, stages=stages)
    for bm, stages in itertools.product((32, 64), (4, 5)):
        add(4, 128, block_m=bm, block_n=128, block_k=64, stages=stages, warps=8)
    add(4, 128, block_m=64, block_n=32, block_k=128, stages=5)
    add(4, 128, block_m=64, block_n=64, block_k=128, stages=5, pdl=False)
    out.append(Case("refine", 4, 128, _landed(4, 128) | {"packed": False, "pdl": False}))
    return out


def _diag_cases() -> list[Case]:
    """Launches to read hardware counters of (``--eager`` under ``ncu``)."""
    out = [Case("gemv_default", tp, t) for tp, t in ((4, 1), (4, 4), (1, 1))]
    for tp, t in ((4, 8), (1, 8), (4, 128)):
        out += [Case("diag", tp, t, _landed(tp, t) | {"packed": False}), Case("diag", tp, t, _landed(tp, t) | {"packed": True})]
    out.append(Case("diag", 4, 8, {"block_m": 16, "block_n": 64, "block_k": 256, "stages": 1, "split_k": 8, "warps": 4,
                                   "peel_k": 256, "prefetch_k": 0, "peel_last": True, "packed": True}))
    return out


def _prewait_cases() -> list[Case]:
    """The default swapped launch at TP1/TP4 with the peeled weight columns (1, 2 or 4 K steps), the columns
    prefetched into L2 past them (0, 256 or 512) and the peeled product before or after the K loop; and the TP1
    T=8 launch at 11 and 22 key heads (133 and 266 tiles of 64 rows, against 193)."""
    out = []
    for tp, t in ((1, 4), (1, 8), (1, 32), (1, 128), (4, 8), (4, 32), (4, 128)):
        rs = QWEN3_NEXT_80B.per_rank(tp)
        cfg = launch_config(t, rs.qkvz_width + rs.ba_width, rs.hidden, 132)
        bk = cfg["BLOCK_K"]
        tile = {"block_m": cfg["BLOCK_M"], "block_n": cfg["BLOCK_N"], "block_k": bk, "stages": cfg["num_stages"],
                "split_k": 1, "warps": cfg["num_warps"]}
        peels = (bk, 2 * bk) if cfg["BLOCK_M"] > 32 else (bk, 2 * bk, 4 * bk)
        variants = [(bk, 0, False)] + [(pk, pf, True) for pk in peels for pf in (0, 256, 512) if pk * 2 <= 512 or pf == 0]
        if cfg["BLOCK_M"] > 32:
            variants = [v for v in variants if v[1] <= 256]
        for pk, pf, last in variants:
            out.append(Case("prewait", tp, t, tile | {"peel_k": pk, "prefetch_k": pf, "peel_last": last}))
    tp1_t8 = next(c for c in out if (c.tp, c.size) == (1, 8))  # the default launch: peel one step, none after
    out += [Case("prewait", 1, 8, tp1_t8.params | {"k_heads": heads}) for heads in (11, 22)]
    return out


def _swap_cases(k: int = 2048) -> list[Case]:
    """``swap_ab`` launches: 64-row weight tiles with tokens padded to 16/32 (T 8/32; pipelines of 64/128-wide K
    steps, split-K up to 4 below TP1) and 64/128 x 64/128 tiles at T 128; shared memory within what one program
    may take."""
    out = []
    for tp, t in itertools.product((1, 4, 8), (8, 32, 128)):
        if t == 128 and tp == 8:
            continue
        if t < 128:
            tiles = [(16 if t == 8 else 32, 64)]
            bks, stages, splits = ((64, 128) if tp < 8 else (128,)), (3, 4, 5, 6, 8), {1: (1, 2), 4: (1, 2, 4), 8: (2, 4)}[tp]
        else:
            tiles, bks, stages, splits = [(64, 64), (128, 64), (128, 128)], (64, 128), (4, 5, 6), (1, 2)
        for (bm, bn), bk, st, sk in itertools.product(tiles, bks, stages, splits):
            steps = k // (bk * sk) if k % (bk * sk) == 0 else 0
            if steps < 2 or (st + 1) * (bm + bn) * bk * 2 > SMEM:
                continue
            out.append(Case("swap", tp, t, {"block_m": bm, "block_n": bn, "block_k": bk, "stages": st, "split_k": sk,
                                            "warps": 8 if bm * bn > 8192 else 4}))
    return out


@triton.jit
def _stream_pdl_kernel(w_ptr, out_ptr, total, CHUNK: tl.constexpr, STEP: tl.constexpr, STAGES: tl.constexpr,
                       USE_PDL: tl.constexpr):
    """Sums ``CHUNK`` contiguous weight elements a program in ``STEP``-wide pipelined loads, all before the PDL wait,
    and stores one fp32 sum after it: a projection launch's weight stream with nothing else."""
    if USE_PDL:
        tl.extra.cuda.gdc_launch_dependents()
    start = tl.program_id(0).to(tl.int64) * CHUNK
    acc = tl.zeros((STEP,), dtype=tl.float32)
    for k in tl.range(0, CHUNK, STEP, num_stages=STAGES):
        offs = start + k + tl.arange(0, STEP)
        acc += tl.load(w_ptr + offs, mask=offs < total, other=0.0).to(tl.float32)
    if USE_PDL:
        tl.extra.cuda.gdc_wait()
    tl.store(out_ptr + tl.program_id(0), tl.sum(acc))


@triton.jit
def _empty_pdl_kernel(out_ptr, USE_PDL: tl.constexpr):
    """An empty launch with a projection launch's PDL points (dependents first, then the wait)."""
    if USE_PDL:
        tl.extra.cuda.gdc_launch_dependents()
        tl.extra.cuda.gdc_wait()
    tl.store(out_ptr, 1.0)


def _split_check(x: torch.Tensor, w: torch.Tensor, rs) -> Callable[[tuple], float]:
    """The worst relative error of a launch's split outputs against the plain projection split in PyTorch."""

    def check(outs) -> float:
        full = naive.project(x.float(), w.float())
        want = naive.split_interleaved(full[:, : rs.qkvz_width], full[:, rs.qkvz_width :], rs)
        return max(((o.float() - r).norm() / r.norm()).item() for o, r in zip(outs, want, strict=True))

    return check


def _ctx14_call(case: Case, ctx: _Context) -> tuple[Callable[[], object], Callable[[tuple], float] | None]:
    """The timed call of one ``ctx14`` case (and its check, for the projection launches)."""
    p = case.params
    what = p["what"]
    pdl = {"USE_PDL": True, "launch_pdl": True} if p.get("pdl", True) else {"USE_PDL": False}
    if what == "empty":
        out = torch.empty(1, device="cuda")
        return lambda: _empty_pdl_kernel[(1,)](out, **pdl), None
    if what == "stream":
        pick = _cycle(ctx.weights("qwen3-next", case.tp))
        w0 = pick()[2]
        total, k = w0.numel(), w0.shape[1]
        step = p["step_rows"] * k
        if p["rows"] > 0:
            chunk = p["rows"] * k
        else:  # the weight spread evenly over 132 x -rows programs (132 where rows is 0), whole steps each
            chunk = -(-total // (132 * max(1, -p["rows"]) * step)) * step
        grid = (-(-total // chunk),)
        out = torch.empty(grid[0], device="cuda")

        def fn():
            _stream_pdl_kernel[grid](pick()[2], out, total, CHUNK=chunk, STEP=step, STAGES=p["stages"],
                                     num_warps=p["warps"], num_stages=p["stages"], **pdl)

        return fn, None
    rs = QWEN3_NEXT_80B.per_rank(case.tp)
    sets = ctx.weights("qwen3-next", case.tp)
    pick = _cycle(sets)
    x = ctx.x(rs.hidden, case.size)
    if what == "fused_path":
        def fn():
            _, _, fused_w, tiles, units = pick()
            return paths.ours_next(x, fused_w, rs, tiles, units=units)
    elif what == "sglang":
        if p.get("alt") == "capture":  # the stream the graph is captured on (set once a graph was made)
            fn = lambda: paths.sglang_next(ctx.peer, x, *pick()[:2], rs,  # noqa: E731
                                           torch.cuda.graph.default_capture_stream or ctx.alt)
        else:
            fn = lambda: paths.sglang_next(ctx.peer, x, *pick()[:2], rs, ctx.alt)  # noqa: E731
    elif what == "stream_mma":
        kw = {k: p[k] for k in p if k not in ("what", "packed")}
        if p.get("packed"):
            packs = ctx.stream_packed(rs, case.tp)
            both = _cycle([(s[2], pk) for s, pk in zip(sets, packs, strict=True)])

            def fn():
                w, pk = both()
                return stream_mma(x, w, rs, "interleaved", packed=pk, **kw)
        else:
            fn = lambda: stream_mma(x, pick()[2], rs, "interleaved", **kw)  # noqa: E731
    elif what == "gemv_default":
        fn = lambda: gemv_split(x, pick()[2], rs, "interleaved")  # noqa: E731
    elif what == "mma_default":
        fn = lambda: gemv_mma(x, pick()[2], rs, "interleaved")  # noqa: E731
    elif what == "gemv":
        fn = lambda: gemv_split(x, pick()[2], rs, "interleaved", block_n=p["block_n"], block_k=p["block_k"],  # noqa: E731
                                num_warps=p["warps"])
    else:
        prewait = {k: p[k] for k in ("peel_k", "prefetch_k", "peel_last", "tma", "tma_x") if k in p}
        tiles = _cycle(ctx.packed(rs, case.tp, p["block_n"], p["block_k"])) if p.get("packed") else lambda: None
        fn = lambda: gemm_split(x, pick()[2], rs, "interleaved", block_n=p["block_n"], block_m=p["block_m"],  # noqa: E731
                                block_k=p["block_k"], num_stages=p["stages"], split_k=p["split_k"],
                                num_warps=p["warps"], swap_ab=p["swap"], tile_major=tiles(), **prewait)

    return fn, _split_check(x, sets[0][2], rs)


def _copy14_call(case: Case, ctx: _Context) -> tuple[Callable[[], object], None]:
    nbytes = split_conv_bytes(QWEN3_5_397B.per_rank(case.tp), case.size)
    return stream_launch(nbytes, block=case.params["block"], num_warps=case.params["warps"]), None


_READ_FLOOR = None


def _read_kernel():
    """A kernel that reads ``w [N, K]`` once and writes one fp32 sum per row: streaming with nothing else."""
    global _READ_FLOOR
    if _READ_FLOOR is None:
        import triton
        import triton.language as tl

        @triton.jit
        def read_rows(w_ptr, out_ptr, N, K: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
            rn = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
            rows = w_ptr + tl.minimum(rn, N - 1)[:, None].to(tl.int64) * K
            acc = tl.zeros((BLOCK_N,), dtype=tl.float32)
            for k0 in range(0, K, BLOCK_K):
                acc += tl.sum(tl.load(rows + k0 + tl.arange(0, BLOCK_K)[None, :]).to(tl.float32), axis=1)
            tl.store(out_ptr + rn, acc, mask=rn < N)

        @triton.jit
        def empty(out_ptr):
            tl.store(out_ptr, 1.0)

        _READ_FLOOR = (read_rows, empty)
    return _READ_FLOOR


class _Context:
    """Weights, inputs and states per (model, tp, size), built once; ``rotate`` picks copies spanning 3x L2."""

    def __init__(self, rotate: bool) -> None:
        self.rotate = rotate
        self._weights: dict = {}
        self._x: dict = {}
        self.peer = sglang_peer.fused_proj()
        self.alt = paths.alt_stream()
        self._copy: float | None = None

    def weights(self, model: str, tp: int, rs: GDNShape | None = None) -> list[tuple]:
        """Weight copies of one rank, or of ``rs`` (another head count) where given."""
        rs = rs or MODELS[model][0].per_rank(tp)
        if rs not in self._weights:
            sets = _weight_sets(rs, seed=tp)
            self._weights[rs] = sets if self.rotate else sets[:1]
        return self._weights[rs]

    def packed(self, rs: GDNShape, tp: int, block_n: int, block_k: int) -> list[torch.Tensor]:
        """Tile-major copies (:func:`.gemm_split.pack_weight`) of :meth:`weights`."""
        key = (rs, block_n, block_k)
        if key not in self._weights:
            self._weights[key] = [pack_weight(s[2], block_n, block_k) for s in self.weights("qwen3-next", tp, rs)]
        return self._weights[key]

    def stream_packed(self, rs: GDNShape, tp: int) -> list[torch.Tensor]:
        """Unit-major copies (:func:`.stream_mma.pack_weight`) of :meth:`weights`."""
        if ("stream", rs) not in self._weights:
            self._weights[("stream", rs)] = [pack_weight_units(s[2]) for s in self.weights("qwen3-next", tp, rs)]
        return self._weights[("stream", rs)]

    def decode(self, hidden: int, t: int) -> context.DecodeContext:
        """The layer's input norm over :meth:`x` (in place), for the in-context timings."""
        if ("norm", hidden, t) not in self._x:
            g = torch.Generator(device="cuda").manual_seed(7 * hidden + t)
            self._x[("norm", hidden, t)] = context.DecodeContext(self.x(hidden, t), g)
        return self._x[("norm", hidden, t)]

    def copy_gbs(self) -> float:
        """The device's copy rate (:func:`runtime.benchkit.copy_bandwidth_gbs`), measured once."""
        if self._copy is None:
            self._copy = copy_bandwidth_gbs()
        return self._copy

    def x(self, hidden: int, t: int) -> torch.Tensor:
        if (hidden, t) not in self._x:
            g = torch.Generator(device="cuda").manual_seed(hidden + t)
            self._x[(hidden, t)] = torch.randn(t, hidden, device="cuda", generator=g, dtype=torch.bfloat16)
        return self._x[(hidden, t)]


def _projection_call(case: Case, ctx: _Context) -> tuple[Callable[[], object], Callable[[tuple], float] | None]:
    """The timed call of one Qwen3-Next case and a check of its outputs (relative error vs fp32 GEMM + split)."""
    p = case.params
    rs = QWEN3_NEXT_80B.per_rank(case.tp)
    if "k_heads" in p:
        rs = dataclasses.replace(rs, num_k_heads=p["k_heads"], num_v_heads=2 * p["k_heads"])
    sets = ctx.weights("qwen3-next", case.tp, rs)
    pick = _cycle(sets)
    x = ctx.x(rs.hidden, case.size)
    if case.kind == "gemv":
        fn = lambda: gemv_split(x, pick()[2], rs, "interleaved", block_n=p["block_n"], block_k=p["block_k"],  # noqa: E731
                                num_warps=p["warps"])
    elif case.kind == "pdl" and p["kernel"] == "gemv":
        fn = lambda: gemv_split(x, pick()[2], rs, "interleaved", pdl=p["pdl"])  # noqa: E731
    elif case.kind == "pdl":
        fn = lambda: gemm_split(x, pick()[2], rs, "interleaved", pdl=p["pdl"])  # noqa: E731
    elif case.kind == "mma":
        fn = lambda: gemv_mma(x, pick()[2], rs, "interleaved", block_n=p["block_n"], block_k=p["block_k"],  # noqa: E731
                              block_t=p["block_t"], num_warps=p["warps"], pre=p["pre"])
    elif case.kind == "gemv_default":
        fn = lambda: gemv_split(x, pick()[2], rs, "interleaved")  # noqa: E731
    elif case.kind == "fused_path":  # what the bench times as ours, on the sweep's inputs
        def fn():
            _, _, fused_w, tiles, units = pick()
            return paths.ours_next(x, fused_w, rs, tiles, units=units)
    elif case.kind in ("dot", "swap", "prewait", "packed", "splitpeel", "refine", "t128", "diag", "tma", "tma2", "tma3",
                       "margins", "steps32", "l2tile"):
        prewait = {k: p[k] for k in ("peel_k", "prefetch_k", "peel_last", "tma", "tma_x") if k in p}
        tiles = _cycle(ctx.packed(rs, case.tp, p["block_n"], p["block_k"])) if p.get("packed") else lambda: None
        fn = lambda: gemm_split(x, pick()[2], rs, "interleaved", block_n=p["block_n"], block_m=p["block_m"],  # noqa: E731
                                block_k=p["block_k"], num_stages=p["stages"], split_k=p["split_k"],
                                num_warps=p["warps"], swap_ab=case.kind != "dot", tile_major=tiles(),
                                pdl=p.get("pdl"), **prewait)
    elif p["path"] == "cublas_split":
        n = rs.qkvz_width

        def fn():
            out = F.linear(x, pick()[2])
            return split_qkvzba(out[:, :n], out[:, n:], rs, "interleaved")
    else:
        if ctx.peer is None:
            raise RuntimeError("SGLang is not installed")
        fn = lambda: paths.sglang_next(ctx.peer, x, *pick()[:2], rs, ctx.alt)  # noqa: E731

    return fn, _split_check(x, sets[0][2], rs)


def _floor_call(case: Case, ctx: _Context) -> tuple[Callable[[], object], None]:
    read_rows, empty = _read_kernel()
    out = torch.empty(QWEN3_NEXT_80B.per_rank(case.tp).qkvz_width + 64, device="cuda")
    if case.params["variant"] == "empty":
        return lambda: empty[(1,)](out), None
    p = case.params
    pick = _cycle(ctx.weights("qwen3-next", case.tp))

    def fn():
        w = pick()[2]
        n, k = w.shape
        read_rows[(-(-n // p["block_n"]),)](w, out, n, K=k, BLOCK_N=p["block_n"], BLOCK_K=p["block_k"],
                                           num_warps=p["warps"])

    return fn, None


def _split_conv_call(case: Case, ctx: _Context):
    rs = QWEN3_5_397B.per_rank(case.tp)
    g = torch.Generator(device="cuda").manual_seed(case.tp * 1000 + case.size)
    n = min(256, _copies(split_conv_bytes(rs, case.size))) if ctx.rotate else 1
    convs = _conv_states(rs, case.size, n, g)
    inputs = [torch.randn(case.size, rs.qkvz_width + rs.ba_width, device="cuda", generator=g,
                          dtype=torch.bfloat16) for _ in range(n)]
    both = _cycle(list(zip(inputs, convs, strict=True)))
    p = case.params

    def run(out, c, **kw):
        return split_conv_kernel.split_conv_update(
            out[:, : rs.qkvz_width], out[:, rs.qkvz_width :], c.pool, c.weight, None, c.indices, rs, "silu", **kw
        )

    kw = {"block": p["block"], "num_warps": p["warps"], "pdl": p["pdl"], "pairs": p.get("pairs", False)}

    def fn():
        return run(*both(), **kw)

    def check(_outs) -> float:
        """Bits against the PyTorch reference on a fresh state copy (the conv output within an ulp)."""
        out, c = inputs[0], convs[0]
        pool_k, pool_r = c.pool.clone(), c.pool.clone()
        got = run(out, paths.ConvState(pool_k, c.indices, c.weight), **kw)
        want = conv_update.split_conv_update(out[:, : rs.qkvz_width], out[:, rs.qkvz_width :], pool_r, c.weight,
                                             None, c.indices, rs, "silu")
        exact = torch.equal(pool_k, pool_r) and all(torch.equal(a, b) for a, b in zip(got[1:], want[1:], strict=True))
        err = ((got[0].float() - want[0].float()).norm() / want[0].float().norm()).item()
        return err if exact else float("inf")

    return fn, check, n


def run_case(case: Case, ctx: _Context, time_it: bool) -> dict:
    """One case's row: its relative error against the reference (``inf``: a copied value differs) and, when
    ``time_it``, its CUDA-graph median; a case that fails to build, compile or launch gets an ``error``."""
    row = case.row()
    try:
        replays = 20
        if case.kind in ("split_conv", "pairs"):
            fn, check, replays = _split_conv_call(case, ctx)
        elif case.kind in ("ctx14", "sm15", "sm15b", "sm15c", "sm16", "sm17", "th20", "th20b", "r21"):
            fn, check = _ctx14_call(case, ctx)
        elif case.kind == "nf18":
            fn, check = _nf18_call(case, ctx)
        elif case.kind == "copy14":
            fn, check = _copy14_call(case, ctx)
        elif case.kind == "floor":
            fn, check = _floor_call(case, ctx)
        else:
            fn, check = _projection_call(case, ctx)
        outs = fn()
        if check is not None:
            try:
                row["rel_err"] = check(outs)
            except Exception as exc:  # noqa: BLE001 - a broken check must not cost the timing
                row["check_error"] = f"{type(exc).__name__}: {str(exc)[:160]}"
        if time_it and case.kind in ("ctx14", "sm15", "sm15b", "sm15c", "sm16", "sm17", "nf18", "th20", "th20b", "r21"):  # back to back and after the norm, interleaved as the bench times
            norm = ctx.decode(QWEN3_NEXT_80B.hidden, case.size)
            times = cuda_graph_medians_us({"us": fn, "norm_us": norm.norm, "with_norm": norm.then(fn)},
                                          replays=20, reps=50)
            row.update(us=times["us"], norm_us=times["norm_us"], ctx_us=times["with_norm"] - times["norm_us"])
        elif time_it and case.kind == "copy14":
            row["us"] = cuda_graph_medians_us({"us": fn}, replays=20, reps=50)["us"]  # as the bench's stream_us
            row["floor_us"] = split_conv_bytes(QWEN3_5_397B.per_rank(case.tp), case.size) / (ctx.copy_gbs() * 1e3)
            row["x_floor"] = row["us"] / row["floor_us"]
        elif time_it:
            row["us"] = cuda_graph_median_us(fn, replays=max(20, replays))
    except Exception as exc:  # noqa: BLE001 - a config that fails to compile or launch is a row, not a crash
        row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
    return row


def mismatched(row: dict) -> bool:
    """A row that failed, or whose output is off by more than 1e-2 (a NaN error too: it compares below every
    bound): never a candidate for the best per size."""
    return "error" in row or "check_error" in row or not row.get("rel_err", 0) <= 1e-2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--warm", help="I/N: compile and check the I-th of N shares of the cases, no timing")
    parser.add_argument("--json", help="write the timed rows here (runtime.benchkit JSON)")
    parser.add_argument("--eager", action="store_true",
                        help="no timing: call each case twice outside a graph (to run under a profiler, e.g. ncu)")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("runtime.projections.sweep needs a CUDA device")
    todo = cases(args.only)
    if args.eager:
        ctx = _Context(rotate=True)
        for case in todo:
            fn = _projection_call(case, ctx)[0]
            for _ in range(2):
                fn()
                torch.cuda.synchronize()
            print("eager", case.row(), flush=True)
        return
    if args.warm:
        part, parts = map(int, args.warm.split("/"))
        ctx = _Context(rotate=False)
        for case in todo[part::parts]:
            row = run_case(case, ctx, time_it=False)
            if mismatched(row):
                print("CHECK", row, flush=True)
        return
    ctx = _Context(rotate=True)
    rows = []
    for i, case in enumerate(todo):
        rows.append(run_case(case, ctx, time_it=True))
        if i % 50 == 0:
            print(f"  {i}/{len(todo)} {rows[-1]}", flush=True)
        if args.json and i % 100 == 99:  # partial results survive a run cut short
            write_results(args.json, "projections-sweep", rows)
    bad = [r for r in rows if mismatched(r)]
    for kind in args.only:
        if kind in ("ctx14", "copy14", "sm15", "sm15b", "sm15c", "sm16", "sm17", "nf18", "th20", "th20b", "r21"):  # every case: the decomposition needs them all
            sel = [r for r in rows if r["kind"] == kind]
            cols = sorted({c for r in sel for c in r} - {"kind"}, key=lambda c: (c != "tp", c != "size", c))
            print_table(sel, cols, title=f"{kind}, {torch.cuda.get_device_name()}")
            continue
        best: dict = {}
        for r in rows:
            if r["kind"] == kind and "us" in r and r not in bad:
                key = (r["tp"], r["size"], r.get("path"), r.get("variant"), r.get("pdl"), r.get("k_heads"),
                       r.get("packed"), r.get("block_n"), r.get("tma"), r.get("tma_x"), r.get("pairs"),
                       r.get("block"), r.get("warps") if r["kind"] == "pairs" else None,
                       (r.get("block_k"), r.get("warps"), r.get("pre")) if r["kind"] == "mma" else None)
                if key not in best or r["us"] < best[key]["us"]:
                    best[key] = r
        cols = sorted({c for r in best.values() for c in r} - {"kind", "rel_err"}, key=lambda c: (c != "tp", c != "size", c))
        print_table(sorted(best.values(), key=lambda r: (r["tp"], r["size"])), cols,
                    title=f"best {kind} per size, {torch.cuda.get_device_name()}")
    print(f"{len(bad)} cases failed or mismatched: {bad[:5]}")
    if args.json:  # the copy rate where a case measured it (copy14's floors)
        write_results(args.json, "projections-sweep", rows,
                      ceilings={"copy_gbs": ctx._copy} if ctx._copy is not None else None)


if __name__ == "__main__":
    main()
