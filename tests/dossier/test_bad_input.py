"""Bad input never costs content and never shows a traceback (issue #13).

Every case asserts the exit code (1 findings, 2 usage/environment), the diagnostic a user reads, and that
the command ended by exiting rather than by an exception. Runs in-process through typer's CliRunner.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from tests.dossier.factories import make_card, write_project
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()


_SURFACES: dict = {}


@pytest.fixture(autouse=True)
def _one_surface_per_session(monkeypatch):
    """Lint's claims family reads the installed SGLang (seconds); these tests only need it read once."""
    import dossier.surface as surface

    read = surface.read_surface

    def once(tree):
        key = (tree.label, str(tree.package))
        if key not in _SURFACES:
            _SURFACES[key] = read(tree)
        return _SURFACES[key]

    monkeypatch.setattr(surface, "read_surface", once)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.delenv("DOSSIER_CACHE", raising=False)
    monkeypatch.delenv("DOSSIER_DEBUG", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens: a request would fail loudly


def dossier(root: Path | None, *args: str):
    """Run a command; it must end by exiting (never by an exception) and never print a traceback."""
    result = runner.invoke(app, [*args, *(["--root", str(root)] if root is not None else [])])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output, result.output
    return result


def error_line(result) -> str:
    """The one `error:` line of a usage/environment failure."""
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert lines, result.output
    return lines[0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A rendered project: #100 current, #90 superseded by #100, each citing the other."""
    older = make_card(90, status="superseded", superseded_by=[100])
    older["implementation"] += " Replaced by #100."
    current = make_card(100)
    current["implementation"] += " It replaces #90."  # lint D520: a successor names what it replaced
    root = write_project(tmp_path / "proj", [current, older])
    assert dossier(root, "render").exit_code == 0
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every rendered file (the skill folder) by its sha256."""
    files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((root / "skills").rglob("*")) if p.is_file()}
    assert any(rel.endswith("SKILL.md") for rel in files)
    return files


def card_path(root: Path, pr: int = 100) -> Path:
    return root / "cards" / f"{pr}.yaml"


# ---- render refuses what lint rejects, leaving the committed files byte-identical ----------------

BROKEN_CARDS = {
    "malformed": b"pr: [100\ntitle: x\n",
    "invalid": yaml.safe_dump({**make_card(100), "state": "landed"}).encode(),
    "empty": b"",
    "non-utf8": b"pr: 100\ntitle: \xff\xfe\n",
    "bad-date": yaml.safe_dump(make_card(100)).replace("2026-03-20", "2025-13-45").encode(),
    "control-char": b"pr: 100\ntitle: a\x00b\n",
    "deep-nesting": b"pr: " + b"[" * 5000 + b"\n",
    "alias-loop": b"pr: &x [*x]\ntitle: t\n",
    "bad-tag": b"pr: !!int x\n",
    "blank-claim": yaml.safe_dump({**make_card(100), "validation": {**make_card(100)["validation"],
                                                                    "claims": ["  "]}}).encode(),
    "billion-laughs": b"a: &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
        b"%c: &%c [%s]\n" % (98 + i, 98 + i, b",".join([b"*%c" % (97 + i)] * 10)) for i in range(8)),
}


@pytest.mark.parametrize("name", BROKEN_CARDS)
def test_render_refuses_a_broken_card_and_touches_nothing(root, name):
    before = snapshot(root)
    card_path(root).write_bytes(BROKEN_CARDS[name])
    for args in (["render"], ["render", "--check"]):
        result = dossier(root, *args)
        assert result.exit_code == 1
        assert "not rendering" in result.output and "cards/100.yaml" in result.output
    assert snapshot(root) == before


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16LE"), ("utf-16-be", "UTF-16BE"), ("utf-32", "UTF-32LE")])
def test_a_card_saved_in_a_wide_encoding_is_named_so(root, encoding, name):
    """A card PowerShell's `>` saved (UTF-16LE with its byte-order mark) read "not valid UTF-8 (byte 0xff)": the
    finding names the encoding the mark shows and what to do."""
    text = card_path(root).read_text()
    card_path(root).write_bytes(("\ufeff" if encoding == "utf-16-be" else "").encode(encoding) + text.encode(encoding))
    result = dossier(root, "lint", str(card_path(root)))
    assert result.exit_code == 1
    assert (f"cards/100.yaml:1:1: D101 file is {name} (it starts with that byte-order mark), not UTF-8: save it as "
            "UTF-8") in result.stdout


def _text_specs(spec, path: str = ""):
    """Every text field of ``spec`` (list items and nested fields included), by dotted path."""
    if spec.kind == "str":
        yield path, spec
    for name, sub in spec.fields.items():
        yield from _text_specs(sub, f"{path}.{name}" if path else name)
    if spec.items is not None:
        yield from _text_specs(spec.items, f"{path}[0]")


def test_every_text_field_of_a_card_finding_or_lanes_file_must_hold_text():
    """Blank text rendered an empty bullet (a claim, a validation lane, an investigation step), a bold label
    with nothing after it (a finding's symptom) or an empty table cell (an answer's select): the manual lost
    the line without a word. Every text field of the schema is D104 "is empty" when blank."""
    from dossier.model import CARD, FINDING, LANES_FILE

    fields = [(name, path) for name, spec in (("card", CARD), ("finding", FINDING), ("lanes", LANES_FILE))
              for path, _ in _text_specs(spec)]
    assert len(fields) > 40
    blank = {(name, path) for name, spec in (("card", CARD), ("finding", FINDING), ("lanes", LANES_FILE))
             for path, text in _text_specs(spec) if [p.kind for p in text.check(" \n\t")] != ["empty"]}
    assert blank == set()


@pytest.mark.parametrize("where", ["lanes", "checklists"])
def test_an_id_given_twice_in_lanes_yaml_is_refused_not_rendered_over_the_other(root, where):
    """Two lanes (or answer checklists) with one id: the second's anchor and PR trail went to the first's, its own
    cards moved to a lane without a playbook entry, and render went ahead."""
    from tests.dossier.factories import LANES

    lane = LANES["lanes"][0]
    checklist = {"id": "first-checks", "title": "First checks", "summary": "What to check first on a slow decode.",
                 "items": [{"check": "Record the flags the server resolved."}]}
    lanes = ({**LANES, "lanes": [lane, {**lane, "title": "Another lane"}]} if where == "lanes" else
             {**LANES, "answers": {"checklists": [checklist, {**checklist, "title": "Other checks"}]}})
    (root / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes, sort_keys=False))
    before = snapshot(root)
    result = dossier(root, "render")
    assert result.exit_code == 1 and "cards/lanes.yaml (D108)" in result.output
    key = "lanes[1].id 'gdn-projection'" if where == "lanes" else "answers.checklists[1].id 'first-checks'"
    assert f"D108 {key} is also" in result.output
    assert snapshot(root) == before


@pytest.mark.parametrize("raw,expect", [
    (b"pr: 100\ntitle: a\x00b\n", "cards/100.yaml:2:9: D102 malformed YAML: control character #x0000"),
    (b"pr: " + b"[" * 5000 + b"\n", "cards/100.yaml:1:69: D102 malformed YAML: [ and { nested more than 64 deep"),
    (b"pr: 100\ntitle: \xff\n", "cards/100.yaml:2:8: D101 file is not valid UTF-8 (byte 0xff)"),
    (b"pr: !!int x\n", "cards/100.yaml:1:5: D102 malformed YAML: 'x' is no !!int value"),
])
def test_unparsable_card_is_one_positioned_finding(root, raw, expect):
    card_path(root).write_bytes(raw)
    result = dossier(root, "lint")
    assert result.exit_code == 1 and expect in result.output


@pytest.mark.parametrize("lanes", [None, b"lanes: [\n", b"", b"lanes: 5\n", b"lanes: &x [*x]\n"],
                         ids=["missing", "malformed", "empty", "not-a-list", "alias-loop"])
def test_render_refuses_a_broken_lanes_file_and_touches_nothing(root, lanes):
    before = snapshot(root)
    path = root / "cards" / "lanes.yaml"
    if lanes is None:
        path.unlink()
    else:
        path.write_bytes(lanes)
    for args in (["render"], ["render", "--check"]):
        result = dossier(root, *args)
        assert result.exit_code == 1 and "cards/lanes.yaml" in result.output
    assert snapshot(root) == before


def test_render_into_an_unwritable_place_is_one_error_line(root):
    references = next((root / "skills").glob("*/references"))
    shutil.rmtree(references)
    references.write_text("a file where a directory belongs\n")
    card_path(root).write_text(yaml.safe_dump(make_card(100, title="A retitled change to the widget")))
    with (root / "pyproject.toml").open("a") as f:  # SKILL.md (written first) would change too
        f.write('\n[tool.dossier.skill]\ndescription = "Another description of the skill."\n')
    before = snapshot(root)
    result = dossier(root, "render")
    assert result.exit_code == 2 and "references" in error_line(result)
    assert snapshot(root) == before  # SKILL.md would change too, but nothing is half-written
    assert not list((root / "skills").rglob("*.tmp"))


def test_a_folder_where_a_rendered_file_goes_is_named_and_nothing_changes(root):
    """The swap cannot put a file over a folder: found while staging (naming the folder), before SKILL.md, which
    comes first, is replaced."""
    answers = next((root / "skills").glob("*/references/answers.md"))
    answers.unlink()
    (answers / "notes").mkdir(parents=True)
    (answers / "notes" / "x.md").write_text("kept\n")
    with (root / "pyproject.toml").open("a") as f:  # SKILL.md (written first) would change
        f.write('\n[tool.dossier.skill]\ndescription = "Another description of the skill."\n')
    before = snapshot(root)
    result = dossier(root, "render")
    assert result.exit_code == 2 and error_line(result) == f"error: {answers} is a folder where render writes a file"
    assert snapshot(root) == before and not list((root / "skills").rglob("*.tmp"))


def test_render_clears_the_staging_files_a_killed_render_left(root):
    """kill -9 during staging leaves `<file>.tmp` in the skill folder: --check names it and says to run render,
    and render (its own staging name, not a user's file) removes it, whether that file changed or not."""
    references = next((root / "skills").glob("*/references"))
    (references / "answers.md.tmp").write_text("half a page")
    (references / "notes.tmp").write_text("someone's notes")
    assert dossier(root, "render", "--check").exit_code == 1
    assert dossier(root, "render").exit_code == 0
    assert not (references / "answers.md.tmp").exists() and (references / "notes.tmp").exists()
    (references / "notes.tmp").unlink()
    assert dossier(root, "render", "--check").exit_code == 0


# ---- card text is printed as written --------------------------------------------------------------

def test_show_prints_brackets_literally(root):
    card = make_card(100)
    card["motivation"] += " The pool is shaped [pool_size, HV, V, K]; a stray [/] closes nothing [bold]."
    card["key_fragment"]["explain"] = "Splits into [key_dim, key_dim, value_dim, value_dim] at once."
    card_path(root).write_text(yaml.safe_dump(card))
    result = dossier(root, "show", "100")
    flat = " ".join(result.stdout.split())
    assert result.exit_code == 0
    for span in ("[pool_size, HV, V, K]", "[/]", "[bold].", "[key_dim, key_dim, value_dim, value_dim]"):
        assert span in flat, span


def test_an_empty_lanes_file_or_finding_gets_a_hint_of_its_own(root):
    """`dossier new PR` makes a card; it does not help an emptied lanes file or finding."""
    (root / "cards" / "lanes.yaml").write_text("")
    (root / "cards" / "findings").mkdir()
    (root / "cards" / "findings" / "stale-slot.yaml").write_text("")
    card_path(root).write_text("")
    out = dossier(root, "lint").output
    assert "cards/100.yaml:1:1: D103 file is empty\n    hint: start from `dossier new PR`" in out
    assert "cards/lanes.yaml:1:1: D103 file is empty\n    hint: it lists the lanes every card names: restore it " \
           "(git checkout cards/lanes.yaml)" in out
    assert "cards/findings/stale-slot.yaml:1:1: D103 file is empty\n    hint: a finding's fields: " \
           "`dossier findings NAME` prints one to start from" in out


@pytest.mark.parametrize("kind", ["directory", "dangling link"])
def test_a_lanes_file_that_cannot_be_read_is_named_not_called_missing(root, kind):
    lanes = root / "cards" / "lanes.yaml"
    lanes.unlink()
    lanes.mkdir() if kind == "directory" else lanes.symlink_to(root / "nowhere.yaml")
    out = dossier(root, "lint").output
    assert "cards/lanes.yaml:1:1: D100 " in out
    result = dossier(root, "render")
    assert result.exit_code == 1 and "cards/lanes.yaml (D100)" in result.output and "is missing" not in result.output


# ---- impossible dates: a positioned finding from lint, a clean refusal everywhere else ------------

@pytest.mark.parametrize("written, expect", [
    ('"2026-03-20"', "merged_at is the text '2026-03-20', not a date: write it without quotes"),
    ("2026-03-20T10:00:00Z", "merged_at is 2026-03-20 10:00:00+00:00, a date with a time: write the day only, "
                             "2026-03-20"),
])
def test_a_date_written_as_text_or_with_a_time_says_how_to_write_it(root, written, expect):
    """`merged_at: "2026-03-20"` was "must be a date YYYY-MM-DD, got str '2026-03-20'": the value looks exactly
    like what is asked for, and the message did not say the quotes are the problem."""
    card_path(root).write_text(yaml.safe_dump(make_card(100)).replace("2026-03-20", written))
    result = dossier(root, "lint")
    assert result.exit_code == 1 and f"D106 {expect}" in result.output


@pytest.mark.parametrize(("written", "reads"), [
    ("0144", "the octal number 100"), ("0x64", "the hexadecimal number 100"), ("1:40", "the base-60 number 100"),
    ("1_00", "the number 100"), ("00100", "the octal number 64"),
])
def test_a_number_yaml_reads_as_another_is_refused_not_taken(root, written, reads):
    """YAML 1.1 reads `0144` as octal 100, `0x64` as hex, `1:40` as base 60 and ignores `_`: `superseded_by: [0144]`
    (meant: #144) linked the manual's "superseded by" to #100 with lint silent, and `pr: 0144` passed in 100.yaml.
    A number is taken only as plain decimal digits; any other spelling is refused, saying what YAML makes of it."""
    older = card_path(root, 90)
    older.write_text(older.read_text().replace("superseded_by:\n- 100", f"superseded_by:\n- {written}"))
    result = dossier(root, "lint")
    assert result.exit_code == 1
    assert (f"D106 superseded_by[0] is written {written}, which YAML 1.1 reads as {reads}: write the number in "
            "plain decimal digits") in result.output
    render = dossier(root, "render", "--check")
    assert render.exit_code == 1 and "not rendering" in render.output
    card_path(root).write_text(yaml.safe_dump(make_card(100)).replace("pr: 100", f"pr: {written}"))
    assert f"D106 pr is written {written}, which YAML 1.1 reads as {reads}" in dossier(root, "lint").output


@pytest.mark.parametrize(("written", "says"), [
    ("yes", "title must be text, got bool True: YAML 1.1 reads yes, no, on and off as true or false; put the text "
            "in quotes"),
    ("Off", "title must be text, got bool False: YAML 1.1 reads yes, no, on and off as true or false"),
    ("2026-03-26", "title must be text, got date datetime.date(2026, 3, 26): YAML read it as a date; put the text in "
                   "quotes"),
    ("1.10", "title must be text, got float 1.1: YAML read it as a number; put the text in quotes"),
])
def test_text_yaml_reads_as_something_else_says_to_quote_it(root, written, says):
    """`title: yes` said "title must be text, got bool True": the author wrote yes, and was not told why it
    became True nor what to do."""
    card_path(root).write_text(yaml.safe_dump(make_card(100)).replace(
        "title: Fuse the widget projection in layer 100", f"title: {written}"))
    result = dossier(root, "lint")
    assert result.exit_code == 1 and f"D106 {says}" in result.output, result.output


@pytest.mark.parametrize("date", ["2025-13-45", "2025-02-30"])
def test_impossible_date_is_a_positioned_finding(root, date):
    text = yaml.safe_dump(make_card(100)).replace("2026-03-20", date)
    card_path(root).write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("merged_at:"))
    result = dossier(root, "lint")
    assert result.exit_code == 1
    assert f"cards/100.yaml:{line}:12: D110 merged_at is {date}, which is not a real date" in result.output
    data = json.loads(dossier(root, "lint", "--format", "json").stdout)
    assert any(d["code"] == "D110" for d in data)


def test_impossible_date_gives_every_command_a_clean_answer(root, tmp_path):
    card_path(root).write_text(yaml.safe_dump(make_card(100)).replace("2026-03-20", "2025-02-30"))
    sglang = tmp_path / "sglang"
    sglang.mkdir()
    (sglang / "__init__.py").write_text("")
    (sglang / "version.py").write_text('__version__ = "0.0.1"\n')
    assert dossier(root, "render").exit_code == 1
    shown = dossier(root, "show", "100")
    assert shown.exit_code == 2 and "invalid" in error_line(shown)
    assert dossier(root, "show", "90").exit_code == 0
    assert dossier(root, "drift", "--sglang-src", str(sglang)).exit_code in (0, 1)
    listed = dossier(root, "regress", "--list")  # no card has a runtime reference: said, no empty matrix
    assert listed.exit_code == 2 and "no job to run" in error_line(listed)
    new = dossier(root, "new", "555", "--title", "T", "--state", "merged", "--merged-at", "2025-02-30")
    assert new.exit_code == 2 and "--merged-at" in error_line(new)
    new = dossier(root, "new", "555", "--title", "T", "--state", "open", "--merged-at", "2025-02-03")
    assert new.exit_code == 2 and "--merged-at is for a merged PR" in error_line(new)
    assert not card_path(root, 555).exists()


@pytest.mark.parametrize("given", ["MERGED", "Merged", " merged "])
def test_new_reads_a_state_in_any_case(project_dir, given):
    """`--state MERGED` (as GitHub's UI shows it) was refused as no state; the card gets the schema's spelling."""
    made = dossier(project_dir, "new", "555", "--title", "T", "--state", given, "--merged-at", "2025-02-03")
    assert made.exit_code == 0, made.output
    assert yaml.safe_load(card_path(project_dir, 555).read_text())["state"] == "merged"


def test_new_still_refuses_a_state_that_is_none_of_them(project_dir):
    made = dossier(project_dir, "new", "555", "--title", "T", "--state", "draft")
    assert made.exit_code == 2 and "--state must be one of merged, open, closed" in error_line(made)
    assert not card_path(project_dir, 555).exists()


# ---- files that cannot be read -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["self", "cycle", "dangling"])
def test_symlink_loops_and_dangling_links_are_findings(root, kind):
    cards = root / "cards"
    if kind == "self":
        os.symlink("300.yaml", cards / "300.yaml")
    elif kind == "cycle":
        os.symlink("301.yaml", cards / "300.yaml")
        os.symlink("300.yaml", cards / "301.yaml")
    else:
        os.symlink("nowhere.yaml", cards / "300.yaml")
    before = snapshot(root)
    result = dossier(root, "lint")
    assert result.exit_code == 1 and "cards/300.yaml:1:1: D100 cannot read the file" in result.output
    assert dossier(root, "render").exit_code == 1 and snapshot(root) == before
    assert dossier(root, "show", "100").exit_code == 0
    assert dossier(root, "show", "300").exit_code == 2


# ---- unwritable places: one `error:` line, exit 2 --------------------------------------------------

def unwritable(monkeypatch, folder: Path) -> None:
    """No file can be created in ``folder`` (chmod cannot show it: the tests may run as root)."""
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kw):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(13, "Permission denied", str(Path(dir) / "tmpXYZ"))
        return real(*args, dir=dir, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_lint_record_into_an_unwritable_cards_dir(root, monkeypatch):
    unwritable(monkeypatch, root / "cards")
    result = dossier(root, "lint", "--record")
    assert result.exit_code == 2 and error_line(result).startswith(
        "error: not recorded: cards/evidence.lock: Permission denied; the locks are as they were")


def test_drift_record_into_an_unwritable_cards_dir(root, tmp_path, monkeypatch):
    sglang = tmp_path / "sglang"
    sglang.mkdir()
    (sglang / "__init__.py").write_text("")
    (sglang / "version.py").write_text('__version__ = "0.0.1"\n')
    unwritable(monkeypatch, root / "cards")
    result = dossier(root, "drift", "--sglang-src", str(sglang), "--record")
    assert result.exit_code == 2 and error_line(result) == f"error: {root / 'cards' / 'drift.lock'}: Permission denied"


def test_new_into_an_unwritable_cards_dir(root, monkeypatch):
    unwritable(monkeypatch, root / "cards")
    result = dossier(root, "new", "555", "--title", "T", "--state", "open")
    assert result.exit_code == 2 and error_line(result) == f"error: {root / 'cards' / '555.yaml'}: Permission denied"
    assert not (root / "cards" / "555.yaml").exists()


def test_schema_to_an_impossible_path(tmp_path):
    result = dossier(None, "schema", "-o", str(tmp_path / "no" / "such" / "dir" / "card.json"))
    assert result.exit_code == 2 and "No such file or directory" in error_line(result)


# ---- lint judges the files named against the whole project -----------------------------------------

def test_linting_one_card_judges_it_against_the_project(tmp_path):
    cited = make_card(201)  # 201: a story of its own (make_card(200) would copy #100's prose)
    cited["motivation"] += " It builds on #100."
    root = write_project(tmp_path, [make_card(100), cited], config="cover = [100, 201, 300]\n")
    whole = dossier(root, "lint")
    assert "D511" in whole.output  # #300 has no card: a project finding, reported on lanes.yaml
    alone = dossier(root, "lint", str(card_path(root, 201)))
    assert alone.exit_code == 0, alone.output
    assert "D511" not in alone.output and "D510" not in alone.output
    assert "1 card(s) checked" in alone.output


def test_linting_one_card_reports_only_on_it(root):
    card_path(root, 90).write_text("pr: [\n")
    result = dossier(root, "lint", str(card_path(root, 100)))
    assert result.exit_code == 0 and "cards/90.yaml" not in result.output


def test_an_invalid_card_is_named_as_invalid_where_cited(tmp_path):
    older = make_card(1090, status="superseded", superseded_by=[1100])
    older["implementation"] += " Replaced by #1100."
    root = write_project(tmp_path, [make_card(1100, state="landed"), older])
    result = dossier(root, "lint", "--verbose")
    assert "#1100: card invalid (cards/1100.yaml)" in result.output  # superseded_by of #1090
    assert "cites #1100: card invalid (cards/1100.yaml)" in result.output  # its prose
    assert "has no card" not in result.output and "dossier new 1100" not in result.output


# ---- numbers, codes and names checked before anything happens ---------------------------------------

def test_pr_number_out_of_range_is_a_finding(root):
    card_path(root).write_text(yaml.safe_dump(make_card(100)).replace("pr: 100", "pr: 99999999999999999999"))
    result = dossier(root, "lint")
    assert result.exit_code == 1 and "D106 pr must be <= 9999999" in result.output


@pytest.mark.parametrize("args", [["new", "0", "--title", "T", "--state", "open"], ["fetch", "0"],
                                  ["fetch", "99999999999"], ["show", "0"], ["regress", "0"]])
def test_pr_number_out_of_range_is_a_usage_error(root, args):
    result = dossier(root, *args)
    assert result.exit_code == 2 and "Invalid value for 'pr" in result.output
    assert not card_path(root, 0).exists() and not (root / ".dossier").exists()  # nothing written, no request


def test_a_named_directory_that_holds_no_card_is_a_usage_error(root, tmp_path):
    """`dossier lint docs/` (or an empty folder) is a slip, not a project without cards: one line, not a finding
    for every PR the lanes cite."""
    for where in (root / "docs", tmp_path / "empty"):
        where.mkdir()
        result = dossier(root, "lint", str(where))
        assert result.exit_code == 2 and result.output == (
            f"error: {where} holds no card (<pr>.yaml), finding or lanes.yaml: nothing to lint\n")
    (root / "cards" / "100.yaml").unlink()
    (root / "cards" / "90.yaml").unlink()
    assert "0 card(s) checked" in dossier(root, "lint", str(root / "cards")).output  # a project's own cards/ may be empty


def test_a_missing_lanes_file_is_lints_error_too_not_only_renders(root):
    """Without cards/lanes.yaml render refused ("D100 cards/lanes.yaml is missing ... `dossier lint` lists them")
    while lint passed with no card (0 errors, exit 0) and with cards showed only their D501s: the gate said clean
    where render would not run."""
    (root / "cards" / "lanes.yaml").unlink()
    said = "cards/lanes.yaml:1:1: D100 cards/lanes.yaml is missing: the playbook and every lane come from it"
    for remove in ([], ["100.yaml", "90.yaml"]):
        for name in remove:
            (root / "cards" / name).unlink()
        result = dossier(root, "lint")
        assert result.exit_code == 1 and said in result.output, result.output
        render = dossier(root, "render", "--check")
        assert render.exit_code == 1 and said in render.output


def test_unknown_select_code_is_a_usage_error(root):
    result = dossier(root, "lint", "--select", "Z9")
    assert result.exit_code == 2 and "--select Z9 matches no rule code" in error_line(result)
    assert dossier(root, "lint", "--select", "D5").exit_code == 0


def test_rule_codes_are_read_in_any_case_and_an_unknown_or_empty_choice_is_a_usage_error(root):
    """`--select d501` was refused as matching no rule (codes are D501): a code is one in any case, for --select,
    --ignore and --explain; an --ignore that matches nothing, or leaves nothing --select chose, is refused too
    (either would be a silent run of other rules than asked, or of none)."""
    card = yaml.safe_load(card_path(root).read_text())
    card["lane"] = "no-such-lane"  # D501: a lane lanes.yaml does not define
    card_path(root).write_text(yaml.safe_dump(card))
    for select in ("D501", "d501", " d5 "):
        found = dossier(root, "lint", "--select", select)
        assert found.exit_code == 1 and "D501" in found.stdout, (select, found.output)
    left_out = dossier(root, "lint", "--select", "d5", "--ignore", "d501")
    assert left_out.exit_code == 0 and "D501" not in left_out.output
    assert dossier(root, "lint", "--explain", "d501").stdout == dossier(root, "lint", "--explain", "D501").stdout
    listed = dossier(root, "lint", "--list-rules", "--select", "d50", "--ignore", "D501").stdout  # it listed all
    assert [ln[:4] for ln in listed.splitlines()] == ["D502", "D503", "D504", "D505", "D506", "D507", "D508", "D509"]
    for args, said in ((["--ignore", "z9"], "--ignore z9 matches no rule code"),
                       (["--explain", "d5"], "--explain d5: not one rule but the first part of "),
                       (["--explain", ""], "Invalid value for '--explain': is empty"),
                       (["--select", "D501", "--ignore", "d5"], "--ignore d5 leaves out every rule --select chose")):
        refused = dossier(root, "lint", *args)
        assert refused.exit_code == 2 and said in error_line(refused), refused.output


def test_yaml_files_never_read_as_cards_are_reported(root):
    (root / "cards" / "12345.yml").write_text("pr: 12345\n")
    (root / "cards" / "X.YAML").write_text("pr: 1\n")
    (root / "cards" / "old").mkdir()
    (root / "cards" / "old" / "10233.yaml").write_text("pr: 10233\n")
    (root / "cards" / "README.md").write_text("not yaml: not a card, not reported\n")
    before = snapshot(root)
    result = dossier(root, "lint")
    assert result.exit_code == 1
    for rel in ("cards/12345.yml", "cards/X.YAML", "cards/old/10233.yaml"):
        assert f"{rel}:1:1: D111 not read: a card must be cards/<pr>.yaml, a finding" in result.output, rel
    assert "README" not in result.output
    assert dossier(root, "render").exit_code == 1 and snapshot(root) == before


def test_outside_a_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["lint"], ["render"], ["show", "1"], ["fetch", "1"], ["new", "1"], ["regress", "--list"]):
        result = dossier(None, *args)
        assert result.exit_code == 2, args
        assert error_line(result).startswith("error: not inside a dossier project (no pyproject.toml with "
                                             "[tool.dossier]"), args


@pytest.mark.parametrize("config, key", [
    ('repo = 5', "repo"), ('repo = "sglang"', "repo"), ('api_url = ["x"]', "api_url"),
    # a path out of /repos/ on the API and in every link of the manual; letters GitHub names never hold
    ('repo = "../.."', "repo"), ('repo = "sgl-project/.."', "repo"), ('repo = "s\u0261lang/x"', "repo"),
    ('models = "Qwen3.5-2B"', "models"), ('skill = "x"', "skill"), ('[tool.dossier.skill]\nname = 5', "skill.name"),
    ('[tool.dossier.skill]\nname = "../../../outside"', "skill.name"),
    ('[tool.dossier.skill]\ndescription = 5', "skill.description"),
])
def test_a_config_value_of_the_wrong_kind_is_one_error_line(tmp_path, config, key):
    """[tool.dossier] is read once, up front: a bad value is named, not a crash in a rule or a skill folder
    rendered outside skills/."""
    root = tmp_path / "proj"
    write_project(root, [make_card(100)])
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('repo = "example/repo"\n', "") + config + "\n")
    for args in (["lint"], ["render"], ["show", "100"]):
        result = dossier(root, *args)
        assert result.exit_code == 2 and f"[tool.dossier] {key} must be " in error_line(result), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"] and not (root / "skills").exists()


