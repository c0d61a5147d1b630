"""What this model finds wrong in SGLang 0.5.23, each with the fix variant that removes it.

Each finding has a card in ``cards/findings/<name>.yaml`` (minimal reproduction, the 0.5.23 files and
functions, the fix). :func:`explain` tells a failing run caused by a known finding from an unexplained
one: the run is repeated with one fix switched on at a time. Where each one sits in 0.5.23:

- ``page-grid-continuation-cut``: ``sglang/srt/managers/schedule_policy.py: PrefillAdder.add_chunked_req, PrefillAdder.floor_chunked_tokens``
- ``replayssm-finish-conv-depth``: ``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent.prepare_for_caching_req``
- ``replayssm-mixed-chunk-stale-state``: ``sglang/srt/managers/schedule_batch.py: ScheduleBatch.mix_with_running``
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime.scheduling.config import Knobs
from runtime.scheduling.request import ReqSpec


@dataclass(frozen=True)
class Finding:
    name: str  # the card's file name in cards/findings/
    fix: str  # the fix variant (config.VARIANTS)
    summary: str


FINDINGS = (
    Finding("page-grid-continuation-cut", "page_grid_cut",
            "a continuing prefill chunk is cut off the page grid; a later snapshot is keyed below its depth"),
    Finding("replayssm-finish-conv-depth", "replayssm_fold_at_finish",
            "a finishing ReplaySSM request donates a slot whose conv state is deeper than its key"),
    Finding("replayssm-mixed-chunk-stale-state", "replayssm_fold_before_mix",
            "a decode row riding a mixed batch reads the ReplaySSM checkpoint without its ring"),
)


def explain(knobs: Knobs, workload: Sequence[ReqSpec],
            passes: Callable[[Knobs], bool]) -> tuple[Finding, ...]:
    """The fewest findings whose fixes together make the failing run ``passes``; () when no set does (the
    failure is not a known finding)."""
    open_ = [f for f in FINDINGS if f.fix not in knobs.variants]
    for n in range(1, len(open_) + 1):
        for found in itertools.combinations(open_, n):
            if passes(knobs.with_(variants=knobs.variants | {f.fix for f in found})):
                return found
    return ()
