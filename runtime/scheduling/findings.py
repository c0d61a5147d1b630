"""What this model finds wrong in SGLang 0.5.23, each with the fix variant that removes it.

Each finding has a card in ``cards/findings/<name>.yaml`` (minimal reproduction, the 0.5.23 files and
functions, the fix). :func:`explain` tells a failing run caused by a known finding from an unexplained
one: the run is repeated with one fix switched on at a time.
"""

from __future__ import annotations

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
)


def explain(knobs: Knobs, workload: Sequence[ReqSpec], passes: Callable[[Knobs], bool]) -> Finding | None:
    """The finding whose fix alone makes the failing run ``passes``; None when none does."""
    for finding in FINDINGS:
        if finding.fix not in knobs.variants and passes(knobs.with_(variants=knobs.variants | {finding.fix})):
            return finding
    return None
