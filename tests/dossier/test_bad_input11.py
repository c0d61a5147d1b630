"""Bad input, round 11: a lock cut short inside its last section, and damaged input the other commands met."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cards import read_yaml
from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.locks import LockError, read_lock_file
from dossier.manual import blockers
from dossier.project import Project
from dossier.surface_history import (
    SURFACE_LOCK,
    Span,
    SurfaceHistory,
    SurfaceLockError,
    read_history,
    write_history,
)
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()


def _surface(root: Path) -> str:
    """A recorded surface lock of three releases, five env vars (the last section); its text."""
    (root / "cards").mkdir(exist_ok=True)
    env = {f"SGLANG_{name}": Span("0.5.1", "0.5.3") for name in ("A", "B", "C", "D", "E")}
    write_history(root, SurfaceHistory(["0.5.1", "0.5.2", "0.5.3"], {"--x": Span("0.5.2", "0.5.2")}, env))
    return (root / SURFACE_LOCK).read_text()


def test_a_surface_lock_cut_anywhere_after_its_releases_is_an_error_naming_it_and_what_to_run(tmp_path):
    """A copy that stopped inside env: (the last section) was still YAML: the names past the cut were gone from
    lint's history and flags.md with nothing said. Every cut, at a line end or inside a line, is now refused."""
    text = _surface(tmp_path)
    assert len(read_history(tmp_path).env) == 5
    start = text.index("flags:")
    cuts = {text.rindex("\n", 0, end) + 1 for end in range(start + 1, len(text))} | {len(text) - 2, len(text) - 12}
    for cut in sorted(cuts - {len(text)}):
        (tmp_path / SURFACE_LOCK).write_text(text[:cut])
        with pytest.raises(SurfaceLockError, match=r"^cards/surface\.lock: .*dossier releases surface --record"):
            read_history(tmp_path)


def test_a_surface_lock_that_lost_a_name_says_how_many_and_render_refuses(project_dir):
    text = _surface(project_dir).replace("  SGLANG_E: 0.5.1..0.5.3\n", "")
    (project_dir / SURFACE_LOCK).write_text(text)
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 1, result.output  # a D311 finding at the lock, as every lock's (exit 2 before)
    assert "cards/surface.lock: env lists 4 name(s) where `names:` counts 5" in " ".join(result.output.split())


def _cuts_that_parse(text: str) -> list[str]:
    """``text`` cut inside its last line wherever what is left is still YAML (a value shortened, no error)."""
    import yaml

    out = []
    for k in range(1, len(text) - text.rstrip("\n").rfind("\n") - 1):
        try:
            yaml.safe_load(text[:-k])
        except yaml.YAMLError:
            continue
        out.append(text[:-k])
    return out


def test_a_card_cut_mid_line_is_d100_and_not_used(project_dir):
    """A card copied or saved cut short in its last field ('no reference for this te') was a valid card: the manual
    printed the shortened sentence, and lint passed."""
    card = project_dir / "cards" / "100.yaml"
    cuts = _cuts_that_parse(card.read_text())
    assert len(cuts) > 10
    for text in cuts[::7]:
        card.write_text(text)
        found = [d for d in run_lint(LintContext(Project.load(project_dir)), select=["D1"])]
        assert [(d.code, d.line) for d in found] == [("D100", text.count("\n") + 1)], [d.text() for d in found]
        assert f"file ends mid-line, after {text.splitlines()[-1][-30:]!r}: a copy cut short" in found[0].text()
    card.write_text(cuts[0] + "\n")  # whole, as an editor that forgot the line break leaves it: fine once ended
    assert read_yaml(card).read_errors == []


LOCKS = {
    "opened.lock": "version: 1\nopened:\n  2735:\n    opened: 2025-01-05\n"
                   "    source: https://github.com/sgl-project/sglang/pull/2735\nanchors: 1\n",
    "drift.lock": 'version: 1\nsglang: "0.5.23"\ncards:\n  100:\n    file: python/sglang/srt/a.py\n'
                  "    key_fragment: 626d1bd57e4b23c8d491de61fa04f031436d70ffe8e09fcbd9b9756b70d6289e\n",
    "evidence.lock": "version: 1\ncards: {}\nreleases:\n  built:\n  - ['0.5.1', '2025-08-23']\n  cards:\n    100:\n"
                     "      today:\n        place: 2d92d176ff4f7d83d63c5570e588490dc3cec4b99337bec65379d851d985a7f9\n",
}


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_a_lock_cut_mid_line_is_an_error_naming_it_and_what_to_run(tmp_path, name):
    """A lock cut inside its last line that is still YAML read as whole: a source URL, a version or a hash shortened
    (today's place no longer the card's: its release lines dropped with nothing said)."""
    (tmp_path / "cards").mkdir()
    lock = tmp_path / "cards" / name
    lock.write_text(LOCKS[name])
    assert read_lock_file(lock)
    cuts = _cuts_that_parse(LOCKS[name])
    assert len(cuts) > (2 if name == "opened.lock" else 10)  # opened.lock ends with its short `anchors:` count
    for text in cuts:
        lock.write_text(text)
        with pytest.raises(LockError, match=rf"^cards/{name}: file ends mid-line, after .*: a copy cut short ends so.*"
                                            rf"git checkout -- cards/{name}\) or run `dossier "):
            read_lock_file(lock)


