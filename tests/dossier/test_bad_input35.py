"""Bad input, round 35 (session 48, the lead's own): naming one of the project's recorded files to lint read it as
a card. `dossier lint cards/pr-facts.json` answered "D100 file ends mid-line ... a copy cut short ends so" about a
whole JSON snapshot (written without a final line break), and `lint cards/checked.lock` judged the lock by the
card schema: errors about a file that is not a card, a wrong call to "restore" it. `dossier new PR --title T` for an
unfetched PR asked for "--title and --state", the title it had just been given among them. `lint cards/lanes.yaml`
closed on "0 card(s) checked" above the lanes file's own errors, so two readers took it for a lint that checked
nothing. cards/names.lock and cards/messages.lock carried no seal: a span edited by hand ('0.5.10..0.5.17' made
'0.5.10..0.5.19') read as recorded, so the cards' matching wrong dates passed D621/D626/D627 (found by round 34's
helper, reasoned from the format; reproduced here). Each case failed before
its fix."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.printed import write_messages
from dossier.project import Project
from tests.dossier.factories import make_card, write_project

runner = CliRunner()


@pytest.mark.parametrize("name, text", [
    ("pr-facts.json", json.dumps([{"number": 19321, "title": "t"}])),  # no final line break, as the copy has none
    ("checked.lock", "version: 1\ncards: {}\n"),
    ("drift.lock", "version: 1\n"),
])
def test_naming_a_recorded_file_to_lint_is_refused_not_read_as_a_card(tmp_path, name, text):
    root = write_project(tmp_path, [make_card()])
    (root / "cards" / name).write_text(text)
    before = {p: p.read_bytes() for p in (root / "cards").iterdir()}
    result = runner.invoke(app, ["lint", str(root / "cards" / name), "--root", str(root)])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "is not a card but one of the project's recorded files" in said, said
    assert "D100" not in said and "D101" not in said
    assert {p: p.read_bytes() for p in (root / "cards").iterdir()} == before


def test_a_card_and_a_folder_named_to_lint_are_still_checked(tmp_path):
    root = write_project(tmp_path, [make_card()])
    for named in (root / "cards" / "100.yaml", root / "cards"):
        result = runner.invoke(app, ["lint", str(named), "--root", str(root)])
        assert "recorded files" not in result.output, result.output
        assert "1 card(s) checked" in result.output, result.output


@pytest.mark.parametrize("given, asked", [
    (["--title", "Fuse it"], "pass --state too"),
    (["--state", "open"], "pass --title too"),
    ([], "pass --title and --state"),
])
def test_new_asks_only_for_what_was_not_given(tmp_path, given, asked):
    root = write_project(tmp_path, [make_card()])
    result = runner.invoke(app, ["new", "4242", *given, "--root", str(root)])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"#4242 is not in the fetch cache: run `dossier fetch 4242` or {asked}" in said, said
    assert not (root / "cards" / "4242.yaml").exists()


def test_lint_of_the_lanes_file_says_it_checked_the_lanes_file(tmp_path):
    root = write_project(tmp_path, [make_card()])
    lanes = root / "cards" / "lanes.yaml"
    for named, said in (([lanes], "cards/lanes.yaml checked: 0 error(s)"),
                        ([lanes, root / "cards" / "100.yaml"], "1 card(s) and cards/lanes.yaml checked: 0 error(s)")):
        result = runner.invoke(app, ["lint", *map(str, named), "--root", str(root)])
        assert said in " ".join(result.output.split()), result.output
        assert "0 card(s)" not in result.output


def test_a_span_edited_in_a_sealed_message_lock_is_the_locks_error(tmp_path):
    root = write_project(tmp_path, [make_card()])
    write_messages(root, {"Breakable CUDA graph is incompatible with": "0.5.10..0.5.17"})
    lock = root / "cards" / "messages.lock"
    assert "# sha256: " in lock.read_text()
    clean = run_lint(LintContext(Project.load(root)), select=["D311"])
    assert not [d for d in clean if d.file == "cards/messages.lock"], clean
    lock.write_text(lock.read_text().replace("0.5.10..0.5.17", "0.5.10..0.5.19"))
    found = run_lint(LintContext(Project.load(root)), select=["D311"])
    assert [d.code for d in found if d.file == "cards/messages.lock"] == ["D311"], found
    assert "not the lock `dossier releases surface --record` wrote" in found[0].message
