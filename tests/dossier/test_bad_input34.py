"""Bad input, round 34 (session 48): entries the manual showed twice, stored results whose own records contradict
what the manual says of them, and a PR facts snapshot whose values D414 could not read.

- A card's validation line (`validation.lanes`) or a finding's limit copied below itself rendered twice in
  pr-history.md and findings.md, lint clean; a claim or a correction copied so was D223's, yet render still wrote
  it twice. Round 29 held lanes.yaml's lists to distinct entries, round 32 its lists of mappings; the cards' and
  findings' own lists of text were not: they are now (a D1xx error, which render refuses).
- A stored GPU result whose `tests` records hold two failures under `passed: 194, failed: 0`, whose benchmark
  names an H100 while the run names an H200, or whose benchmark is dated after the run that reused it,
  was shown as "194/194 passed on NVIDIA H200 ... reproduced", lint and render --check clean: round 33 held `ok`
  to the counts, never the counts to the records, and `--bench-json` refuses another GPU's numbers only on writing.
- cards/pr-facts.json with `"state": "MERGED"` (GraphQL's spelling) passed the snapshot check, and D414 then judged
  neither the state nor the merge day of that PR (it compares with "merged"); a negative count passed too.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.locks import LockError
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_bad_input13 import _FACT, _facts
from tests.dossier.test_bad_input31 import _stored
from tests.dossier.test_findings import _project as _finding_project
from tests.dossier.test_lint_rules import lint
from tests.dossier.test_regress import GOOD_RESULT

runner = CliRunner()


@pytest.mark.parametrize("field", ["lanes", "claims", "corrections"])
def test_a_card_entry_copied_below_itself_is_a_schema_error_render_refuses(tmp_path, field):
    card = make_card(100, corrections=["The earlier manual gave this change to the wrong layer of the model."])
    entries = card["corrections"] if field == "corrections" else card["validation"][field]
    entries.append("  ".join(entries[0].split(" ", 1)))  # the same entry, as the manual shows it
    root = write_project(tmp_path, [card])
    found = [d for d in lint(root, select=["D1"]) if "would show it twice" in d.message]
    assert found and all(d.severity == "error" for d in found), found
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code == 1 and not (root / "skills").exists(), result.output


def test_a_finding_limit_copied_below_itself_is_a_schema_error(tmp_path):
    limit = "Found by the runtime model only; not reproduced on a server."
    root = _finding_project(tmp_path, limits=[limit, limit])
    found = [d for d in lint(root, select=["D1"]) if "would show it twice" in d.message]
    assert [d.file for d in found] == ["cards/findings/short-key.yaml"], found


def _records(passed: int, failed: int) -> list[dict]:
    return ([{"id": f"t.py::test_{i}", "outcome": "passed", "seconds": 0.1, "parity": {}} for i in range(passed)]
            + [{"id": f"t.py::bad_{i}", "outcome": "failed", "seconds": 0.1, "parity": {}, "message": "assert 0.3 < 0.01"}
               for i in range(failed)])


@pytest.mark.parametrize("change, why", [
    ({"tests": _records(1, 2)}, "passed 3 and failed 0, but its tests records hold 1 passed and 2 failed"),
    ({"tests": ["t.py::test_0"]}, "tests must be a list of test records"),
    ({"bench": {"module": "fakeref", "summary": ["one row"], "device": {"name": "NVIDIA H100 80GB HBM3"}}},
     "its benchmark was measured on 'NVIDIA H100 80GB HBM3', not on the run's 'NVIDIA H200'"),
    ({"bench": {"module": "fakeref", "summary": ["one row"], "date": "2026-12-02"}},
     "bench.date 2026-12-02 is after the run's date 2026-12-01"),
], ids=["records-fail", "records-not-records", "bench-other-gpu", "bench-after-run"])
def test_a_stored_result_its_own_records_contradict_is_refused(tmp_path, change, why):
    assert_refused(tmp_path, change, why)


def assert_refused(tmp_path, change: dict, why: str) -> None:
    """The stored result GOOD_RESULT with ``change``: render and render --check refuse it (exit 2, saying ``why``)
    and leave the manual as it was; lint says D525."""
    root, _ = _stored(tmp_path, json.dumps({**GOOD_RESULT, **change}))
    manual = {p: p.read_bytes() for p in (root / "skills").rglob("*.md")}
    for args in (["render"], ["render", "--check"]):
        result = runner.invoke(app, [*args, "--root", str(root)])
        assert result.exit_code == 2 and why in " ".join(result.output.split()), result.output
    assert {p: p.read_bytes() for p in (root / "skills").rglob("*.md")} == manual
    assert [d.code for d in lint(root, select=["D525"])] == ["D525"]


def test_a_stored_result_whose_records_agree_is_shown(tmp_path):
    agreeing = {**GOOD_RESULT, "tests": _records(3, 0), "date": dt.date.today().isoformat(),
                "bench": {"module": "fakeref", "summary": ["one row"], "device": {"name": "NVIDIA H200"},
                          "date": "2026-11-30"}}
    root, _ = _stored(tmp_path, json.dumps(agreeing))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0


@pytest.mark.parametrize("change, why", [
    ({"state": "MERGED"}, r"entry 1: state is 'MERGED', not one of merged, open, closed"),
    ({"deletions": -1}, r"entry 1: deletions is -1, below 0"),
    ({"main_files": [{"path": "python/sglang/a.py", "additions": -3, "deletions": 1, "symbols": []}]},
     r"entry 1: 'python/sglang/a.py''s additions is -3, below 0"),
], ids=["graphql-state", "negative-total", "negative-file"])
def test_a_pr_facts_value_d414_cannot_judge_is_refused(tmp_path, change, why):
    with pytest.raises(LockError, match=why):
        _facts(tmp_path, json.dumps([{**_FACT, **change}]))


def test_d414_judges_the_merge_day_of_a_snapshot_pr(tmp_path):
    """With the state spelled as the snapshot writes it, the wrong merge day is found (what MERGED hid)."""
    root = write_project(tmp_path, [make_card(100, title="Fuse it")])
    (root / "cards" / "pr-facts.json").write_text(json.dumps([{**_FACT, "date": "2026-03-19"}]))
    found = lint(root, select=["D414", "D311"])
    assert [d.code for d in found] == ["D414"] and "merged_at" in found[0].message, found
    (root / "cards" / "pr-facts.json").write_text(json.dumps([{**_FACT, "date": "2026-03-19", "state": "MERGED"}]))
    assert [d.code for d in lint(root, select=["D414", "D311"])] == ["D311"]

