"""The benches judge the issues' targets from measured rows; the judgement itself is plain logic, tested here."""

import pytest

from runtime.gdn.bench import check_targets as gdn_targets
from runtime.gdn.bench import summarize as gdn_summary
from runtime.projections.bench import check_targets as projection_targets
from runtime.projections.bench import dispatch_check, launch_bound
from runtime.projections.sweep import mismatched


def _decode(shape: str, pct: float) -> dict:
    return {"kernel": "decode", "shape": shape, "pct_floor": pct}


def _deferred(shape: str, ours: float, x_sgl: float, pct: float) -> dict:
    return {"kernel": "deferred", "shape": shape, "ours_us": ours, "x_sgl_replayssm": x_sgl, "pct_floor": pct}


def _gdn_rows(override: dict | None = None) -> list[dict]:
    rows = [
        _decode("TP1 B=1", 40.0),  # below B=64: never judged
        _decode("TP1 B=64", 99.0),
        dict(_decode("TP4 B=64", 91.0), ours_us=20.0, pattern_us=19.5, pct_floor_pattern=93.0),
        _decode("TP4 B=256", 95.0),
        _deferred("TP1 B=16 L=16", 20.0, 0.9, 50.0),  # below B=64: never judged
        _deferred("TP1 B=64 L=8", 50.0, 1.15, 80.0),  # slower than L=16 at this B: not the best L
        _deferred("TP1 B=64 L=16", 45.0, 1.2, 80.0),  # below B=256: floor not judged
        _deferred("TP4 B=256 L=16", 48.0, 1.15, 90.0),
        _deferred("TP4 B=256 L=32", 47.0, 1.12, 70.0),  # best L here; its floor is judged at L=16 only
        {"kernel": "dispatch", "shape": "TP1 B=1 L=16", "x_best": 0.99},
        {"kernel": "dispatch", "shape": "TP1 B=1024 L=16", "x_best": 1.4},
        {"kernel": "verify", "shape": "TP1 B=16 T=4", "x_sgl_verify": 1.12, "pct_floor": 70.0, "x_sgl_pattern": 1.2,
         "x_sgl_step_zero_copy": 1.4},
        {"kernel": "verify", "shape": "TP4 B=64 T=4", "x_sgl_verify": 1.2, "pct_floor": 92.0, "x_sgl_pattern": 1.25,
         "x_sgl_step_zero_copy": 1.5},
        {"kernel": "ring_verify", "shape": "TP1 B=16 T=4 L=16", "x_sgl_spec": 1.2, "x_target_verify": 1.3,
         "x_target_step": 1.6},
        {"kernel": "ring_verify", "shape": "TP4 B=256 T=4 L=16", "x_sgl_spec": 1.15, "x_target_verify": 1.5,
         "x_target_step": 1.9},
        {"kernel": "gating", "shape": "T=1 HV=32", "x_eager": 12.0, "pct_floor": 0.01},
        {"kernel": "gating", "shape": "T=16384 HV=32", "x_eager": 7.0, "pct_floor": 50.0},
        {"kernel": "gated_norm", "shape": "T=256 G=32", "x_eager": 8.0, "pct_floor": 50.0},  # below T=8192
        {"kernel": "gated_norm", "shape": "T=16384 G=32", "x_eager": 13.0, "pct_floor": 104.0},
    ]
    for (kernel, shape), changes in (override or {}).items():
        next(r for r in rows if (r["kernel"], r["shape"]) == (kernel, shape)).update(changes)
    return rows


def test_gdn_targets_all_pass_on_good_rows():
    assert all(gdn_targets(_gdn_rows()).values())


