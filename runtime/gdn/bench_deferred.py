"""Bench rows for the deferred-write decode, its dispatch and MTP verify, against SGLang 0.5.23's own kernels.

Run through ``python -m runtime.gdn.bench``. All kernels share one ``[slots, HV, V, K]`` fp32 pool with random
slots, rotated past 4x the L2; rings (ours and SGLang's ReplaySSM take the same ``d, k, g`` layout, fp32)
hold random entries. ``staggered``: row ``i`` at ring position ``(i + t) % L`` on step ``t`` (flushes spread
over the steps); ``aligned``: every row at ``t % L`` (every row flushes on the same step); both timed over
whole cycles of ``L`` steps, so each time is the mean step including its share of flushes. Our deferred steps
get each step's row order (:func:`flush_first_order`; the split step's :func:`flush_split`, in pool-slot order where
:func:`split_by_slot`), built from the slots and fills the bench stages, before timing: a forward builds it once for
all its GDN layers, as SGLang builds its slot indices and ring cursors once per forward
(``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._forward_metadata``). Its cost is
a column, not hidden: ``order_us`` (L = 16 rows) is the GPU time of building that order (one sort), and
``pct_floor_order`` charges each layer its share (``order_us / GDN_LAYERS``). SGLang's kernels
get the same positions (``write_pos``) and run as SGLang's backend calls them, the ReplaySSM decode with the
force-flush mask its GDN path always builds (all zero here: no step is a track boundary), which ours gets as its
``flush``: ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._replayssm_track_flush_mask``,
``sglang/kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py: fused_recurrent_linear_replayssm_decode``,
``sglang/kernels/ops/attention/fla/fused_recurrent.py: fused_recurrent_gated_delta_rule_packed_decode``, ``sglang/kernels/ops/attention/linear/fused_sigmoid_gating_recurrent.py: fused_sigmoid_gating_delta_rule_update``.

Floors: in-place decode moves the state twice (read + write). The deferred decode's read-only floor is one
state read plus its ring traffic (live entries read, one entry appended), not counting the ``1/L`` flush
writes (issue 18's definition); ``pct_floor_flush`` adds them (each state written once per ring cycle: the
least any deferred-write decode moves); ``no_flush_us`` (L = 16) times the row's tile on steps where no row flushes
(fills cycling below ``L - 1``; the rings read as in a staggered step): what the flushes add is ``ours - no_flush``.
Verify: one state read + ``T`` state writes.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import torch

from runtime import benchkit
from runtime.gdn import sglang_peers
from runtime.gdn.decode import packed_decode
from runtime.gdn.deferred_decode import (
    SPLIT_FLUSH_TILE,
    DeferredConfig,
    FlushTile,
    StateRing,
    deferred_decode,
    flush_first_order,
    flush_split,
    flushes,
    slot_order,
    split_by_slot,
    split_flush_tile,
    step_config,
)
from runtime.gdn.state_bytes import move_state
from runtime.gdn.verify import accepted_slots, commit_accepted, verify, verify_tile

K = V = 128
TP_HEADS = {"TP1": (16, 32), "TP4": (4, 8)}
BATCHES = (1, 16, 64, 256, 1024)
RING_LENGTHS = (4, 8, 16, 32)
DEFERRED_COLUMNS = ["kernel", "shape", "tile", "ours_us", "batch_order_us", "aligned_us", "no_flush_us", "order_us",
                    "sgl_replayssm_us", "in_place_us", "floor_us", "pct_floor", "pct_floor_order", "pct_floor_flush",
                    "x_sgl_replayssm", "x_in_place"]
GDN_LAYERS = 36  # Qwen3-Next-80B: 48 layers, 3 of every 4 Gated DeltaNet; a forward's row order serves all of them
DISPATCH_COLUMNS = ["kernel", "shape", "mode", "tile", "ours_us", "in_place_us", "sgl_packed_us", "x_best"]
ROW_ORDER = "flush-first"  # the deferred rows run with flush_first_order, built from the fills each step stages
SLOT_ORDER = "split-slot"  # the split step's groups each in pool-slot order (flush_split(..., slots=))
TILE_CANDIDATES = [DeferredConfig(b, 8, 1, pipeline=p) for b, p in ((32, False), (64, False), (64, True))]


def tile_candidates(case: RingCase) -> list[DeferredConfig]:
    """The one-launch ``TILE_CANDIDATES`` and the split step with the flushing tile the code picks at the case's
    size (:func:`split_flush_tile`)."""
    return [*TILE_CANDIDATES, DeferredConfig(64, 8, 1, pipeline=True, flush_tile=split_flush_tile(case.B, case.HV))]
DEFERRED_CHOICES = [  # (block_v, block_rows, pipeline)
    (32, 8, False), (64, 8, False), (64, 8, True), (128, 8, True), (32, 4, False),
]
VERIFY_CHOICES = [(4, 1), (8, 1)]  # (block_v, num_warps)
VERIFY_BATCHES = (16, 64, 256)
VERIFY_COLUMNS = ["kernel", "shape", "ours_us", "sgl_verify_us", "pattern_us", "floor_us", "pct_floor",
                  "pct_floor_pattern", "x_sgl_verify", "x_sgl_pattern", "ours_step_us", "sgl_step_us", "x_sgl_step",
                  "ours_zero_copy_us", "x_sgl_step_zero_copy"]
PATTERN_TILES = [(4, 4, 1), (8, 8, 1), (32, 32, 4)]  # (block_v, block_rows, num_warps) of the no-arithmetic ceilings


def _sets(bytes_per_call: int, cap: int = 256) -> int:
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    return max(1, min(cap, math.ceil(4 * l2 / max(bytes_per_call, 1))))


def _time(calls: list[Callable[[], object]], reps: int = 20) -> float | None:
    """Graph median per call over one pass of ``calls`` (at least 20); ``None`` (reported) if a path fails."""
    it = itertools.cycle(calls)
    try:
        return benchkit.cuda_graph_median_us(lambda: next(it)(), replays=max(20, len(calls)), reps=reps)
    except (RuntimeError, ValueError, TypeError, AssertionError, AttributeError) as exc:
        print(f"  (timing failed: {type(exc).__name__}: {str(exc)[:200]})")
        return None


def read_only_bytes(H: int, HV: int, B: int, L: int) -> int:
    """A deferred step's read-only floor bytes: one state read + the ring traffic of a staggered step (mean
    (L-1)/2 live entries, one append) + inputs and outputs."""
    live = (L - 1) / 2
    per_row = HV * V * K * 4 + 4 * ((live + 1) * (HV * V + H * K + HV))
    return int(B * per_row) + 2 * B * (2 * H * K + HV * V + 2 * HV + HV * V)


class RingCase:
    """``B`` decode rows at a TP shape on a pool of ``n_sets * B`` slots, each slot with a ring of length ``L``."""

    def __init__(self, tp: str, B: int, L: int):
        self.H, self.HV = TP_HEADS[tp]
        self.B, self.L = B, L
        self.state_bytes = self.HV * V * K * 4
        self.n_sets = _sets(B * self.state_bytes)
        slots = self.n_sets * B
        self.pool = torch.randn(slots, self.HV, V, K, device="cuda") * 0.5
        self.ring = StateRing.allocate(slots, self.H, self.HV, K, V, length=L)
        self.ring.d.normal_(0, 0.3)
        self.ring.k.copy_(torch.nn.functional.normalize(torch.randn_like(self.ring.k), dim=-1))
        self.ring.g.uniform_(-1, 0)
        self.idx = list(torch.randperm(slots, device="cuda").to(torch.int32).view(self.n_sets, B))
        rows = torch.arange(B, device="cuda")
        self.fills = {
            "staggered": [((rows + t) % L).to(torch.int32) for t in range(L)],
            "aligned": [torch.full((B,), t, device="cuda", dtype=torch.int32) for t in range(L)],
            "empty": [torch.zeros(B, device="cuda", dtype=torch.int32)],
            "no-flush": [((rows + t) % max(L - 1, 1)).to(torch.int32) for t in range(L)],  # never full: no flush
            "all-flush": [torch.full((B,), L - 1, device="cuda", dtype=torch.int32)],  # every row flushes, ring full
        }
        self.orders: dict[str, dict[str, list]] = {"flush-first": {}, "flushes-only": {}, "split": {}}
        for pattern in list(self.fills):
            self._add_orders(pattern)
        self._slot_orders: dict[tuple[str, str], list[tuple[torch.Tensor, int]]] = {}
        self.qkv = torch.randn(B, 2 * self.H * K + self.HV * V, device="cuda").bfloat16()
        self.a = (torch.randn(B, self.HV, device="cuda") - 2).bfloat16()
        self.b = torch.randn(B, self.HV, device="cuda").bfloat16()
        self.A_log = torch.log(1 + 15 * torch.rand(self.HV, device="cuda"))
        self.dt_bias = torch.randn(self.HV, device="cuda")
        self.out = torch.empty(B, self.HV, V, device="cuda", dtype=torch.bfloat16)
        self.io_bytes = 2 * (self.qkv.numel() + 2 * self.a.numel() + self.out.numel())
        # SGLang's GDN backend passes a force-flush mask every step (the radix track boundaries); none falls on
        # the steps timed here, so it is all zero, and both kernels get it
        self.no_force = torch.zeros(B, device="cuda", dtype=torch.int32)

    def _add_orders(self, pattern: str) -> None:
        """Each row order of ``pattern``'s steps (the bench knows each step's fills, as a scheduler does)."""
        fills, L = self.fills[pattern], self.L
        self.orders["flush-first"][pattern] = [flush_first_order(f, L) for f in fills]
        self.orders["flushes-only"][pattern] = [torch.argsort((~flushes(f, L)).int(), stable=True).to(torch.int32)
                                                for f in fills]
        self.orders["split"][pattern] = [flush_split(f, L) for f in fills]  # (order, flush_rows)

    def fixed_fill(self, live: int) -> str:
        """A fill pattern (its name) with every row at ``live`` ring entries on every step."""
        pattern = f"fill {live}"
        if pattern not in self.fills:
            self.fills[pattern] = [torch.full((self.B,), live, device="cuda", dtype=torch.int32)]
            self._add_orders(pattern)
        return pattern

    def _steps(self, pattern: str, order: str | None = None) -> list[tuple]:
        """(slots, fill, row order) of each call: whole ring cycles, every slot set visited. ``order``
        ``split-slot`` (the split's groups each in slot order) is built per call, from its slots and fills."""
        n = self.L * math.ceil(max(self.n_sets, 20) / self.L)
        fills = self.fills[pattern]
        steps = [(self.idx[i % self.n_sets], fills[i % len(fills)], i % len(fills)) for i in range(n)]
        if order == SLOT_ORDER:
            key = (pattern, order)
            if key not in self._slot_orders:
                self._slot_orders[key] = [flush_split(f, self.L, slots=i) for i, f, _ in steps]
            return [(i, f, o) for (i, f, _), o in zip(steps, self._slot_orders[key], strict=True)]
        orders = self.orders[order][pattern] if order else [None] * len(fills)
        return [(i, f, orders[j]) for i, f, j in steps]

    def time_order(self, order: str) -> float | None:
        """GPU time of building one step's row order ``order`` from its slots and fills (staggered steps): a sort,
        which a forward builds once for all its GDN layers (its slots and ring fills are the same in every layer).
        ``split-slot``: :func:`slot_order` over the flushing rows and the slots; ``split`` and ``flush-first``: the
        flush-first order (:func:`flush_first_order`, the same sort). The split's count of flushing rows is known on
        the host (the scheduler counts each request's steps) and not timed."""
        def build(i: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
            return slot_order(i, flushes(f, self.L)) if order == SLOT_ORDER else flush_first_order(f, self.L)

        return _time([lambda i=i, f=f: build(i, f) for i, f, _ in self._steps("staggered")])

    def read_only_bytes(self) -> int:
        return read_only_bytes(self.H, self.HV, self.B, self.L)

    def flush_write_bytes(self) -> int:
        """The state writes a step owes on average: each state once per ring cycle of ``L`` steps."""
        return self.B * self.state_bytes // self.L

    def deferred_calls(self, pattern: str = "staggered", config: DeferredConfig | None = None,
                       rings_empty: bool = False, order: str | None = None) -> list[Callable[[], object]]:
        """``order``: None (rows in batch order), or the name of a row order (``self.orders``) built per step."""
        def call(idx: torch.Tensor, fill: torch.Tensor, rows: torch.Tensor | tuple | None) -> object:
            rows, split = rows if isinstance(rows, tuple) else (rows, None)  # "split": (order, flush_rows)
            return deferred_decode(self.qkv, self.a, self.b, self.A_log, self.dt_bias, self.pool, self.ring, idx,
                                   fill, num_k_heads=self.H, flush=self.no_force, out=self.out, config=config,
                                   rings_empty=rings_empty, order=rows, flush_rows=split)

        return [lambda i=i, f=f, o=o: call(i, f, o) for i, f, o in self._steps(pattern, order)]

    def in_place_calls(self, pattern: str | None = None) -> list[Callable[[], object]]:
        """Our in-place kernel over the slot sets (``pattern``: over the same step list as the deferred calls)."""
        idx = self.idx if pattern is None else [i for i, *_ in self._steps(pattern)]
        return [lambda i=i: packed_decode(self.qkv, self.a, self.b, self.A_log, self.dt_bias, self.pool, i,
                                          num_k_heads=self.H, out=self.out) for i in idx]

    def sgl_replayssm_calls(self, fn: Callable) -> list[Callable[[], object]]:
        out = self.out.view(self.B, 1, self.HV, V)

        def call(idx: torch.Tensor, fill: torch.Tensor) -> object:
            return fn(mixed_qkv=self.qkv, a=self.a, b=self.b, A_log=self.A_log, dt_bias=self.dt_bias,
                      scale=K**-0.5, initial_state=self.pool, d_cache=self.ring.d, k_cache=self.ring.k,
                      g_cache=self.ring.g, out=out, ssm_state_indices=idx, write_pos=fill,
                      force_flush=self.no_force, use_qk_l2norm_in_kernel=True)

        return [lambda i=i, f=f: call(i, f) for i, f, _ in self._steps("staggered")]

    def sgl_packed_calls(self, fn: Callable, pattern: str | None = None) -> list[Callable[[], object]]:
        out = self.out.view(self.B, 1, self.HV, V)
        idx = self.idx if pattern is None else [i for i, *_ in self._steps(pattern)]
        return [lambda i=i: fn(mixed_qkv=self.qkv, a=self.a, b=self.b, A_log=self.A_log, dt_bias=self.dt_bias,
                               scale=K**-0.5, initial_state=self.pool, out=out, ssm_state_indices=i,
                               use_qk_l2norm_in_kernel=True) for i in idx]

    def calls(self, kernel: str, peers: sglang_peers.SglangKernels | None = None) -> list[Callable[[], object]]:
        """The step list of ``kernel`` (``in_place``, ``deferred``, ``deferred_split``: :meth:`dispatch_step`'s
        step, or ``sgl_replayssm``) by name."""
        if kernel == "sgl_replayssm":
            return self.sgl_replayssm_calls(peers.replayssm_decode)
        if kernel == "deferred_split":
            cfg, pattern, order = self.dispatch_step()
            return self.deferred_calls(pattern, cfg, rings_empty=cfg.flush_all, order=order)
        return self.deferred_calls(order=ROW_ORDER) if kernel == "deferred" else self.in_place_calls()

    def dispatch_step(self) -> tuple[DeferredConfig, str, str | None]:
        """:func:`step_config`'s choice with each step's flushing rows counted (``split=True``): its config, fill
        pattern and row order. Its in-place mode runs in its steady state: every row flushed last step, so the rings
        are empty and the host knows it."""
        cfg = step_config(self.B, self.HV, self.L, split=True)
        return (cfg, "empty", None) if cfg.flush_all else (cfg, "staggered", _order(cfg, self))

    def time_deferred(self, pattern: str = "staggered", config: DeferredConfig | None = None,
                      rings_empty: bool = False, order: str | None = None) -> float | None:
        return _time(self.deferred_calls(pattern, config, rings_empty, order))

    def time_in_place(self, pattern: str | None = None) -> float | None:
        return _time(self.in_place_calls(pattern))

    def time_sgl_replayssm(self, fn: Callable | None) -> float | None:
        return None if fn is None else _time(self.sgl_replayssm_calls(fn))

    def time_sgl_packed(self, fn: Callable | None, pattern: str | None = None) -> float | None:
        return None if fn is None else _time(self.sgl_packed_calls(fn, pattern))


def _order(cfg: DeferredConfig, case: RingCase) -> str:
    """The row order a config's steps run with: ``ROW_ORDER``, or the split step's (order, flush_rows), in slot
    order where :func:`split_by_slot`."""
    if cfg.flush_tile is None:
        return ROW_ORDER
    return SLOT_ORDER if split_by_slot(case.B, case.HV) else "split"


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or den is None else num / den


def bench_deferred(copy_gbs: float, peers: sglang_peers.SglangKernels | None,
                   lengths: tuple[int, ...] = RING_LENGTHS) -> list[dict]:
    """Deferred rows (every L, B, TP) and one dispatch row per (B, TP) at L=16.

    Per (TP, B, L) the tiles of :func:`tile_candidates` are timed (staggered, rows in ``ROW_ORDER``; the split step's
    candidate with its flushing rows counted per step) and the fastest is the row (``tile``); ``batch_order_us`` is
    that tile without a row order (one launch only). The dispatch row times :func:`step_config`'s mode (``split``:
    the bench knows each step's flushing rows, as a scheduler does) with the code's own tiles; its in-place mode is timed in its steady state (every row
    flushes every step, so the rings are empty)."""
    replay = peers.replayssm_decode if peers else None
    packed = peers.packed_decode if peers else None
    rows = []
    for tp, B in itertools.product(TP_HEADS, BATCHES):
        in_place = None
        for L in lengths:
            case = RingCase(tp, B, L)
            if in_place is None:
                in_place = case.time_in_place()
            tried = {c: case.time_deferred(config=c, order=_order(c, case)) for c in tile_candidates(case)}
            best = min((c for c in tried if tried[c] is not None), key=tried.get, default=TILE_CANDIDATES[0])
            ours = tried.get(best)
            sgl = case.time_sgl_replayssm(replay)
            floor = case.read_only_bytes() / (copy_gbs * 1e3)
            floor_flush = floor + case.flush_write_bytes() / (copy_gbs * 1e3)
            order_us = case.time_order(_order(best, case)) if L == 16 else None
            with_order = None if order_us is None or ours is None else ours + order_us / GDN_LAYERS
            rows.append({
                "kernel": "deferred", "shape": f"{tp} B={B} L={L}", "ours_us": ours,
                "batch_order_us": None if best.flush_tile else case.time_deferred(config=best),
                "aligned_us": case.time_deferred("aligned", best, order=_order(best, case)) if L == 16 else None,
                "no_flush_us": case.time_deferred("no-flush", best, order=_order(best, case)) if L == 16 else None,
                "order_us": order_us, "pct_floor_order": _ratio(100 * floor, with_order),
                "sgl_replayssm_us": sgl,
                "in_place_us": in_place, "floor_us": floor, "pct_floor": _ratio(100 * floor, ours),
                "pct_floor_flush": _ratio(100 * floor_flush, ours), "x_sgl_replayssm": _ratio(sgl, ours), "x_in_place": _ratio(in_place, ours),
                "bytes": case.read_only_bytes(), "tile": _tile(best),
            })
            if L == 16:
                rows.append(_dispatch_row(case, tp, B, packed))
            del case
            torch.cuda.empty_cache()
    return rows


def _dispatch_row(case: RingCase, tp: str, B: int, sgl_packed_fn: Callable | None) -> dict:
    """The case's :meth:`RingCase.dispatch_step` against the better of our in-place kernel and SGLang's packed decode,
    all three timed over the same list of slot sets (the same fill pattern), one after another."""
    cfg, pattern, order = case.dispatch_step()
    ours = case.time_deferred(pattern, config=cfg, rings_empty=cfg.flush_all, order=order)
    in_place, sgl_packed = case.time_in_place(pattern), case.time_sgl_packed(sgl_packed_fn, pattern)
    peers_t = [t for t in (in_place, sgl_packed) if t is not None]
    return {"kernel": "dispatch", "shape": f"{tp} B={B} L=16", "mode": "in-place" if cfg.flush_all else "deferred",
            "ours_us": ours, "in_place_us": in_place, "sgl_packed_us": sgl_packed,
            "x_best": _ratio(min(peers_t), ours) if peers_t else None, "tile": _tile(cfg)}


def bench_dispatch(peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """Only the dispatch rows (L=16): a re-time of the dispatch rule without the tile and L sweep."""
    packed = peers.packed_decode if peers else None
    rows = []
    for tp, B in itertools.product(TP_HEADS, BATCHES):
        case = RingCase(tp, B, 16)
        rows.append(_dispatch_row(case, tp, B, packed))
        del case
        torch.cuda.empty_cache()
    return rows


def _tile(cfg: DeferredConfig) -> str:
    tile = f"{cfg.block_v}/{cfg.block_rows}x{cfg.num_warps}{'p' if cfg.pipeline else ''}"
    f = cfg.flush_tile
    flush = f"{tile} + flush {f.block_v}/{f.block_rows}x{f.num_warps}{'p' if f.pipeline else ''}" if f else tile
    return flush if f is None or f.unrolled else f"{flush} loop"


class VerifyCase:
    """``B`` requests of ``T`` drafts at a TP shape: a pool of ``n_sets * B`` slots visited in rotation, an
    intermediate-state buffer of ``buffer_sets * B`` entries ``[T, HV, V, K]`` (ours and SGLang's target_verify
    write the same one; each call writes the next set's ``B`` entries; by default enough sets that one pass
    over them is 4x the L2, so no call's writes land on lines the last one left in the L2), inputs."""

    def __init__(self, tp: str, B: int, T: int = 4, buffer_sets: int | None = None):
        self.H, self.HV = TP_HEADS[tp]
        self.tp, self.B, self.T = tp, B, T
        buffer_sets = buffer_sets or _sets(self.buffer_bytes(tp, B, T))
        self.state_bytes = self.HV * V * K * 4
        self.n_sets = _sets((T + 1) * B * self.state_bytes, cap=64)
        self.pool = torch.randn(self.n_sets * B, self.HV, V, K, device="cuda") * 0.5
        self.idx = list(torch.randperm(self.n_sets * B, device="cuda").to(torch.int32).view(self.n_sets, B))
        self.buffer = torch.randn(buffer_sets * B, T, self.HV, V, K, device="cuda")  # zero-copy steps read it too
        self.buf_idx = torch.arange(buffer_sets * B, device="cuda", dtype=torch.int32).view(buffer_sets, B)
        self.steps = [(i, self.buf_idx[n % buffer_sets]) for n, i in enumerate(self.idx * buffer_sets)]
        # each slot set's last accepted draft per request (0..T-1), for the steps that accept after verifying
        self.last_step = [torch.randint(0, T, (B,), device="cuda", dtype=torch.int32) for _ in self.idx]
        self.qkv = torch.randn(B * T, 2 * self.H * K + self.HV * V, device="cuda").bfloat16()
        self.a = (torch.randn(B * T, self.HV, device="cuda") - 2).bfloat16()
        self.b = torch.randn(B * T, self.HV, device="cuda").bfloat16()
        self.A_log = torch.log(1 + 15 * torch.rand(self.HV, device="cuda"))
        self.dt_bias = torch.randn(self.HV, device="cuda")
        self.out = torch.empty(B * T, self.HV, V, device="cuda", dtype=torch.bfloat16)
        self.nbytes = (T + 1) * B * self.state_bytes + 2 * (self.qkv.numel() + 2 * self.a.numel() + self.out.numel())

    def _verify(self, pool: torch.Tensor, slots: torch.Tensor, rows: torch.Tensor, **kw) -> None:
        """Our verify of this case's drafts from ``pool[slots]``, the states to ``buffer[rows]``."""
        verify(self.qkv, self.a, self.b, self.A_log, self.dt_bias, pool, slots, self.buffer, rows, num_k_heads=self.H,
               num_tokens=self.T, out=self.out, **kw)

    def time_ours(self, block_v: int | None = None, num_warps: int | None = None, **kw) -> float | None:
        """Our verify at the tile :func:`verify_tile` picks, or at ``(block_v, num_warps)``."""
        return _time([lambda i=i, j=j: self._verify(self.pool, i, j, block_v=block_v, num_warps=num_warps, **kw)
                      for i, j in self.steps])

    def time_sgl(self, fn: Callable | None) -> float | None:
        """SGLang's target_verify as its GDN backend calls it (pool read only, every draft's state to the buffer)."""
        return None if fn is None else _time(self._sgl_calls(fn))

    def _sgl_calls(self, fn: Callable) -> list[Callable[[], object]]:
        """One target_verify call per step of ``steps``."""
        B, T, H, HV = self.B, self.T, self.H, self.HV
        q, k, v = (t.view(1, B * T, -1, K) for t in torch.split(self.qkv, [H * K, H * K, HV * V], dim=-1))
        cu = torch.arange(0, B * T + 1, T, device="cuda", dtype=torch.int32)
        return [lambda i=i, j=j: fn(
            A_log=self.A_log, a=self.a, dt_bias=self.dt_bias, softplus_beta=1.0, softplus_threshold=20.0, q=q, k=k, v=v,
            b=self.b, initial_state_source=self.pool, initial_state_indices=i, cu_seqlens=cu,
            use_qk_l2norm_in_kernel=True, is_kda=False, disable_state_update=True,
            intermediate_states_buffer=self.buffer, intermediate_state_indices=j, cache_steps=T)
            for i, j in self.steps]

    def time_ours_step(self) -> float | None:
        """Our verify, then :func:`commit_accepted`: each request's accepted state from the buffer into its slot."""
        def step(i: torch.Tensor, j: torch.Tensor, last: torch.Tensor) -> None:
            self._verify(self.pool, i, j)
            commit_accepted(self.pool, i, self.buffer, j, last)

        return _time([lambda s=s: step(*s) for s in self._accepting_steps()])

    def time_ours_zero_copy(self) -> float | None:
        """Our verify with the drafts written into the requests' own pool slots, so accepting them copies nothing
        (:func:`accepted_slots`): the buffer is the pool, each step reads the accepted draft's slot of the group it
        writes. The slots are built once per step for every layer, as SGLang builds its indices (not timed)."""
        pool = self.buffer.view(-1, self.HV, V, K)
        return _time([lambda j=j, at=accepted_slots(j, last, self.T): self._verify(pool, at, j)
                      for _, j, last in self._accepting_steps()])

    def time_sgl_step(self, fn: Callable | None, accept: Callable | None) -> float | None:
        """SGLang's target_verify, then its accept: ``accept`` is ``fused_mamba_state_scatter_with_mask`` on one
        layer (``dst [1, slots, ...]`` the pool, ``src [1, buffers, T, ...]`` the buffer), as
        ``sglang/kernels/ops/mamba/mamba_state_scatter_triton.py: scatter_mamba_states_after_mtp_verify`` calls it
        for the recurrent states (the conv windows' scatter is not this lane's)."""
        if fn is None or accept is None:
            return None
        verify_calls = self._sgl_calls(fn)
        return _time([lambda n=n, i=i, j=j, last=last: (verify_calls[n](), accept(self.pool[None], self.buffer[None], i,
                                                                                    last, j))
                      for n, (i, j, last) in enumerate(self._accepting_steps())])

    def _accepting_steps(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """``steps`` with each slot set's ``last_step``."""
        return [(i, j, self.last_step[n % len(self.idx)]) for n, (i, j) in enumerate(self.steps)]

    def time_pattern(self, tile: tuple[int, int, int], store_modifier: str = ".cs") -> float | None:
        """:func:`move_state`'s copies (this case's state reads and buffer writes, no arithmetic) at ``(block_v,
        block_rows, num_warps)``."""
        bv, br, w = tile
        return _time([lambda i=i, j=j: move_state(self.pool, i, "copies", buffer=self.buffer, buffer_indices=j,
                                                  block_v=bv, block_rows=br, num_warps=w, store_modifier=store_modifier)
                      for i, j in self.steps])

    def shape(self) -> str:
        return f"{self.tp} B={self.B} T={self.T}"

    @staticmethod
    def buffer_bytes(tp: str, B: int, T: int = 4) -> int:
        """One set of intermediate states: what a verify call writes."""
        return B * T * TP_HEADS[tp][1] * V * K * 4


def _verify_row(tp: str, B: int, T: int, copy_gbs: float, sgl_verify: Callable | None,
                sgl_accept: Callable | None = None) -> dict:
    """Ours, SGLang's target_verify and ``pattern``: the fastest of ``PATTERN_TILES`` moving the same state bytes
    with no arithmetic (:func:`move_state`), the ceiling of any verify of this contract at this size: ``x_sgl_pattern``
    is the most any such kernel could lead SGLang by. ``*_step_us``: each side's verify followed by its accept (the
    accepted draft's state copied into the pool), ``x_sgl_step`` their ratio; ``ours_zero_copy_us`` our verify writing
    its drafts into the requests' own pool slots, whose accept copies nothing (``x_sgl_step_zero_copy`` against
    SGLang's verify + accept)."""
    case = VerifyCase(tp, B, T)
    ours, sgl = case.time_ours(), case.time_sgl(sgl_verify)
    ours_step, sgl_step = case.time_ours_step(), case.time_sgl_step(sgl_verify, sgl_accept)
    zero_copy = case.time_ours_zero_copy()
    pattern = _fastest([case.time_pattern(t, cm) for t, cm in itertools.product(PATTERN_TILES, (".cs", ""))])
    floor = case.nbytes / (copy_gbs * 1e3)
    block_v, num_warps = verify_tile(B, case.HV)
    return {"kernel": "verify", "shape": case.shape(), "ours_us": ours, "sgl_verify_us": sgl, "pattern_us": pattern,
            "floor_us": floor, "pct_floor": _ratio(100 * floor, ours), "pct_floor_pattern": _ratio(100 * floor, pattern),
            "x_sgl_verify": _ratio(sgl, ours), "x_sgl_pattern": _ratio(sgl, pattern), "bytes": case.nbytes,
            "tile": f"{block_v}x{num_warps}", "ours_step_us": ours_step, "sgl_step_us": sgl_step,
            "x_sgl_step": _ratio(sgl_step, ours_step), "ours_zero_copy_us": zero_copy,
            "x_sgl_step_zero_copy": _ratio(sgl_step, zero_copy)}


def _fastest(times: list[float | None]) -> float | None:
    return min((t for t in times if t is not None), default=None)


def bench_verify(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    fn, accept = (peers.target_verify, peers.target_accept) if peers else (None, None)
    rows = [_verify_row(tp, B, 4, copy_gbs, fn, accept) for tp, B in itertools.product(TP_HEADS, VERIFY_BATCHES)]
    torch.cuda.empty_cache()
    return rows


SWEEP_SHAPES = (("TP1", 64), ("TP1", 256), ("TP1", 1024), ("TP4", 64), ("TP4", 256), ("TP4", 1024))


def _sweep_cases(copy_gbs: float, peers: sglang_peers.SglangKernels | None,
                 time_choices: Callable[[RingCase], dict[str, float | None]],
                 lengths: tuple[int, ...] = (16, 8),
                 shapes: tuple[tuple[str, int], ...] = SWEEP_SHAPES) -> list[dict]:
    """One row per (shape, choice) of ``time_choices(case)`` at each ring length (L = 16 and 8 unless named), with
    SGLang's ReplaySSM timed in the same case (choice ``sglang``)."""
    rows = []
    for (tp, B), L in itertools.product(shapes, lengths):
        case = RingCase(tp, B, L)
        floor = case.read_only_bytes() / (copy_gbs * 1e3)
        timed = time_choices(case)
        timed["sglang"] = case.time_sgl_replayssm(peers.replayssm_decode if peers else None)
        rows += [{"kernel": "deferred", "shape": f"{tp} B={B} L={L}", "choice": c, "us": us,
                  "pct_floor": _ratio(100 * floor, us), "x_sgl": _ratio(timed["sglang"], us)} for c, us in timed.items()]
        print(f"  {tp} B={B} L={L}: " + ", ".join(f"{c} {us:.1f}" for c, us in timed.items() if us), flush=True)
        del case
        torch.cuda.empty_cache()
    return rows


def _deferred_tile(case: RingCase) -> DeferredConfig:
    """:func:`step_config`'s one-launch deferred tile for the case; below the dispatch threshold (in place there),
    the deferred mode at the L = 16 small-grid tile."""
    cfg = step_config(case.B, case.HV, case.L)
    return DeferredConfig(32, 8, 1, pipeline=False) if cfg.flush_all else cfg


def sweep_parts(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """Where a step's time goes at L = 16 (:func:`step_config`'s deferred tile): the staggered step, the same
    with no row flushing (``no-flush``: fills cycle below ``L - 1``, rings read as in the staggered step), with
    empty rings (the checkpoint stream alone), every row flushing a full ring (``all-flush``), and our in-place
    step (read + write stream) for scale."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        cfg = _deferred_tile(case)
        timed = {f"staggered {_tile(cfg)}": case.time_deferred(config=cfg, order=ROW_ORDER)}
        timed |= {f"{p} {_tile(cfg)}": case.time_deferred(p, config=cfg) for p in ("no-flush", "empty", "all-flush")}
        timed["in place"] = case.time_in_place()
        return timed

    return _sweep_cases(copy_gbs, peers, time_choices, lengths=(16,))


SPLIT_FLUSH_TILES = [SPLIT_FLUSH_TILE, FlushTile(16, 8, 1)]
SPLIT_STREAM = DeferredConfig(64, 8, 1, pipeline=True)  # the split step's other rows: fastest without the flush path
SPLIT_SWEEP_SHAPES = (("TP1", 16), ("TP4", 16), *SWEEP_SHAPES)  # 512 and 128 heads too: the dispatch threshold


def sweep_split(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """At L = 16, the split step (the flushing rows in a launch of narrow programs, the others in a launch without the
    flush path, side by side on two streams) against the one-launch step at :func:`step_config`'s tile (flush-first
    order): each flush tile of ``SPLIT_FLUSH_TILES`` beside ``SPLIT_STREAM`` (and beside the one-launch tile where
    that is a 64-row one); the stream launch alone (steps where no row flushes); the first two flush tiles' launch
    alone where every row flushes, beside the one-launch step there; and, for the dispatch threshold, our in-place
    step and SGLang's packed decode over the same slot sets."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        cfg = _deferred_tile(case)
        timed = {f"one launch {_tile(cfg)}": case.time_deferred(config=cfg, order=ROW_ORDER)}
        streams = [SPLIT_STREAM] + ([cfg] if cfg.block_v == 64 and cfg != SPLIT_STREAM else [])
        configs = [dataclasses.replace(c, flush_tile=f) for c in streams for f in SPLIT_FLUSH_TILES]
        timed |= {f"split {_tile(c)}": case.time_deferred(config=c, order="split") for c in configs}
        timed[f"no-flush split {_tile(SPLIT_STREAM)}"] = case.time_deferred("no-flush", config=SPLIT_STREAM, order="split")
        timed[f"all-flush {_tile(cfg)}"] = case.time_deferred("all-flush", config=cfg)
        timed |= {f"all-flush split {_tile(c)}": case.time_deferred("all-flush", config=c, order="split")
                  for c in configs[:2]}
        timed["in place"] = case.time_in_place("staggered")
        timed["sgl packed"] = case.time_sgl_packed(peers.packed_decode if peers else None, "staggered")
        return timed

    return _sweep_cases(copy_gbs, peers, time_choices, lengths=(16,), shapes=SPLIT_SWEEP_SHAPES)


def sweep_order(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """Row orders of the deferred decode: batch order, ``flush-first`` (:func:`flush_first_order`) and
    ``flushes-only`` (flushing rows first, the rest in batch order), at :func:`step_config`'s tile; aligned at
    L = 16."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        cfg = step_config(case.B, case.HV, case.L)
        timed = {f"{_tile(cfg)} {o or 'batch order'}": case.time_deferred(config=cfg, order=o)
                 for o in (None, "flush-first", "flushes-only")}
        if case.L == 16:
            timed[f"{_tile(cfg)} aligned"] = case.time_deferred("aligned", cfg)
        return timed

    return _sweep_cases(copy_gbs, peers, time_choices)


def sweep(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """Tiles of the deferred decode (all of ``DEFERRED_CHOICES`` at L = 16, the first three at L = 8, aligned for
    the first two at L = 16) and of verify (T = 4), SGLang's kernels timed in the same cases."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        configs = {str(c): DeferredConfig(c[0], c[1], 1, pipeline=c[2])
                   for c in DEFERRED_CHOICES[:None if case.L == 16 else 3]}
        timed = {c: case.time_deferred(config=cfg) for c, cfg in configs.items()}
        if case.L == 16:
            timed |= {f"aligned {c}": case.time_deferred("aligned", cfg) for c, cfg in configs.items()
                      if c in map(str, DEFERRED_CHOICES[:2])}
        return timed

    rows = _sweep_cases(copy_gbs, peers, time_choices)
    fn = peers.target_verify if peers else None
    for tp, B in itertools.product(TP_HEADS, VERIFY_BATCHES):
        case = VerifyCase(tp, B)
        floor = case.nbytes / (copy_gbs * 1e3)
        timed = {str(tile): case.time_ours(*tile) for tile in VERIFY_CHOICES} | {"sglang": case.time_sgl(fn)}
        rows += [{"kernel": "verify", "shape": case.shape(), "choice": c, "us": us, "pct_floor": _ratio(100 * floor, us)}
                 for c, us in timed.items()]
        del case
        torch.cuda.empty_cache()
    return rows


WIDE_SHAPES = (("TP1", 256), ("TP1", 1024))  # the two L = 16 cells under 1.1x SGLang's ReplaySSM (round 8)
WIDE_CHOICES = [DeferredConfig(b, r, w, pipeline=p) for b, r, w, p in (
    (64, 8, 1, False), (64, 8, 1, True), (64, 4, 1, False), (64, 4, 1, True), (128, 4, 1, True), (32, 4, 1, False),
    (128, 16, 2, False))]


def sweep_wide(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """One-launch tiles at 8192+ batch x v-heads, L = 16 (flush-first order): the landed 64/8 tile, pipelined, 4-row
    blocks (fewer registers per block, more programs per SM), 128-row programs, two warps on 16-row blocks."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        return {_tile(c): case.time_deferred(config=c, order=ROW_ORDER) for c in WIDE_CHOICES}

    return _sweep_cases(copy_gbs, peers, time_choices, lengths=(16,), shapes=WIDE_SHAPES)


LOOP_FLUSH_STREAMS = [DeferredConfig(64, 8, 1, pipeline=True), DeferredConfig(64, 8, 1, pipeline=False)]
LOOP_FLUSH_TILES = [FlushTile(64, 8, 1, unrolled=False), FlushTile(32, 8, 1, unrolled=False)]
LOOP_FLUSH_SHAPES = (("TP1", 16), ("TP4", 64), ("TP1", 64), ("TP4", 256), ("TP1", 256), ("TP1", 1024), ("TP4", 1024))


def sweep_loop_flush(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """At L = 16, the split step with wide flushing programs that run the one-launch step's own flush (the entry
    loop, ``FlushTile(unrolled=False)``: 2-4 programs per state instead of 16) beside a stream without the flush
    path, against :func:`step_config`'s step (``split=True``) and its one-launch tile."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        dispatch, one = step_config(case.B, case.HV, case.L, split=True), _deferred_tile(case)
        timed = {f"dispatch {_tile(dispatch)}": case.time_deferred(config=dispatch, order=_order(dispatch, case))}
        if one != dispatch:
            timed[f"one launch {_tile(one)}"] = case.time_deferred(config=one, order=ROW_ORDER)
        configs = [dataclasses.replace(c, flush_tile=f) for c in LOOP_FLUSH_STREAMS for f in LOOP_FLUSH_TILES]
        timed |= {f"split {_tile(c)}": case.time_deferred(config=c, order="split") for c in configs}
        timed[f"all-flush split {_tile(configs[0])}"] = case.time_deferred("all-flush", config=configs[0], order="split")
        return timed

    return _sweep_cases(copy_gbs, peers, time_choices, lengths=(16,), shapes=LOOP_FLUSH_SHAPES)


SORT_STREAMS = [DeferredConfig(b, r, 1, pipeline=p) for b, r, p in (
    (64, 8, True), (32, 8, True), (64, 4, True), (128, 8, True), (32, 4, True))]
SORT_FLUSH_TILES = [FlushTile(16, 8, 1), FlushTile(32, 8, 1, unrolled=False)]
SORT_SHAPES = (("TP4", 256), ("TP1", 64), ("TP1", 256), ("TP4", 1024))
FIXED_FILLS = (0, 2, 4, 8, 14)  # live ring entries of every row (below L - 1 at L = 16: no row flushes)
READ_GEOMETRIES = ((64, 8, 1), (8, 8, 1), (128, 8, 1))  # (block_v, block_rows, num_warps) of the no-arithmetic read


def sweep_sorted(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """Rows visited in pool-slot order (``SLOT_ORDER``), L = 16: the split step in flush-first order (``landed``:
    round eleven's) against the split with each group in slot order over stream tiles ``SORT_STREAMS`` (the code's
    flushing tile) and flush tiles ``SORT_FLUSH_TILES`` (the 64/8 pipelined stream); the stream alone (no row
    flushing) in both orders and at each stream tile; the slot order's own GPU time (``order``)."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        landed = step_config(case.B, case.HV, case.L, split=True)
        flush_tile = split_flush_tile(case.B, case.HV)
        timed = {f"landed {_tile(landed)}": case.time_deferred(config=landed, order="split")}
        for c in [dataclasses.replace(s, flush_tile=flush_tile) for s in SORT_STREAMS] + [
                dataclasses.replace(SPLIT_STREAM, flush_tile=f) for f in SORT_FLUSH_TILES]:
            timed[f"slot {_tile(c)}"] = case.time_deferred(config=c, order=SLOT_ORDER)
        stream = dataclasses.replace(SPLIT_STREAM, flush_tile=flush_tile)
        timed["no-flush split"] = case.time_deferred("no-flush", config=stream, order="split")
        timed |= {f"no-flush slot {_tile(s)}": case.time_deferred(
            "no-flush", config=dataclasses.replace(s, flush_tile=flush_tile), order=SLOT_ORDER) for s in SORT_STREAMS}
        timed["order"] = case.time_order(SLOT_ORDER)
        return timed

    return _sweep_cases(copy_gbs, peers, time_choices, lengths=(16,), shapes=SORT_SHAPES)


def sweep_fills(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """Where the split step's stream spends its time, L = 16 (NOTES.md round twenty-seven): the landed step, its
    no-flush stream on staggered fills and with every row at each of ``FIXED_FILLS`` live entries (what the ring
    reads cost, entry by entry), and the same slots read with no arithmetic at the stream's program geometry and
    others (``state_bytes.move_state``'s ``read``: what the checkpoint alone costs)."""
    def time_choices(case: RingCase) -> dict[str, float | None]:
        landed, _, order = case.dispatch_step()
        timed = {f"landed {_tile(landed)}": case.time_deferred(config=landed, order=order),
                 "no-flush": case.time_deferred("no-flush", landed, order=order)}
        timed |= {f"no-flush, {p}": case.time_deferred(p, landed, order=order)
                  for p in map(case.fixed_fill, FIXED_FILLS)}
        sums = torch.empty(case.B, case.HV, V, device="cuda")
        for bv, br, w in READ_GEOMETRIES:
            timed[f"read only {bv}/{br}x{w}"] = _time([lambda i=i, bv=bv, br=br, w=w: move_state(
                case.pool, i, "read", sums=sums, block_v=bv, block_rows=br, num_warps=w) for i in case.idx])
        return timed

    return _sweep_cases(copy_gbs, peers, time_choices, lengths=(16,), shapes=SORT_SHAPES)


SPREAD_SHAPES = (("TP1", 1024), ("TP1", 256), ("TP4", 1024))
SPREAD_CASES = 3  # fresh cases (new random slot sets and rings) per shape
SPREAD_REPEATS = 4  # timings of each choice per case, interleaved


def _spread_rows(tp: str, B: int, c: int, copy_gbs: float, replayssm: Callable | None) -> list[dict]:
    """One fresh case's timings for :func:`sweep_spread`, each choice ``SPREAD_REPEATS`` times, interleaved."""
    case = RingCase(tp, B, 16)
    floor = case.read_only_bytes() / (copy_gbs * 1e3)
    dispatch, one = case.dispatch_step()[0], _deferred_tile(case)
    choices = {f"dispatch {_tile(dispatch)}": lambda: _time(case.calls("deferred_split")),  # as the dispatch row
               f"one launch {_tile(one)}": lambda: case.time_deferred(config=one, order=ROW_ORDER),
               "sglang": lambda: case.time_sgl_replayssm(replayssm)}
    rows = []
    for r, (name, timer) in itertools.product(range(SPREAD_REPEATS), choices.items()):
        us = timer()
        rows.append({"kernel": "deferred", "shape": f"{tp} B={B} L=16", "choice": f"{name} case {c} rep {r}",
                     "us": us, "pct_floor": _ratio(100 * floor, us)})
    print(f"  {tp} B={B} case {c}: " + ", ".join(f"{r['choice']} {r['us']:.1f}" for r in rows if r["us"]), flush=True)
    return rows


def sweep_spread(copy_gbs: float, peers: sglang_peers.SglangKernels | None) -> list[dict]:
    """How much one config's time varies at L = 16, and whether it is the case or the timing: per shape,
    ``SPREAD_CASES`` fresh :class:`RingCase` s (new random slot sets and ring entries), in each the dispatch step
    (:meth:`RingCase.dispatch_step`, timed as the dispatch row times it), the one-launch tile and SGLang's ReplaySSM timed ``SPREAD_REPEATS`` times each, interleaved. A
    row per timing (``choice``: ``<name> case <c> rep <r>``); a spread between cases that the repeats within a case
    do not show is the slot layout's, not the clock's."""
    replayssm = peers.replayssm_decode if peers else None
    rows = []
    for (tp, B), c in itertools.product(SPREAD_SHAPES, range(SPREAD_CASES)):
        rows += _spread_rows(tp, B, c, copy_gbs, replayssm)
        torch.cuda.empty_cache()
    return rows
