"""Knobs of the hybrid-cache model and the configuration rules SGLang 0.5.23 applies to them.

Facts, as read in the installed SGLang 0.5.23 source:

- ``--mamba-radix-cache-strategy`` takes ``auto|no_buffer|extra_buffer|extra_buffer_lazy``
  (``sglang/srt/arg_groups/fields/exec_.py: ExecMamba.mamba_radix_cache_strategy``); no
  ``--mamba-scheduler-strategy`` flag or alias exists any more (renamed by #28151; 0.5.13 was the last release
  with it, ``sglang/srt/server_args.py: ServerArgs.mamba_scheduler_strategy @0.5.13``; the old name survives in
  PR texts such as #14792 and #23075).
- ``auto`` resolves to ``extra_buffer`` when overlap scheduling or a page size above 1 is wanted and the
  model supports it, else to ``no_buffer`` with overlap switched off; the radix cache being off skips the
  mamba radix cache altogether (``sglang/srt/arg_groups/overrides.py: _mamba_radix_cache_resolution``).
- ``no_buffer`` asserts page size 1 and no overlap schedule; ``extra_buffer`` asserts
  ``mamba_track_interval % page_size == 0`` and warns when ``chunked_prefill_size`` is below the cache chunk
  (the warning came with #30938)
  (``sglang/srt/arg_groups/mamba_hook.py: validate_mamba_no_buffer, validate_mamba_extra_buffer``);
  ``chunked_prefill_size % page_size == 0`` (``sglang/srt/arg_groups/validation_hook.py: check_server_args``).
- ``--mamba-track-interval`` defaults to 256 (``sglang/srt/arg_groups/fields/exec_.py: ExecMamba.mamba_track_interval``).
- The cache chunk is ``max(model chunk, page)`` with the model chunk the FLA ``CHUNK_SIZE`` 64 unless the
  HF config sets ``mamba_chunk_size`` (``sglang/srt/arg_groups/overrides.py: mamba_cache_chunk_size``); the
  prefill checkpoint grid is ``lcm(cache chunk, page)`` and the decode track grid is
  ``lcm(checkpoint grid, mamba_track_interval)``
  (``sglang/srt/runtime_context.py: mamba_checkpoint_grid, mamba_track_grid``).
- Overlap scheduling gives each request two ping-pong track slots, one without it, and ``extra_buffer_lazy``
  one whatever the overlap (``sglang/srt/mem_cache/allocation_sizing.py: get_mamba_tracking_slots``); lazy is
  extra_buffer with the second slot allocated across a decode track boundary only
  (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mamba_lazy_prealloc_at_boundary``); ``auto`` never
  picks it.
- ``--enable-linear-replayssm`` requires ``no_buffer`` (an ``extra_buffer`` strategy, also ``auto`` resolved
  to it, is refused) and ``--linear-replayssm-cache-len >= 1``
  (``sglang/srt/arg_groups/attention_hook.py: handle_linear_attn_backend``); nothing refuses it together with
  ``--enable-mixed-chunk``.

The tiny model scales the grids down (model chunk 4, track interval 16) so that every rule fires on
prompts of tens of tokens; :data:`SGLANG_DEFAULTS` holds the real values for the worked example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

STRATEGIES = ("auto", "no_buffer", "extra_buffer", "extra_buffer_lazy")
ROW_ORDERS = ("prefill_first", "decode_first")
#: Switches that depart from 0.5.23: ``bug`` variants rewind a fixed upstream bug (or break a guard),
#: ``fix`` variants apply the fix of a finding this model makes about 0.5.23 (see ``cards/findings/``),
#: ``housekeeping`` variants change resource use only.
VARIANTS: dict[str, tuple[str, str]] = {
    "drop_track_on_mix": ("bug", "the mixed-batch merge drops the prefill rows' tracking (#39342)"),
    "track_meta_short": ("bug", "a mixed batch keeps the prefill rows' track metadata while the snapshot "
                                "kernel walks every row and clamps its index into it (the #23075 class)"),
    "single_track_slot": ("bug", "one ping-pong track slot under overlap"),
    "lazy_keep_prealloc_on_mix": ("bug", "extra_buffer_lazy keeps the boundary slot of a decode step that "
                                         "rode a mixed batch (no mamba_lazy_undo_prealloc_at_boundary)"),
    "lookahead_seqlen": ("bug", "a decode checkpoint's depth is read from kv_committed_len without taking off "
                                "the overlap lookahead"),
    "clone_alloc": ("housekeeping", "the state slot allocator clones the indices it hands out instead of "
                                    "returning views into its free list, as 0.5.23 does (#21684)"),
    "page_grid_cut": ("fix", "a continuing prefill chunk is cut on the page grid too (page-grid finding)"),
    "replayssm_fold_at_finish": ("fix", "a finishing ReplaySSM request folds its ring into the checkpoint "
                                        "and donates it at its full length (ReplaySSM finish finding)"),
    "replayssm_fold_before_mix": ("fix", "decode rows riding a mixed batch fold their ReplaySSM ring first "
                                         "(ReplaySSM mixed-chunk finding)"),
}
CONV_KERNEL = 4


class ConfigError(ValueError):
    """A knob combination SGLang 0.5.23 refuses at start-up."""


@dataclass(frozen=True)
class Knobs:
    """Everything a run can vary. Defaults mirror SGLang's defaults at the tiny model's scale."""

    strategy: str = "auto"  # --mamba-radix-cache-strategy
    radix: bool = True  # not --disable-radix-cache
    mixed: bool = False  # --enable-mixed-chunk
    chunk_size: int = 16  # --chunked-prefill-size
    page_size: int = 1  # --page-size
    overlap: bool = True  # not --disable-overlap-schedule
    row_order: str = "prefill_first"  # rows of a mixed batch: SGLang appends the decode rows
    # (``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mix_with_running``); "decode_first" only shows the snapshot indexing is order-proof
    track_interval: int = 16  # --mamba-track-interval
    state_chunk: int = 4  # the chunked kernel's chunk (FLA CHUNK_SIZE, or the HF config's mamba_chunk_size)
    replayssm: bool = False  # --enable-linear-replayssm
    ring_len: int = 4  # --linear-replayssm-cache-len (SGLang's default is 16)
    state_slots: int = 24  # Mamba state pool size (slot 0 extra)
    kv_slots: int = 4096  # KV pool size in tokens (slot 0 extra)
    variants: frozenset[str] = field(default_factory=frozenset)  # known bugs switched on, see VARIANTS

    def with_(self, **changes: object) -> Knobs:
        return replace(self, **changes)


SGLANG_DEFAULTS = Knobs(chunk_size=8192, track_interval=256, state_chunk=64, kv_slots=16384)
"""SGLang's own values: FLA chunk 64, track interval 256, page 1, overlap on and the 8192-token
chunked prefill that SGLang picks for an 80 GB GPU
(``sglang/srt/arg_groups/memory_hook.py: handle_gpu_memory_settings``)."""


@dataclass(frozen=True)
class Resolved:
    """A validated configuration with the derived grids."""

    knobs: Knobs
    mode: str  # "none" (no mamba radix cache), "no_buffer" or "extra_buffer" (also the lazy strategy)
    lazy: bool  # extra_buffer_lazy: one track slot, a second one only across a decode track boundary
    overlap: bool
    cache_chunk: int
    checkpoint_grid: int
    track_grid: int
    ping_pong: int  # track slots a request gets at admission (extra_buffer_lazy: 1, its buffer holds 2, as overlap's)
    warnings: tuple[str, ...]

    def has(self, variant: str) -> bool:
        return variant in self.knobs.variants


def resolve(knobs: Knobs) -> Resolved:
    """Resolve ``auto`` and apply SGLang's start-up assertions; raise :class:`ConfigError` on a refusal.

    Follows ``sglang/srt/arg_groups/model_hook.py: handle_mamba_radix_cache`` (resolution, then validation) and
    ``sglang/srt/arg_groups/attention_hook.py: handle_linear_attn_backend``; each rule is cited in the module docstring.
    """
    k = knobs
    if k.strategy not in STRATEGIES:
        raise ConfigError(f"strategy {k.strategy!r} is not modelled (choose from {STRATEGIES})")
    if k.row_order not in ROW_ORDERS:
        raise ConfigError(f"row_order must be one of {ROW_ORDERS}")
    unknown = set(k.variants) - VARIANTS.keys()
    if unknown:
        raise ConfigError(f"unknown variants {sorted(unknown)}")
    if k.page_size < 1 or k.chunk_size < 1 or k.state_chunk < 2:
        raise ConfigError("page_size and chunk_size must be positive, state_chunk at least 2")
    if k.chunk_size % k.page_size:
        raise ConfigError("chunked_prefill_size must be divisible by page_size")
    cache_chunk = max(k.state_chunk, k.page_size)
    if cache_chunk % min(k.state_chunk, k.page_size):
        raise ConfigError("either the model chunk or page_size must divide the other")
    if k.state_chunk < CONV_KERNEL - 1:
        raise ConfigError("the model chunk must cover the conv window for conv snapshots")
    if k.ring_len < 1:
        raise ConfigError("--linear-replayssm-cache-len must be >= 1")
    checkpoint_grid = math.lcm(cache_chunk, k.page_size)
    track_grid = math.lcm(checkpoint_grid, k.track_interval)
    warnings: list[str] = []
    overlap = k.overlap
    lazy = False
    if not k.radix:
        mode = "none"
    else:
        mode = k.strategy
        if mode == "auto":
            mode = "extra_buffer" if (k.overlap or k.page_size > 1) else "no_buffer"
            if mode == "no_buffer":
                overlap = False
        lazy = mode == "extra_buffer_lazy"
        mode = "extra_buffer" if lazy else mode
        if lazy and not overlap:
            # ``sglang/srt/mem_cache/kv_cache_configurator.py: KVCacheConfigurator._calculate_mamba_ratio`` asserts it
            # (the pool would build a one-position buffer that the decode boundary step indexes at position 1)
            raise ConfigError("extra_buffer_lazy requires the overlap schedule")
        if mode == "no_buffer":
            if k.page_size != 1:
                raise ConfigError("no_buffer only supports page_size=1")
            if overlap:
                raise ConfigError("no_buffer does not support the overlap schedule")
        else:
            if k.track_interval % k.page_size:
                raise ConfigError("mamba_track_interval must be a multiple of page_size")
            if k.chunk_size < cache_chunk:
                warnings.append(
                    f"chunked_prefill_size={k.chunk_size} is below mamba_cache_chunk_size={cache_chunk}: "
                    "unfinished prefill chunks are never tracked, so they donate no state"
                )
    if k.replayssm and mode == "extra_buffer":
        raise ConfigError("--enable-linear-replayssm requires --mamba-radix-cache-strategy no_buffer")
    ping_pong = 0
    if mode == "extra_buffer":
        ping_pong = 2 if overlap and not lazy and "single_track_slot" not in k.variants else 1
    return Resolved(k, mode, lazy, overlap, cache_chunk, checkpoint_grid, track_grid, ping_pong, tuple(warnings))