@pytest.mark.parametrize(
    ("row", "change", "target"),
    [
        (("decode", "TP4 B=256"), {"pct_floor": 89.9}, "decode_ge_90pct_copy_at_B>=64"),
        (("decode", "TP1 B=64"), {"pct_floor": 89.9}, "decode_ge_90pct_copy_at_B>=64"),
        (("gating", "T=1 HV=32"), {"x_eager": 2.9}, "gating_ge_3x_eager"),
        (("gated_norm", "T=16384 G=32"), {"pct_floor": 79.0}, "gated_norm_ge_80pct_copy_at_T>=8192"),
        (("deferred", "TP1 B=64 L=16"), {"x_sgl_replayssm": 1.09, "ours_us": 60.0},
         "deferred_ge_1.1x_sgl_replayssm_at_B>=64_L=16"),
        (("deferred", "TP4 B=256 L=32"), {"x_sgl_replayssm": 1.05}, "deferred_best_L_ge_1.1x_sgl_replayssm_at_B>=64"),
        (("deferred", "TP4 B=256 L=16"), {"pct_floor": 84.0}, "deferred_ge_85pct_read_only_floor_at_B>=256_L=16"),
        (("dispatch", "TP1 B=1 L=16"), {"x_best": 0.97}, "dispatch_never_slower_than_in_place_or_sgl_packed"),
        (("verify", "TP1 B=16 T=4"), {"x_sgl_verify": 1.05, "x_sgl_pattern": 1.08}, "verify_ge_1.1x_sgl_target_verify"),
        (("verify", "TP1 B=16 T=4"), {"x_sgl_verify": 1.05},
         ["verify_ge_1.1x_sgl_target_verify", "verify_ge_1.1x_sgl_target_verify_where_the_bytes_allow"]),
        (("verify", "TP4 B=64 T=4"), {"pct_floor": 89.0}, "verify_ge_90pct_floor_at_B>=64"),
        (("verify", "TP4 B=64 T=4"), {"x_sgl_step_zero_copy": 1.05},
         "verify_zero_copy_accept_ge_1.1x_sgl_target_verify_with_accept"),
        (("verify", "TP1 B=16 T=4"), {"x_sgl_step_zero_copy": None},
         "verify_zero_copy_accept_ge_1.1x_sgl_target_verify_with_accept"),
        (("ring_verify", "TP1 B=16 T=4 L=16"), {"x_sgl_spec": 1.05}, "ring_verify_ge_1.1x_sgl_replayssm_spec"),
        (("ring_verify", "TP4 B=256 T=4 L=16"), {"x_target_verify": 0.9}, "ring_verify_ge_1.1x_sgl_target_verify"),
        (("ring_verify", "TP1 B=16 T=4 L=16"), {"x_target_step": 1.09},
         "ring_verify_ge_1.1x_sgl_target_verify_with_accept"),
        (("ring_verify", "TP1 B=16 T=4 L=16"), {"x_target_step": None},  # not measured at one shape: not a pass
         "ring_verify_ge_1.1x_sgl_target_verify_with_accept"),
    ],
)
def test_gdn_one_bad_row_fails_exactly_its_target(row, change, target):
    result = gdn_targets(_gdn_rows({row: change}))
    failed = [name for name, ok in result.items() if not ok]
    if target == "decode_ge_90pct_copy_at_B>=64" and row[1] == "TP4 B=64":
        target = [target, "in_place_TP4_B=64_ge_90pct_rw_floor",
                  "in_place_TP4_B=64_ge_90pct_or_at_slot_indexed_ceiling"]
    assert failed == ([target] if isinstance(target, str) else target)


@pytest.mark.parametrize(
    ("change", "out_of_reach"),
    [
        ({"pct_floor": 89.0}, False),  # the no-arithmetic pattern reaches 93%: 90% is within reach, missed
        ({"pct_floor": 84.0, "pct_floor_pattern": 85.0, "ours_us": 20.0, "pattern_us": 19.6}, True),
        ({"pct_floor": 80.0, "pct_floor_pattern": 85.0, "ours_us": 21.0, "pattern_us": 19.0}, False),  # 10% off it
        ({"pct_floor": 84.0, "pct_floor_pattern": None, "pattern_us": None}, False),  # no pattern measured
    ],
)
def test_in_place_tp4_b64_floor_is_its_own_target_and_out_of_reach_only_by_measurement(change, out_of_reach):
    """Under 90% the number fails; the issue's alternative passes only when the same bytes moved with no arithmetic
    through the slot index also stay under 90% and ours runs within 3% of that pattern."""
    failed = [n for n, ok in gdn_targets(_gdn_rows({("decode", "TP4 B=64"): change})).items() if not ok]
    assert failed == ["decode_ge_90pct_copy_at_B>=64", "in_place_TP4_B=64_ge_90pct_rw_floor"] + (
        [] if out_of_reach else ["in_place_TP4_B=64_ge_90pct_or_at_slot_indexed_ceiling"])


def test_gdn_targets_ignore_small_batches_and_short_norms_but_fail_without_rows():
    rows = _gdn_rows({("decode", "TP1 B=1"): {"pct_floor": 1.0}, ("gated_norm", "T=256 G=32"): {"pct_floor": 1.0},
                      ("deferred", "TP1 B=16 L=16"): {"x_sgl_replayssm": 0.5},
                      ("deferred", "TP1 B=64 L=16"): {"pct_floor": 10.0}})
    assert all(gdn_targets(rows).values())
    assert not any(gdn_targets([]).values())  # nothing measured is not a pass


