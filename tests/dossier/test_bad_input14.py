"""Bad input, round 14 (a CLI audit of session 28): inputs that let render drop content or write dead links with
lint clean, and the skill folder's non-files. Each case failed before its fix: `lanes: []` passed lint and render
dropped the playbook; a committed lock deleted was read as "nothing recorded yet"; an empty surface.lock was blamed on
lanes.yaml and stopped render with exit 2; a card deleted while lanes.yaml links it rendered dead links; render --check
passed links, pipes and empty folders in the skill; `lint --format json` printed nothing when clean."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.project import Project
from dossier.render.documents import skill_dir
from tests.dossier.factories import LANES, make_card, write_project
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()


def _run(root: Path, *args: str):
    return runner.invoke(app, [*args, "--root", str(root)])


def _rendered(root: Path) -> dict[str, bytes]:
    folder = skill_dir(Project.load(root))
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def project(tmp_path) -> Path:
    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    assert _run(root, "render").exit_code == 0
    return root


def test_lanes_defining_no_lane_is_an_error_on_every_card_and_render_refuses(project):
    before = _rendered(project)
    (project / "cards" / "lanes.yaml").write_text(yaml.safe_dump({**LANES, "lanes": []}, sort_keys=False))
    lint = _run(project, "lint")
    assert lint.exit_code == 1 and lint.stdout.count("D501") == 2, lint.output
    assert "defines no lane" in lint.stdout
    assert _run(project, "render").exit_code == 1 and _rendered(project) == before


def _git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                   capture_output=True, env=env)


def test_a_committed_lock_deleted_is_an_error_and_render_refuses(project):
    """Absent, a lock reads as 'nothing recorded yet' (a new project's state): committed and then deleted, the
    manual would lose what it recorded with lint clean."""
    (project / "cards" / "pr-facts.json").write_text(json.dumps([{  # a PR no card cites: lint judges no card by it
        "number": 999, "title": "Fuse it", "state": "merged", "date": "2026-03-20", "changed_files": 1,
        "additions": 3, "deletions": 1, "main_files": []}]) + "\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "x")
    assert _run(project, "lint").exit_code == 0
    (project / "cards" / "pr-facts.json").unlink()
    lint = _run(project, "lint")
    assert lint.exit_code == 1 and "cards/pr-facts.json:1:1: D311" in lint.stdout, lint.output
    assert "committed (git HEAD) but missing" in lint.stdout and "git checkout -- cards/pr-facts.json" in lint.stdout
    assert _run(project, "render").exit_code == 1


def test_an_unreadable_surface_lock_is_named_at_the_lock_and_render_refuses_with_a_finding(project):
    before = _rendered(project)
    (project / "cards" / "surface.lock").write_text("")
    lint = _run(project, "lint")
    assert lint.exit_code == 1 and "cards/surface.lock:1:1: D311" in lint.stdout, lint.output
    assert "lanes.yaml" not in lint.stdout
    render = _run(project, "render")
    assert render.exit_code == 1 and "D311" in render.output and _rendered(project) == before


def test_a_link_to_a_card_that_is_gone_stops_render(project):
    """lanes.yaml still linking a card removed: render would write `[#101](pr-history.md#pr-101)` to nowhere."""
    lanes = load_yaml((project / "cards" / "lanes.yaml").read_text())
    lanes["lanes"][0]["investigation"].append("Compare with [#101](pr-history.md#pr-101).")
    (project / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes, sort_keys=False))
    assert _run(project, "render").exit_code == 0
    before = _rendered(project)
    (project / "cards" / "101.yaml").unlink()
    render = _run(project, "render")
    assert render.exit_code == 1 and "D523" in render.output, render.output
    assert _rendered(project) == before


@pytest.mark.parametrize("what", ["link-for-output", "dangling-link", "fifo", "empty-folder"])
def test_render_check_fails_on_what_is_not_a_rendered_file(project, what, tmp_path):
    folder = skill_dir(Project.load(project))
    if what == "link-for-output":
        target = tmp_path / "SKILL.md"
        target.write_bytes((folder / "SKILL.md").read_bytes())
        (folder / "SKILL.md").unlink()
        (folder / "SKILL.md").symlink_to(target)
        expect = "stale: "
    elif what == "dangling-link":
        (folder / "references" / "old.md").symlink_to("nowhere.md")
        expect = "not rendered: "
    elif what == "fifo":
        os.mkfifo(folder / "pipe")
        expect = "not rendered: "
    else:
        (folder / "scripts").mkdir()
        expect = "not rendered: "
    check = _run(project, "render", "--check")
    assert check.exit_code == 1 and expect in check.stdout, check.output


def test_render_names_a_pipe_in_the_skill_folder_and_leaves_the_manual(project):
    folder = skill_dir(Project.load(project))
    os.mkfifo(folder / "pipe")
    card = yaml.safe_load((project / "cards" / "100.yaml").read_text())
    card["title"] += " (retitled)"
    (project / "cards" / "100.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    render = _run(project, "render")
    assert render.exit_code == 2, render.output
    assert f"{folder / 'pipe'} is not a file or folder" in " ".join(render.output.split()), render.output
    assert ".new" not in render.output and not list(folder.parent.glob(".*.new"))


def test_render_check_says_what_is_in_the_way_of_the_skill_folder(project):
    folder = skill_dir(Project.load(project))
    import shutil
    shutil.rmtree(folder.parent)
    folder.parent.write_text("not a folder\n")
    check = _run(project, "render", "--check")
    assert check.exit_code == 2 and "a file is in the way" in check.output, check.output


def test_lint_json_is_an_empty_list_when_clean(project):
    out = _run(project, "lint", "--format", "json", "--select", "D1")
    assert out.exit_code == 0 and json.loads(out.stdout) == []


def test_new_refuses_a_merged_pr_without_its_merge_day_and_a_day_to_come(project):
    no_day = _run(project, "new", "102", "--title", "Fuse it", "--state", "merged", "--lane", "gdn-projection")
    assert no_day.exit_code == 2 and "pass --merged-at" in no_day.output
    future = _run(project, "new", "102", "--title", "Fuse it", "--state", "merged", "--merged-at", "2999-01-01",
                  "--lane", "gdn-projection")
    assert future.exit_code == 2 and "after today" in future.output
    assert not (project / "cards" / "102.yaml").exists()
    ok = _run(project, "new", "102", "--title", "Fuse it", "--state", "merged", "--merged-at", "2026-03-01",
              "--lane", "gdn-projection")
    assert ok.exit_code == 0 and "merged_at: 2026-03-01" in (project / "cards" / "102.yaml").read_text()


def test_a_finding_whose_lane_is_not_defined_stops_render(project):
    """D702 was not a render guard: render exited 0, dropped the finding's playbook link and printed the raw id."""
    from tests.dossier.test_findings import FINDING

    (project / "cards" / "findings").mkdir()
    path = project / "cards" / "findings" / f"{FINDING['name']}.yaml"
    path.write_text(yaml.safe_dump(FINDING, sort_keys=False))
    assert _run(project, "render").exit_code == 0
    before = _rendered(project)
    path.write_text(yaml.safe_dump({**FINDING, "lane": "no-such-lane"}, sort_keys=False))
    render = _run(project, "render")
    assert render.exit_code == 1 and "D702" in render.output, render.output
    assert _rendered(project) == before


@pytest.mark.parametrize("release", ["not-a-release", "unknown", ""])
def test_a_findings_release_must_be_a_version(project, release):
    from tests.dossier.test_findings import FINDING

    (project / "cards" / "findings").mkdir()
    (project / "cards" / "findings" / f"{FINDING['name']}.yaml").write_text(
        yaml.safe_dump({**FINDING, "sglang": release}, sort_keys=False))
    lint = _run(project, "lint")
    assert lint.exit_code == 1 and ("D707" in lint.stdout or "D10" in lint.stdout), lint.output


def test_a_findings_release_must_be_one_the_evidence_records(tmp_path):
    """`sglang: 0.9.1` (a version no release scan recorded) is named, with the range the lock holds."""
    from dossier.lint import LintContext, run_lint
    from tests.dossier.test_findings import FINDING

    root = write_project(tmp_path / "p", [make_card(100)])
    (root / "cards" / "evidence.lock").write_text(
        "version: 1\ncards: {}\nreleases:\n  built:\n  - ['0.5.22', '2026-10-15']\n  - ['0.5.23', '2026-10-30']\n"
        "  cards: {}\n")
    (root / "cards" / "findings").mkdir()
    path = root / "cards" / "findings" / f"{FINDING['name']}.yaml"
    for release, flagged in (("0.9.1", True), ("0.5.23", False)):
        path.write_text(yaml.safe_dump({**FINDING, "sglang": release}, sort_keys=False))
        found = [d for d in run_lint(LintContext(Project.load(root)), select=["D707"])]
        assert bool(found) is flagged, (release, found)
        if flagged:
            assert "0.5.22 to 0.5.23" in found[0].message


def test_a_release_folder_whose_wheel_is_of_another_version_is_no_release(tmp_path):
    """0.5.21 copied as 0.5.22 with its record's version edited: `releases surface --record` read it as 0.5.22 and
    moved every flag first seen in 0.5.22 to 0.5.23. The record's wheel still names 0.5.21."""
    from dossier import releases as rl
    from tests.dossier.release_support import write_release

    cache = tmp_path / "c"
    write_release(cache, "0.1.0", "2026-01-05", {"a.py": "x = 1\n"})
    lied = write_release(cache, "0.2.0", "2026-02-05", {"a.py": "x = 2\n"})
    record = json.loads((lied / "release.json").read_text())
    (lied / "release.json").write_text(json.dumps({**record, "wheel": "sglang-0.1.0-py3-none-any.whl"}))
    assert [r.version for r in rl.synced(cache)] == ["0.1.0"]
    assert [(p.name, why) for p, why in rl.incomplete(cache)] == [
        ("0.2.0", "its sources come from sglang-0.1.0-py3-none-any.whl, a wheel of SGLang 0.1.0, not 0.2.0")]
    listed = runner.invoke(app, ["releases", "list", "--cache-dir", str(cache), "--root", str(tmp_path)])
    assert "a wheel of SGLang 0.1.0, not 0.2.0" in listed.output