def test_a_pyproject_saved_with_a_byte_order_mark_says_so(tmp_path):
    """TOML allows none: "cannot read [tool.dossier]: Invalid statement (at line 1, column 1)" named nothing to fix."""
    root = write_project(tmp_path / "proj", [make_card(100)])
    (root / "pyproject.toml").write_bytes(b"\xef\xbb\xbf" + (root / "pyproject.toml").read_bytes())
    result = dossier(root, "lint")
    assert result.exit_code == 2 and error_line(result) == (
        f"error: {root / 'pyproject.toml'}: cannot read [tool.dossier]: the file starts with a byte-order mark "
        "(U+FEFF), which TOML does not allow: save it without one")


@pytest.mark.parametrize("args", [["drift", "--sglang-src", "{loop}"], ["lint", "--sglang-src", "{loop}"],
                                  ["fetch", "100", "--source", "git", "--git-repo", "{loop}"], ["lint", "{loop}/100.yaml"]])
def test_a_path_that_is_a_symlink_loop_is_one_error_line(root, tmp_path, args):
    """`--sglang-src`, `--git-repo` or a card's folder that is a link leading back to itself: Path.resolve raised
    RuntimeError, 'error: internal error: RuntimeError: Symlink loop from ...'."""
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    result = dossier(root, *[a.format(loop=loop) for a in args])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"error: {loop}: a symbolic link that loops, or a path through one"]