def _next(tp: int, tokens: int, speedup: float, wfloor: float) -> dict:
    return {"model": "qwen3-next", "tp": tp, "tokens": tokens, "speedup": speedup, "fused_x_wfloor": wfloor,
            "sglang_us": 1.0, "fused_x_fastest_other": 1.01}


def _proj_rows(override: dict | None = None) -> list[dict]:
    rows = [
        _next(1, 1, 1.35, 1.15), _next(1, 128, 1.31, 1.38), _next(4, 1, 1.6, 1.4), _next(4, 32, 1.5, 1.45),
        _next(4, 128, 1.4, 1.9),  # T=128 is outside the floor target
        _next(8, 1, 0.9, 3.0),  # TP8 is measured, not judged
        {"model": "qwen3.5", "tp": 1, "tokens": 8192, "phase": "prefill", "speedup": 0.99, "fused_x_wfloor": 9.0},
        {"table": "split_conv", "tp": 1, "batch": 8, "speedup": 0.5, "ours_x_floor": 3.0},  # below B=64
        {"table": "split_conv", "tp": 1, "batch": 64, "speedup": 1.1, "ours_x_floor": 1.2},
    ]
    for (tp, tokens), changes in (override or {}).items():
        next(r for r in rows if (r["tp"], r.get("tokens", r.get("batch"))) == (tp, tokens)).update(changes)
    return rows


def test_projection_targets_all_pass_on_good_rows():
    assert all(projection_targets(_proj_rows()).values())


@pytest.mark.parametrize(
    ("row", "change", "target"),
    [
        ((1, 128), {"speedup": 1.29}, "next_tp1_decode_ge_1.3x_sglang"),
        ((4, 1), {"speedup": 1.2}, "next_tp4_decode_ge_1.3x_sglang"),
        ((1, 8192), {"speedup": 0.97}, "prefill_ge_0.98x_sglang"),
        ((4, 32), {"fused_x_wfloor": 1.51}, "next_tp4_T<=32_within_1.5x_weight_floor"),
        ((1, 64), {"speedup": 0.99}, "split_conv_ge_1.0x_sglang_at_B>=64"),
        ((1, 64), {"ours_x_floor": 1.31}, "split_conv_within_1.3x_floor_at_B>=64"),
        ((8, 1), {"fused_x_fastest_other": 1.03}, "next_dispatch_within_1.02x_of_fastest_other_launch"),  # every TP
        # after the norm: a launch 5% faster there fails the dispatch even where back to back ours wins
        ((4, 1), {"fused_x_fastest_other": 0.77, "fused_ctx_x_fastest_other": 1.05},
         "next_dispatch_within_1.02x_of_fastest_other_launch"),
        # measured after the layer's input norm: that number is judged, not the back-to-back one
        ((4, 1), {"speedup": 1.5, "speedup_ctx": 1.29}, "next_tp4_decode_ge_1.3x_sglang"),
        ((4, 32), {"fused_x_wfloor": 1.4, "fused_ctx_x_wfloor": 1.51}, "next_tp4_T<=32_within_1.5x_weight_floor"),
    ],
)
def test_projection_one_bad_row_fails_exactly_its_target(row, change, target):
    result = projection_targets(_proj_rows({row: change}))
    assert [name for name, ok in result.items() if not ok] == [target]


SPAN_TARGETS = sorted(["span_next_tp1_decode_ge_1.3x_sglang", "span_next_tp4_decode_ge_1.3x_sglang",
                       "span_next_tp4_T<=32_within_1.5x_weight_floor"])


def _span_rows(override: dict | None = None) -> list[dict]:
    rows = _proj_rows(override)
    for r in rows:
        if r.get("model") == "qwen3-next":
            r.setdefault("fused_span_us", 5.0)
            r.setdefault("speedup_span", 1.4)
            r.setdefault("fused_span_x_wfloor", 1.45)
    return rows


