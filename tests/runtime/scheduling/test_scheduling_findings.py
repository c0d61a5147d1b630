"""Findings about 0.5.23 (``cards/findings/``): the minimal failing schedule, and the fix variant passing.

Page-grid finding: admissions are page-floored, continuations are not; a third chunk starts off the page
grid, its snapshot depth is off-grid, and ``checkpoint_into_tree`` keys it at the page floor.
"""

import random
from pathlib import Path

import pytest
import yaml

from runtime.scheduling.__main__ import main
from runtime.scheduling.config import VARIANTS, Knobs
from runtime.scheduling.findings import FINDINGS
from runtime.scheduling.invariants import InvariantViolation
from runtime.scheduling.report import run_grid
from runtime.scheduling.request import ReqSpec
from runtime.scheduling.scheduler import Simulator
from runtime.scheduling.workload import expected_outputs

PAGE_GRID = Knobs(strategy="extra_buffer", mixed=True, chunk_size=8, page_size=4, overlap=False)
FIX = frozenset({"page_grid_cut"})


def _prompt(seed, n):
    rng = random.Random(seed)
    return tuple(rng.randrange(64) for _ in range(n))


def page_grid_schedule(follow_up: bool = True) -> list[ReqSpec]:
    """A decodes; B (15 tokens) arrives one step later and is prefilled beside it in chunks ending at 4
    (admission: 8 - 1 = 7, page-floored), 11 (continuation: raw 7) and 15; C shares B's first 14 tokens."""
    a = ReqSpec(0, _prompt(30, 2), 24)
    b = ReqSpec(1, _prompt(31, 15), 1, arrival=1)
    c = ReqSpec(2, b.prompt[:14] + _prompt(32, 3), 4, after=1)
    return [a, b, c] if follow_up else [a, b]


def test_page_grid_minimal_failing_schedule():
    """Two requests, chunk 8, page 4, one decode riding B's chunks: the depth-15 snapshot is keyed at 12."""
    with pytest.raises(InvariantViolation) as err:
        Simulator(PAGE_GRID, page_grid_schedule(follow_up=False)).run()
    assert err.value.name == "write-before-donate"
    assert "donated at depth 12 holds the prefix of depth 15" in str(err.value)


def test_page_grid_serves_wrong_tokens_without_checks():
    specs = page_grid_schedule()
    sim = Simulator(PAGE_GRID, specs, check=False).run()
    # B's chunks 0..4, 4..11, 11..15: the last snapshot holds depth 15 (its extend is one 4-token grid)
    assert [d for p, d, _ in sim.stats.snapshot_log if p == "prefill"][:3] == [4, 8, 15]
    assert [(d.kind, d.depth) for d in sim.stats.donations if d.rid == 1] == [("chunk", 4), ("chunk", 8),
                                                                              ("finish", 12)]
    assert sim.requests[2].hit_tokens == 12
    want = expected_outputs(specs)
    assert sim.outputs()[0] == want[0] and sim.outputs()[1] == want[1]
    assert sim.outputs()[2] != want[2]


@pytest.mark.parametrize("overlap", [False, True])
def test_page_grid_cut_fix_passes(overlap):
    specs = page_grid_schedule()
    sim = Simulator(PAGE_GRID.with_(overlap=overlap, variants=FIX), specs).run()
    assert sim.outputs() == expected_outputs(specs)
    assert sim.requests[2].hit_tokens == 12


@pytest.mark.parametrize("knobs", [
    PAGE_GRID.with_(mixed=False),  # no decodes ride the chunks: every cut is a full page-aligned chunk
    PAGE_GRID.with_(page_size=1, chunk_size=8),  # every cut is on a one-token grid
    PAGE_GRID.with_(strategy="no_buffer", page_size=1),  # no_buffer keys each state at its own depth
])
def test_page_grid_needs_mixing_pages_and_extra_buffer(knobs):
    specs = page_grid_schedule()
    assert Simulator(knobs, specs).run().outputs() == expected_outputs(specs)


def test_the_verdict_names_the_finding_and_keeps_the_exit_status():
    """A grid whose only failures are the page-grid finding is reported as such, and counts as explained."""
    rows, ok, verdict = run_grid(page_grid_schedule(), [PAGE_GRID, PAGE_GRID.with_(page_size=1)])
    assert ok and verdict.startswith("FAIL: 1 of 2 combinations break")
    assert "page-grid-continuation-cut finding" in verdict and "--variant page_grid_cut" in verdict
    assert [r["result"] for r in rows] == ["page-grid-continuation-cut: violates write-before-donate", "ok"]


# ReplaySSM finish finding: the donated slot's conv state is deeper than its key.
REPLAY = Knobs(strategy="no_buffer", overlap=False, replayssm=True, chunk_size=8, ring_len=4)


