"""D332: a card drift judges with no verdict in cards/drift.lock (a lock cut at an entry boundary is still YAML)."""

from __future__ import annotations

from pathlib import Path

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.factories import make_card, write_project

VERDICT = ("  100:\n    file: python/sglang/srt/models/qwen3_next.py\n    found: []\n    key_fragment: abc\n"
           "    removal: false\n    status: current\n    verdict: missing\n")


def d332(root: Path) -> list[str]:
    return [d.message for d in run_lint(LintContext(Project.load(root)), select=["D332", "D311"])]


def with_lock(tmp_path: Path, cards: str, *made: dict) -> Path:
    root = write_project(tmp_path / "p", list(made) or [make_card(100), make_card(101)])
    (root / "cards" / "drift.lock").write_text(f'version: 1\nsglang: "0.5.23"\ncards:\n{cards}')
    return root


def test_a_lock_cut_before_a_cards_verdict_is_named_for_that_card(tmp_path):
    found = d332(with_lock(tmp_path, VERDICT))
    assert len(found) == 1 and found[0].startswith("#101 is current but has no verdict in cards/drift.lock")


def test_every_judged_card_with_a_verdict_passes(tmp_path):
    assert d332(with_lock(tmp_path, VERDICT + VERDICT.replace("100:", "101:"))) == []


def test_a_candidate_needs_no_verdict(tmp_path):
    assert d332(with_lock(tmp_path, VERDICT, make_card(100), make_card(101, status="candidate"))) == []


def test_no_lock_yet_judges_nothing(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    assert d332(root) == []


def test_an_unreadable_lock_is_d311s_alone(tmp_path):
    root = with_lock(tmp_path, "  - not a mapping\n")
    assert [d.code for d in run_lint(LintContext(Project.load(root)), select=["D332", "D311"])] == ["D311"]