@pytest.mark.parametrize(("row", "change", "target"), [
    ((1, 128), {"speedup_span": 1.29}, "span_next_tp1_decode_ge_1.3x_sglang"),
    ((4, 1), {"speedup_span": 1.2}, "span_next_tp4_decode_ge_1.3x_sglang"),
    ((4, 32), {"fused_span_x_wfloor": 1.51}, "span_next_tp4_T<=32_within_1.5x_weight_floor"),
])
def test_span_targets_judge_the_span_beside_the_issues_targets(row, change, target):
    """Where a run timed the norm + projection span, its own targets judge it; a span miss fails only its own target
    and a span pass does not hide a miss of the projection alone."""
    assert all(projection_targets(_span_rows()).values())
    assert sorted(set(projection_targets(_span_rows())) - set(projection_targets(_proj_rows()))) == SPAN_TARGETS
    result = projection_targets(_span_rows({row: change}))
    assert [name for name, ok in result.items() if not ok] == [target]
    result = projection_targets(_span_rows({(4, 1): {"speedup": 1.2, "speedup_span": 2.0}}))
    assert [name for name, ok in result.items() if not ok] == ["next_tp4_decode_ge_1.3x_sglang"]


def test_a_row_whose_sglang_overlap_was_lost_fails_its_speedup_targets_and_leaves_the_summary():
    """SGLang's path within 5% of its one-stream form (after the norm where timed there) means its second stream did
    not overlap in that run: the row's ratio is flattered, so the >= 1.3x targets over it fail however large it reads,
    a note names it, and the summary leaves it out; an overlapped row (round 17's TP4: 8.8 against 14.5 us) is judged."""
    from runtime.projections.bench import notes, overlap_lost, summarize

    lost = {"sglang_ctx_us": 14.5, "sglang_serial_ctx_us": 14.6, "speedup_ctx": 3.0, "speedup_span": 3.0}
    rows = _span_rows({(4, 1): lost})
    result = projection_targets(rows)
    assert [name for name, ok in result.items() if not ok] == ["next_tp4_decode_ge_1.3x_sglang",
                                                               "span_next_tp4_decode_ge_1.3x_sglang"]
    assert any("did not overlap at TP4 T=1" in line for line in notes(rows))
    assert not any("TP4" in line and "3.00" in line for line in summarize(rows))
    assert overlap_lost({"sglang_us": 9.0, "sglang_serial_us": 9.2}) and not overlap_lost({"sglang_us": 1.0})
    ok = _span_rows({(4, 1): {"sglang_ctx_us": 8.8, "sglang_serial_ctx_us": 14.5, "sglang_us": 20.0,
                              "sglang_serial_us": 20.1}})
    assert all(projection_targets(ok).values())  # after the norm is what is read where it was timed


def test_rows_whose_sglang_overlap_was_lost_are_measured_again_until_it_holds_or_the_tries_run_out():
    """Round 20's full run: every TP4 row read SGLang's one-stream time. Only those rows are measured again, each try
    on the tokens still lost; a replaced row carries the try that measured it, and one still lost after the last try
    stays (and fails the targets, above)."""
    from runtime.projections.bench import remeasure_lost_overlap

    lost, held = {"sglang_ctx_us": 14.5, "sglang_serial_ctx_us": 14.6}, {"sglang_ctx_us": 8.7, "sglang_serial_ctx_us": 14.6}
    rows = [{"tokens": t, **(lost if t in (2, 128) else held)} for t in (1, 2, 32, 128)]
    asked = []

    def measure(tokens):
        asked.append(tokens)
        return [{"tokens": t, **(held if t == 2 or len(asked) > 1 else lost)} for t in tokens]

    got = remeasure_lost_overlap(rows, measure)
    assert asked == [[2, 128], [128]]
    assert [r.get("overlap_retries") for r in got] == [None, 1, None, 2]
    assert [r["sglang_ctx_us"] for r in got] == [8.7, 8.7, 8.7, 8.7]
    assert remeasure_lost_overlap(rows, lambda tokens: [{"tokens": t, **lost} for t in tokens], tries=1)[1] == \
        {"tokens": 2, **lost, "overlap_retries": 1}
    assert remeasure_lost_overlap(rows[:1], lambda tokens: pytest.fail("nothing was lost")) == rows[:1]


def test_projection_targets_judge_a_row_in_context_where_it_was_timed_there():
    """A back-to-back miss with an in-context pass passes: the in-context number is the one judged."""
    rows = _proj_rows({(1, 128): {"speedup": 1.2, "speedup_ctx": 1.31}, (4, 32): {"fused_x_wfloor": 1.7,
                                                                               "fused_ctx_x_wfloor": 1.49}})
    assert all(projection_targets(rows).values())


