"""Bad input, round 35 (session 48, the lead's own): naming one of the project's recorded files to lint read it as
a card. `dossier lint cards/pr-facts.json` answered "D100 file ends mid-line ... a copy cut short ends so" about a
whole JSON snapshot (written without a final line break), and `lint cards/checked.lock` judged the lock by the
card schema: errors about a file that is not a card, a wrong call to "restore" it. `dossier new PR --title T` for an
unfetched PR asked for "--title and --state", the title it had just been given among them. `lint cards/lanes.yaml`
closed on "0 card(s) checked" above the lanes file's own errors, so two readers took it for a lint that checked
nothing. Each case failed before
its fix."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
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
