"""Bench rows for MTP verify on a deferred-write pool against SGLang 0.5.23's ReplaySSM spec verify.

Both sides verify ``T`` chained drafts per request from a checkpoint plus a per-slot ring of the steps since it, and
neither writes ``T`` intermediate states; then each commits an accepted prefix. A row times one step of each, per
layer, as a caller runs it, over the same slots, inputs and acceptance (``accepted`` drafts per row, 1..T, fixed per
slot set, so every row's ring runs through appends and folds at its own rate while the timed graph replays):

- ours (``ring_verify``): :func:`runtime.gdn.ring_verify.ring_verify` (``dot`` tiles: the drafts' updates and outputs
  from checkpoint rows, ring updates and values by three matrix products a block, no state formed), writing the drafts' ``(u, k, g)`` as records
  and no state; the fastest tile is the row. Then :func:`commit_records` (the accepted records appended to the ring, or
  ring and records folded into the checkpoint when they do not fit; the new fills written by the kernel to a second
  fill buffer), timed at each of ``COMMIT_TILES``; the fastest is the row. Rings fp32, as the pool.
- SGLang (``gdn_replayssm_spec_decode``, ``launch_mode="verify"``, as its GDN backend calls it): the window's outputs
  from the checkpoint and the ring's compact history by a chunked ``(I + A)^-1`` form, the drafts' ``d``, ``k``, ``g``
  written into the circular ring at the request's cursor; then ``commit_gdn_replayssm_spec`` (cursor advance, one
  program) and ``commit_gdn_replayssm_circular`` (capacity rows: the ring folded into the checkpoint, cursors
  reset). Ring ``d``/``k`` in bf16 with bf16 low parts, ``g`` fp32: what its pool allocates for an fp32 checkpoint
  under ``--enable-linear-replayssm-spec``. Its ring keeps ``2T`` slots of headroom, so it folds more often.

Its backend's call: ``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend._replayssm_target_verify``;
the commits: ``sglang/srt/speculative/spec_utils.py: commit_mamba_states_after_verify``.

In SGLang the two cursor kernels and the fold run once per step for all layers (one launch each); here they run per
timed step of one layer, which overstates its commit by those launches (a few microseconds): ``sgl_spec_verify_us``
(its verify launch alone) is the other bound. ``ours_verify_us`` is likewise our verify launch alone.

Floors (bytes / copy rate, at the long-run mean of each contract's cursor under the row's acceptance): one
checkpoint read, the live ring entries read, ``T`` records written, the commit's appends (read + write) or folds
(state read + write plus the entries), inputs and outputs. Ours reads fp32 entries; SGLang's verify reads the bf16
high parts and its fold both parts. ``x_target_verify``: SGLang's ``target_verify`` (same run, the ``verify`` rows:
one state read and ``T`` state writes, its commit copy not included) over our verify + commit. ``x_target_step``:
the same with SGLang's accept after it (``sgl_target_step_us``, the ``verify`` rows' ``sgl_step_us``: its scatter of
each request's accepted state into the pool, the step a server runs after target_verify), which is the work our
commit stands for.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from runtime.gdn import sglang_peers
from runtime.gdn.bench_deferred import TP_HEADS, K, V, _ratio, _sets, _time
from runtime.gdn.deferred_decode import StateRing
from runtime.gdn.ring_verify import ring_verify
from runtime.gdn.verify import CommitTile, commit_records, verify

T_DRAFTS = 4
RING_LENGTH = 16  # SGLang's spec ring: a power of two >= 2T
BATCHES = (16, 64, 256)


@dataclass(frozen=True)
class VerifyTile:
    """How our side verifies: ``output_only`` (:func:`ring_verify`: ``block_v`` rows per program, ``block_rows`` at a
    time, ``num_stages`` of pipelined loads) or the ring replayed into the state (:func:`verify`, ``block_v`` rows,
    ``unroll``: straight-line replay)."""

    output_only: bool
    block_v: int
    block_rows: int = 16
    num_stages: int = 2
    unroll: bool = False

    def __str__(self) -> str:
        if self.output_only:
            return f"dot {self.block_v}/{self.block_rows}s{self.num_stages}"
        return f"replayed {self.block_v}{' unrolled' if self.unroll else ''}"


SPEC_TILES = [VerifyTile(True, 32, 32), VerifyTile(True, 64), VerifyTile(True, 128, num_stages=3)]
# ring_verify_tile's three (rounds seventeen to twenty-one's sweeps, H200, NOTES.md)
COMMIT_TILES = [CommitTile("fused", 8, 8, 1), CommitTile(), CommitTile(block_v=128)]  # commit_tile's three
SPEC_COLUMNS = ["kernel", "shape", "tile", "ours_verify_us", "ours_us", "ours_commit_us", "sgl_spec_verify_us",
                "sgl_spec_us", "sgl_commit_us",
                "sgl_target_verify_us", "sgl_target_step_us", "floor_us", "pct_floor", "sgl_floor_us", "sgl_pct_floor",
                "x_sgl_spec", "x_sgl_spec_verify", "x_target_verify", "x_target_step"]


@dataclass(frozen=True)
class SglangSpec:
    """SGLang's spec-verify entry points
    (``sglang/kernels/ops/attention/linear/gdn_replayssm_spec_decode.py: gdn_replayssm_spec_decode, commit_gdn_replayssm_spec, commit_gdn_replayssm_circular``)."""

    verify: Callable
    advance: Callable
    fold: Callable

    @classmethod
    def of(cls, peers: sglang_peers.SglangKernels | None) -> SglangSpec | None:
        fns = (peers.spec_verify, peers.spec_advance, peers.spec_fold) if peers else (None,)
        return cls(*fns) if all(fns) else None


class SpecCase:
    """``B`` requests verifying ``T`` drafts on ``n_sets`` slot sets; each side has its own pool copy and rings."""

    def __init__(self, tp: str, B: int, T: int = T_DRAFTS, L: int = RING_LENGTH, device: str = "cuda",
                 n_sets: int | None = None):
        self.H, self.HV = TP_HEADS[tp]
        self.B, self.T, self.L = B, T, L
        self.state_bytes = self.HV * V * K * 4
        self.n_sets = n_sets or _sets(B * self.state_bytes, cap=64)
        slots = self.n_sets * B
        f32 = {"device": device}
        self.pool = torch.randn(slots, self.HV, V, K, **f32) * 0.5
        self.ring = StateRing.allocate(slots, self.H, self.HV, K, V, length=L, device=device)
        self.ring.d.normal_(0, 0.3)
        self.ring.k.copy_(torch.nn.functional.normalize(torch.randn_like(self.ring.k), dim=-1))
        self.ring.g.uniform_(-1, 0)
        self.idx = list(torch.randperm(slots, device=device).to(torch.int32).view(self.n_sets, B))
        self.accepted = [torch.randint(1, T + 1, (B,), device=device, dtype=torch.int32) for _ in range(self.n_sets)]
        self.fills = [[torch.randint(0, L, (B,), device=device, dtype=torch.int32)] for _ in range(self.n_sets)]
        for f in self.fills:
            f.append(f[0].clone())  # double-buffered: each step reads one and the commit writes the other
        self.records = StateRing.allocate(B, self.H, self.HV, K, V, length=T, device=device)
        self.rec_idx = torch.arange(B, device=device, dtype=torch.int32)
        W = 2 * self.H * K + self.HV * V
        self.qkv = torch.randn(B * T, W, **f32).bfloat16()
        self.a = (torch.randn(B * T, self.HV, **f32) - 2).bfloat16()
        self.b = torch.randn(B * T, self.HV, **f32).bfloat16()
        self.A_log = torch.log(1 + 15 * torch.rand(self.HV, **f32))
        self.dt_bias = torch.randn(self.HV, **f32)
        self.out = torch.empty(B * T, self.HV, V, dtype=torch.bfloat16, device=device)
        self.io_bytes = 2 * (self.qkv.numel() + 2 * self.a.numel() + self.out.numel())
        # SGLang's side: its own checkpoint copy, compact bf16 ring (high + low parts), fp32 g, cursors per slot
        self.sgl_pool = self.pool.clone()
        d_hi, k_hi = self.ring.d.bfloat16(), self.ring.k.bfloat16()
        self.sgl_ring = (d_hi, k_hi, self.ring.g.clone(), (self.ring.d - d_hi.float()).bfloat16(),
                         (self.ring.k - k_hi.float()).bfloat16())
        self.write_pos = torch.randint(0, L - 2 * T + 1, (slots,), device=device, dtype=torch.int32)
        self.cache_base = torch.randint(0, L, (slots,), device=device, dtype=torch.int32)
        self.is_flush = torch.zeros(slots, device=device, dtype=torch.int8)
        self.cu = torch.arange(0, B * T + 1, T, device=device, dtype=torch.int32)

    # ours
    def ours_verify(self, s: int, parity: int, tile: VerifyTile) -> None:
        if tile.output_only:
            ring_verify(self.qkv, self.a, self.b, self.A_log, self.dt_bias, self.pool, self.ring, self.idx[s],
                        self.fills[s][parity], self.records, self.rec_idx, num_k_heads=self.H, num_tokens=self.T,
                        out=self.out, block_v=tile.block_v, block_rows=tile.block_rows, num_stages=tile.num_stages)
            return
        verify(self.qkv, self.a, self.b, self.A_log, self.dt_bias, self.pool, self.idx[s], self.records, self.rec_idx,
               num_k_heads=self.H, num_tokens=self.T, out=self.out, ring=self.ring, fill=self.fills[s][parity],
               block_v=tile.block_v, unroll_ring=tile.unroll)

    def ours_step(self, s: int, parity: int, tile: VerifyTile, commit: CommitTile | None = None) -> None:
        self.ours_verify(s, parity, tile)
        commit_records(self.pool, self.ring, self.idx[s], self.fills[s][parity], self.records, self.rec_idx,
                       self.accepted[s] - 1, num_k_heads=self.H, next_fill_out=self.fills[s][1 - parity], tile=commit)

    def agrees(self, tile: VerifyTile, tol: float = 1e-2) -> bool:
        """Whether ``tile``'s outputs (poisoned first) match the replayed verify's on the first slot set within ``tol``
        (bf16 outputs); reported and left out of the timing when not, or when it fails to build or run."""
        outs = []
        for t in (VerifyTile(False, 4), tile):
            self.out.fill_(float("nan"))
            try:
                self.ours_verify(0, 0, t)
            except Exception as exc:  # noqa: BLE001 - any failure (compiler, launch) is reported, the row goes on
                print(f"  {t}: failed ({type(exc).__name__}: {str(exc)[:200]}), not timed")
                return False
            outs.append(self.out.float().clone())
        err = ((outs[1] - outs[0]).norm() / outs[0].norm()).item()
        if not err <= tol:  # NaN fails too
            print(f"  {tile}: outputs off by {err:.2e} (relative), not timed")
        return err <= tol

    # SGLang
    def sgl_verify(self, fn: SglangSpec, s: int) -> None:
        H, HV, BT = self.H, self.HV, self.B * self.T
        q, k, v = (t.view(BT, -1, K) for t in torch.split(self.qkv, [H * K, H * K, HV * V], dim=-1))
        d, kc, g, d_lo, k_lo = self.sgl_ring
        fn.verify(q=q, k=k, v=v, a=self.a, b=self.b, A_log=self.A_log, dt_bias=self.dt_bias,
                  checkpoint_state=self.sgl_pool, d_cache=d, k_cache=kc, g_cache=g, rawv_cache=d_lo, rawk_cache=k_lo,
                  beta_cache=None, out=self.out, query_start_loc=self.cu, ssm_state_indices=self.idx[s],
                  replay_indices=self.idx[s], write_pos=self.write_pos, cache_base=self.cache_base,
                  is_flush=self.is_flush, max_cache_len=self.L, max_spec_len=self.T, scale=K**-0.5,
                  use_qk_l2norm_in_kernel=True, null_block_id=-1, launch_mode="verify")

    def sgl_step(self, fn: SglangSpec, s: int) -> None:
        self.sgl_verify(fn, s)
        d, kc, g, d_lo, k_lo = self.sgl_ring
        idx, acc = self.idx[s], self.accepted[s]
        fn.advance(write_pos=self.write_pos, cache_base=self.cache_base, is_flush=self.is_flush, num_accepted=acc,
                   replay_indices=idx, max_cache_len=self.L, max_spec_len=self.T, fold_every_commit=False,
                   null_block_id=-1)
        fn.fold(checkpoint_state=self.sgl_pool.unsqueeze(0), d_cache=d.unsqueeze(0), k_cache=kc.unsqueeze(0),
                g_cache=g.unsqueeze(0), d_residual_cache=d_lo.unsqueeze(0), k_residual_cache=k_lo.unsqueeze(0),
                state_batch_indices=idx, replay_indices=idx, write_pos=self.write_pos, cache_base=self.cache_base,
                is_flush=self.is_flush, accept_lens=acc, null_block_id=-1)

    def step_lists(self, fn: SglangSpec | None, tile: VerifyTile,
                   commits: tuple[CommitTile | None, ...] = (None,)) -> dict[str, list[Callable[[], None]]]:
        """Per timed quantity, one pass of calls (each set's two fill parities, so a replayed pass stays
        consistent), repeated to at least 20 calls: ``ours_us`` with :func:`commit_records`'s default commit (``None``
        in ``commits``), ``ours_us <commit>`` with each other commit tile."""
        sets = range(self.n_sets)
        reps = -(-20 // (2 * self.n_sets))
        lists = {"ours_verify_us": [lambda s=s: self.ours_verify(s, 0, tile) for s in sets]}
        for c in commits:
            lists["ours_us" if c is None else f"ours_us {c}"] = [
                lambda s=s, p=p, c=c: self.ours_step(s, p, tile, c) for p in (0, 1) for s in sets] * reps
        if fn is not None:
            lists["sgl_spec_verify_us"] = [lambda s=s: self.sgl_verify(fn, s) for s in sets]
            lists["sgl_spec_us"] = [lambda s=s: self.sgl_step(fn, s) for s in sets] * (2 * reps)
        return lists

    def entry_bytes(self, d_bytes: int, k_bytes: int) -> int:
        """One ring entry of a row: ``d`` per v-head, ``k`` per k-head, ``g`` (fp32) per v-head."""
        return self.HV * V * d_bytes + self.H * K * k_bytes + self.HV * 4

    def floors(self) -> tuple[float, float]:
        """Mean bytes per step of ours and of SGLang's contract (see the module doc), each row's cursor run for
        ``4 L`` steps of its acceptance and the second half averaged."""
        S, L, T = self.state_bytes, self.L, self.T
        e32, e_hi = self.entry_bytes(4, 4), self.entry_bytes(2, 2)
        ours = sgl = 0.0
        for acc in torch.cat(self.accepted).tolist():
            fill, wp, steps = 0, 0, 4 * L
            for t in range(steps):
                o = S + fill * e32 + T * e32  # checkpoint, live entries, records
                if fill + acc <= L - 1:
                    o += 2 * acc * e32
                    fill += acc
                else:
                    o += 2 * S + (fill + acc) * e32
                    fill = 0
                g = S + wp * e_hi + T * e32  # checkpoint, history (high parts), records (both parts)
                wp += acc
                if wp + 2 * T > L:
                    g += 2 * S + wp * e32
                    wp = 0
                if t >= steps // 2:
                    ours, sgl = ours + o, sgl + g
        n = self.n_sets * (4 * L - 2 * L)
        return ours / n + self.io_bytes, sgl / n + self.io_bytes


def spec_verify_row(tp: str, B: int, copy_gbs: float, fn: SglangSpec | None, target_us: float | None,
                    target_step_us: float | None = None, tiles: list[VerifyTile] = SPEC_TILES,
                    commit_tiles: list[CommitTile] = COMMIT_TILES) -> tuple[dict, dict[str, float | None]]:
    """One row: our ring verify + commit at the fastest of ``tiles`` (each timed with :func:`commit_records`'s default
    commit) and the fastest of ``commit_tiles`` there, against SGLang's spec verify + commit, with both floors; also
    every verify tile's and commit tile's time (printed by the caller). ``ours_commit_us`` / ``sgl_commit_us``: each
    side's step minus its verify launch."""
    case = SpecCase(tp, B)
    by_tile, verify_by_tile = {}, {}
    for t in tiles:
        lists = case.step_lists(None, t) if case.agrees(t) else None
        by_tile[t] = _time(lists["ours_us"]) if lists else None
        verify_by_tile[t] = _time(lists["ours_verify_us"]) if lists else None
    best = min((t for t in tiles if by_tile[t] is not None), key=by_tile.get, default=tiles[0])
    timed = {key: _time(calls) for key, calls in case.step_lists(fn, best, tuple(commit_tiles)).items()}
    commits = {str(c): timed.pop(f"ours_us {c}") for c in commit_tiles}
    commit = min((c for c in commits if commits[c] is not None), key=commits.get, default=None)  # fastest is the row
    timed["ours_us"] = commits[commit] if commit else None
    floor_b, sgl_floor_b = case.floors()
    floor, sgl_floor = floor_b / (copy_gbs * 1e3), sgl_floor_b / (copy_gbs * 1e3)
    ours, sgl = timed["ours_us"], timed.get("sgl_spec_us")
    row = {"kernel": "ring_verify", "shape": f"{tp} B={B} T={T_DRAFTS} L={RING_LENGTH}", "tile": f"{best} + {commit}",
           **{k: timed.get(k) for k in ("ours_verify_us", "ours_us", "sgl_spec_verify_us", "sgl_spec_us")},
           "ours_commit_us": _diff(ours, timed["ours_verify_us"]),
           "sgl_commit_us": _diff(sgl, timed.get("sgl_spec_verify_us")), "commits": commits,
           "sgl_target_verify_us": target_us, "floor_us": floor, "pct_floor": _ratio(100 * floor, ours),
           "sgl_floor_us": sgl_floor, "sgl_pct_floor": _ratio(100 * sgl_floor, sgl),
           "x_sgl_spec": _ratio(sgl, ours), "x_sgl_spec_verify": _ratio(timed.get("sgl_spec_verify_us"),
                                                                       timed["ours_verify_us"]),
           "x_target_verify": _ratio(target_us, ours), "sgl_target_step_us": target_step_us,
           "x_target_step": _ratio(target_step_us, ours), "bytes": floor_b, "sgl_bytes": sgl_floor_b}
    row["tiles"] = {str(t): {"verify_us": verify_by_tile[t], "step_us": by_tile[t]} for t in tiles}
    return row, {str(t): us for t, us in by_tile.items()} | {f"+ {c}": us for c, us in commits.items()}


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def bench_spec_verify(copy_gbs: float, peers: sglang_peers.SglangKernels | None, verify_rows: list[dict]) -> list[dict]:
    """One ``ring_verify`` row per (TP, B in ``BATCHES``), SGLang's target_verify time, alone and with its accept,
    taken from ``verify_rows`` (the same run's ``verify`` rows at T = 4)."""
    fn = SglangSpec.of(peers)
    target = {r["shape"]: (r.get("sgl_verify_us"), r.get("sgl_step_us")) for r in verify_rows if r["kernel"] == "verify"}
    rows = []
    for tp, B in itertools.product(TP_HEADS, BATCHES):
        row, tiles = spec_verify_row(tp, B, copy_gbs, fn, *target.get(f"{tp} B={B} T={T_DRAFTS}", (None, None)))
        print(f"  ring verify {row['shape']}: verify alone " + ", ".join(
            f"{t} {v['verify_us']:.1f}" for t, v in row["tiles"].items() if v["verify_us"]), flush=True)
        print(f"  ring verify {row['shape']}: tiles " + ", ".join(f"{t} {us:.1f}" for t, us in tiles.items() if us)
              + (f"; sglang spec {row['sgl_spec_us']:.1f}" if row["sgl_spec_us"] else ""), flush=True)
        rows.append(row)
        torch.cuda.empty_cache()
    return rows

