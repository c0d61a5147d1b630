"""Findings (cards/findings/: upstream bugs without a PR): loaded beside cards, linted, rendered."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import yaml

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from dossier.render import RenderInput, render_documents
from tests.dossier.factories import make_card, write_project

REPO = Path(__file__).resolve().parents[2]

FINDING = {
    "name": "short-key",
    "title": "A snapshot of depth 15 is cached under the 12-token key",
    "status": "candidate",
    "lane": "gdn-projection",
    "sglang": "0.5.23",
    "symptom": ("A follow-up request sharing 14 tokens restores the depth-15 GatedDeltaNet state at key 12 "
                "and generates wrong greedy tokens with --enable-mixed-chunk and --page-size 4."),
    "cause": ("PrefillAdder.add_chunked_req cuts the continuing chunk to the raw budget, so checkpoint_into_tree "
              "page-aligns a key below the snapshot depth in unified_radix_cache.py."),
    "code": [{"file": "python/sglang/srt/managers/schedule_policy.py", "function": "PrefillAdder.add_chunked_req",
              "match": "new_len = self.floor_chunked_tokens("}],
    "reproduction": {"command": "python -m runtime.scheduling --quick",
                     "tests": ["tests/runtime/scheduling/test_scheduling_findings.py::test_page_grid_cut_fix_passes"]},
    "fix": ("Floor the continuing chunk in add_chunked_req to end on the page grid: (prefix_len + rem) // "
            "page_size * page_size - prefix_len, as _select_prefill_admission does for admissions."),
    "runtime": {"reference": "runtime.scheduling", "variant": "page_grid_cut"},
}


def _project(tmp_path, **changes):
    root = write_project(tmp_path, [make_card(1)])
    finding = {**copy.deepcopy(FINDING), **changes}
    (root / "cards" / "findings").mkdir()
    (root / "cards" / "findings" / f"{FINDING['name']}.yaml").write_text(yaml.safe_dump(finding, sort_keys=False))
    for src in ("tests/runtime/scheduling/test_scheduling_findings.py", "runtime/scheduling/config.py",
                "runtime/scheduling/__init__.py"):
        dst = root / src
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text((REPO / src).read_text())
    return root


def _codes(root):
    project = Project.load(root)
    return {d.code for d in run_lint(LintContext(project), select=["D1", "D7"])}, project


def test_a_finding_name_must_be_an_anchor(tmp_path):
    """The name becomes `#finding-<name>` links and an `<a id>`: a space or quote would break both."""
    root = _project(tmp_path, name="short key")
    (root / "cards" / "findings" / "short-key.yaml").rename(root / "cards" / "findings" / "short key.yaml")
    project = Project.load(root)
    found = [d.message for d in run_lint(LintContext(project), select=["D110"])]
    assert found == ["name must be lower-case letters and digits joined by '-' (it names an anchor), got 'short key'"]


def test_a_valid_finding_loads_apart_from_the_cards(tmp_path):
    codes, project = _codes(_project(tmp_path))
    assert codes == set()
    assert [c.pr for c in project.cards] == [1]
    assert [f.name for f in project.findings] == ["short-key"]


@pytest.mark.parametrize("changes,code", [
    ({"status": "current"}, "D107"),
    ({"pr": 5}, "D105"),
    ({"fix": None}, "D106"),
    ({"name": "other"}, "D701"),
    ({"lane": "nowhere"}, "D702"),
    ({"reproduction": {"command": "x", "tests": ["tests/runtime/scheduling/test_scheduling_findings.py::nope"]}},
     "D703"),
    ({"runtime": {"reference": "runtime.scheduling", "variant": "no_such_fix"}}, "D703"),
    ({"reproduction": {"command": "x", "tests": ["tests/runtime/projections/test_proj_fp8.py::test_x"]}}, "D706"),
    ({"reproduction": {"command": "x", "tests": ["tests/dossier/test_findings.py::test_x"]}}, "D706"),
    ({"code": [{"file": "python/sglang/srt/managers/schedule_policy.py", "function": "PrefillAdder.nope",
                "match": "new_len = self.floor_chunked_tokens("}]}, "D704"),
    ({"code": [{"file": "python/sglang/srt/managers/schedule_policy.py", "function": "PrefillAdder.add_chunked_req",
                "match": "a line nobody wrote"}]}, "D704"),
    ({"fix": "Fix the bug in the scheduler so that it works correctly again for everyone using the feature "
             "described above in this finding."}, "D705"),
])
def test_each_broken_field_is_reported(tmp_path, changes, code):
    if code == "D704" and importlib.util.find_spec("sglang") is None:
        pytest.skip("D704 reads the installed SGLang")
    codes, _ = _codes(_project(tmp_path, **changes))
    assert code in codes


def test_findings_render_into_their_own_reference(tmp_path):
    docs = render_documents(RenderInput(Project.load(_project(tmp_path))))
    text = docs["references/findings.md"]
    assert "short-key" in text and "PrefillAdder.add_chunked_req" in text and "page_grid_cut" in text
    assert "test_page_grid_cut_fix_passes" in text
    assert "short-key" not in docs["references/pr-history.md"]


def test_findings_command_lists_and_shows(tmp_path):
    from typer.testing import CliRunner

    from dossier.cli import app

    root = _project(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(app, ["findings", "--root", str(root)])
    assert listed.exit_code == 0 and "short-key" in listed.output and "candidate" in listed.output
    shown = runner.invoke(app, ["findings", "short-key", "--root", str(root)])
    assert shown.exit_code == 0 and "PrefillAdder.add_chunked_req" in shown.output
    assert "--variant page_grid_cut" in shown.output
    missing = runner.invoke(app, ["findings", "nope", "--root", str(root)])
    assert missing.exit_code == 2 and "short-key" in missing.output
    for path in (root / "cards" / "findings").iterdir():
        path.unlink()
    none = runner.invoke(app, ["findings", "--root", str(root)])  # it printed a table of headers and no row
    assert none.exit_code == 0 and none.stdout == "" and none.stderr.startswith("no valid findings in cards/findings/")


def test_a_copy_under_another_name_never_stands_for_the_card_or_finding(tmp_path):
    """A copy of a card or finding under another file name (D506/D507, D701) won wherever it sorted first: `show`
    printed `cards/1.yaml`'s text as #100's card, `findings` listed the finding twice and printed the copy, and
    render put two sections with one anchor into the manual. The file named for the PR (finding) is the one."""
    from typer.testing import CliRunner

    from dossier.cli import app

    root = write_project(tmp_path, [make_card(100)])
    folder = root / "cards" / "findings"
    folder.mkdir()
    (folder / "short-key.yaml").write_text(yaml.safe_dump(FINDING))
    (folder / "a-copy.yaml").write_text(yaml.safe_dump({**FINDING, "title": "An old draft of the title"}))
    copied = yaml.safe_load((root / "cards" / "100.yaml").read_text())
    (root / "cards" / "1.yaml").write_text(yaml.safe_dump({**copied, "title": "An old draft of the card"}))
    project = Project.load(root)
    assert [(c.pr, c.path.name) for c in project.cards] == [(100, "100.yaml")]
    assert [(f.name, f.path.name) for f in project.findings] == [("short-key", "short-key.yaml")]
    runner = CliRunner()
    shown = runner.invoke(app, ["show", "100", "--root", str(root)])
    assert shown.exit_code == 0 and "An old draft" not in shown.stdout and "cards/100.yaml" in shown.stdout
    listed = runner.invoke(app, ["findings", "--root", str(root)])
    assert listed.stdout.count("short-key") == 1 and "An old draft" not in listed.stdout