def replay_finish_schedule() -> list[ReqSpec]:
    """A (6-token prompt, 6 tokens) decodes at seq 7..11; the ring flushes at 10 (full), holds one record at
    finish; B resends A's conversation plus 3 new tokens."""
    a = ReqSpec(0, _prompt(40, 6), 6)
    b = ReqSpec(1, a.prompt + expected_outputs([a])[0] + _prompt(42, 3), 4, after=0)
    return [a, b]


def test_replayssm_finish_donates_conv_deeper_than_the_key():
    with pytest.raises(InvariantViolation) as err:
        Simulator(REPLAY, replay_finish_schedule()[:1]).run()
    assert err.value.name == "write-before-donate"
    assert "donated at depth 10 holds <conv state of depth 11, recurrent state of depth 10>" in str(err.value)


def test_replayssm_finish_serves_wrong_tokens_without_checks():
    specs = replay_finish_schedule()
    sim = Simulator(REPLAY, specs, check=False).run()
    assert sim.requests[1].hit_tokens == 10
    assert sim.outputs()[1] != expected_outputs(specs)[1]


def test_replayssm_fold_at_finish_fix_passes():
    specs = replay_finish_schedule()
    sim = Simulator(REPLAY.with_(variants=frozenset({"replayssm_fold_at_finish"})), specs).run()
    assert sim.outputs() == expected_outputs(specs)
    assert ("finish", 11) in [(d.kind, d.depth) for d in sim.stats.donations]
    assert sim.requests[1].hit_tokens == 11


def test_replayssm_finish_is_harmless_on_a_flush():
    """A request finishing right after a flush (cursor 0) donates a consistent slot."""
    a = ReqSpec(0, _prompt(40, 6), 5)  # decodes seq 7..10; the ring is full at 10 and flushes
    sim = Simulator(REPLAY, [a]).run()
    assert ("finish", 10) in [(d.kind, d.depth) for d in sim.stats.donations]


# ReplaySSM mixed-chunk finding: a decode row in a mixed batch reads the checkpoint without the ring.
def replay_mixed_schedule() -> list[ReqSpec]:
    """A decodes with a ring; B's prefill arrives at step 6 and A's next token rides B's mixed batch."""
    return [ReqSpec(0, _prompt(50, 3), 12), ReqSpec(1, _prompt(51, 10), 3, arrival=6)]


@pytest.mark.parametrize("radix", [False, True])
def test_replayssm_mixed_chunk_reads_a_stale_state(radix):
    with pytest.raises(InvariantViolation) as err:
        Simulator(REPLAY.with_(mixed=True, radix=radix), replay_mixed_schedule()).run()
    assert err.value.name in ("outputs", "working-state")
    sim = Simulator(REPLAY.with_(mixed=True, radix=False), replay_mixed_schedule(), check=False).run()
    assert sim.stats.batches["mixed"] > 0
    assert sim.outputs()[0] != expected_outputs(replay_mixed_schedule())[0]


def test_replayssm_fold_before_mix_fix_passes():
    knobs = REPLAY.with_(mixed=True, radix=False, variants=frozenset({"replayssm_fold_before_mix"}))
    sim = Simulator(knobs, replay_mixed_schedule()).run()
    assert sim.stats.batches["mixed"] > 0 and sim.outputs() == expected_outputs(replay_mixed_schedule())
    both = frozenset({"replayssm_fold_before_mix", "replayssm_fold_at_finish"})
    assert Simulator(REPLAY.with_(mixed=True, variants=both), replay_mixed_schedule()).run().outputs() == \
        expected_outputs(replay_mixed_schedule())


def test_without_the_ring_mixed_chunk_is_fine():
    specs = replay_mixed_schedule()
    assert Simulator(REPLAY.with_(mixed=True, replayssm=False), specs).run().outputs() == expected_outputs(specs)


def test_every_finding_has_its_card_and_fix_variant():
    """runtime/scheduling/findings.py and the scheduling findings in cards/findings/ name the same findings
    with the same fixes."""
    cards = Path(__file__).resolve().parents[3] / "cards" / "findings"
    docs = (yaml.safe_load(p.read_text()) for p in cards.glob("*.yaml"))
    on_disk = {d["name"]: d for d in docs if d["runtime"]["reference"].startswith("runtime.scheduling")}
    assert set(on_disk) == {f.name for f in FINDINGS}
    for finding in FINDINGS:
        assert on_disk[finding.name]["runtime"]["variant"] == finding.fix
        assert VARIANTS[finding.fix][0] == "fix"


def test_cli_refuses_bad_readme_arguments(capsys, tmp_path):
    for argv in (["--check"], ["--readme", str(tmp_path / "missing.md")]):
        with pytest.raises(SystemExit) as err:
            main(argv)
        assert err.value.code == 2
    assert "--readme" in capsys.readouterr().err
