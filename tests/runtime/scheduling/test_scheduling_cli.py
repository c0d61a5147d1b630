"""``python -m runtime.scheduling``: the per-knob table, the verdict, the exit status and the example."""

import json

from runtime.scheduling.__main__ import main


def test_cli_passes_on_the_repro_workload(capsys, tmp_path):
    out_file = tmp_path / "scheduling.json"
    assert main(["--workload", "mixed-repro", "--quick", "--json", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "hit_rate" in out and "extra_buffer" in out and "no_buffer" in out and "none" in out
    assert "PASS: all 27 combinations" in out
    doc = json.loads(out_file.read_text())
    assert doc["lane"] == "scheduling" and len(doc["rows"]) == 27 and doc["verdict"].startswith("PASS")


def test_cli_fails_with_a_bug_variant(capsys):
    assert main(["--workload", "mixed-repro", "--quick", "--variant", "drop_track_on_mix"]) == 1
    out = capsys.readouterr().out
    assert "violates write-before-donate" in out and out.strip().splitlines()[-1].startswith("FAIL: 8 of 27")


def test_cli_worked_example(capsys):
    assert main(["--example"]) == 0
    out = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    default = "auto -> extra_buffer (defaults)"
    first = "960 prefill snapshot: h[15] (kernel told seq 1000) kept (after the prefill chunk)"
    assert f"{default} {first}" in lines
    assert f"{default} 1024 decode snapshot: working state after the step not kept (superseded)" in lines
    assert "no_buffer, no overlap 1299 the working slot itself kept (at finish)" in lines
    assert any(line.startswith("extra_buffer, page 128 896 prefill snapshot: h[14] (kernel told seq 897)")
               for line in lines)
