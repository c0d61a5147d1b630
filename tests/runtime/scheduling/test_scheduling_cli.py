"""``python -m runtime.scheduling``: the per-knob table, the verdict, the exit status and the example."""

import json
from pathlib import Path

from runtime.scheduling.__main__ import main, update_readme


def test_cli_reports_known_findings_with_exit_zero(capsys, tmp_path):
    """0.5.23 breaks the ReplaySSM rows of the repro workload; both findings explain them: exit 0."""
    out_file = tmp_path / "scheduling.json"
    assert main(["--workload", "mixed-repro", "--quick", "--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "hit_rate" in out and "extra_buffer" in out and "no_buffer" in out and "none" in out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("FAIL: 3 of 26 combinations break") and "explained by no known" not in verdict
    assert "--variant replayssm_fold_at_finish" in verdict and "--variant replayssm_fold_before_mix" in verdict
    doc = json.loads(out_file.read_text())
    assert doc["lane"] == "scheduling" and len(doc["rows"]) == 26
    failed = [r for r in doc["rows"] if r["result"] != "ok"]
    assert len(failed) == 3 and all(r["replayssm"] for r in failed)


def test_cli_passes_with_the_fixes(capsys):
    fixes = ["--variant", "replayssm_fold_at_finish", "--variant", "replayssm_fold_before_mix"]
    assert main(["--workload", "mixed-repro", "--quick", *fixes]) == 0
    assert "PASS: all 26 combinations" in capsys.readouterr().out


def test_cli_fails_with_a_bug_variant(capsys):
    assert main(["--workload", "mixed-repro", "--quick", "--variant", "drop_track_on_mix"]) == 1
    out = capsys.readouterr().out
    verdict = out.strip().splitlines()[-1]
    assert "violates write-before-donate" in out and verdict.startswith("FAIL: 9 of 26")
    assert verdict.endswith("6 are explained by no known finding.")


def test_cli_worked_example(capsys):
    assert main(["--example"]) == 0
    out = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    default = "auto -> extra_buffer (defaults)"
    first = "960 prefill snapshot: h[15] (kernel told seq 1000) kept (after the prefill chunk)"
    assert f"{default} {first}" in lines
    assert f"{default} 1024 decode snapshot: working state after the step not kept (superseded)" in lines
    assert "no_buffer, no overlap 1299 the working slot itself kept (at finish)" in lines
    assert any(line.startswith("no_buffer + ReplaySSM (ring 16), no overlap 1296 the working slot itself: "
                               "recurrent state at the last ring flush, conv state at 1299") for line in lines)
    assert any(line.startswith("extra_buffer, page 128 896 prefill snapshot: h[14] (kernel told seq 897)")
               for line in lines)


def test_strategy_table_covers_all_four_strategies(capsys):
    assert main(["--strategies"]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    for strategy in ("auto", "no_buffer", "extra_buffer", "extra_buffer_lazy", "no_buffer + ReplaySSM"):
        assert any(line.startswith(f"{strategy} ") for line in lines), strategy
    assert any(line.startswith("extra_buffer_lazy extra_buffer_lazy 4 3 page-grid-continuation-cut")
               for line in lines)


def test_readme_tables_are_generated_from_the_model():
    """README.md's strategy table and worked example are what the model prints today."""
    readme = Path(__file__).resolve().parents[3] / "README.md"
    assert update_readme(readme, check=True), "run: python -m runtime.scheduling --readme README.md"
