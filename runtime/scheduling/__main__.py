"""``python -m runtime.scheduling``: run a workload under every knob combination and print a verdict.

Without ``--variant`` the model is SGLang 0.5.23 as read. The exit status is 1 when a combination fails
that no known finding explains (``runtime/scheduling/findings.py``); failures that a finding's fix
variant removes are reported in the verdict and do not change the exit status.

    python -m runtime.scheduling                                  # shared-prefix workload, full grid
    python -m runtime.scheduling --workload mixed-repro --variant drop_track_on_mix
    python -m runtime.scheduling --example                        # the 1000-token worked example
"""

from __future__ import annotations

import argparse
import sys

from runtime.benchkit import print_table, write_results
from runtime.scheduling.config import SGLANG_DEFAULTS, VARIANTS, Knobs
from runtime.scheduling.report import KNOB_COLUMNS, RESULT_COLUMNS, knob_grid, run_grid, worked_example
from runtime.scheduling.scheduler import one_thread
from runtime.scheduling.workload import WORKLOADS

EXAMPLE_CONFIGS = [
    ("auto -> extra_buffer (defaults)", SGLANG_DEFAULTS),
    ("no_buffer, no overlap", SGLANG_DEFAULTS.with_(strategy="no_buffer", overlap=False)),
    ("extra_buffer, page 128", SGLANG_DEFAULTS.with_(page_size=128)),
    ("extra_buffer, chunked prefill 256", SGLANG_DEFAULTS.with_(chunk_size=256)),
]


EXAMPLE_COLUMNS = ["config", "position", "state taken from", "radix tree"]
_KEPT = {"chunk": "kept (after the prefill chunk)", "finish": "kept (at finish)"}


def example_rows(prompt_len: int = 1000, output_len: int = 300) -> list[dict]:
    """One row per checkpointed position and configuration: where the state came from, whether the tree
    keeps it."""
    rows = []
    for name, knobs in EXAMPLE_CONFIGS:
        snapshots, donations = worked_example(prompt_len, output_len, knobs)
        kept = {depth: kind for kind, depth in donations}
        taken = {depth: f"{phase} snapshot: {src}" for phase, depth, src in snapshots}
        for kind, depth in donations:
            how = "copy of the working state" if kind == "chunk" else "the working slot itself"
            taken.setdefault(depth, how)
        for depth in sorted(taken):
            rows.append({"config": name, "position": depth, "state taken from": taken[depth],
                         "radix tree": _KEPT[kept[depth]] if depth in kept else "not kept (superseded)"})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m runtime.scheduling", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="shared-prefix")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS), default=[], metavar="VARIANT",
                    help="depart from 0.5.23 (repeatable): "
                         + "; ".join(f"{n} ({kind}: {doc})" for n, (kind, doc) in VARIANTS.items()))
    ap.add_argument("--quick", action="store_true", help="one chunk size (32) instead of two (8 and 32)")
    ap.add_argument("--example", action="store_true", help="print the 1000-token worked example instead")
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args(argv)
    with one_thread():
        if args.example:
            rows = example_rows()
            title = "1000-token prompt, 300 generated tokens, SGLang grid sizes (chunk 64, interval 256)"
            print_table(rows, EXAMPLE_COLUMNS, title=title)
            return 0
        workload = WORKLOADS[args.workload](args.seed)
        chunk_sizes = (32,) if args.quick else (8, 32)
        grid = knob_grid(Knobs(variants=frozenset(args.variant)), chunk_sizes=chunk_sizes)
        rows, ok, verdict = run_grid(workload, grid)
    title = f"workload {args.workload} (seed {args.seed}, {len(workload)} requests)"
    if args.variant:
        title += f", variants {', '.join(args.variant)}"
    print_table(rows, KNOB_COLUMNS + RESULT_COLUMNS, title=title)
    print()
    print(verdict)
    if args.json:
        write_results(args.json, "scheduling", rows, workload=args.workload, verdict=verdict, summary=[verdict])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
