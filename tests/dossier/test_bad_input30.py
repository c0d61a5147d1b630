"""Bad input, round 30 (session 45): input the schema, lint and render all passed while the manual came out broken.

- An id, path, flag or title ending in a line break ("amd-rocm\\n", quoted in YAML): the schema's patterns ended in
  `$`, which matches before a final newline, so the anchor `<a id="amd-rocm` was cut over two lines, every link to it
  went nowhere and flags.md moved its "explained in" links to another section; lanes.yaml's files, flags, steps and
  titles had no shape check at all. A name, path, flag or title is now one line.
- A list entry that differs from another only in whitespace or Unicode composition showed twice, lint clean.
- A link whose text holds `[word]` ("[the [Qwen3.5] loader of #21019](...)") got a PR link nested inside it, which
  broke the outer link: the spans render keeps as written allowed no bracket in a link's text.
- A stray backtick in each of two symptoms paired up across the "; " that joins them, one code span swallowing the
  text between (and its PR link).
- A link the templates write (by-release.md's to the upgrade block) went nowhere once the checklist id was renamed:
  D523 judged only links written in cards and lanes.yaml. It now judges the templates' links too, by-release.md
  links the upgrade block only where it exists, and release notes with no upgrade block to link to are D514's.
"""

from __future__ import annotations

import pytest
import yaml

from dossier.render.markdown import link_prs, link_releases
from tests.dossier.factories import LANES, make_card, write_project
from tests.dossier.test_lint_rules import lint
from tests.dossier.test_render import render
from tests.dossier.yaml_support import load_yaml


def _lane(**fields) -> dict:
    return {**LANES, "lanes": [{**LANES["lanes"][0], **fields}, *LANES["lanes"][1:]]}


@pytest.mark.parametrize(("lanes", "card_edit"), [
    (_lane(id="gdn-projection\n"), None),
    (_lane(first_files=["python/sglang/srt/models/qwen3_next.py\n"]), None),
    (_lane(flags=["--tp-size\n"]), None),
    (_lane(title="Fused\nprojections"), None),
    (None, lambda c: c["files"].update(runtime=["python/sglang/srt/models/qwen3_next.py\n"])),
    (None, lambda c: c["key_fragment"].update(match="self.in_proj_qkvzba = MergedColumnParallelLinear(\n")),
], ids=["lane-id", "first-file", "flag", "lane-title", "card-path", "card-match"])
def test_a_name_or_path_with_a_line_break_is_a_schema_error(tmp_path, lanes, card_edit):
    card = make_card(100)
    if card_edit:
        card_edit(card)
    if lanes and lanes["lanes"][0]["id"] != "gdn-projection":
        card["lane"] = lanes["lanes"][0]["id"]
    found = [d for d in lint(write_project(tmp_path, [card], lanes=lanes), select=["D1"]) if "line break" in d.message]
    assert found and all(d.severity == "error" for d in found), found


def test_entries_that_show_alike_are_one_entry_twice(tmp_path):
    lanes = _lane(symptoms=["Wrong outputs with a plain BF16 checkpoint", "Wrong outputs with a plain  BF16 checkpoint "],
                  flags=["--tp-size", "--tp-size"[:2] + "tp-size"])
    found = [d for d in lint(write_project(tmp_path, [make_card(100)], lanes=lanes)) if "twice" in d.message]
    assert len(found) == 2 and all(d.severity == "error" for d in found), found
    assert "as the manual shows it" in found[0].message


def test_a_pr_inside_a_link_whose_text_holds_brackets_is_left_alone():
    text = "That follow-up is [the [Qwen3.5] loader of #21019](pr-history.md#pr-21019); also #21019."
    assert link_prs(text, lambda n, issue=False: f"#pr-{n}") == (
        "That follow-up is [the [Qwen3.5] loader of #21019](pr-history.md#pr-21019); also [#21019](#pr-21019).")
    dated = "([the [TP] fix, 0.5.10 (built 2026-04-05)](#lane-architecture))"
    assert link_releases(dated, "by-release.md", {"0.5.10"}) == dated


def test_a_stray_backtick_in_each_of_two_symptoms_stays_a_tick(tmp_path):
    lanes = _lane(symptoms=["Crash in `Qwen3NextForCausalLM, its MTP head; #100", "Wrong outputs` from the first token"])
    docs = render(write_project(tmp_path, [make_card(100)], lanes=lanes))
    for page in ("SKILL.md", "references/playbook.md"):
        assert "\\`Qwen3NextForCausalLM" in docs[page] and "outputs\\` from" in docs[page], page
        assert "[#100](" in docs[page], page