def test_projection_targets_without_sglang_judge_only_the_floors():
    rows = [{k: v for k, v in r.items() if k not in ("sglang_us", "speedup")} for r in _proj_rows()]
    assert sorted(projection_targets(rows)) == [
        "next_dispatch_within_1.02x_of_fastest_other_launch", "next_tp4_T<=32_within_1.5x_weight_floor",
        "split_conv_within_1.3x_floor_at_B>=64",
    ]
    assert not any(projection_targets([]).values())


def test_dispatch_check_leaves_out_our_own_launch_timed_in_a_second_graph():
    """Round 12's TP8 T=1 (back to back): ours, the GEMV, read 2.56 us and the GEMV's own column 2.50; that is one
    launch timed twice (reported as noise), not a loss. The fastest other launch is judged."""
    times = {"fused_us": 2.56, "gemv_split_us": 2.50, "gemv_mma_us": 3.22, "gemm_split_us": 4.48,
             "cublas_split_us": 9.64}
    got = dispatch_check(times, "gemv_split_us")
    assert got["fastest_other"] == "gemv_mma_us" and got["fused_x_fastest_other"] == pytest.approx(2.56 / 3.22)
    assert got["same_launch_ratio"] == pytest.approx(2.56 / 2.50)
    rows = _proj_rows({(8, 1): got})
    assert all(projection_targets(rows).values())


def test_dispatch_check_after_the_norm_catches_a_faster_other_launch():
    """Round 12's TP4 T=8 after the norm: ours (the tensor-core GEMV) 6.69 us, the tile-major GEMM 6.33: a loss,
    though ours is within noise of its own launch's column (6.71)."""
    times = {"fused_ctx_us": 6.69, "gemv_mma_ctx_us": 6.71, "gemm_split_tm_ctx_us": 6.33, "gemm_split_ctx_us": 7.91,
             "cublas_split_ctx_us": 8.62}
    got = dispatch_check(times, "gemv_mma_us", "_ctx")
    assert got["fastest_other_ctx"] == "gemm_split_tm_us" and got["fused_ctx_x_fastest_other"] == pytest.approx(
        6.69 / 6.33)
    assert got["same_launch_ctx_ratio"] == pytest.approx(6.69 / 6.71)
    rows = _proj_rows({(4, 32): {"fused_x_fastest_other": 0.77, **got}})
    assert [k for k, ok in projection_targets(rows).items() if not ok] == [
        "next_dispatch_within_1.02x_of_fastest_other_launch"]


@pytest.mark.parametrize(("floor", "empty", "copy", "bound"), [
    (0.9, 0.9, 2.7, True),  # TP4 B=64 on the H200: an empty launch plus the bytes already exceed 1.3x the floor
    (3.6, 0.94, 5.4, False),  # TP1 B=64: they do not; the slower copy proves nothing (it is no lower bound)
])
def test_split_conv_launch_bound_is_empty_launch_plus_bytes(floor, empty, copy, bound):
    assert launch_bound({"floor_us": floor, "empty_us": empty, "copy_us": copy, "budget_us": 1.3 * floor}) is bound


def test_gdn_summary_states_the_deferred_floor_with_and_without_flush_writes():
    """The summary gives the read-only floor share at B >= 256, L = 16, and the share counting the state writes
    a ring cycle owes, from those rows only."""
    rows = [dict(_deferred("TP1 B=256 L=16", 170.0, 1.1, 82.0), pct_floor_flush=86.6),
            dict(_deferred("TP4 B=1024 L=16", 170.0, 1.1, 81.0), pct_floor_flush=85.4),
            dict(_deferred("TP1 B=64 L=16", 50.0, 1.1, 70.0), pct_floor_flush=74.0),  # below B=256
            dict(_deferred("TP1 B=256 L=8", 160.0, 1.2, 50.0), pct_floor_flush=55.0)]  # not L=16
    line = [s for s in gdn_summary(rows) if "read-only floor" in s]
    assert line == ["deferred-write decode at 81-82% of the read-only floor for B>=256, L=16 "
                    "(85-86% counting each state's write once per ring cycle)"]


def test_summary_ranges_round_down_so_a_summary_never_shows_more_than_was_measured():
    from runtime.benchkit import span

    assert span([1.296, 1.86]) == "1.29-1.86"  # nearest rounding would print 1.30 beside a missed 1.3x target
    assert span([1.3, 1.3]) == "1.30"  # an exact value stays itself (no float fuzz pushes it out)
    assert span([94.6, 96.2], 0) == "94-96"  # the best was 96.2, not 97 (rounding the top up claimed it)
    assert span([8.55, 13.97], 1) == "8.5-13.9"
    assert span([1.1321, 1.3004]) == "1.13-1.30"


