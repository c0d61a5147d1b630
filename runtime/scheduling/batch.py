"""Batches: ``prepare_for_extend`` with the track rule, ``prepare_for_decode`` and ``mix_with_running``.

Mirrors ``ScheduleBatch`` of SGLang 0.5.23 (``sglang/srt/managers/schedule_batch.py: ScheduleBatch``):

- ``prepare_for_extend`` claims the next ping-pong slot of every tracked row *before* the scheduler
  decides whether to mix: ``last_track_idx`` and ``last_track_seqlen`` are stamped here
  (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.prepare_for_extend, ScheduleBatch._mamba_radix_cache_v2_req_prepare_for_extend``).
- ``prepare_for_decode`` (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.prepare_for_decode``) tracks the rows whose new length is on the track grid, into the slot at
  ``next_track_idx``, and stamps ``decode_batch_idx`` and ``mamba_track_mask_next_cpu``; the ping-pong swap
  happens when a result is processed, one step early under overlap
  (``sglang/srt/managers/scheduler_components/batch_result_processor.py: SchedulerBatchResultProcessor._handle_finish_state_updated_req``,
  ``sglang/srt/managers/scheduler_components/batch_result_processor.py: SchedulerBatchResultProcessor._mamba_prefix_cache_update``; modelled in ``Simulator._track_result``).
- ``mix_with_running`` (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mix_with_running``) appends the decode rows as one-token extends after the prefill rows, keeps the
  prefill rows' tracking across the merge and leaves the decode rows untracked (the inline equivalent of
  #39526 in 0.5.23). Two bug variants rewind that: ``drop_track_on_mix`` lets the merge drop the tracking
  after the claim (#39342), and ``track_meta_short`` keeps the prefill-only metadata, shorter than the
  merged rows (the #23075 class: metadata and rows of different lengths).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime.scheduling.config import Resolved
from runtime.scheduling.request import Request
from runtime.scheduling.track import PrefillTrack, decode_tracks, prefill_track


@dataclass(eq=False)
class Row:
    req: Request
    prefix_len: int
    extend_len: int
    is_decode: bool

    @property
    def end(self) -> int:
        return self.prefix_len + self.extend_len

    @property
    def tokens(self) -> list[int]:
        return self.req.tokens[self.prefix_len:self.end]


@dataclass
class TrackEntry:
    track: PrefillTrack
    slot: int  # destination track slot (0, the dummy, when untracked)


@dataclass
class Batch:
    mode: str  # "extend", "decode" or "mixed"
    rows: list[Row]
    track: list[TrackEntry | None] | None = None  # extend tracking, read positionally against rows
    decode_track: list[tuple[Row, int, int]] = field(default_factory=list)  # (row, slot, ping-pong idx)
    outputs: list[int] = field(default_factory=list)
    write_targets: dict[int, tuple] = field(default_factory=dict)  # state slot -> provenance written
    overwrote: dict[int, tuple] = field(default_factory=dict)  # state slot -> provenance before the write
    snapshots: list[tuple[str, int, str]] = field(default_factory=list)  # (phase, depth, where from)
    decode_batch_idx: dict[int, int] = field(default_factory=dict)  # id(row) -> req.decode_batch_idx then
    track_next: set[int] = field(default_factory=set)  # id(row) of rows whose *next* decode step tracks


def prepare_for_extend(rows: list[Row], res: Resolved) -> Batch:
    """An extend batch; with extra_buffer each row gets the track rule and claims its slot.

    ``sglang/srt/managers/schedule_batch.py: ScheduleBatch.prepare_for_extend``.
    """
    batch = Batch("extend", rows)
    if res.mode != "extra_buffer":
        return batch
    batch.track = []
    for row in rows:
        req = row.req
        tr = prefill_track(row.prefix_len, row.extend_len, res.checkpoint_grid, res.knobs.state_chunk,
                           res.cache_chunk, req.branching)
        slot = int(req.ping_pong[req.next_track_idx]) if tr.mask else 0
        if tr.mask:
            req.last_track_idx = req.next_track_idx
            if not res.lazy:  # lazy keeps its one slot; the second comes at a decode boundary
                req.next_track_idx = req.other(req.next_track_idx)
            req.last_track_seqlen = tr.depth
        batch.track.append(TrackEntry(tr, slot))
    return batch


def prepare_for_decode(reqs: list[Request], res: Resolved) -> Batch:
    """A decode batch: one token per request; rows landing on the track grid snapshot their state into the
    slot at ``next_track_idx``. Each request's ``decode_batch_idx`` advances and is stamped on the batch;
    under overlap the batch also records which rows' next step tracks (``mamba_track_mask_next_cpu``:

    ``sglang/srt/managers/schedule_batch.py: ScheduleBatch.prepare_for_decode``.
    ``seq_len % grid == grid - 1``), so that result processing one batch behind can swap early."""
    rows = [Row(req, len(req.tokens) - 1, 1, True) for req in reqs]
    batch = Batch("decode", rows)
    for row in rows:
        row.req.decode_batch_idx += 1
        batch.decode_batch_idx[id(row)] = row.req.decode_batch_idx
    if res.mode == "extra_buffer":
        for row in rows:
            if decode_tracks(row.end, res.track_grid):
                idx = row.req.next_track_idx
                batch.decode_track.append((row, int(row.req.ping_pong[idx]), idx))
            if res.overlap and decode_tracks(row.end + 1, res.track_grid):
                batch.track_next.add(id(row))
    return batch


def mix_with_running(extend: Batch, decode: Batch, res: Resolved) -> Batch:
    """Merge decode rows into an extend batch as one-token extends.

    ``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mix_with_running``.
    """
    first, second = (extend.rows, decode.rows) if res.knobs.row_order == "prefill_first" else (
        decode.rows, extend.rows)
    mixed = Batch("mixed", first + second)
    if extend.track is None or res.has("drop_track_on_mix"):
        return mixed
    if res.has("track_meta_short"):
        mixed.track = extend.track  # one entry per prefill row, fewer than the merged rows
        return mixed
    by_row = dict(zip(extend.rows, extend.track, strict=True))
    mixed.track = [None if row.is_decode else by_row[row] for row in mixed.rows]
    return mixed
