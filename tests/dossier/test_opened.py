"""D405: a merge date before the PR existed, from opening-day anchors (cards/opened.lock) and PR number order."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.factories import make_card, write_project

ROOT = Path(__file__).resolve().parents[2]
ANCHORS = """version: 1
opened:
  20903: {opened: 2026-03-19, source: https://github.com/sgl-project/sglang/pull/20903}
  26865: {opened: 2026-05-31, source: https://github.com/sgl-project/sglang/pull/26865}
anchors: 2
"""


def _d405(root: Path) -> list:
    return [d for d in run_lint(LintContext(Project.load(root)), select=["D4"]) if d.code == "D405"]


@pytest.mark.parametrize("pr,merged,fires,names", [
    (24954, dt.date(2024, 6, 1), True, "#20903 was opened on 2026-03-19"),   # years before: impossible
    (24954, dt.date(2026, 3, 1), True, "#20903 was opened on 2026-03-19"),   # weeks before is impossible too
    (24954, dt.date(2026, 3, 18), False, ""),  # a day off: the thread's day and GitHub's UTC day may differ
    (24954, dt.date(2026, 6, 8), False, ""),   # after the floor; how late is D313's business (a warning)
    (26865, dt.date(2026, 5, 1), True, "it was opened on 2026-05-31"),      # its own opening day
    (20000, dt.date(2024, 6, 1), False, ""),   # no anchor at or below #20000: nothing proven
])
def test_a_merge_before_the_pr_could_exist_is_an_error(tmp_path, pr, merged, fires, names):
    write_project(tmp_path, [make_card(pr, merged_at=merged)])
    (tmp_path / "cards/opened.lock").write_text(ANCHORS)
    found = _d405(tmp_path)
    assert [d.severity for d in found] == (["error"] if fires else []), found
    if fires:
        assert names in found[0].message and f"merged_at {merged} is impossible" in found[0].message
        assert found[0].file == f"cards/{pr}.yaml"


def test_anchors_that_contradict_number_order_are_reported_not_used(tmp_path):
    write_project(tmp_path, [make_card(24954, merged_at=dt.date(2024, 6, 1))])
    (tmp_path / "cards/opened.lock").write_text(ANCHORS.replace("2026-05-31", "2026-01-02"))
    found = _d405(tmp_path)
    assert len(found) == 1 and found[0].file == "cards/opened.lock" and "#26865 opened 2026-01-02" in found[0].message


def test_the_committed_anchors_catch_a_real_card_moved_back_years(tmp_path):
    """A real card, its merge date moved two years back: within D403's range, and impossible by the lock."""
    import yaml

    card = yaml.safe_load((ROOT / "cards/24954.yaml").read_text())
    card["merged_at"] = dt.date(2024, 5, 2)
    write_project(tmp_path, [card])
    shutil.copy(ROOT / "cards/opened.lock", tmp_path / "cards/opened.lock")
    found = _d405(tmp_path)
    assert len(found) == 1 and "is impossible" in found[0].message


def test_lint_record_copies_githubs_opening_days_from_the_fetch_cache(tmp_path, monkeypatch):
    """`dossier lint --record` writes the created_at of fetched PRs into cards/opened.lock, keeping the anchors
    there; a later card numbered above a fetched one then cannot claim a merge before that day."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.opened import read_anchors
    from tests.dossier import evidence_support as ev

    monkeypatch.delenv("DOSSIER_CACHE", raising=False)
    cache = tmp_path / "cache"
    ev.put(cache, 100, created_at="2026-03-10T22:00:00Z")
    root = write_project(tmp_path / "p", [make_card(100), make_card(150, merged_at=dt.date(2026, 2, 1))])
    (root / "cards/opened.lock").write_text(ANCHORS.replace("20903: {opened: 2026-03-19", "90: {opened: 2026-01-05"))
    result = CliRunner().invoke(app, ["lint", "--record", "--root", str(root), "--cache-dir", str(cache)])
    assert "recorded 1 new opening day(s) of 1 fetched PR(s) in cards/opened.lock" in result.output
    anchors = {a.pr: a for a in read_anchors(root)}
    assert sorted(anchors) == [90, 100, 26865]
    assert anchors[100].opened == dt.date(2026, 3, 10) and "created_at" in anchors[100].source
    found = _d405(root)
    assert [d.file for d in found] == ["cards/150.yaml"] and "#100 was opened on 2026-03-10" in found[0].message


@pytest.mark.parametrize(("entry", "why"), [
    # a time where the day goes: compared with days, it crashed the rule ('D000 rule D405 crashed: TypeError')
    ("  100: {opened: 2025-01-05 10:00:00, source: x}\n", "entry 100: ValueError: 2025-01-05 10:00:00 is a time, "
                                                          "not a day"),
    ("  100: {opened: soon, source: x}\n", "entry 100: ValueError: Invalid isoformat string: 'soon'"),
])
def test_an_opening_day_that_is_no_day_is_one_finding_naming_the_entry(tmp_path, entry, why):
    root = write_project(tmp_path, [make_card(100)])
    (root / "cards" / "opened.lock").write_text("version: 1\nopened:\n" + entry + "anchors: 1\n")
    assert [d.message for d in _d405(root)] == [
        "merge dates not checked against opening days: cards/opened.lock: expected opened: {PR: {opened: "
        f"YYYY-MM-DD, source: URL}}}} ({why})"]


def test_an_anchor_given_twice_is_refused_not_one_of_them_taken(tmp_path):
    """Two days for one PR (a merge of two recordings): YAML kept the last, silently."""
    root = write_project(tmp_path, [make_card(100)])
    (root / "cards" / "opened.lock").write_text("version: 1\nopened:\n  100: {opened: 2025-01-05, source: x}\n"
                                                "  100: {opened: 2025-01-07, source: y}\nanchors: 2\n")
    assert [d.message for d in _d405(root)] == [
        "merge dates not checked against opening days: cards/opened.lock: not valid YAML at line 4: key 100 "
        "given twice (first at line 3): YAML would keep only the last"]
