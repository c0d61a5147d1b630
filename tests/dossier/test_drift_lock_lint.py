"""D332: a card drift judges with no verdict in cards/drift.lock (a lock cut at an entry boundary is still YAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.factories import make_card, unsealed, write_project

VERDICT = ("  100:\n    file: python/sglang/srt/models/qwen3_next.py\n    found: []\n    key_fragment: abc\n"
           "    removal: false\n    status: current\n    verdict: missing\n")


def d332(root: Path) -> list[str]:
    return [d.message for d in run_lint(LintContext(Project.load(root)), select=["D332", "D311"])]


def with_lock(tmp_path: Path, cards: str, *made: dict) -> Path:
    """A project with ``made`` (#100 and #101) and a drift.lock of ``cards``, its key fragments their cards' own."""
    from dossier.evidence import key_sha

    root = write_project(tmp_path / "p", list(made) or [make_card(100), make_card(101)])
    sha = key_sha(Project.load(root).cards[0].key_fragment)  # every factory card quotes the same line
    (root / "cards" / "drift.lock").write_text(f'version: 1\nsglang: "0.5.23"\ncards:\n{cards.replace("abc", sha)}')
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


# ---- render, render --check and lint read one answer (robust9: render wrote a manual without the cut cards' notes) --

def recorded(tmp_path: Path) -> Path:
    """Two current cards, drift recorded against a package holding their line, the manual rendered."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.factories import sglang_package

    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    pkg = sglang_package(tmp_path / "site", {"srt/models/qwen3_next.py":
                                             "x = 1\nself.in_proj_qkvzba = MergedColumnParallelLinear(\n"})
    runner = CliRunner()
    assert runner.invoke(app, ["drift", "--sglang-src", str(pkg), "--record", "--root", str(root)]).exit_code == 0
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    return root


def manual(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "skills").rglob("*")) if p.is_file()}


def render(root: Path, *args: str):
    from typer.testing import CliRunner

    from dossier.cli import app

    return CliRunner().invoke(app, ["render", *args, "--root", str(root)])


def test_render_refuses_a_lock_cut_at_an_entry_boundary_naming_the_card(tmp_path):
    root = recorded(tmp_path)
    lock = root / "cards" / "drift.lock"
    text = lock.read_text()
    assert "**SGLang 9.9.9:** in place" in "".join(t.decode() for t in manual(root).values())
    lock.write_text(text[:text.index("  101:")])  # valid YAML: #101's verdict is gone, and the seal says so
    result = render(root, "--check")
    assert result.exit_code == 1 and "cards/drift.lock (D311)" in result.output and "cut short" in result.output
    lock.write_text(unsealed(text)[:unsealed(text).index("  101:")])  # a lock before seals: the card is named
    before = manual(root)
    for args in ((), ("--check",)):
        result = render(root, *args)
        assert result.exit_code == 1, result.output
        assert result.output.splitlines()[0] == ("error: not rendering: 1 file(s) would make the manual wrong or "
                                                 "incomplete: cards/101.yaml (D332)"), result.output
    assert manual(root) == before  # #101's note was silently dropped from references/pr-history.md
    found = d332(root)  # lint says the same of the same card
    assert len(found) == 1 and found[0].startswith("#101 is current but has no verdict in cards/drift.lock")


CUTS = {  # where the lock is cut, and what D311 says
    "no-verdict": (lambda t: t[:t.rindex("    verdict:")], "the entry of #101 has "),
    "no-status-nor-verdict": (lambda t: t[:t.rindex("    status:")], "the entry of #101 has "),
    "a-cut-verdict": (lambda t: t[:t.rindex("in-place")] + "in-pl", "file ends mid-line, after '    verdict: in-pl'"),
}


@pytest.mark.parametrize("cut", CUTS)
def test_a_lock_cut_inside_an_entry_is_d311_and_render_refuses(tmp_path, cut):
    """Keys are written sorted, the verdict last: a cut inside #101's entry rendered '**SGLang 9.9.9:** .'."""
    root = recorded(tmp_path)
    lock = root / "cards" / "drift.lock"
    lock.write_text(CUTS[cut][0](lock.read_text()))
    before = manual(root)
    result = render(root)
    assert result.exit_code == 1 and "cards/drift.lock (D311)" in result.output.splitlines()[0], result.output
    assert f"D311 cards/drift.lock: {CUTS[cut][1]}" in result.output, result.output
    assert manual(root) == before


@pytest.mark.parametrize("line", ["", "sglang: null\n", "sglang: 0.10\n", "sglang: ''\n"])
def test_a_lock_without_the_version_it_was_compared_against_is_d311(tmp_path, line):
    """Without `sglang:` every note of the manual read '**SGLang unknown:**' (null: 'SGLang None'; 0.10: 0.1)."""
    root = recorded(tmp_path)
    lock = root / "cards" / "drift.lock"
    lock.write_text("".join(ln if not ln.startswith("sglang:") else line for ln in lock.read_text().splitlines(True)))
    before = manual(root)
    result = render(root)
    assert result.exit_code == 1 and "cards/drift.lock (D311)" in result.output.splitlines()[0], result.output
    assert "D311 cards/drift.lock: sglang must be the SGLang version drift compared against" in result.output
    assert manual(root) == before


def test_render_refuses_release_evidence_cut_at_an_entry_boundary(tmp_path):
    """evidence.lock's releases section cut before #101's entry is still YAML: render wrote the manual without #101's
    release lines and listed it under 'no release places them' (lint's D326 said so; render did not refuse)."""
    from dossier.evidence import key_sha

    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    entry = {"first": "0.1.0", "last": "0.2.0", "key_fragment": key_sha(Project.load(root).cards[0].key_fragment),
             "kind": "release-scan", "present": [], "events": [], "recorded": "2026-11-30"}
    releases = {"built": [["0.1.0", "2026-01-05"], ["0.2.0", "2026-04-01"]], "cards": {100: entry, 101: entry}}
    lock = root / "cards" / "evidence.lock"
    lock.write_text(yaml.safe_dump({"version": 1, "cards": {}, "releases": releases}, sort_keys=False))
    assert render(root).exit_code == 0
    text = lock.read_text()
    lock.write_text(text[:text.index("    101:")])
    before = manual(root)
    for args in ((), ("--check",)):
        result = render(root, *args)
        assert result.exit_code == 1, result.output
        assert result.output.splitlines()[0] == ("error: not rendering: 1 file(s) would make the manual wrong or "
                                                 "incomplete: cards/101.yaml (D326)"), result.output
    assert manual(root) == before


def test_render_refuses_a_verdict_recorded_for_an_earlier_key_fragment(tmp_path):
    """#101's match edited after `dossier drift --record`: the manual read '**SGLang 9.9.9:** recorded for an earlier
    key fragment; run `dossier drift --record`.', an instruction to the maintainer in the reader's skill (robust9)."""
    root = recorded(tmp_path)
    card = root / "cards" / "101.yaml"
    card.write_text(card.read_text().replace("match: self.in_proj_qkvzba = MergedColumnParallelLinear(",
                                             "match: x = MergedColumnParallelLinear("))
    before = manual(root)
    result = render(root)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[0].endswith("incomplete: cards/101.yaml (D332)"), result.output
    assert "D332 #101's verdict in cards/drift.lock was recorded for an earlier key fragment" in result.output
    assert manual(root) == before