@pytest.mark.parametrize(("args", "says"), [
    (["lint", "{dir}/no\nsuch\x1b[2J"], "no such file or directory: {dir}/no\u240asuch\u241b[2J"),
    (["fetch", "100", "--import", "{dir}/saved\n.diff"], "--import {dir}/saved\u240a.diff does not exist"),
    (["show", "100", "--diff", "--cache-dir", "{dir}/c\nache"], "--cache-dir {dir}/c\u240aache does not exist (the "
                                                               "fetch cache: `dossier fetch` fills one)"),
])
def test_an_error_naming_a_path_with_a_line_break_or_escape_is_one_line_that_shows_them(root, tmp_path, args, says):
    """A path holding a line break split the `error:` line in two (what followed it read as a second message), and an
    escape sequence in one (ESC [2J clears the screen) reached the terminal: each is shown as its Control Picture."""
    result = dossier(root, *[a.format(dir=tmp_path) for a in args])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"error: {says.format(dir=tmp_path)}"]


@pytest.mark.parametrize("args", [["fetch", "100", "--cache-dir", ""], ["lint", ""], ["lint", "--sglang-src", ""],
                                  ["show", "100", "--cache-dir", ""], ["regress", "100", "--results", ""],
                                  ["releases", "list", "--cache-dir", ""], ["schema", "-o", ""]])
