"""Execute a batch: run each row through the model, write KV and working states, take the snapshots.

The snapshot step is the part that goes wrong upstream, so it is modelled on the kernel's view of the
batch rather than on each request: the per-chunk states ``h`` of all rows and their raw conv inputs are
flattened in batch order, and a tracked row ``i`` of the metadata reads

- the SSM state from ``h[h_offset[i] + length // chunk]`` or, when ``length`` is on the chunk grid, the
  final state in row ``i``'s working slot
  (``sglang/srt/layers/attention/mamba/prefill_track_metadata.py: build_prefill_track_plan``);
- the conv state from the ``kernel - 1`` inputs ending at ``query_start[i] + aligned_len``
  (``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._init_track_conv_indices``),

with ``length = kernel_seqlen[i] - prefix_len[i]``. Metadata and rows must therefore agree row for row:
the kernel walks every row of the batch and clamps its index into the metadata (what a shorter track
tensor gives a kernel that does not bound-check), so with metadata shorter than the rows the last entry
is applied again to the rows past it. A snapshot assembled from the wrong row or across rows gets
:data:`~runtime.scheduling.pools.GARBAGE` provenance. Decode snapshots copy the working state after the step into the track slot.

With ReplaySSM (no_buffer only) a decode batch reads ``fold(checkpoint, ring)`` and either appends a ring
record or flushes (:func:`_flushes`); extend rows read the checkpoint alone. A row whose input state is
not the state of its prefix writes :data:`~runtime.scheduling.pools.GARBAGE`, so a stale read shows up
in the working-state check at the end of the step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from runtime.scheduling.batch import Batch, TrackEntry
from runtime.scheduling.config import CONV_KERNEL, Resolved
from runtime.scheduling.model import States, TinyHybrid
from runtime.scheduling.pools import GARBAGE, KVPool, StatePool


@dataclass
class _Flat:
    """The batch as the kernel sees it: per-chunk states and conv inputs of all rows, in row order."""

    h: list[torch.Tensor] = field(default_factory=list)
    h_at: list[tuple[int, int]] = field(default_factory=list)  # (row, depth) each h entry holds
    h_offsets: list[int] = field(default_factory=list)
    conv: list[torch.Tensor] = field(default_factory=list)
    conv_at: list[tuple[int, int]] = field(default_factory=list)  # (row, position) of each input
    starts: list[int] = field(default_factory=list)  # query_start_loc


def forward(batch: Batch, model: TinyHybrid, sp: StatePool, kv: KVPool, res: Resolved) -> None:
    """Run ``batch``: fills ``batch.outputs`` and ``batch.write_targets`` and appends sampled tokens.

    ``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_extend, GDNAttnBackend.forward_decode``.
    """
    chunk, flat = res.knobs.state_chunk, _Flat()
    ring = res.knobs.replayssm and batch.mode == "decode"
    for b, row in enumerate(batch.rows):
        req = row.req
        assert req.state_len == row.prefix_len, f"req {req.rid}: state holds {req.state_len} tokens"
        working = int(req.working)
        k_prev, v_prev = kv.gather(req.kv_row[:row.prefix_len])
        # a decode batch reads checkpoint + ring; an extend (also a decode row riding a mixed batch) reads
        # the checkpoint alone: only decode is handed the ring cursor
        # (``sglang/srt/layers/attention/linear/gdn_backend.py: GDNAttnBackend.forward_decode``)
        source, source_prov = (sp.live(working), sp.live_prov(working)) if ring else (
            sp.read(working), sp.prov[working])
        out = model.extend(source, row.tokens, k_prev, v_prev, chunk)
        kv.write(req.kv_row[row.prefix_len:row.end], out.k, out.v, req.tokens, row.prefix_len)
        prov = tuple(req.tokens[:row.end]) if source_prov == tuple(req.tokens[:row.prefix_len]) else GARBAGE
        if ring and not _flushes(sp.fill(working), row.end, res):
            batch.overwrote.setdefault(working, sp.prov[working])
            sp.record(working, out.final, out.decay[-1], prov)
            batch.write_targets[working] = sp.prov[working]
        else:
            if ring:
                sp.reset_ring(working)  # a flush writes fold(checkpoint, ring) + this step: out.final
            _write(batch, sp, working, out.final, prov)
        req.state_len = row.end
        token = int(torch.argmax(out.logits[-1]))
        batch.outputs.append(token)
        if row.end == len(req.tokens):
            req.tokens.append(token)
        flat.h_offsets.append(len(flat.h))
        flat.starts.append(len(flat.conv))
        flat.h.extend(out.h.unbind(0))
        flat.h_at.extend((b, row.prefix_len + j * chunk) for j in range(out.h.shape[0]))
        flat.conv.extend(out.conv_inputs.unbind(0))
        flat.conv_at.extend((b, row.prefix_len + i) for i in range(row.extend_len))
    if batch.track:  # the snapshot kernel walks every row and clamps the row index into the metadata
        for i in range(len(batch.rows)):
            entry = batch.track[min(i, len(batch.track) - 1)]
            if entry is not None and entry.track.mask:
                _snapshot(batch, i, entry, flat, sp, res)
    for row, slot, _ in batch.decode_track:
        working = int(row.req.working)
        _write(batch, sp, slot, sp.read(working), sp.prov[working])
        batch.snapshots.append(("decode", row.end, "working state after the step"))


def _flushes(fill: int, seq_len: int, res: Resolved) -> bool:
    """Whether a ReplaySSM decode step folds its ring into the checkpoint: the ring is full
    (``write_pos == L - 1``) or the step is a radix track boundary, ``seq_len % mamba_track_interval == 0``
    (``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._replayssm_track_flush_mask``;
    the cursor update in ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._forward_metadata``
    sends a flushed slot to 0, any other to ``write_pos + 1``)."""
    return fill == res.knobs.ring_len - 1 or seq_len % res.knobs.track_interval == 0


def _write(batch: Batch, sp: StatePool, slot: int, states: States, prov: tuple) -> None:
    batch.overwrote.setdefault(slot, sp.prov[slot])
    sp.write(slot, states, prov)
    batch.write_targets[slot] = prov


def _snapshot(batch: Batch, i: int, entry: TrackEntry, flat: _Flat, sp: StatePool, res: Resolved) -> None:
    """Copy the state metadata row ``i`` asks for into its track slot, reading batch row ``i``.

    ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._init_track_ssm_indices, MambaAttnBackendBase._init_track_conv_indices``.
    """
    nan = float("nan")
    states = States(torch.full_like(sp.conv[:, 0], nan), torch.full_like(sp.ssm[:, 0], nan))
    ssm_at = conv_at = None
    source = "past the batch" if i >= len(batch.rows) else "outside the h buffer"
    if i < len(batch.rows):
        row, chunk = batch.rows[i], res.knobs.state_chunk
        length = entry.track.kernel_seqlen - row.prefix_len
        told = f"kernel told seq {entry.track.kernel_seqlen}"
        if length % chunk == 0:
            states.ssm = sp.ssm[:, int(row.req.working)].clone()
            ssm_at, source = (i, row.end), f"final state ({told})"
        elif 0 <= flat.h_offsets[i] + length // chunk < len(flat.h):
            j = flat.h_offsets[i] + length // chunk
            states.ssm, ssm_at = flat.h[j].clone(), flat.h_at[j]
            source = f"h[{length // chunk}] ({told})"
        first = flat.starts[i] + (length // res.cache_chunk) * res.cache_chunk - (CONV_KERNEL - 1)
        idx = [min(max(first + t, 0), len(flat.conv) - 1) for t in range(CONV_KERNEL - 1)]
        states.conv = torch.stack([flat.conv[t] for t in idx], -1)
        owners = [flat.conv_at[t] for t in idx]
        if all(o == (owners[0][0], owners[0][1] + n) for n, o in enumerate(owners)) and idx[0] == first:
            conv_at = (owners[0][0], owners[0][1] + CONV_KERNEL - 1)
    if ssm_at is not None and ssm_at == conv_at:
        prov = tuple(batch.rows[ssm_at[0]].req.tokens[:ssm_at[1]])
    else:
        prov = GARBAGE
    _write(batch, sp, entry.slot, states, prov)
    batch.snapshots.append(("prefill", ssm_at[1] if ssm_at else -1, source))
