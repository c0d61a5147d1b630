"""The README's gdn tables as markdown, from one bench document: ``python -m runtime.gdn.readme_tables [FILE]``
(default ``results/bench/gdn.json``). Every number in those tables comes from the document's rows; nothing is
computed here but ratios the rows already hold, rounded for print."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path


def us(v: float | None) -> str:
    """Microseconds: 2 decimals below 1, 1 below 1000, whole above."""
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 1 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"


def fixed(digits: int) -> Callable[[float | None], str]:
    return lambda v: "-" if v is None else f"{v:.{digits}f}"


def _table(rows: Sequence[dict], columns: Sequence[tuple[str, Callable[[dict], str], bool]]) -> str:
    """``columns``: (header, cell of a row, right-aligned)."""
    head = "| " + " | ".join(h for h, _, _ in columns) + " |"
    rule = "|" + "|".join("--:" if right else "---" for _, _, right in columns) + "|"
    body = ["| " + " | ".join(cell(r) for _, cell, _ in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _col(header: str, key: str, fmt: Callable[[float | None], str] = us, right: bool = True):
    return header, lambda r: fmt(r.get(key)) if fmt is not str else str(r.get(key, "-")), right


def _of(doc: dict, kernel: str) -> list[dict]:
    return [r for r in doc["rows"] if r["kernel"] == kernel]


def main_table(doc: dict) -> str:
    rows = [r for r in doc["rows"] if r["kernel"] in ("decode", "gating", "gated_norm", "prefill")]
    return _table(rows, [
        _col("kernel", "kernel", str, False), _col("shape", "shape", str, False), _col("ours (us)", "ours_us"),
        _col("eager (us)", "eager_us"), _col("fla-core (us)", "fla_us"), _col("fla-core on the pool (us)", "fla_pool_us"),
        _col("floor (us)", "floor_us"), _col("% of floor", "pct_floor", fixed(0)), _col("vs fla", "x_fla", fixed(2)),
        _col("vs fla on the pool", "x_fla_pool", fixed(1)), _col("vs eager", "x_eager", fixed(1)),
    ])


def ceiling_table(doc: dict) -> str:
    rows = [r for r in _of(doc, "decode") if r.get("pattern_us") is not None]
    return _table(rows, [
        _col("shape", "shape", str, False), _col("ours (us)", "ours_us"),
        _col("same bytes, no arithmetic, through the slot index (us)", "pattern_us"),
        _col("same, slots sorted (us)", "pattern_sorted_us"), _col("same, slots in order, no index (us)", "pattern_in_order_us"),
        _col("% of floor", "pct_floor", fixed(1)), _col("pattern's %", "pct_floor_pattern", fixed(1)),
        _col("sorted", "pct_floor_pattern_sorted", fixed(1)), _col("in order", "pct_floor_pattern_in_order", fixed(1)),
    ])


def _at_length(rows: list[dict], base: str, L: int) -> dict | None:
    return next((r for r in rows if r["shape"] == f"{base} L={L}"), None)


def deferred_table(doc: dict) -> str:
    rows = _of(doc, "deferred")
    bases = list(dict.fromkeys(r["shape"].rsplit(" L=", 1)[0] for r in rows))

    def others(base: str) -> str:
        xs = [_at_length(rows, base, L) for L in (4, 8, 32)]
        return " / ".join(fixed(2)(r.get("x_sgl_replayssm") if r else None) for r in xs)

    def best(base: str) -> str:
        timed = [r for r in rows if r["shape"].rsplit(" L=", 1)[0] == base and r.get("ours_us") is not None]
        if not timed:
            return "-"
        r = min(timed, key=lambda r: r["ours_us"])
        return f"L={r['shape'].rsplit('L=', 1)[1]} {us(r['ours_us'])} ({fixed(2)(r.get('x_sgl_replayssm'))}x)"

    table = [dict(_at_length(rows, b, 16) or {}, shape=b, base=b) for b in bases]
    return _table(table, [
        _col("shape", "shape", str, False), _col("tile (L=16)", "tile", str, False), _col("ours L=16 (us)", "ours_us"),
        _col("batch order (us)", "batch_order_us"), _col("aligned (us)", "aligned_us"),
        _col("no row flushing (us)", "no_flush_us"), _col("order build, per forward (us)", "order_us"),
        _col("SGLang L=16 (us)", "sgl_replayssm_us"), _col("vs SGLang, L=16", "x_sgl_replayssm", fixed(2)),
        _col("% of read-only floor", "pct_floor", fixed(1)),
        _col("same, with the order's per-layer share", "pct_floor_order", fixed(1)),
        _col("same, with flush writes", "pct_floor_flush", fixed(1)),
        ("vs SGLang at L=4 / 8 / 32", lambda r: others(r["base"]), False),
        ("our best L (us, vs SGLang)", lambda r: best(r["base"]), False), _col("in-place (us)", "in_place_us"),
    ])


def dispatch_table(doc: dict) -> str:
    return _table([dict(r, shape=r["shape"].removesuffix(" L=16")) for r in _of(doc, "dispatch")], [
        _col("shape", "shape", str, False), _col("mode", "mode", str, False), _col("tile", "tile", str, False),
        _col("ours (us)", "ours_us"), _col("in-place (us)", "in_place_us"), _col("SGLang packed (us)", "sgl_packed_us"),
        _col("vs the better", "x_best", fixed(2)),
    ])


def verify_table(doc: dict) -> str:
    return _table(_of(doc, "verify"), [
        _col("verify", "shape", str, False), _col("tile", "tile", str, False), _col("ours (us)", "ours_us"),
        _col("SGLang target_verify (us)", "sgl_verify_us"), _col("same bytes, no arithmetic (us)", "pattern_us"),
        _col("floor (us)", "floor_us"), _col("% of floor", "pct_floor", fixed(1)),
        _col("pattern's %", "pct_floor_pattern", fixed(1)), _col("vs SGLang", "x_sgl_verify", fixed(3)),
        _col("SGLang / pattern", "x_sgl_pattern", fixed(3)), _col("ours + accept (us)", "ours_step_us"),
        _col("SGLang + its accept (us)", "sgl_step_us"), _col("vs SGLang, with accept", "x_sgl_step", fixed(3)),
        _col("ours, drafts in the pool's slots (us)", "ours_zero_copy_us"),
        _col("vs SGLang + its accept", "x_sgl_step_zero_copy", fixed(3)),
    ])


def ring_verify_table(doc: dict) -> str:
    rows = [dict(r, shape=r["shape"].removesuffix(" T=4 L=16")) for r in _of(doc, "ring_verify")]
    return _table(rows, [
        _col("ring verify (T=4, L=16)", "shape", str, False), _col("our tile + commit", "tile", str, False),
        _col("ours: verify (us)", "ours_verify_us"), _col("ours: verify + commit (us)", "ours_us"),
        _col("ours: commit (us)", "ours_commit_us"),
        ("verify + commit, with each commit (us)",
         lambda r: " / ".join(f"{c} {us(t)}" for c, t in (r.get("commits") or {}).items()), False),
        _col("SGLang spec verify (us)", "sgl_spec_verify_us"), _col("SGLang spec verify + commit (us)", "sgl_spec_us"),
        _col("SGLang: commit (us)", "sgl_commit_us"), _col("our floor (us)", "floor_us"), _col("%", "pct_floor", fixed(0)),
        _col("SGLang's floor (us)", "sgl_floor_us"), _col("%", "sgl_pct_floor", fixed(0)),
        _col("vs SGLang spec", "x_sgl_spec", fixed(3)), _col("vs SGLang spec, verify alone", "x_sgl_spec_verify", fixed(2)),
        _col("vs target_verify", "x_target_verify", fixed(2)),
        _col("target_verify + its accept (us)", "sgl_target_step_us"),
        _col("vs target_verify + accept", "x_target_step", fixed(2)),
    ])


def targets_table(doc: dict) -> str:
    return _table([{"name": n, "ok": "PASS" if ok else "**FAIL**"} for n, ok in doc.get("targets", {}).items()],
                  [_col("target (judged by the bench)", "name", str, False), _col("", "ok", str, False)])


TABLES = (main_table, ceiling_table, deferred_table, dispatch_table, verify_table, ring_verify_table, targets_table)


def render(doc: dict) -> str:
    return "\n\n".join(t(doc) for t in TABLES)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="results/bench/gdn.json")
    print(render(json.loads(Path(parser.parse_args(argv).file).read_text())))


if __name__ == "__main__":
    main()