def test_an_empty_path_is_a_usage_error_not_the_current_directory(root, monkeypatch, args):
    """`--cache-dir "$CACHE"` with CACHE unset passed "", which was the current directory: a fetch cache written
    into it, results stored there, a release cache read from it."""
    monkeypatch.chdir(root)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "is empty (an unset shell variable?)" in result.output, result.output
    assert sorted(p.name for p in root.iterdir()) == ["cards", "pyproject.toml", "skills"]


@pytest.mark.parametrize("args", [["lint", "--select", ""], ["lint", "--select", "D1", "--select", " "],
                                  ["lint", "--record", "--allow-host", ""], ["fetch", "100", "--repo", ""],
                                  ["new", "500", "--title", "", "--state", "open"],
                                  ["new", "500", "--title", "T", "--state", ""],
                                  ["releases", "sync", "--index-url", ""]])
def test_an_empty_value_is_a_usage_error_not_the_default(root, args):
    """`--select "$RULES"` with RULES unset ran every rule; `--title ""` said the PR was not in the fetch cache;
    `--repo ""` and `--index-url ""` fell back to the default without a word."""
    result = runner.invoke(app, [*args, "--root", str(root)])
    assert result.exit_code == 2 and "is empty (an unset shell variable?)" in result.output, result.output
    assert not (root / "cards" / "500.yaml").exists() and not (root / "cards" / "evidence.lock").exists()


@pytest.mark.parametrize("args", [["show", "1"], ["regress", "99999"], ["show", "100", "--diff"]])
def test_a_missing_card_or_cache_entry_is_exit_2(root, args):
    result = dossier(root, *args)
    assert result.exit_code == 2 and error_line(result)


