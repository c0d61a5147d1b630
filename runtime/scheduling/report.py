"""Run a workload under every knob combination, summarise what a user cares about, and give a verdict.

Also computes the worked example: which positions a 1000-token prompt gets checkpointed at under
SGLang's default settings, produced by running the simulator with SGLang's real grid sizes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from runtime.scheduling.config import SGLANG_DEFAULTS, ConfigError, Knobs, resolve
from runtime.scheduling.findings import Finding, explain
from runtime.scheduling.invariants import InvariantViolation
from runtime.scheduling.request import ReqSpec
from runtime.scheduling.scheduler import SimulationError, Simulator, Stats
from runtime.scheduling.workload import VOCAB, expected_outputs

KNOB_COLUMNS = ["strategy", "radix", "mixed", "chunk", "page", "overlap", "replayssm"]
RESULT_COLUMNS = ["hit_rate", "donated", "evicted", "peak_states", "peak_tree_states", "snapshots", "steps",
                  "result"]


def knob_grid(base: Knobs | None = None, chunk_sizes: Sequence[int] = (8, 32),
              pages: Sequence[int] = (1, 4)) -> list[Knobs]:
    """Every valid combination of strategy, radix, mixed, chunk size, page size and overlap; ReplaySSM where
    0.5.23 accepts it (no_buffer or no radix cache) at page 1 without overlap.

    The strategy only matters with the radix cache on, so those duplicates are dropped; combinations SGLang
    refuses at start-up (no_buffer with pages or overlap,
    ``sglang/srt/arg_groups/mamba_hook.py: validate_mamba_no_buffer``; extra_buffer_lazy without overlap,
    ``sglang/srt/mem_cache/kv_cache_configurator.py: KVCacheConfigurator._calculate_mamba_ratio``) too. Mixed rows
    come in SGLang's order.
    """
    base = base or Knobs()
    grid, seen = [], set()
    for strategy, radix, mixed, chunk, page, overlap, replayssm in itertools.product(
            ("no_buffer", "extra_buffer", "extra_buffer_lazy"), (True, False), (False, True), chunk_sizes, pages,
            (False, True), (False, True)):
        if replayssm and (page > 1 or overlap):
            continue
        knobs = base.with_(strategy=strategy if radix else "auto", radix=radix, mixed=mixed, chunk_size=chunk,
                           page_size=page, overlap=overlap, replayssm=replayssm)
        try:
            resolve(knobs)
        except ConfigError:
            continue
        if knobs not in seen:
            seen.add(knobs)
            grid.append(knobs)
    return grid


@dataclass
class RunSummary:
    knobs: Knobs
    mode: str
    outputs: dict[int, tuple[int, ...]] = field(default_factory=dict)
    stats: Stats | None = None
    evicted: int = 0
    failure: str | None = None  # the violated invariant, or the error
    findings: tuple[Finding, ...] = ()  # the known 0.5.23 findings that explain the failure

    def failed(self, expected: dict[int, tuple[int, ...]]) -> str | None:
        return self.failure or (None if self.outputs == expected else "outputs differ")

    def row(self, expected: dict[int, tuple[int, ...]]) -> dict:
        k, s = self.knobs, self.stats
        failure = self.failed(expected)
        if failure and self.findings:
            failure = f"{' + '.join(f.name for f in self.findings)}: {failure}"
        return {
            "strategy": "extra_buffer_lazy" if resolve(k).lazy else self.mode, "radix": k.radix, "mixed": k.mixed, "chunk": k.chunk_size,
            "page": k.page_size,
            "overlap": resolve(k).overlap, "replayssm": k.replayssm,
            "hit_rate": round(s.hit_rate, 3) if s else None,
            "donated": sum(d.kept for d in s.donations) if s else None, "evicted": self.evicted,
            "peak_states": s.peak_state_slots if s else None,
            "peak_tree_states": s.peak_tree_states if s else None,
            "snapshots": s.snapshots if s else None, "steps": s.steps if s else None,
            "result": failure or "ok",
        }


def run_one(knobs: Knobs, workload: list[ReqSpec], check: bool = True) -> RunSummary:
    sim = Simulator(knobs, workload, check=check)
    summary = RunSummary(knobs, sim.res.mode, stats=sim.stats)
    try:
        sim.run()
    except InvariantViolation as err:
        summary.failure = f"violates {err.name}"
    except SimulationError as err:
        summary.failure = f"error: {err}"
    summary.outputs = sim.outputs()
    if sim.tree is not None:
        t = sim.tree.stats
        summary.evicted = t.tombstoned + t.leaves_evicted
    return summary


def judge(knobs: Knobs, workload: list[ReqSpec], expected: dict[int, tuple[int, ...]]) -> RunSummary:
    """Run one combination; when it fails, name the known finding that explains it (if one does)."""
    summary = run_one(knobs, workload)
    if summary.failed(expected):
        summary.findings = explain(knobs, workload, lambda k: not run_one(k, workload).failed(expected))
    return summary


def run_grid(workload: list[ReqSpec], grid: Sequence[Knobs]) -> tuple[list[dict], bool, str]:
    """The per-combination rows, whether every failure is a known finding, and a one-paragraph verdict.

    A failing combination is rerun with each finding's fix; the finding whose fix makes it pass explains it.
    """
    expected = expected_outputs(workload)
    summaries = [judge(k, workload, expected) for k in grid]
    rows = [s.row(expected) for s in summaries]
    failed = [s for s in summaries if s.failed(expected)]
    unexplained = [s for s in failed if not s.findings]
    variants = sorted(set().union(*(k.variants for k in grid)))
    if failed:
        names = sorted({s.failed(expected) for s in failed})
        text = (f"FAIL: {len(failed)} of {len(rows)} combinations break ({', '.join(names)}): they would serve "
                "wrong tokens or corrupt later requests.")
        for finding in sorted({f for s in failed for f in s.findings}, key=lambda f: f.name):
            n = sum(finding in s.findings for s in failed)
            text += (f" {n} {'needs' if n == 1 else 'need'} the {finding.name} finding's fix (cards/findings/{finding.name}.yaml: "
                     f"{finding.summary}; --variant {finding.fix}).")
        if unexplained:
            n = len(unexplained)
            text += f" {n} {'is' if n == 1 else 'are'} explained by no known finding."
        return rows, not unexplained, text
    cached = [r for r in rows if r["strategy"] != "none"]
    best = max(cached, key=lambda r: r["hit_rate"]) if cached else None
    text = (f"PASS: all {len(rows)} combinations return the oracle's tokens for all {len(workload)} requests "
            "and keep every invariant after every step.")
    if variants:
        text += f" The switched-on variants ({', '.join(variants)}) do not break this workload."
    if best is not None:
        text += (f" Best prefix-cache hit rate {best['hit_rate']:.0%} ({best['strategy']}, "
                 f"chunk {best['chunk']}, page {best['page']}, mixed={best['mixed']}, "
                 f"overlap={best['overlap']}); without the radix cache it is 0%.")
    return rows, True, text


STRATEGY_ROWS = (
    ("auto", Knobs(strategy="auto")),
    ("no_buffer", Knobs(strategy="no_buffer")),
    ("no_buffer + ReplaySSM", Knobs(strategy="no_buffer", replayssm=True)),
    ("extra_buffer", Knobs(strategy="extra_buffer")),
    ("extra_buffer_lazy", Knobs(strategy="extra_buffer_lazy")),
)
STRATEGY_COLUMNS = ["strategy", "resolves to", "combinations", "ok", "broken by (0.5.23 finding)", "hit_rate",
                    "peak_states", "peak_tree_states"]


def strategy_table(workload: list[ReqSpec], chunk_size: int = 8) -> list[dict]:
    """One row per ``--mamba-radix-cache-strategy`` (and no_buffer with ReplaySSM): every combination of
    mixed chunk, page size (1, 4) and overlap that 0.5.23 starts, run on ``workload`` and summarised."""
    expected = expected_outputs(workload)
    rows = []
    for label, base in STRATEGY_ROWS:
        runs = []
        for mixed, page, overlap in itertools.product((False, True), (1, 4), (False, True)):
            knobs = base.with_(mixed=mixed, page_size=page, overlap=overlap, chunk_size=chunk_size)
            try:
                res = resolve(knobs)
            except ConfigError:
                continue
            runs.append((res, judge(knobs, workload, expected)))
        passed = [s for _, s in runs if not s.failed(expected)]
        findings = sorted({f.name for _, s in runs for f in s.findings})
        unexplained = sum(1 for _, s in runs if s.failed(expected) and not s.findings)
        modes = sorted({"extra_buffer_lazy" if r.lazy else r.mode for r, _ in runs})
        rates = [s.stats.hit_rate for s in passed]
        rows.append({
            "strategy": label, "resolves to": " / ".join(modes), "combinations": len(runs), "ok": len(passed),
            "broken by (0.5.23 finding)": ", ".join(findings + ([f"{unexplained} unexplained"] if unexplained
                                                                 else [])) or "-",
            "hit_rate": f"{min(rates):.0%}-{max(rates):.0%}" if rates else "-",
            "peak_states": max((s.stats.peak_state_slots for s in passed), default=0),
            "peak_tree_states": max((s.stats.peak_tree_states for s in passed), default=0),
        })
    return rows


def markdown_table(rows: list[dict], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]).replace("|", "\\|") for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def worked_example(prompt_len: int = 1000, output_len: int = 300, knobs: Knobs = SGLANG_DEFAULTS,
                   seed: int = 0) -> tuple[list[tuple[str, int, str]], list[tuple[str, int]]]:
    """Run one request with SGLang's grid sizes and report its snapshots and the states it leaves in the tree.

    Returns ``(snapshots, donations)``: ``(phase, depth, source)`` for each state snapshot taken during the
    forward (extra_buffer only) and ``(kind, depth)`` for each state the radix tree keeps.
    """
    rng = random.Random(seed)
    prompt = tuple(rng.randrange(VOCAB) for _ in range(prompt_len))
    # with ReplaySSM 0.5.23 donates a slot the checks reject (replayssm-finish-conv-depth): show what it keeps
    sim = Simulator(knobs, [ReqSpec(0, prompt, output_len)], check=not knobs.replayssm).run()
    donations = [(d.kind, d.depth) for d in sim.stats.donations if d.kept]
    return sim.stats.snapshot_log, donations
