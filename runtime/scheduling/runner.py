"""Execute a batch: run each row through the model, write KV and working states, take the snapshots.

The snapshot step is the part that goes wrong upstream, so it is modelled on the kernel's view of the
batch rather than on each request: the per-chunk states ``h`` of all rows and their raw conv inputs are
flattened in batch order, and a tracked row ``i`` of the metadata reads

- the SSM state from ``h[h_offset[i] + length // chunk]`` or, when ``length`` is on the chunk grid, the
  final state in row ``i``'s working slot (``build_prefill_track_plan``);
- the conv state from the ``kernel - 1`` inputs ending at ``query_start[i] + aligned_len``
  (``HybridLinearAttnBackend._init_track_conv_indices``),

with ``length = kernel_seqlen[i] - prefix_len[i]``. Metadata and rows must therefore agree row for row;
a snapshot assembled from the wrong row or across rows gets :data:`~runtime.scheduling.pools.GARBAGE`
provenance. Decode snapshots copy the working state after the step into the track slot.
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
    """Run ``batch``: fills ``batch.outputs`` and ``batch.write_targets`` and appends sampled tokens."""
    chunk, flat = res.knobs.state_chunk, _Flat()
    for b, row in enumerate(batch.rows):
        req = row.req
        assert req.state_len == row.prefix_len, f"req {req.rid}: state holds {req.state_len} tokens"
        working = int(req.working)
        k_prev, v_prev = kv.gather(req.kv_row[:row.prefix_len])
        out = model.extend(sp.read(working), row.tokens, k_prev, v_prev, chunk)
        kv.write(req.kv_row[row.prefix_len:row.end], out.k, out.v, req.tokens, row.prefix_len)
        _write(batch, sp, working, out.final, tuple(req.tokens[:row.end]))
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
    for i, entry in enumerate(batch.track or []):
        if entry is not None and entry.track.mask:
            _snapshot(batch, i, entry, flat, sp, res)
    for row, slot, _ in batch.decode_track:
        working = int(row.req.working)
        _write(batch, sp, slot, sp.read(working), sp.prov[working])
        batch.snapshots.append(("decode", row.end, "working state after the step"))


def _write(batch: Batch, sp: StatePool, slot: int, states: States, prov: tuple) -> None:
    batch.overwrote.setdefault(slot, sp.prov[slot])
    sp.write(slot, states, prov)
    batch.write_targets[slot] = prov


def _snapshot(batch: Batch, i: int, entry: TrackEntry, flat: _Flat, sp: StatePool, res: Resolved) -> None:
    """Copy the state metadata row ``i`` asks for into its track slot, reading batch row ``i``."""
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