@pytest.mark.parametrize("given", ["2025-01-01xyz", "2025-01-01T10:00", "20250101", "2025-W01-1", "2025-02-30"])
def test_new_takes_merged_at_only_as_a_real_day_written_in_full(root, given):
    """`--merged-at 2025-01-01xyz` wrote merged_at: 2025-01-01 (the rest cut off without a word), and `20250101`
    or `2025-W01-1` (other ISO spellings Python reads) a day the user never wrote."""
    result = dossier(root, "new", "7", "--state", "merged", "--title", "T", "--merged-at", given)
    assert result.exit_code == 2 and error_line(result) == f"error: --merged-at must be a real day YYYY-MM-DD, got {given!r}"
    assert not card_path(root, 7).exists()


def test_new_card_gets_one_empty_finding_per_field_and_a_known_lane(root):
    bad_lane = dossier(root, "new", "555", "--title", "T", "--state", "open", "--lane", "nolane")
    assert bad_lane.exit_code == 2 and "--lane 'nolane' is not a lane" in error_line(bad_lane)
    assert not card_path(root, 555).exists()
    assert dossier(root, "new", "555", "--title", "T", "--state", "open", "--lane", "gdn-projection").exit_code == 0
    result = dossier(root, "lint", str(card_path(root, 555)))
    assert result.exit_code == 1
    assert result.output.count("motivation") == 1 and "D104 motivation is empty" in result.output
    assert "repeats the PR title" not in result.output and "placeholder" not in result.output


def test_duplicate_key_wording_matches_its_treatment(root):
    card_path(root).write_text(yaml.safe_dump(make_card(100)) + "title: again\n")
    result = dossier(root, "lint")
    assert "D108 duplicate key 'title': name each field once" in result.output
    assert "later value wins" not in result.output
    assert dossier(root, "show", "100").exit_code == 2  # and indeed the card is not used


@pytest.mark.parametrize("path", ["../../../etc/passwd", "/etc/passwd", "python/../../x.py"])
def test_key_fragment_file_must_be_repo_relative(root, path):
    card = make_card(100)
    card["key_fragment"]["file"] = path
    card_path(root).write_text(yaml.safe_dump(card))
    result = dossier(root, "lint")
    assert result.exit_code == 1 and "D110 key_fragment.file must be a path relative to the repository root" \
        in result.output


def test_unverified_evidence_is_one_summary_line_unless_verbose(root):
    short = dossier(root, "lint")
    assert short.exit_code == 0
    assert short.stdout.count("D301") == 1 and "2 card(s) have an unverified key fragment" in short.stdout
    full = dossier(root, "lint", "--verbose")
    assert full.stdout.count("D301") == 2 and "cards/90.yaml" in full.stdout
    assert len(json.loads(dossier(root, "lint", "--format", "json").stdout)) == 2


# ---- fetch: validate answers, fail fast, keep credentials out, record the host ----------------------

@pytest.fixture
def gh(root):
    from tests.dossier.fake_github import FakeGitHub, pull_from_card

    with FakeGitHub() as fake:
        for pr in (90, 100):
            fake.add("example/repo", *pull_from_card(yaml.safe_load(card_path(root, pr).read_text())))
        yield fake


