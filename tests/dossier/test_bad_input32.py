"""Bad input, round 32 (session 46): what round 31 fixed in one reader and left open in another, locks whose values
nobody checked, and entries the manual showed twice.

- D517 reads results/bench/*.json and results/cuda/*.json with its own readers: a file nested too deeply, or holding a
  whole number no float holds, crashed the rule ("D000 rule D517 crashed: RecursionError", "OverflowError").
- `regress --junit` with a report whose timestamp is outside the years a clock can name (year 1 in another zone,
  year 9999 behind UTC) ended in "internal error: ValueError: year 0 is out of range".
- cards/messages.lock and cards/names.lock spans were never checked: '0.5.14..latest' crashed D627, a reversed or
  open span blamed the correct cards/lanes.yaml text. A span recording cannot have written is D311 on the lock.
- A checklist item, an MTP verify step, a finding's code place or test id copied below itself rendered twice, lint
  clean: lists of text were held to distinct entries, lists of mappings were not.
"""

from __future__ import annotations

import json

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_lint_probes15 import REAL
from tests.dossier.test_lint_rules import lint
from tests.dossier.test_regress import REPORT, _junit
from tests.dossier.yaml_support import load_yaml


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000 + "\n",
                                  json.dumps({"device": "NVIDIA H200", "rows": [{"tp": 1, "batch": 64, "us": 10**400}]})],
                         ids=["nested", "huge-int"])
def test_d517_reads_a_damaged_bench_document_without_crashing(tmp_path, text):
    card = make_card(100)
    card["implementation"] += " This project (NVIDIA H200, results/bench/gdn.json): 1.23 us at TP1 B=64."
    root = write_project(tmp_path, [card])
    (root / "results" / "bench").mkdir(parents=True)
    (root / "results" / "bench" / "gdn.json").write_text(text)
    found = run_lint(LintContext(Project.load(root)), select=["D517"])
    assert not [d for d in found if d.code == "D000"], found


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_junit_timestamp_no_clock_names_is_refused_by_name(tmp_path, stamp):
    import platform

    _, report, regress = _junit(tmp_path)
    report.write_text(REPORT.format(suite=f' hostname="{platform.node()}" timestamp="{stamp}"', other=""))
    result = regress()
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "internal error" not in said and "which is no time a pytest run writes" in said


@pytest.mark.parametrize("span", ["0.5.14..latest", "0.5.23..0.5.14", "0.5.14..", "0.5.14 .. 0.5.23"])
def test_a_message_span_recording_cannot_have_written_is_the_locks_error(tmp_path, span):
    root = write_project(tmp_path, [make_card(100)])
    (root / "cards" / "messages.lock").write_text(
        f"version: 1\nmessages:\n  \"Breakable CUDA graph is incompatible with\": '{span}'\ncount: 1\n")
    found = run_lint(LintContext(Project.load(root)), select=["D311", "D626", "D627"])
    assert not [d for d in found if d.code == "D000"], found
    assert [d.code for d in found if d.file == "cards/messages.lock"] == ["D311"], found
    assert "is no span of releases" in found[0].message


def _lanes_with_twice(path: str) -> dict:
    """The real cards/lanes.yaml with one entry of ``path`` copied below itself."""
    lanes = load_yaml((REAL / "cards" / "lanes.yaml").read_text())
    if path == "steps":
        steps = lanes["answers"]["mtp_verify_path"]["steps"]
        steps.insert(1, dict(steps[0]))
    else:
        items = lanes["answers"]["checklists"][0]["items"]
        items.insert(1, {**items[0], "check": "  ".join(items[0]["check"].split(" ", 1))})  # the same, as shown
    return lanes


@pytest.mark.parametrize("path", ["steps", "items"])
def test_an_entry_copied_below_itself_is_a_schema_error(tmp_path, path):
    root = write_project(tmp_path, [make_card(100)], lanes=_lanes_with_twice(path))
    found = [d for d in lint(root, select=["D1"]) if "would show it twice" in d.message]
    assert found and all(d.severity == "error" for d in found), found


def test_a_failure_message_is_shown_never_acted_on_by_the_terminal(tmp_path):
    """A failing test's message reached the terminal raw ("assert ok \\u202e gnirts desrever" printed reversed):
    everything else dossier prints passes through terminal.visible."""
    _, _, regress = _junit(tmp_path, other='<failure message="assert ok \u202e gnirts desrever">x</failure>')
    result = regress()
    assert result.exit_code == 1 and "gnirts desrever" in result.output and "\u202e" not in result.output
