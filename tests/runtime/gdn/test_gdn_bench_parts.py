"""The full GDN bench in parts: each part judges only its own targets, and a merge of one document per part judges
them all over the joined rows (plain logic and JSON, no device)."""

import json

import pytest

from runtime.gdn import bench, readme_tables
from tests.runtime.test_bench_targets import _gdn_rows

PART_KERNELS = {"decode": ("decode",), "deferred": ("deferred", "dispatch"), "verify": ("verify", "ring_verify"),
                "small": ("gating", "gated_norm")}


def _rows(override: dict | None = None) -> list[dict]:
    """The target tests' rows, with what the summary also reads of the verify rows."""
    rows = _gdn_rows(override)
    for r in rows:
        if r["kernel"] == "verify":
            r.setdefault("pct_floor_pattern", 95.0)
    return rows


def _part_doc(part: str, rows: list[dict], copy: float, device: str = "NVIDIA H200") -> dict:
    mine = [r for r in rows if r["kernel"] in PART_KERNELS[part]]
    return {"lane": "gdn", "part": part, "device": {"name": device}, "date": "2026-12-03", "wall_s": 10.0,
            "ceilings": {"copy_gbs": copy}, "rows": mine, "sglang": "0.5.23",
            "targets": bench.judged(bench.check_targets(mine), mine)}


def _write_parts(tmp_path, rows: list[dict], parts=bench.PARTS, device: str = "NVIDIA H200") -> list[str]:
    paths = []
    for i, part in enumerate(parts):
        path = tmp_path / f"gdn-{part}.json"
        path.write_text(json.dumps(_part_doc(part, rows, 4000.0 + i, device)))
        paths.append(str(path))
    return paths


def test_every_target_belongs_to_exactly_one_part():
    targets = bench.check_targets(_rows())
    by_part = {p: set(bench.judged(targets, [r for r in _rows() if r["kernel"] in PART_KERNELS[p]]))
               for p in bench.PARTS}
    assert set().union(*by_part.values()) == set(targets)
    assert sum(len(v) for v in by_part.values()) == len(targets)
    assert by_part["verify"] == {t for t in targets if t.startswith(("verify", "ring_verify"))}


def test_merge_judges_every_target_over_all_parts_and_keeps_each_parts_ceilings(tmp_path, capsys):
    bad = _rows({("deferred", "TP4 B=256 L=16"): {"pct_floor": 84.0}})
    out = tmp_path / "gdn.json"
    targets = bench.merge(_write_parts(tmp_path, bad), str(out))
    doc = json.loads(out.read_text())
    assert [n for n, ok in targets.items() if not ok] == ["deferred_ge_85pct_read_only_floor_at_B>=256_L=16"]
    assert doc["targets"] == targets and len(targets) == len(bench.check_targets(bad))
    assert len(doc["rows"]) == len(bad) and doc["device"]["name"] == "NVIDIA H200" and doc["date"] == "2026-12-03"
    assert {p: v["ceilings"]["copy_gbs"] for p, v in doc["parts"].items()} == {
        "decode": 4000.0, "deferred": 4001.0, "verify": 4002.0, "small": 4003.0}
    assert doc["ceilings"]["copy_gbs"] == 4000.0 and doc["summary"]
    printed = capsys.readouterr().out
    assert "target deferred_ge_85pct_read_only_floor_at_B>=256_L=16: FAIL" in printed
    assert "target dispatch_never_slower_than_in_place_or_sgl_packed: PASS" in printed


@pytest.mark.parametrize("parts", [bench.PARTS[:3], (*bench.PARTS[:3], "decode")])
def test_merge_refuses_a_missing_or_repeated_part(tmp_path, parts):
    paths = _write_parts(tmp_path, _rows(), bench.PARTS)
    chosen = [next(p for p in paths if p.endswith(f"gdn-{part}.json")) for part in parts]
    with pytest.raises(SystemExit, match="each of"):
        bench.merge(chosen, str(tmp_path / "gdn.json"))


def test_merge_refuses_parts_from_two_devices(tmp_path):
    paths = _write_parts(tmp_path, _rows())
    doc = json.loads(open(paths[1]).read())
    doc["device"]["name"] = "NVIDIA H100 80GB HBM3"
    open(paths[1], "w").write(json.dumps(doc))
    with pytest.raises(SystemExit, match="different devices"):
        bench.merge(paths, str(tmp_path / "gdn.json"))


def test_the_readme_tables_print_the_merged_rows_and_targets(tmp_path):
    out = tmp_path / "gdn.json"
    bench.merge(_write_parts(tmp_path, _rows({("verify", "TP4 B=64 T=4"): {"pct_floor": 89.3}})), str(out))
    text = readme_tables.render(json.loads(out.read_text()))
    assert "| verify_ge_90pct_floor_at_B>=64 | **FAIL** |" in text
    assert "| dispatch_never_slower_than_in_place_or_sgl_packed | PASS |" in text
    assert "| TP4 B=256 | - | 48.0 |" in text  # the deferred table's L=16 row: shape, tile (none given), ours
    assert "L=32 47.0 (1.12x)" in text  # the best L of that shape
    assert "| TP4 B=64 T=4 | - | - | - | - | - | 89.3 | 95.0 | 1.200 | 1.250 |" in text
