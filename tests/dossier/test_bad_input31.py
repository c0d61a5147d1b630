"""Bad input, round 31 (session 46): stored results, release records and finding fields that crashed a command or
reached the manual unchecked.

- A stored GPU result nested a hundred thousand brackets deep, or a release record so nested, stopped render, show,
  `releases list` and `for-version` with an internal RecursionError: the JSON readers caught only ValueError.
- A parity bound written as a whole number no float holds (10**400) passed the result check, then stopped render
  with an internal OverflowError.
- A benchmark summary line or parity name holding escape codes, a NUL or a bidi override (what a benchmark printing
  coloured output leaves) went into reference-kernels.md as written; only line breaks, links and tags were refused.
- A finding's `sglang`, a card's runtime `bench` or `reference` holding a line break ("0.5.23\\n\\n## Injected")
  passed the schema and wrote a heading of its own into the manual.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.releases import RECORD, load
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_lint_rules import lint
from tests.dossier.test_regress import GOOD_RESULT, _project

runner = CliRunner()


def _stored(tmp_path, text: str):
    root = _project(tmp_path)
    stored = root / "results" / "cuda" / "100.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps(GOOD_RESULT))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    stored.write_text(text)
    return root, stored


@pytest.mark.parametrize("text, why", [
    ("[" * 100_000 + "]" * 100_000 + "\n", "cannot be read (nested too deeply)"),
    (json.dumps({**GOOD_RESULT, "parity": {"x": {"err": 1e-7, "tol": 10**400}}}), "parity.x.tol is beyond any float"),
    (json.dumps({**GOOD_RESULT, "bench": {"module": "fakeref", "summary": ["\x1b[31mTP1\x1b[0m at 94%"]}}),
     "bench.summary must be plain lines of text"),
    (json.dumps({**GOOD_RESULT, "bench": {"module": "fakeref", "summary": ["TP1 at \u202e94%\u202c of copy"]}}),
     "bench.summary must be plain lines of text"),
    (json.dumps({**GOOD_RESULT, "parity": {"\u202egating g": {"err": 1e-7, "tol": 1e-5}}}),
     "each parity name must be plain text on one line"),
], ids=["nested", "huge-int", "escape-codes", "bidi-summary", "bidi-parity-name"])
def test_a_stored_result_render_cannot_show_as_written_is_refused_by_name(tmp_path, text, why):
    root, stored = _stored(tmp_path, text)
    manual = {p: p.read_bytes() for p in (root / "skills").rglob("*.md")}
    for args in (["render"], ["render", "--check"]):
        result = runner.invoke(app, [*args, "--root", str(root)])
        assert result.exit_code == 2 and f"error: {stored}: {why}" in result.output, result.output
        assert "internal error" not in result.output
    assert {p: p.read_bytes() for p in (root / "skills").rglob("*.md")} == manual
    shown = runner.invoke(app, ["show", "100", "--root", str(root)])
    assert shown.exit_code == 0 and "internal error" not in shown.output, shown.output


def test_a_release_record_nested_too_deeply_is_an_incomplete_release(tmp_path):
    release = tmp_path / "0.5.23"
    release.mkdir()
    (release / RECORD).write_text("[" * 100_000 + "]" * 100_000)
    assert load(release) is None
    listed = runner.invoke(app, ["releases", "list", "--cache-dir", str(tmp_path)])
    assert "internal error" not in listed.output and "not valid JSON" in listed.output, listed.output


@pytest.mark.parametrize("edit", [
    lambda c: c["runtime"].update(bench="runtime.fakeref.bench\n\n## Injected"),
    lambda c: c["runtime"].update(reference="runtime.fakeref\n\n## Injected"),
], ids=["bench", "reference"])
def test_a_runtime_module_with_a_line_break_is_a_schema_error(tmp_path, edit):
    card = make_card(100)
    card["runtime"] = {"reference": "runtime.fakeref", "tests": ["tests/test_x.py::test_y"]}
    edit(card)
    found = [d for d in lint(write_project(tmp_path, [card]), select=["D1"]) if "line break" in d.message]
    assert found and all(d.severity == "error" for d in found), found


def test_a_benchmark_shows_its_newest_runs_summary_not_its_first_cards(tmp_path):
    """One card of a shared benchmark re-run later (`dossier regress 100`) carried newer numbers, but the benchmark's
    "Last run" section kept the older run of the card first in PR order."""
    ref = {"reference": "fakeref", "tests": ["tests_fake/test_ok.py"], "bench": "fakeref"}
    root = write_project(tmp_path, [make_card(90, runtime=ref), make_card(100, runtime=ref)])
    (root / "fakeref.py").write_text('"""A stand-in reference module."""\n')
    (root / "results" / "cuda").mkdir(parents=True)
    for pr, day, line in ((90, "2026-12-01", "OLDER: decode at 90%"), (100, "2026-12-05", "NEWER: decode at 97%")):
        (root / "results" / "cuda" / f"{pr}.json").write_text(json.dumps(
            {**GOOD_RESULT, "pr": pr, "date": day, "bench": {"module": "fakeref", "summary": [line]}}))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    page = next(root.glob("skills/*/references/reference-kernels.md")).read_text()
    section = page.split('<a id="bench-fakeref"></a>', 1)[1]
    assert "NEWER: decode at 97%" in section and "2026-12-05" in section and "OLDER" not in section.split("|", 1)[0]


@pytest.mark.parametrize(("text", "said", "at"), [
    ("pr: #19321\n", "pr: YAML reads '#19321' as a comment, so the value is empty", (1, 4)),
    ("pr: 1\nlane: #gdn-projection\n", "lane: YAML reads '#gdn-projection' as a comment, so the value is empty", (2, 6)),
    ("pr: 1\ntitle: [Qwen3-Next] Fuse GDN projections\nlane: x\n",
     "a value that starts with [ or { is a YAML list or mapping, not text: put the whole value in quotes", (2, 21)),
    ("pr: 1\nsuperseded_by: [ #14607 ]\nmotivation: >-\n  Why.\n",
     "a `#` after a space starts a YAML comment, inside [ ] too, so the `]` is never read", (3, 13)),
], ids=["pr-hash", "lane-hash", "bracketed-title", "hash-in-list"])
def test_a_yaml_slip_of_a_pr_number_or_title_is_named(tmp_path, text, said, at):
    """`pr: #19321` said "pr must not be empty", `title: [Qwen3-Next] ...` "expected <block end>, but found
    '<scalar>'" and `superseded_by: [ #14607 ]` "found character '>' that cannot start any token" on the next line:
    each the parser's state, none the slip."""
    from dossier.cards import read_yaml

    (tmp_path / "a.yaml").write_text(text)
    errors = read_yaml(tmp_path / "a.yaml").read_errors
    assert [(code, (line, col)) for code, _, line, col in errors] == [("D102", at)] and said in errors[0][1], errors


def test_a_comment_as_meant_after_an_empty_value_is_no_slip(tmp_path):
    from dossier.cards import read_yaml

    (tmp_path / "a.yaml").write_text("pr: 1\nsuperseded_by:  # none yet\nlane: x\n")
    assert read_yaml(tmp_path / "a.yaml").read_errors == []