def fetch(root: Path, *args: str, api: str, **env):
    env = {"GITHUB_API_URL": api, "GITHUB_TOKEN": None, "DOSSIER_HTTP_BACKOFF": "0", "DOSSIER_HTTP_THROTTLE": "0",
           "DOSSIER_HTTP_RETRIES": "0", "DOSSIER_FETCH_DEADLINE": None, **env}
    result = runner.invoke(app, ["fetch", *args, "--root", str(root)], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    return result


def test_an_answer_without_the_required_fields_is_rejected_and_not_cached(root, gh):
    from tests.dossier.fake_github import Reply

    gh.fail("/repos/example/repo/pulls/100", Reply(200, {"unexpected": True}))
    result = fetch(root, "100", "90", api=gh.url)
    assert result.exit_code == 1
    assert "error: #100: " in result.output and "without a valid title, state" in result.output
    assert "not cached" in result.output
    assert not (root / ".dossier" / "cache" / "100").exists()
    assert (root / ".dossier" / "cache" / "90" / "provenance.json").is_file()  # the other PR still lands


def test_credentials_in_the_api_url_are_never_shown_or_stored(root, gh):
    secret = "hunter2-S3CRET"
    with_userinfo = gh.url.replace("http://", f"http://me:{secret}@")
    result = fetch(root, "100", api=with_userinfo)
    assert result.exit_code == 0 and secret not in result.output
    stored = "".join(p.read_text() for p in (root / ".dossier").rglob("*.json"))
    assert secret not in stored and '"api_url": "http://***@127.0.0.1:' in stored
    refused = fetch(root, "90", api=f"http://me:{secret}@127.0.0.1:9")
    assert refused.exit_code == 1 and secret not in refused.output and "http://***@127.0.0.1:9" in refused.output


def test_an_unreachable_host_trips_the_breaker_with_one_summary_line(root, monkeypatch):
    result = fetch(root, "1001", "1002", "1003", "1004", "1005", "1006", "--jobs", "1", api="http://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.output.count("error: #") == 3  # three real attempts, each reported
    assert "error: 3 PR(s) failed at once: 127.0.0.1:9 failed 3 time(s) in a row" in result.output
    assert "0 fetched, 0 cached, 6 failed" in result.output


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_fetch_deadline_fails_what_has_not_finished(root, gh, how):
    gh.delay["/repos/example/repo/pulls/100"] = 3.0
    args, env = (["--deadline", "0.5"], {}) if how == "flag" else ([], {"DOSSIER_FETCH_DEADLINE": "0.5"})
    result = fetch(root, "100", *args, api=gh.url, **env)
    assert result.exit_code == 1 and "did not finish within the fetch deadline (0.5s)" in result.output
    assert not (root / ".dossier" / "cache" / "100").exists()


def test_an_unwritable_cache_is_refused_before_any_request(root, gh, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory\n")
    result = fetch(root, "100", "90", "--cache-dir", str(blocked / "cache"), api=gh.url)
    assert result.exit_code == 2 and "is not writable" in error_line(result)
    result = fetch(root, "100", "--cache-dir", str(blocked), api=gh.url)  # the cache is the file itself
    assert result.exit_code == 2 and error_line(result) == f"error: the fetch cache {blocked} is a file, not a folder"
    assert gh.requests == []


def test_fetch_prints_a_line_per_pr_when_not_on_a_terminal(root, gh):
    result = fetch(root, "100", "90", api=gh.url)
    assert result.exit_code == 0
    assert {"[1/2]", "[2/2]"} <= {ln.split()[0] for ln in result.stderr.splitlines() if ln.startswith("[")}
    assert "#100 fetched" in result.stderr and "#90 fetched" in result.stderr


def test_record_refuses_another_api_host_unless_allowed(root, gh):
    assert fetch(root, "100", "90", api=gh.url).exit_code == 0
    host = gh.url.removeprefix("http://")
    refused = dossier(root, "lint", "--record")
    assert refused.exit_code == 2
    assert f"come from {host}, not the configured GitHub API (api.github.com)" in error_line(refused)
    assert not (root / "cards" / "evidence.lock").exists()
    allowed = dossier(root, "lint", "--record", "--allow-host", host)
    assert allowed.exit_code == 0, allowed.output
    lock = load_yaml((root / "cards" / "evidence.lock").read_text())
    assert {e["host"] for e in lock["cards"].values()} == {host}
    assert dossier(root, "render").exit_code == 0
    history = next((root / "skills").glob("*/references/pr-history.md")).read_text()
    assert f"(github via {host})" in history


def test_environment_values_that_cannot_be_used_are_one_error_line(root, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    result = dossier(root, "lint", "--record")
    assert result.exit_code == 2 and "SOURCE_DATE_EPOCH must be seconds since 1970" in error_line(result)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    for bad in ({"DOSSIER_HTTP_RETRIES": "many"}, {"GITHUB_API_URL": "ftp://example.com"},
                {"DOSSIER_FETCH_DEADLINE": "soon"}, {"DOSSIER_FETCH_DEADLINE": "inf"},
                {"DOSSIER_FETCH_DEADLINE": "1e308"}):  # no clock or thread wait takes those
        result = fetch(root, "100", api=bad.pop("GITHUB_API_URL", "http://127.0.0.1:9"), **bad)
        assert result.exit_code == 2, result.output
    assert dossier(root, "show", "100", "--diff", "--context", "-1").exit_code == 2


@pytest.mark.parametrize("url, why", [
    ("http://[::1", "Invalid IPv6 URL"), ("http://h:99999", "Port out of range 0-65535"),
    ("http://h:abc", "Port could not be cast to integer value as 'abc'"), ("http://user@", "it names no host"),
    ("http://:80", "it names no host"), ("http://h/api?x=1", "a ?query or #fragment"), ("http://h#x", "a ?query"),
])
def test_a_github_api_url_that_names_no_usable_host_is_one_error_line_before_any_request(root, url, why):
    """Each PR failed alone with "unexpected ValueError: Port out of range 0-65535" or "AttributeError: 'NoneType'
    object has no attribute 'removeprefix'" (`fetch --all`: one such line per card); a query or fragment was glued
    before every request's path (`http://h/api?x=1/repos/...`)."""
    result = fetch(root, "100", "101", api=url)
    assert result.exit_code == 2, result.output
    assert error_line(result).startswith("error: GITHUB_API_URL is not the address of an API (") and why in error_line(result)
    assert "unexpected" not in result.output


# ---- render refuses every input that would silently drop or garble content (audit A-E, K, M) ----------

LOCKS = {
    "evidence-not-yaml": ("evidence.lock", b"{not json\n"),
    "evidence-wrong-shape": ("evidence.lock", b"version: 1\ncards: [1, 2]\n"),
    # a section misspelt in a merge: read as no release evidence, dropped by the next recording
    "evidence-unknown-section": ("evidence.lock", b"version: 1\ncards: {}\nrelease: {built: []}\n"),
    "evidence-a-directory": ("evidence.lock", None),
    "drift-not-yaml": ("drift.lock", b"garbage: [\n"),
    "drift-wrong-version": ("drift.lock", b"version: 99\nsglang: 0.5.23\ncards: {}\n"),
    "drift-bad-entry": ("drift.lock", b"version: 1\nsglang: 0.5.23\ncards: {100: in-place}\n"),
    "drift-not-utf8": ("drift.lock", b"version: 1\n\xff\n"),
    # a hand edit or a merge: PyYAML raised ValueError (every rule reading the lock crashed, D000 each)
    "evidence-impossible-date": ("evidence.lock", b"version: 1\ncards:\n  100: {recorded: 2026-13-45}\n"),
    "drift-nested-too-deep": ("drift.lock", b"version: 1\nsglang: 0.5.23\ncards: " + b"[" * 5000 + b"\n"),
    # a merge that kept both sides' entry for one PR: YAML kept the last silently, and the manual showed its verdict
    "drift-an-entry-twice": ("drift.lock", b"version: 1\nsglang: 0.5.23\ncards:\n  100: {verdict: in-place}\n"
                             b"  100: {verdict: missing}\n"),
    "evidence-a-section-twice": ("evidence.lock", b"version: 1\ncards: {}\nreleases: {built: []}\ncards: {}\n"),
}


def break_lock(root: Path, name: str, raw: bytes | None) -> Path:
    path = root / "cards" / name
    if raw is None:  # unreadable: reading it fails as a permission problem would
        path.mkdir()
    else:
        path.write_bytes(raw)
    return path


@pytest.mark.parametrize("case", LOCKS)
def test_render_refuses_an_unreadable_lock_and_lint_says_so_once(root, case):
    name, raw = LOCKS[case]
    break_lock(root, name, raw)
    before = snapshot(root)
    for args in (["render"], ["render", "--check"]):
        result = dossier(root, *args)
        assert result.exit_code == 1, result.output
        assert f"not rendering: 1 file(s) would make the manual wrong or incomplete: cards/{name} (D311)" \
            in result.output
    assert snapshot(root) == before
    lint = dossier(root, "lint")
    lines = [ln for ln in lint.output.splitlines() if ln.startswith(f"cards/{name}:")]
    assert lint.exit_code == 1 and len(lines) == 1 and "D311" in lines[0], lint.output
    assert "D000" not in lint.output  # one line, not one crash per rule
    shown = dossier(root, "show", "100")  # show still prints the card, and says what it leaves out
    assert shown.exit_code == 0 and f"warning: cards/{name}: " in shown.output
    if case.endswith("not-yaml"):  # positioned where the file stops being YAML
        assert lines[0].startswith(f"cards/{name}:2:1: D311 cards/{name}: not valid YAML at line 2"), lines[0]
    if case.endswith("date"):
        assert lines[0].endswith("not valid YAML at line 3: '2026-13-45' is no real date (month must be in 1..12)")
    if case.endswith("too-deep"):  # refused before the parser recurses (it took seconds per read, every reader)
        assert lines[0].endswith("not valid YAML at line 3: [ and { nested more than 64 deep"), lines[0]
    if case.endswith("twice"):
        first, again = (4, 5) if name == "drift.lock" else (2, 4)
        key = 100 if name == "drift.lock" else "'cards'"
        assert lines[0] == (f"cards/{name}:{again}:1: D311 cards/{name}: not valid "
                            f"YAML at line {again}: key {key} given twice (first at line {first}): YAML would keep "
                            "only the last"), lines[0]


def test_a_corrupt_release_section_is_one_finding_and_refuses_render(root):
    (root / "cards" / "evidence.lock").write_text("version: 1\ncards: {}\nreleases: {built: 7}\n")
    before = snapshot(root)
    result = dossier(root, "render")
    assert result.exit_code == 1 and "cards/evidence.lock (D316)" in result.output
    assert snapshot(root) == before
    lint = dossier(root, "lint")
    assert [ln[:49] for ln in lint.output.splitlines() if ln.startswith("cards/evidence.lock")] == \
        ["cards/evidence.lock:3:1: D316 cards/evidence.lock"]
    assert "D000" not in lint.output


def test_recording_never_replaces_a_lock_it_cannot_read(root, tmp_path):
    lock = break_lock(root, "evidence.lock", b"<<<<<<< HEAD\ncards: {}\n=======\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    result = dossier(root, "lint", "--record", "--cache-dir", str(cache))
    assert result.exit_code == 2 and error_line(result).startswith("error: cards/evidence.lock: not valid YAML")
    assert lock.read_bytes() == b"<<<<<<< HEAD\ncards: {}\n=======\n"


def test_an_unreadable_findings_folder_is_an_environment_error(root, monkeypatch):
    (root / "cards" / "findings").mkdir()
    before = snapshot(root)
    listdir = os.listdir

    def denied(path="."):
        if Path(path).name == "findings":
            raise PermissionError(13, "Permission denied", str(path))
        return listdir(path)

    monkeypatch.setattr(os, "listdir", denied)
    for args in (["render"], ["render", "--check"], ["findings"], ["lint"]):
        result = dossier(root, *args)
        assert result.exit_code == 2, args
        assert error_line(result).endswith("cards/findings/: Permission denied"), result.output
    assert snapshot(root) == before


@pytest.mark.parametrize("name", ["foo.yaml", "99998.yaml", "1.yaml"])
def test_render_refuses_a_second_card_for_one_pr(root, name):
    retitled = make_card(100, title="XYZZY: a retitled copy of the widget change")
    (root / "cards" / name).write_text(yaml.safe_dump(retitled))
    before = snapshot(root)
    for args in (["render"], ["render", "--check"]):
        result = dossier(root, *args)
        assert result.exit_code == 1 and "D506" in result.output and f"cards/{name}" in result.output
    assert snapshot(root) == before
    assert "XYZZY" not in "".join(p.read_text() for p in (root / "skills").rglob("*.md"))


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\x1b[31m"])
def test_render_refuses_text_lint_rejects_as_hidden_characters(root, char):
    card_path(root).write_text(yaml.safe_dump(make_card(100, title=f"A change{char} to the widget"),
                                              allow_unicode=True))
    before = snapshot(root)
    result = dossier(root, "render")
    assert result.exit_code == 1 and "cards/100.yaml (D112)" in result.output
    assert "D112" in dossier(root, "lint").output
    assert snapshot(root) == before


@pytest.mark.parametrize("how", ["crlf", "bom"])
def test_render_check_compares_bytes_and_render_restores_them(root, how):
    skill = next((root / "skills").rglob("SKILL.md"))
    good = skill.read_bytes()
    skill.write_bytes(good.replace(b"\n", b"\r\n") if how == "crlf" else b"\xef\xbb\xbf" + good)
    check = dossier(root, "render", "--check")
    assert check.exit_code == 1 and "stale: " in check.output and "SKILL.md" in check.output
    assert dossier(root, "render").exit_code == 0
    assert skill.read_bytes() == good
    assert dossier(root, "render", "--check").exit_code == 0


# ---- a path given explicitly that holds nothing is an environment error, never a silent fallback (F, G, O) ----

def empty_package(tmp_path: Path) -> Path:
    """An `sglang` package with no SGLang in it (what shadows the install from PYTHONPATH)."""
    package = tmp_path / "shadow" / "sglang"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    return package


@pytest.mark.parametrize("where", ["typo", "file", "empty-package"])
@pytest.mark.parametrize("command", [["lint"], ["lint", "--select", "D6"], ["drift"]])
def test_a_named_sglang_source_that_holds_none_is_exit_2(root, tmp_path, where, command):
    src = {"typo": tmp_path / "typo", "file": tmp_path / "f.txt", "empty-package": empty_package(tmp_path)}[where]
    if where == "file":
        src.write_text("x")
    result = dossier(root, *command, "--sglang-src", str(src))
    assert result.exit_code == 2, result.output
    assert str(src.resolve()) in error_line(result) and "D600" not in result.output


def test_a_shadowing_empty_sglang_package_is_named_not_read_as_sglang(root, tmp_path, monkeypatch):
    import importlib.util

    import dossier.source_tree as source_tree

    package = empty_package(tmp_path)
    spec = importlib.util.spec_from_file_location("sglang", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    monkeypatch.setattr(source_tree.importlib.util, "find_spec", lambda name: spec)
    result = dossier(root, "drift")  # drift, for-version and lint read the installed tree through one guard
    assert result.exit_code == 2 and "holds no SGLang sources" in error_line(result)
    assert "check PYTHONPATH" in error_line(result) and "unknown" not in result.output
    lint = dossier(root, "lint")
    assert "D600" in lint.output and "holds no SGLang sources" in lint.output


def test_a_named_fetch_cache_that_is_not_there_is_exit_2(root, tmp_path, monkeypatch):
    result = dossier(root, "lint", "--cache-dir", str(tmp_path / "typo"))
    assert result.exit_code == 2 and "--cache-dir" in error_line(result) and "does not exist" in error_line(result)
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "typo"))
    result = dossier(root, "lint")
    assert result.exit_code == 2 and "$DOSSIER_CACHE" in error_line(result)


# ---- a card file outside cards/ is judged against the project, reported on alone (H) ---------------------

def test_a_card_outside_cards_is_judged_against_the_project(tmp_path):
    cited = make_card(201)
    cited["motivation"] += " It builds on #100."
    root = write_project(tmp_path / "proj", [make_card(100), cited], config="cover = [100, 201, 300]\n")
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    shutil.copy(card_path(root, 201), drafts / "201.yaml")  # the card, edited elsewhere: stands in for it
    alone = dossier(root, "lint", str(drafts / "201.yaml"))
    assert alone.exit_code == 0, alone.output
    assert "D511" not in alone.output and "D506" not in alone.output and "1 card(s) checked" in alone.output
    bad = make_card(202, lane="no-such-lane")  # judged against the project's lanes and cards
    (drafts / "202.yaml").write_text(yaml.safe_dump(bad))
    result = dossier(root, "lint", str(drafts / "202.yaml"))
    assert result.exit_code == 1 and "D501" in result.output
    assert all(ln.startswith(str(drafts / "202.yaml")) for ln in result.output.splitlines() if " D5" in ln)
    (drafts / "notes.md").write_text("# notes\n\nnot a card\n")
    result = dossier(root, "lint", str(drafts / "notes.md"))
    assert result.exit_code == 2 and "D511" not in result.output
    assert error_line(result) == (f"error: {drafts / 'notes.md'} is not a card (not a YAML mapping): a card is YAML "
                                  "with a card's fields, as `dossier new PR` writes; nothing to lint")


NOT_CARDS = {  # file name -> (bytes, why it is not a card)
    "README.md": (b"# Notes\n\n- a list: with a colon\nkey: [unclosed\n", "not YAML"),
    "empty.md": (b"", "empty"),
    "ci.yml": (b"name: ci\non: push\njobs: {}\n", "it holds none of the fields it needs"),
    "front.md": (b"title: a page\n", "of the fields it needs it holds only title"),
    "logo.png": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
}


@pytest.mark.parametrize("name", sorted(NOT_CARDS))
@pytest.mark.parametrize("where", ["drafts", "cards"])
def test_a_file_named_to_lint_that_is_no_card_is_a_usage_error(root, name, where):
    """`dossier lint README.md` answered with a D103/D102 finding (exit 1) as if a card were broken: a file that
    is no card at all (not YAML, empty, a mapping without a card's fields, binary) is a usage error naming it,
    wherever it is, and nothing else is judged."""
    folder = root / where
    folder.mkdir(exist_ok=True)
    raw, why = NOT_CARDS[name]
    (folder / name).write_bytes(raw)
    result = dossier(root, "lint", str(folder / name), str(card_path(root)))
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert error_line(result).startswith(f"error: {folder / name} is not a card ({why}): ")


@pytest.mark.parametrize("name, raw, code", [
    ("100.yaml", b"", "D103"),  # named as a card: an empty card
    ("draft.yaml", b"pr: 100\ntitle: [unclosed\n", "D102"),  # YAML that does not parse: a card being written
    ("draft.yaml", b"- pr: 100\n", "D103"),  # YAML, but not a mapping
    ("notes.txt", b"pr: 100\n", "D104"),  # its pr makes it a card, misnamed and incomplete
])
def test_a_broken_card_named_to_lint_stays_a_finding(tmp_path, root, name, raw, code):
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    (drafts / name).write_bytes(raw)
    result = dossier(root, "lint", str(drafts / name))
    assert result.exit_code == 1 and f" {code} " in result.stdout, result.output


def test_a_pipe_named_to_lint_is_that_card_refused_not_a_run_over_no_card(root, tmp_path):
    """`dossier lint <(cat card)` (a pipe) was neither a file nor a folder: lint ran over no card at all, every card
    lanes.yaml cites reported missing (D511, D512; 0 cards checked), exit 1. The pipe is the one card named, refused
    unread (D100: a pipe could block)."""
    fifo = tmp_path / "100.yaml"
    os.mkfifo(fifo)
    result = dossier(root, "lint", str(fifo))
    assert result.exit_code == 1
    assert result.stdout == f"{fifo}:1:1: D100 cannot read the file: not a regular file (a pipe)\n"
    assert "1 card(s) checked: 1 error(s)" in result.stderr


def test_a_file_in_findings_that_is_no_finding_is_a_usage_error(root):
    (root / "cards" / "findings").mkdir(exist_ok=True)
    notes = root / "cards" / "findings" / "README.md"
    notes.write_text("See each finding's cause: the scheduler, the pool.\n")
    result = dossier(root, "lint", str(notes))
    assert result.exit_code == 2 and error_line(result).startswith(f"error: {notes} is not a finding (")
    assert dossier(root, "lint").exit_code == 0  # in the folder, a README is never read as one


# ---- a card file too large to be a card is one finding, found at once (L) ------------------------------

def test_a_card_file_over_the_size_cap_is_one_finding_without_parsing_it(root):
    from dossier.cards import MAX_CARD_BYTES

    card = make_card(100)
    card["motivation"] = ("A long motivation sentence about the widget's 12 us stall. " * 200_000)[:MAX_CARD_BYTES + 10]
    card_path(root).write_text(yaml.safe_dump(card, width=1_000_000))
    before = snapshot(root)
    result = dossier(root, "lint", str(card_path(root)))
    assert result.exit_code == 1 and "D210" not in result.output and "D113" not in result.output  # not parsed
    assert f"cards/100.yaml:1:1: D100 file is {card_path(root).stat().st_size:,} bytes, over the {MAX_CARD_BYTES:,}" \
        in result.output
    assert dossier(root, "render").exit_code == 1 and snapshot(root) == before


def test_new_refuses_a_pr_another_card_file_holds(root):
    (root / "cards" / "100.yaml").rename(root / "cards" / "widget.yaml")
    result = dossier(root, "new", "100", "--title", "T", "--state", "open")
    assert result.exit_code == 2
    assert error_line(result) == ("error: cards/widget.yaml already holds #100; edit it (or rename it to 100.yaml) "
                                  "instead of starting a second card")
    assert not card_path(root).exists()


# ---- Ctrl-C: what landed is said, the exit is 130, never a traceback (P, Q) ------------------------------

@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_during_fetch_says_what_landed_and_what_did_not(root, gh, monkeypatch, stop):
    """SIGTERM takes the same path, as `terminated` and exit 143 (it said `interrupted`, 130)."""
    from dossier.main import Terminated
    from dossier.sources.github import GithubSource

    real = GithubSource.fetch

    def interrupted_at_100(self, pr):
        if pr == 100:
            raise Terminated if stop == "sigterm" else KeyboardInterrupt
        return real(self, pr)

    monkeypatch.setattr(GithubSource, "fetch", interrupted_at_100)
    result = fetch(root, "90", "100", "--jobs", "1", api=gh.url)
    word, code = ("terminated", 143) if stop == "sigterm" else ("interrupted", 130)
    assert result.exit_code == code
    assert f"{word}: run the same command again to fetch the rest" in result.output
    assert "#90 fetched" in result.output and "not fetched (interrupted): #100" in result.output
    assert "1 fetched, 0 cached, 0 failed, 1 interrupted" in result.output and "error:" not in result.output
    assert (root / ".dossier" / "cache" / "90" / "provenance.json").is_file()
    assert not (root / ".dossier" / "cache" / "100").exists()


def test_ctrl_c_in_any_command_or_while_importing_is_exit_130_and_one_line(root, monkeypatch):
    import subprocess
    import sys

    from dossier import manual

    monkeypatch.setattr(manual, "render_manual", lambda project: (_ for _ in ()).throw(KeyboardInterrupt))
    card_path(root).write_text(yaml.safe_dump(make_card(100, title="A retitled change to the widget")))
    result = dossier(root, "render")
    assert result.exit_code == 130 and result.output.strip().endswith("interrupted")
    # while the CLI's modules are still being imported: the console script's own guard
    code = ("import builtins, sys\nreal = builtins.__import__\n"
            "def imp(name, *a, **k):\n    if name == 'dossier.cli': raise KeyboardInterrupt\n    return real(name, *a, **k)\n"
            "builtins.__import__ = imp\nfrom dossier.main import main\nsys.argv = ['dossier', 'lint']\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 130 and proc.stderr == "interrupted\n"


@pytest.mark.parametrize("module", ["dossier", "dossier.main", "dossier.cli"])
def test_every_module_entry_point_runs_the_cli(module):
    """`python -m` of the package, of main and of cli all reach the CLI (a module that only defines main() is a
    silent no-op: exit 0, no output)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0 and "Usage:" in proc.stdout and "regress" in proc.stdout


def test_a_reader_that_stops_early_is_not_an_error(root):
    """`dossier drift | head -1`: the reader closing the pipe is no environment error (it was `error: [Errno 32]
    Broken pipe`, exit 2); click's quiet exit 1 stands, as for every other command."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "dossier.cli", "drift", "--root", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    proc.stdout.close()
    said = proc.stderr.read()
    assert (proc.wait(), said.startswith("checking 2 card(s)"), said.count("\n")) == (1, True, 1), said


# ---- wording: each message says what is wrong in plain words (S) ----------------------------------------

def test_messages_say_plainly_what_is_wrong(root):
    card_path(root).write_text(yaml.safe_dump(make_card(100)).replace("superseded_by: []", "superseded_by:"))
    assert "superseded_by must not be empty (expected a list of integers)" in dossier(root, "lint").output
    card_path(root).write_text(yaml.safe_dump(make_card(100, title="A retitled change to the widget")))
    references = next((root / "skills").glob("*/references"))
    shutil.rmtree(references)
    references.write_text("a file where a directory belongs\n")
    result = dossier(root, "render")
    assert result.exit_code == 2
    assert error_line(result) == f"error: {references} is a file where render writes a folder"
    shutil.rmtree(root / "cards")
    (root / "cards").write_text("a file where the cards folder belongs\n")
    result = dossier(root, "lint")
    assert result.exit_code == 2 and error_line(result) == f"error: {root / 'cards'} is not a directory"


@pytest.mark.parametrize("name", ["surface.lock", "opened.lock"])
def test_every_other_lock_that_cannot_be_read_is_one_finding(root, name):
    (root / "cards" / name).mkdir()  # reading it fails as a permission problem would
    result = dossier(root, "lint")
    lines = [ln for ln in result.output.splitlines() if f"cards/{name}: cannot read the file" in ln]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "D000" not in result.output


def test_what_editors_and_systems_leave_beside_a_card_is_not_a_card(root):
    """Emacs's lock `.#100.yaml` (a dangling link while the card is open), macOS's `._100.yaml` and a hidden folder
    under cards/ made lint fail (D100/D102) and render refuse while a card was merely open in an editor."""
    cards = root / "cards"
    (cards / ".#100.yaml").symlink_to("someone@host.4242:1733000000")
    (cards / "._100.yaml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    (cards / ".backup").mkdir()
    (cards / ".backup" / "100.yaml").write_text("pr: [\n")
    before = snapshot(root)
    lint = dossier(root, "lint")
    assert lint.exit_code == 0 and ".#100" not in lint.output and "._100" not in lint.output, lint.output
    assert dossier(root, "render", "--check").exit_code == 0 and snapshot(root) == before
    (cards / "300.yaml").symlink_to(root / "gone.yaml")  # not hidden: a card whose target is gone
    assert f"cards/300.yaml:1:1: D100 cannot read the file: a symlink to {root / 'gone.yaml'}, which does not exist" \
        in dossier(root, "lint").output


@pytest.mark.parametrize("name", ["100.yaml", "lanes.yaml"])
def test_a_project_file_that_links_outside_the_project_is_refused(root, tmp_path, name):
    """cards/100.yaml as a link to a file outside the project read here, lint passed and render used it; git
    commits the link, so every clone (CI) has a dangling link there, or another file where the path exists."""
    where = root / "cards" / name
    elsewhere = tmp_path / "elsewhere" / name
    elsewhere.parent.mkdir()
    where.rename(elsewhere)
    where.symlink_to(elsewhere)
    said = (f"cards/{name}:1:1: D100 a link to {elsewhere}, outside the project: a clone has no such file; put "
            "the file itself here")
    lint = dossier(root, "lint")
    assert lint.exit_code == 1 and said in lint.output, lint.output
    render = dossier(root, "render", "--check")
    assert render.exit_code == 1 and said in render.output
    inside = root / "drafts" / name  # a link within the project is the same file in every clone
    inside.parent.mkdir()
    elsewhere.rename(inside)
    where.unlink()
    where.symlink_to(Path("..") / "drafts" / name)
    assert dossier(root, "lint").exit_code == 0


@pytest.mark.parametrize("tests, says", [
    ([], "D104 runtime.tests is empty"),
    (["tests_fake"], None),  # a folder is a pytest target: its test files
    (["tests_fake/test_ok.py::"], "D509 empty test name after '::' in tests_fake/test_ok.py::"),
    (["tests_fake/test_ok.py::test_close[1"], "D509 unclosed '[' in tests_fake/test_ok.py::test_close[1"),
])
def test_a_runtime_test_list_pytest_cannot_run_is_refused_by_lint(tmp_path, tests, says):
    """A reference with no tests lint passed, and regress failed its job without a reason (0 passed, 0 failed);
    a test folder was "test file not found" (pytest runs it, and so does regress); an empty name after '::' or
    an unclosed '[' passed lint and pytest ran nothing ("no tests ran")."""
    root = write_project(tmp_path / "proj", [make_card(100, runtime={"reference": "fakeref", "tests": tests,
                                                                     "bench": "fakeref"})])
    (root / "fakeref.py").write_text('"""A stand-in reference module."""\n')
    (root / "tests_fake").mkdir()
    (root / "tests_fake" / "test_ok.py").write_text("def test_close():\n    pass\n")
    result = dossier(root, "lint", str(root / "cards"))
    errors = [line.split(": ", 1)[1] for line in result.output.splitlines() if ": D" in line]
    assert errors == ([says] if says else []), result.output


@pytest.mark.parametrize("content, says", [
    (b"def test_close(:\n", "invalid syntax (line 1)"),
    (b"# caf\xe9\ndef test_close():\n    pass\n", "invalid or missing encoding declaration"),
    (b"def test_close():\n    pass\x00\n", "source code string cannot contain null bytes"),
])
def test_a_runtime_test_file_python_cannot_read_is_a_finding_not_a_crash(tmp_path, content, says):
    """'D000 rule D509 crashed: SyntaxError' (or UnicodeDecodeError) for a listed test file that does not parse."""
    root = write_project(tmp_path / "proj", [make_card(100, runtime={
        "reference": "fakeref", "tests": ["tests_fake/test_bad.py::test_close"], "bench": "fakeref"})])
    (root / "fakeref.py").write_text('"""A stand-in reference module."""\n')
    (root / "tests_fake").mkdir()
    (root / "tests_fake" / "test_bad.py").write_bytes(content)
    result = dossier(root, "lint", str(root / "cards"))
    errors = [line.split(": ", 1)[1] for line in result.output.splitlines() if ": D" in line]
    assert len(errors) == 1 and errors[0].startswith("D509 test file tests_fake/test_bad.py is not Python pytest can "
                                                     "read (") and says in errors[0], result.output
