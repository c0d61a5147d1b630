"""Where extra_buffer snapshots a request's state: the prefill and decode track rules as pure functions.

Read in SGLang 0.5.23:

- Prefill (``sglang/srt/managers/schedule_batch.py: ScheduleBatch._mamba_radix_cache_v2_req_prepare_for_extend``, non-DCP branch): a row is tracked when its extend is at least one checkpoint grid long; the snapshot
  depth is ``prefix + floor(extend / grid) * grid``, relative to the row's own prefix (#40907). The kernel is
  handed ``seq_end`` unless that depth is not the last model-chunk boundary of the extend, in which case it
  is handed ``depth + 1``
  (``sglang/srt/managers/schedule_batch.py: ScheduleBatch._mamba_radix_cache_v2_req_prepare_for_extend._force_track_h``) so that the index arithmetic lands on the intermediate state
  ``h`` of the right chunk. A pending branching point inside the extend overrides the depth.
- Kernel side (``sglang/srt/layers/attention/mamba/prefill_track_metadata.py: build_prefill_track_plan``;
  ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._init_track_ssm_indices``): with
  ``length = kernel_seqlen - prefix``, a length on the model-chunk grid copies the final recurrent state,
  any other length copies ``h[length // chunk]``, the state before that chunk. Conv snapshots take the
  ``kernel - 1`` inputs before ``floor(length / cache_chunk) * cache_chunk``
  (``sglang/srt/model_executor/forward_batch_info.py: ForwardBatch.mamba_track_aligned_lens``;
  ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: MambaAttnBackendBase._init_track_conv_indices``).
- Decode (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.prepare_for_decode``): a row is tracked when its new sequence length is a
  multiple of the track grid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrefillTrack:
    """The scheduler's decision for one extend row."""

    mask: bool
    kernel_seqlen: int  # what the kernel is told (-1 when untracked)
    depth: int | None  # the depth the snapshot holds (SGLang's mamba_last_track_seqlen)


def prefill_track(prefix_len: int, extend_len: int, checkpoint_grid: int, state_chunk: int,
                  cache_chunk: int, branching: int | None = None) -> PrefillTrack:
    """The extra_buffer track rule for an extend of ``extend_len`` tokens after ``prefix_len``.

    ``sglang/srt/managers/schedule_batch.py: ScheduleBatch._mamba_radix_cache_v2_req_prepare_for_extend`` (non-DCP).
    """
    if extend_len < checkpoint_grid:
        return PrefillTrack(False, -1, None)
    seq_end = prefix_len + extend_len
    depth = prefix_len + (extend_len // checkpoint_grid) * checkpoint_grid
    kernel_seqlen = seq_end
    if prefix_len + (extend_len // state_chunk) * state_chunk != depth:
        kernel_seqlen = depth + 1
    if (branching is not None and prefix_len < branching < kernel_seqlen
            and (branching - prefix_len) % cache_chunk == 0):
        kernel_seqlen, depth = branching + 1, branching
    return PrefillTrack(True, kernel_seqlen, depth)


def kernel_source(kernel_seqlen: int, prefix_len: int, state_chunk: int) -> tuple[str, int]:
    """``("final", -1)`` or ``("h", j)``: which recurrent state the kernel copies for a tracked row.

    ``sglang/srt/layers/attention/mamba/prefill_track_metadata.py: build_prefill_track_plan``.
    """
    length = kernel_seqlen - prefix_len
    if length % state_chunk == 0:
        return "final", -1
    return "h", length // state_chunk


def conv_aligned_len(kernel_seqlen: int, prefix_len: int, cache_chunk: int) -> int:
    """Extend tokens covered by the conv snapshot (the ``+1`` of a forced track vanishes under the floor).

    ``sglang/srt/model_executor/forward_batch_info.py: ForwardBatch.mamba_track_aligned_lens``.
    """
    return ((kernel_seqlen - prefix_len) // cache_chunk) * cache_chunk


def snapshot_depth(kernel_seqlen: int, prefix_len: int, extend_len: int, state_chunk: int) -> int:
    """The depth of the recurrent state the kernel actually copies.

    ``sglang/srt/layers/attention/mamba/prefill_track_metadata.py: build_prefill_track_plan``.
    """
    source, j = kernel_source(kernel_seqlen, prefix_len, state_chunk)
    return prefix_len + extend_len if source == "final" else prefix_len + j * state_chunk


def decode_tracks(seq_len: int, track_grid: int) -> bool:
    """Whether a decode step whose sequence length becomes ``seq_len`` snapshots its state.

    ``sglang/srt/managers/schedule_batch.py: ScheduleBatch.prepare_for_decode`` (``seq_lens_cpu % grid == 0``).
    """
    return seq_len % track_grid == 0


def page_floor(n: int, page_size: int) -> int:
    return n // page_size * page_size