def test_resummarize_rewrites_only_the_summary(tmp_path):
    import json

    from runtime.benchkit import resummarize
    from runtime.projections.bench import summarize

    rows = [{"model": "qwen3-next", "tp": 4, "tokens": t, "speedup": x, "phase": "decode"}
            for t, x in ((1, 1.86), (128, 1.296))]
    doc = {"lane": "projections", "device": {"name": "NVIDIA H200"}, "date": "2026-12-01", "rows": rows,
           "summary": ["Qwen3-Next fused projection 1.30-1.86x SGLang 0.5.23's decode path at TP4 (T<=128)"]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    assert resummarize(path, summarize) == ["Qwen3-Next fused projection 1.29-1.86x SGLang 0.5.23's decode path at TP4 (T<=128)"]
    after = json.loads(path.read_text())
    assert {k: v for k, v in after.items() if k != "summary"} == {k: v for k, v in doc.items() if k != "summary"}


def test_gdn_summary_gives_the_no_arithmetic_ceilings_beside_verify_and_the_in_place_step():
    rows = [{"kernel": "verify", "shape": "TP1 B=64 T=4", "x_sgl_verify": 1.08, "pct_floor": 94.9,
             "x_sgl_pattern": 1.081, "pct_floor_pattern": 94.9},
            {"kernel": "verify", "shape": "TP4 B=16 T=4", "x_sgl_verify": 1.085, "pct_floor": 79.4,
             "x_sgl_pattern": 1.22, "pct_floor_pattern": 88.7},
            {"kernel": "decode", "shape": "TP4 B=64", "pct_floor": 83.2, "pct_floor_pattern": 84.6,
             "pct_floor_pattern_in_order": 90.5}]
    lines = gdn_summary(rows)
    assert ("MTP verify (T=4) at 1.08x SGLang's target_verify, 79-94% of its floor; its bytes moved with no "
            "arithmetic: 1.08-1.22x target_verify, 88-94% of the floor") in lines
    assert ("in-place decode TP4 B=64 at 83.2% of its floor; its bytes moved with no arithmetic 84.6% through the "
            "slot index, 90.5% in slot order with no index") in lines


@pytest.mark.parametrize(("row", "bad"), [
    ({"us": 4.6, "rel_err": 1e-3}, False), ({"us": 4.6}, False), ({"us": 4.6, "rel_err": 0.02}, True),
    ({"us": 4.7, "rel_err": float("nan")}, True), ({"us": 4.7, "rel_err": float("inf")}, True),
    ({"error": "compile"}, True), ({"us": 4.6, "check_error": "ValueError"}, True),
])
def test_a_sweep_row_whose_error_is_nan_is_a_mismatch_not_a_candidate(row, bad):
    """`rel_err > 1e-2` is false for NaN: a kernel whose output was NaN (two rows of
    results/bench/projections-decode-sweep-cluster2.json) counted as matching and could be the best per size."""
    assert mismatched(row) is bad


def test_gdn_summary_puts_sglangs_packed_decode_against_the_same_floor():
    """A reader of the decode line learns how near SGLang's default (packed) decode runs to the floor ours is
    judged by: its dispatch-row time against the decode row's floor at the same shape, B >= 64 only."""
    rows = [{"kernel": "decode", "shape": "TP1 B=64", "pct_floor": 94.9, "floor_us": 64.7},
            {"kernel": "decode", "shape": "TP1 B=16", "pct_floor": 85.0, "floor_us": 16.2},
            {"kernel": "dispatch", "shape": "TP1 B=64 L=16", "sgl_packed_us": 72.8},
            {"kernel": "dispatch", "shape": "TP1 B=16 L=16", "sgl_packed_us": 23.4},  # below B=64
            {"kernel": "dispatch", "shape": "TP4 B=64 L=16", "sgl_packed_us": 23.1}]  # no TP4 decode row
    assert gdn_summary(rows)[0] == ("TP1 decode at 94% of copy bandwidth for B>=64 "
                                    "(SGLang's packed decode at 88% of the same floor)")
    assert gdn_summary(rows[:2])[0] == "TP1 decode at 94% of copy bandwidth for B>=64"
