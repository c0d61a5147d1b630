"""Bad input, round 37 (session 49, helper C3): parity values the manual showed that the run's own test records
contradict, and answer blocks of cards/lanes.yaml with nothing in them.

- The `parity` fixture records ``parity:<name>`` once per call, and tests call it in a loop (test_proj_loader.py
  checks every TP rank and output: up to 32 values under one name in one JUnit case). The JUnit reader kept the
  last value of a name within a case, so `regress` (a run, or `--junit`) stored and the manual showed a "parity max
  rel err" below the worst the run measured (a CPU run: 9.1e-08 kept for a case whose worst rank was 1.5e-07). Within
  a case the worst value now stands, as it already did across cases.
- A stored result (results/cuda/<pr>.json) whose run-level `parity` says less than its own `tests` records (an error
  lowered by hand, a check left out) was shown as "parity max rel err 1.0e-09", render, render --check and lint
  clean: round 34 held the counts to the records, never the parity. The run's parity must now be the worst of the
  records' (what `regress` writes); otherwise render refuses the result (exit 2) and lint says D525.
- An answer block of cards/lanes.yaml left with no entries (a checklist's or an error section's `items: []`, the MTP
  verify path's `steps: []`, the backend matrix's `rows: []`) rendered a heading over nothing (an empty upgrade
  checklist also dropped by-release.md's "Without a card" lines), lint and render clean: only a lane's symptoms and an
  error item's messages had to hold one. Each now must (D1xx, which render refuses); a block that has nothing to say
  is left out whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.regress import parse_junit
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_bad_input31 import _stored
from tests.dossier.test_bad_input34 import assert_refused
from tests.dossier.test_lint_rules import lint
from tests.dossier.test_regress import GOOD_RESULT
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()
REAL = Path(__file__).resolve().parents[2]


def test_a_parity_check_recorded_in_a_loop_keeps_its_worst_value_in_a_case():
    xml = """<testsuites><testsuite>
      <testcase classname="tests.runtime.projections.test_proj_loader" name="test_ranks[4]" time="0.5">
        <properties><property name="parity:split vs reference" value="1.0e-07/1.0e-05"/>
        <property name="parity:split vs reference" value="3.0e-06/1.0e-05"/>
        <property name="parity:packed vs reference" value="4.0e-07/1.0e-05"/>
        <property name="parity:split vs reference" value="2.0e-07/1.0e-05"/></properties></testcase>
    </testsuite></testsuites>"""
    (record,) = parse_junit(xml)
    assert record["outcome"] == "passed"
    assert record["parity"] == {"split vs reference": {"err": 3e-06, "tol": 1e-05},
                                "packed vs reference": {"err": 4e-07, "tol": 1e-05}}


def _record(name: str, parity: object) -> dict:
    return {"id": f"tests/runtime/test_x.py::{name}", "outcome": "passed", "seconds": 0.1, "parity": parity}


_RECORDS = [_record("test_a", {"x": {"err": 1e-7, "tol": 1e-5}}), _record("test_b", {"x": {"err": 3e-6, "tol": 1e-5}}),
            _record("test_c", {})]


@pytest.mark.parametrize("change, why", [
    ({"tests": _RECORDS},
     "parity.x is err 1.000e-07, tol 1.0e-05, but its tests records hold err 3.000e-06, tol 1.0e-05 at worst"),
    ({"tests": [*_RECORDS[:2], _record("test_c", {"y": {"err": 2e-6, "tol": 1e-5}})],
      "parity": {"x": {"err": 3e-6, "tol": 1e-5}}},
     "parity.y is missing, but its tests records hold err 2.000e-06, tol 1.0e-05 at worst"),
    ({"tests": [*_RECORDS[:2], _record("test_c", {"x": {"err": "small", "tol": 1e-5}})]},
     "tests record 'tests/runtime/test_x.py::test_c': parity must map each check to its err and tol"),
    ({"tests": [*_RECORDS[:2], _record("test_c", ["x"])]},
     "tests record 'tests/runtime/test_x.py::test_c': parity must map each check to its err and tol"),
], ids=["lowered", "dropped", "not-a-number", "not-a-mapping"])
def test_a_stored_result_whose_parity_its_records_contradict_is_refused(tmp_path, change, why):
    assert_refused(tmp_path, change, why)


def test_a_stored_result_whose_parity_is_its_records_worst_is_shown(tmp_path):
    root, _ = _stored(tmp_path, json.dumps({**GOOD_RESULT, "tests": _RECORDS, "parity": {"x": {"err": 3e-6, "tol": 1e-5}}}))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    shown = (root / "skills").rglob("reference-kernels.md")
    assert any("parity max rel err 3.0e-06 (x, tol 1e-05)" in p.read_text() for p in shown)


@pytest.mark.parametrize("path", ["checklists.0.items", "errors.0.items", "mtp_verify_path.steps", "gdn_backends.rows"])
def test_an_answer_block_with_no_entries_is_a_schema_error_render_refuses(tmp_path, path):
    lanes = load_yaml((REAL / "cards" / "lanes.yaml").read_text())
    *parents, last = path.split(".")
    block = lanes["answers"]
    for key in parents:
        block = block[int(key)] if key.isdigit() else block[key]
    block[last] = []
    root = write_project(tmp_path, [make_card(100)], lanes=lanes)
    shown = path.replace(".0.", "[0].")
    found = [d for d in lint(root, select=["D1"]) if d.message.endswith(f"answers.{shown} is empty")]
    assert found and all(d.severity == "error" for d in found), [d.message for d in lint(root, select=["D1"])]
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code == 1 and not (root / "skills").exists(), result.output
