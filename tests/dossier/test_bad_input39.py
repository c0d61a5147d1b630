"""Bad input, round 39 (session 54's CLI audit): what reached the manual, or judged nothing, with the tools clean.

- A current card with a successor (`superseded_by: [90]`, or itself): lint said D505 (and D503 for the cycle), but
  render wrote "current by #90" into pr-history.md and had #90's card "replace" a change still current, and
  `render --check` then said the manual was up to date. D502, D503 and D505 now stop render, as the other errors
  that garble the manual do.
- A saved diff whose hunk starts at line 99999999999999999999: `fetch --import` took it, `lint --record` wrote the
  line into cards/evidence.lock, and the manual said "added line(s) 99999999999999999999". A hunk past 10,000,000
  lines is refused as damaged, and so is such a line in the evidence, drift and release locks.
- cards/pr-facts.json emptied to `[]`, or an entry numbered 0, -5 or 10**30, or a main file `../../etc/passwd`: lint
  clean, and D414 judged the card against no record. Each is a lock error (D311) now.
- `dossier new` wrote a 300-character title that lint D113 then refused, and `--lane ''` (an unset shell variable)
  wrote `lane: ""`; both are refused now, as the other empty options are.
- `pr: true` in card 100 (YAML's boolean, which Python takes for 1): D502 on the card superseded by #100 said "#100
  has no card" and hinted `dossier new 100`, which then refused because cards/100.yaml exists.
"""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.diff import DiffError, parse_diff
from dossier.evidence import LockError
from dossier.manual import blockers
from dossier.project import Project
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_bad_input38 import _FILE_FACT

runner = CliRunner()


@pytest.mark.parametrize("successors,code", [([90], "D505"), ([100], "D503"), ([123], "D502")],
                         ids=["current-with-a-successor", "its-own-successor", "successor-without-a-card"])
def test_render_refuses_a_successor_that_contradicts_its_card(project_dir, successors, code):
    card = project_dir / "cards" / "100.yaml"
    card.write_text(card.read_text().replace("superseded_by: []", f"superseded_by: {successors}"))
    assert code in {d.code for d in blockers(Project.load(project_dir))}
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 1 and code in result.output.splitlines()[0], result.output
    assert not (project_dir / "skills").exists()


@pytest.mark.parametrize("start", ["99999999999999999999", "10000000"])
def test_a_hunk_past_any_files_length_is_a_damaged_diff(start):
    diff = (f"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -{start},0 +{start},2 @@\n+class A:\n+    pass\n")
    with pytest.raises(DiffError, match="reaches past line 10,000,000"):
        parse_diff(diff)
    assert parse_diff(diff.replace(start, "9999990"))[0].added()[0].new_lineno == 9999990


@pytest.mark.parametrize("lines,ok", [([99999999999999999999], False), ([10_000_001], False), ([10_000_000], True)])
def test_an_evidence_line_past_any_files_length_is_a_lock_error(tmp_path, lines, ok):
    from dossier.evidence import read_lock

    entry = {"key_fragment": "a" * 64, "diff_sha256": "b" * 64, "source": "github", "file": "python/sglang/a.py",
             "side": "new", "lines": lines, "recorded": "2026-11-30", "files": 1, "additions": 2, "deletions": 0}
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "evidence.lock").write_text(yaml.safe_dump({"version": 1, "cards": {100: entry}}))
    if ok:
        assert read_lock(tmp_path)[100].lines == (10_000_000,)
    else:
        with pytest.raises(LockError, match="line numbers \\(1 to 10,000,000\\)"):
            read_lock(tmp_path)


@pytest.mark.parametrize("edit,said", [
    (lambda facts: [], "it holds no PR entry"),
    (lambda facts: [{**facts[0], "number": 0}], "number is 0, not a PR number"),
    (lambda facts: [{**facts[0], "number": -5}], "number is -5, not a PR number"),
    (lambda facts: [{**facts[0], "number": 10**30}], "not a PR number (1 to 9,999,999)"),
    (lambda facts: [{**facts[0], "main_files": [{**facts[0]["main_files"][0], "path": "../../etc/passwd"}]}],
     "'../../etc/passwd' is not a path inside the repository"),
], ids=["emptied", "zero", "negative", "huge", "outside"])
def test_a_pr_facts_snapshot_that_would_judge_no_card_is_a_lock_error(tmp_path, edit, said):
    from tests.dossier.test_lint_rules import lint

    root = write_project(tmp_path, [make_card(100, title="Fuse it")])
    facts = root / "cards" / "pr-facts.json"
    facts.write_text(json.dumps([_FILE_FACT]))
    assert [d.code for d in lint(root, select=["D414", "D311"])] == []
    facts.write_text(json.dumps(edit([_FILE_FACT])))
    found = lint(root, select=["D414", "D311"])
    assert [d.code for d in found] == ["D311"] and said in found[0].message, found


def test_new_refuses_a_title_lint_would_refuse_and_an_empty_lane(tmp_path):
    root = write_project(tmp_path, [make_card(100)])
    args = ["new", "558", "--state", "open", "--root", str(root)]
    long = runner.invoke(app, [*args, "--title", "x" * 257])
    assert long.exit_code == 2 and "257 characters, over the limit of 256 (lint D113)" in long.output, long.output
    empty = runner.invoke(app, [*args, "--title", "Fuse it", "--lane", ""])
    assert empty.exit_code == 2 and "is empty (an unset shell variable?)" in empty.output, empty.output
    assert not (root / "cards" / "558.yaml").exists()
    ok = runner.invoke(app, [*args, "--title", "x" * 256])
    assert ok.exit_code == 0, ok.output
    clean = runner.invoke(app, ["lint", "--select", "D113", "--root", str(root), str(root / "cards" / "558.yaml")])
    assert clean.exit_code == 0, clean.output


def test_a_card_whose_pr_is_true_is_named_invalid_not_missing(project_dir):
    from tests.dossier.test_lint_rules import lint

    card = project_dir / "cards" / "100.yaml"
    card.write_text(card.read_text().replace("pr: 100", "pr: true"))
    d502 = [d for d in lint(project_dir, select=["D502"])]
    assert [d.code for d in d502] == ["D502"] and "card invalid (cards/100.yaml)" in d502[0].message, d502
