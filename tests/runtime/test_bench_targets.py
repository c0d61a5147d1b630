"""The benches judge the issues' targets from measured rows; the judgement itself is plain logic, tested here."""

import pytest

from runtime.gdn.bench import check_targets as gdn_targets
from runtime.projections.bench import check_targets as projection_targets


def _decode(shape: str, pct: float, x_fla: float, x_fla_kv: float) -> dict:
    return {"kernel": "decode", "shape": shape, "pct_floor": pct, "x_fla": x_fla, "x_fla_kv": x_fla_kv}


def _gdn_rows(override: dict | None = None) -> list[dict]:
    rows = [
        _decode("TP1 B=1", 40.0, 0.9, 1.1),  # below B=64: never judged
        _decode("TP1 B=64", 99.0, 1.06, 1.2),
        _decode("TP4 B=256", 95.0, 1.07, 1.2),
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
        (("decode", "TP1 B=64"), {"x_fla": 1.04}, "decode_ge_1.05x_fla_same_layout"),
        (("decode", "TP1 B=64"), {"x_fla_kv": 1.0}, "decode_ge_1.05x_fla_default_layout"),
        (("gating", "T=1 HV=32"), {"x_eager": 2.9}, "gating_ge_3x_eager"),
        (("gated_norm", "T=16384 G=32"), {"pct_floor": 79.0}, "gated_norm_ge_80pct_copy_at_T>=8192"),
    ],
)
def test_gdn_one_bad_row_fails_exactly_its_target(row, change, target):
    result = gdn_targets(_gdn_rows({row: change}))
    assert [name for name, ok in result.items() if not ok] == [target]


def test_gdn_targets_ignore_small_batches_and_short_norms_but_fail_without_rows():
    rows = _gdn_rows({("decode", "TP1 B=1"): {"pct_floor": 1.0}, ("gated_norm", "T=256 G=32"): {"pct_floor": 1.0}})
    assert all(gdn_targets(rows).values())
    assert not any(gdn_targets([]).values())  # nothing measured is not a pass


def _proj(tp: int, tokens: int, speedup: float, wfloor: float) -> dict:
    return {"tp": tp, "tokens": tokens, "speedup": speedup, "fused_x_wfloor": wfloor}


def test_projection_targets():
    good = [_proj(4, 128, 2.9, 2.4), _proj(1, 128, 2.0, 1.38), _proj(1, 8192, 1.23, 44.0)]
    assert all(projection_targets(good).values())
    slow_t128 = [_proj(4, 128, 2.9, 2.4), _proj(1, 128, 1.8, 1.56), _proj(1, 8192, 1.23, 44.0)]
    assert projection_targets(slow_t128) == {
        "tp4_decode_speedup_ge_1.8": True,
        "prefill_speedup_ge_0.98": True,
        "tp1_decode_within_1.5x_floor": False,
    }