def _with_today(root: Path, match: str = "def split_heads(") -> Path:
    """Card #100 naming a `today` place, and release evidence recorded for it (the place is the lock's last lines,
    as the highest-numbered card's is in the real lock)."""
    import yaml

    from dossier.evidence import key_sha
    from dossier.model import KeyFragment
    from tests.dossier.factories import make_card, write_project

    card = make_card(100)
    card["key_fragment"]["today"] = {"file": "python/sglang/srt/models/qwen3_next.py", "match": match}
    write_project(root, [card])
    kf, today = card["key_fragment"], card["key_fragment"]["today"]
    entry = {"kind": "release-scan", "key_fragment": key_sha(KeyFragment(kf["file"], kf["match"], "")),
             "first": "0.5.1", "last": "0.5.2", "present": [["0.5.1", "0.5.2"]], "events": [],
             "recorded": "2026-11-30", "today": {"place": key_sha(KeyFragment(today["file"], "def split_heads(", "")),
                                                 "present": [["0.5.1", "0.5.2"]]}}
    lock = {"version": 1, "cards": {}, "releases": {"built": [["0.5.1", "2025-08-23"], ["0.5.2", "2025-09-11"]],
                                                    "cards": {100: entry}}}
    (root / "cards" / "evidence.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    return root / "cards" / "evidence.lock"


def _d316(root: Path) -> list[str]:
    return [d.message for d in run_lint(LintContext(Project.load(root)), select=["D316"])]


@pytest.mark.parametrize(("edit", "said"), [
    (lambda t: t[:t.index("      today:")], "without its key_fragment.today place"),  # cut at an entry's line
    (lambda t: t[:t.index("        place:")], "without its key_fragment.today place"),  # cut just after `today:`
], ids=["before-today", "after-today"])
def test_release_evidence_cut_before_the_today_place_is_d316(tmp_path, edit, said):
    """The today block ends the last entry: a lock cut before it was still whole to every reader, and the card's
    release lines lost where its code lives today with nothing said."""
    lock = _with_today(tmp_path)
    assert _d316(tmp_path) == []
    lock.write_text(edit(lock.read_text()))
    assert _d316(tmp_path) == [f"release evidence of #100 was recorded on 2026-11-30 {said} (evidence.lock: "
                               "releases.cards.100.today): the releases that hold the code where it lives today are "
                               "left out of its release lines"]


def test_a_today_place_edited_since_the_recording_is_d316(tmp_path):
    _with_today(tmp_path, match="def split_heads_v2(")
    assert [m.split(" (")[0] for m in _d316(tmp_path)] == [
        "release evidence of #100 was recorded on 2026-11-30 for an earlier key_fragment.today"]


def _lanes_with_a_checklist(root: Path, edit) -> None:
    import yaml

    lanes = load_yaml((root / "cards" / "lanes.yaml").read_text())
    lanes["answers"] = {"checklists": [{"id": "first-checks", "title": "First checks", "summary": "Check these.",
                                        "items": [{"check": "Measure decode alone first.", "findings": []}]}]}
    lanes["lanes"][0]["answers"] = ["first-checks"]
    edit(lanes)
    (root / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes, sort_keys=False))


@pytest.mark.parametrize(("code", "edit"), [
    ("D501", lambda root: (root / "cards" / "100.yaml").write_text(  # a lane id one letter off
        (root / "cards" / "100.yaml").read_text().replace("lane: gdn-projection", "lane: gdn-projections"))),
    ("D513", lambda root: _lanes_with_a_checklist(root, lambda lanes: lanes["lanes"][0].update(
        answers=["first-check"]))),
    ("D514", lambda root: _lanes_with_a_checklist(root, lambda lanes: lanes["answers"]["checklists"][0]["items"][0]
                                                  .update(findings=["no-such-finding"]))),
    ("D514", lambda root: _lanes_with_a_checklist(root, lambda lanes: lanes["answers"].update(  # no such release
        release_notes=[{"version": "0.5.12.post2", "note": "The decode kernel moved to kernels/ops."}]))),
], ids=["unknown-lane", "unknown-answer", "unknown-finding", "unrecorded-release"])
def test_render_refuses_a_reference_lint_finds_broken(project_dir, code, edit):
    """Render wrote the manual while lint named the error: the lane's link to a mistyped answer block was dropped
    (D513), a card with a mistyped lane got a lane section of its own with no title or symptoms (D501), an item
    linked a finding findings.md does not hold (D514), and a release note for a release by-release.md has no section
    for was left out (D514)."""
    _lanes_with_a_checklist(project_dir, lambda lanes: None)
    assert [d.code for d in blockers(Project.load(project_dir))] == []
    edit(project_dir)
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: not rendering: 1 file(s) would make the manual wrong or incomplete: ")
    assert f"({code})" in result.output.splitlines()[0], result.output
    assert not (project_dir / "skills").exists()  # nothing written


def test_a_release_cache_named_by_mistake_calls_no_folder_of_it_a_release_to_remove(tmp_path):
    """`releases list --cache-dir .` in a project warned of cards/ and skills/ as incomplete releases that a sync
    'fills again once it is removed'; only a folder named as a release is one."""
    for name in ("cards", "skills", "0.5.9"):
        (tmp_path / name).mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.dossier]\nrepo = "example/repo"\n')
    result = runner.invoke(app, ["releases", "list", "--cache-dir", str(tmp_path), "--root", str(tmp_path)])
    warned = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    assert warned == [f"warning: {tmp_path / '0.5.9'}: not a complete release (no release.json); `dossier releases "
                      f"sync --cache-dir {tmp_path}` fills it again once it is removed"], result.stderr