def test_release_notes_without_their_upgrade_block_are_reported(tmp_path, no_release_cache):
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project
    from tests.dossier.test_lint_probes16 import _real_project

    root = _real_project(tmp_path, 19321, ())
    lanes = root / "cards" / "lanes.yaml"
    data = load_yaml(lanes.read_text())

    def d523(checklist_id: str) -> list[str]:
        data["answers"] = {"checklists": [{"id": checklist_id, "title": "Defaults that moved", "summary": "s",
                                           "items": [{"check": "Nothing moved in 0.5.10."}]}]}
        lanes.write_text(yaml.safe_dump(data, sort_keys=False))
        return [d.message for d in run_lint(LintContext(Project.load(root)), select=["D523"])
                if d.file == "cards/lanes.yaml" and "the templates write" in d.message]

    assert d523("upgrade-defaults") == []
    found = run_lint(LintContext(Project.load(root)), select=["D514"])  # the notes' link has nowhere to go
    assert d523("upgrade-notes") == [] and found == []
    data["answers"]["release_notes"] = [{"version": "0.5.10", "note": "Nothing moved."}]
    lanes.write_text(yaml.safe_dump(data, sort_keys=False))
    found = [d.message for d in run_lint(LintContext(Project.load(root)), select=["D514"])]
    assert [m for m in found if "no checklist has the id 'upgrade-defaults'" in m], found


@pytest.mark.parametrize(("signame", "word", "code"), [("SIGHUP", "hung up", 129), ("SIGTERM", "terminated", 143)])
def test_a_closed_terminal_ends_a_command_as_ctrl_c_does(signame, word, code):
    """SIGHUP (a terminal closed, an ssh session dropped) ended a command at once with exit 129 and no word, past the
    cleanup SIGINT and SIGTERM get (render's swap and `lint --record`'s locks hold those two back)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    script = ("import os, signal, sys\n"
              "sys.argv = ['dossier', 'schema']\n"
              "import dossier.cli as cli\n"
              "real = cli.app\n"
              f"def stopped(*a, **k): os.kill(os.getpid(), signal.{signame}); real(*a, **k)\n"
              "cli.app = stopped\n"
              "from dossier.main import main\n"
              "main()\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.strip() == word and "Traceback" not in proc.stderr
    from dossier.files import signals_deferred

    assert signal.SIGHUP in signals_deferred.__wrapped__.__defaults__[0]


def test_a_bidirectional_override_is_shown_not_obeyed():
    """`show` and `for-version` sent U+202E of an invalid card's title to the terminal, which then printed the rest of
    the line reversed."""
    from dossier.terminal import one_line, visible

    for ch in ("\u202e", "\u2067", "\u200f", "\u061c"):
        assert visible(f"Fix {ch}decode") == "Fix \ufffddecode"
    assert one_line("a\u202eb\nc") == "a\ufffdb\u240ac"


def test_a_dead_link_only_a_template_writes_is_reported_on_lanes_yaml(tmp_path, monkeypatch):
    """D523 judged only the links written in cards and lanes.yaml: one a template writes went nowhere, lint clean."""
    import dossier.render
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = write_project(tmp_path, [make_card(100)])
    real = dossier.render.render_documents

    def with_a_dead_link(inp):
        docs = real(inp)
        return {**docs, "references/by-release.md": docs["references/by-release.md"]
                + "\nSee the [upgrade block](answers.md#upgrade-defaults).\n"}

    monkeypatch.setattr(dossier.render, "render_documents", with_a_dead_link)
    found = [(d.file, d.message) for d in run_lint(LintContext(Project.load(root)), select=["D523"])]
    assert found == [("cards/lanes.yaml", "references/by-release.md links [upgrade block](answers.md#upgrade-defaults), "
                                          "which the templates write, and it goes nowhere: references/answers.md has no "
                                          "anchor #upgrade-defaults")]


@pytest.mark.parametrize(("value", "said"), [
    ("=", "a bare = is YAML 1.1's value key, not text: put it in quotes ('=')"),
    ("<<", "a bare << is YAML 1.1's merge key, not text: put it in quotes ('<<')"),
])
def test_a_bare_yaml_special_value_is_named_as_written(tmp_path, value, said):
    """`docs: [=]` said "could not determine a constructor for the tag 'tag:yaml.org,2002:value'"."""
    from dossier.cards import read_yaml

    (tmp_path / "a.yaml").write_text(f"pr: 1\nfiles:\n  docs: [{value}]\n")
    assert read_yaml(tmp_path / "a.yaml").read_errors == [("D102", f"malformed YAML: {said}", 3, 10)]


def test_a_key_yaml_reads_as_no_text_keeps_its_place_and_says_so(tmp_path):
    """`on: yes` was reported as "unknown field True" at 1:1: its position was stored under `on`, the schema's path
    under `True`."""
    root = write_project(tmp_path, [make_card(100)])
    card = root / "cards" / "100.yaml"
    lines = card.read_text().count("\n")
    card.write_text(card.read_text() + "on: yes\n")
    found = [d for d in lint(root, select=["D1"]) if "unknown field True" in d.message]
    assert [(d.line, d.col) for d in found] == [(lines + 1, 1)], found
    assert "YAML read the key as no text: put it in quotes" in found[0].message


def test_a_huge_number_is_named_short(tmp_path):
    """A `pr:` of 4,301+ digits (past Python's int-from-text limit) printed all its digits in the D102 line."""
    from dossier.cards import read_yaml

    (tmp_path / "a.yaml").write_text("pr: !!int " + "9" * 5000 + "\n")
    errors = read_yaml(tmp_path / "a.yaml").read_errors
    assert errors and errors[0][0] == "D102" and len(errors[0][1]) < 200 and "(5000 characters)" in errors[0][1]
