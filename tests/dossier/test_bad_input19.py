"""Bad input from session 33's CLI probe: what a project's own configuration or cards can do to the manual."""

from __future__ import annotations

import pytest
import yaml

from tests.dossier.factories import make_card, write_project
from tests.dossier.test_render import render


def test_a_configured_skill_description_stays_one_yaml_value_whatever_it_holds(tmp_path):
    """The description went into SKILL.md's front matter as written: a ': ' made the header invalid YAML, ' #' cut it
    short as a comment, a new line added a key that replaced the skill's name, and `#19321` became a link."""
    description = 'Manual: use for #19321-style bugs, GDN kernels #1 and loaders\nname: evil-override'
    config = f'\n[tool.dossier.skill]\ndescription = """{description}"""\n'
    skill = render(write_project(tmp_path, [make_card(7)], config=config))["SKILL.md"]
    header = yaml.safe_load(skill.split("---\n")[1])
    assert header == {"name": "sglang-qwen3-next-optimization", "description": description}
    assert "](" not in skill.split("---\n")[1]


def test_code_written_in_card_prose_does_not_render_as_emphasis(tmp_path):
    """`Qwen3GatedDeltaNet.__init__` showed as "Qwen3GatedDeltaNet.**init**" and `[B, 2*H*K + HV*V]` lost its
    asterisks: cards write code in prose, never emphasis. Code spans, links and URLs stay as written."""
    from markdown_it import MarkdownIt

    card = make_card(7)
    text = ("Qwen3GatedDeltaNet.__init__ builds mixed_qkv [B, 2*H*K + HV*V] and __post_init__ reads *_scale "
            "(*args, **kwargs); `__init__` and [init](https://example.com/__init__.py) stay as written.")
    card["implementation"] += " " + text
    history = render(write_project(tmp_path, [card]))["references/pr-history.md"]
    html = MarkdownIt("commonmark").render(history)
    paragraph = next(p for p in html.split("<p>") if p.startswith("<strong>Implementation.</strong>"))
    assert "<em>" not in paragraph and paragraph.count("<strong>") == 1
    assert "Qwen3GatedDeltaNet.__init__ builds mixed_qkv [B, 2*H*K + HV*V] and __post_init__ reads *_scale" in html
    assert "(*args, **kwargs); <code>__init__</code>" in html
    assert '<a href="https://example.com/__init__.py">init</a>' in html


@pytest.mark.parametrize(("block", "anchor"), [("checklists", "mtp-verify-path"), ("checklists", "gdn-backends"),
                                               ("errors", "by-message")])
def test_a_checklist_or_error_id_that_is_a_built_in_anchor_is_refused(tmp_path, block, anchor):
    """A checklist with id mtp-verify-path passed lint; answers.md then held two such anchors and SKILL.md's "Where
    MTP / NEXTN target verify runs" row linked with the checklist's title."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.factories import LANES

    item = {"check": "A check."} if block == "checklists" else {"messages": ["boom"], "check": "A check."}
    answers = {block: [{"id": anchor, "title": "Shadow", "summary": "s", "items": [item]}]}
    root = write_project(tmp_path, [make_card(7)], lanes={**LANES, "answers": answers})
    result = CliRunner().invoke(app, ["lint", "--root", str(root), "--select", "D108"])
    assert result.exit_code == 1
    assert f"{anchor!r} is an anchor the page already has" in " ".join(result.output.split())


def test_drift_json_names_what_the_lock_records_otherwise(tmp_path):
    """`drift --format json` exited 1 with every card `"problem": false`: the reason (a lock that records this
    release otherwise) went to stderr only, so a tool reading the JSON saw no cause."""
    import json

    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.test_bad_input18 import _drift_project

    runner = CliRunner()
    root, args = _drift_project(tmp_path, "x = 1\nself.in_proj_qkvzba = MergedColumnParallelLinear(\n")
    assert runner.invoke(app, [*args, "--record"]).exit_code == 0
    clean = runner.invoke(app, [*args, "--format", "json"])
    assert clean.exit_code == 0 and json.loads(clean.stdout)["lock_records_otherwise"] == []
    lock = root / "cards" / "drift.lock"
    lock.write_text(lock.read_text().replace("lines: [2]", "lines: [99999]", 1))
    stale = runner.invoke(app, [*args, "--format", "json"])
    data = json.loads(stale.stdout)
    assert stale.exit_code == 1 and not any(c["problem"] for c in data["cards"])
    assert data["lock_records_otherwise"] and data["lock_records_otherwise"][0].startswith("#")


@pytest.mark.parametrize("stored", ['{"pr": 7,', "ANOTHER"])
def test_lint_reports_a_gpu_result_render_cannot_read(tmp_path, stored):
    """`lint` passed while `render --check` stopped (exit 2) on results/cuda/<pr>.json cut short or holding another
    card's run: lint now reports what stops render (D525, a render guard)."""
    import json

    from typer.testing import CliRunner

    from dossier.cli import app

    card = make_card(7)
    card["runtime"] = {"reference": "runtime.gdn.decode", "tests": ["tests/runtime/gdn/test_gdn_decode.py"],
                       "bench": "runtime.gdn.bench"}
    root = write_project(tmp_path, [card])
    (root / "results" / "cuda").mkdir(parents=True)
    text = stored if stored != "ANOTHER" else json.dumps(
        {"pr": 8, "device": {"name": "H200"}, "date": "2026-12-01", "ok": True, "passed": 1, "failed": 0,
         "parity": {}, "bench": {}})
    (root / "results" / "cuda" / "7.json").write_text(text)
    runner = CliRunner()
    linted = runner.invoke(app, ["lint", "--root", str(root), "--select", "D525"])
    assert linted.exit_code == 1 and "D525" in linted.output and "7.json" in linted.output
    rendered = runner.invoke(app, ["render", "--check", "--root", str(root)])
    assert rendered.exit_code == 2 and "7.json" in rendered.output  # render's own refusal, as before


@pytest.mark.parametrize("given", ["#7", "7", " #7 "])
def test_show_takes_a_pr_as_the_manual_writes_it(tmp_path, given):
    """`dossier show "#19321"`, copied from the manual, failed with "unable to parse string as an integer"."""
    from typer.testing import CliRunner

    from dossier.cli import app

    root = write_project(tmp_path, [make_card(7)])
    result = CliRunner().invoke(app, ["show", given, "--root", str(root)])
    assert result.exit_code == 0 and "cards/7.yaml" in result.output


@pytest.mark.parametrize("given", ["7.0", "##7", "0", "x7"])
def test_a_pr_number_in_another_form_is_refused_naming_it(tmp_path, given):
    from typer.testing import CliRunner

    from dossier.cli import app

    root = write_project(tmp_path, [make_card(7)])
    result = CliRunner().invoke(app, ["show", given, "--root", str(root)])
    assert result.exit_code == 2 and f"{given!r} is not a PR number" in result.output


def test_jobs_with_import_is_refused(tmp_path):
    """`fetch N --import F --jobs 8` was accepted and --jobs did nothing."""
    from typer.testing import CliRunner

    from dossier.cli import app

    runner = CliRunner()
    root = write_project(tmp_path, [make_card(7)])
    diff = tmp_path / "7.diff"
    diff.write_text("diff --git a/x.py b/x.py\n")
    fetched = runner.invoke(app, ["fetch", "7", "--import", str(diff), "--jobs", "8", "--root", str(root)])
    assert fetched.exit_code == 2 and "--jobs (concurrent fetches) would be ignored" in fetched.output


def test_surface_record_writes_both_locks_after_reading_every_release(tmp_path, monkeypatch):
    """An interrupt during `releases surface --record`'s second step (the cards' code names, ~40 s with no progress
    off a terminal) left surface.lock new and names.lock old: both are now read first and written together."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.lint import code_names
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    for version, built in (("0.1.0", "2026-01-05"), ("0.2.0", "2026-02-05")):
        write_release(cache, version, built, {"srt/server_args.py": "parser.add_argument('--widget')\n"})
    root = write_project(tmp_path / "p", [make_card(7)])

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(code_names, "names_of_releases", interrupted)
    result = CliRunner().invoke(app, ["releases", "surface", "--record", "--cache-dir", str(cache), "--root",
                                      str(root)])
    assert result.exit_code == 130
    assert not (root / "cards" / "surface.lock").exists() and not (root / "cards" / "names.lock").exists()
    monkeypatch.undo()
    result = CliRunner().invoke(app, ["releases", "surface", "--record", "--cache-dir", str(cache), "--root",
                                      str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "cards" / "surface.lock").is_file() and (root / "cards" / "names.lock").is_file()
    assert "read SGLang 0.2.0 for the cards' code names" in result.output


def _where(path, needle: str) -> str:
    """"line:col" of the first ``needle`` in the file."""
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return f"{i}:{line.index(needle) + 1}"
    raise AssertionError(needle)


@pytest.mark.parametrize(("code", "inserted", "needle"), [("D112", "zero\u200bwidth", "\u200b"),
                                                           ("D235", "decode is 1.4x faster on A100", "1.4x")])
def test_a_finding_inside_prose_points_at_the_text_not_the_field(tmp_path, code, inserted, needle):
    """D235 was reported at the `motivation:` key (8:13) for a figure on line 15, and D112 at the field with "at
    character 2526", an offset into the joined text that matches no column of the file."""
    from typer.testing import CliRunner

    from dossier.cli import app

    card = make_card(7)
    words = card["motivation"].split()
    card["motivation"] = " ".join([*words[:40], inserted, *words[40:]])
    root = write_project(tmp_path, [card])
    path = root / "cards" / "7.yaml"
    path.write_text(yaml.safe_dump(card, sort_keys=False, allow_unicode=True))  # the character as typed
    out = CliRunner().invoke(app, ["lint", "--root", str(root), "--select", code]).output
    assert f"cards/7.yaml:{_where(path, needle)}: {code}" in out, out


def test_a_figure_folded_over_two_lines_is_located_where_it_starts(tmp_path):
    """"The wrapper cost 7.5" at one line's end and "GB ..." on the next: D235 pointed at another sentence's 7.5 GB."""
    from dossier.cards import read_yaml
    from dossier.lint.claims import _locate

    path = tmp_path / "7.yaml"
    path.write_text("pr: 7\nmotivation: >-\n  The wrapper cost 7.5\n  GB of memory at startup. Without it the server "
                    "used 7.5 GB less.\n")
    doc = read_yaml(path)
    assert _locate(doc, "motivation", "7.5 GB", 0) == (3, 20)
    assert _locate(doc, "motivation", "7.5 GB", 1) == (4, 55)
    assert _locate(doc, "motivation", "9.9 GB", 0) == doc.where("motivation#value")  # not there: the value's place


@pytest.mark.parametrize("description", ["Manual\u0085 GDN \u007f kernels", "a\u2028b\ufeff", "caf\u00e9 \u2014 ok"])
def test_a_description_with_characters_yaml_refuses_or_folds_stays_valid(tmp_path, description):
    """DEL and C1 controls made the header invalid YAML; NEL and U+2028 read back as a space: they are escaped."""
    import json

    config = f"\n[tool.dossier.skill]\ndescription = {json.dumps(description)}\n"  # TOML takes JSON's escapes
    skill = render(write_project(tmp_path, [make_card(7)], config=config))["SKILL.md"]
    assert yaml.safe_load(skill.split("---\n")[1])["description"] == description


def test_a_links_text_is_escaped_as_prose_and_its_target_kept():
    from markdown_it import MarkdownIt

    from dossier.render.markdown import prose

    html = MarkdownIt("commonmark").renderInline(prose("[Qwen3GatedDeltaNet.__init__](https://x.org/a__b_) and "
                                                       "<dtype_name:*fp32*>"))
    assert html.startswith('<a href="https://x.org/a__b_">Qwen3GatedDeltaNet.__init__</a>')
    assert "<em>" not in html and "*fp32*" in html


@pytest.mark.parametrize("given", ["\u0661\u0669\u0663\u0662\u0661", "\uff11\uff19\uff13\uff12\uff11"])
def test_a_pr_number_in_other_digits_is_refused(tmp_path, given):
    """'١٩٣٢١' (Arabic-Indic) and '１９３２１' (fullwidth) opened card 19321: a PR number is ASCII digits."""
    from typer.testing import CliRunner

    from dossier.cli import app

    root = write_project(tmp_path, [make_card(19321)])
    result = CliRunner().invoke(app, ["show", given, "--root", str(root)])
    assert result.exit_code == 2 and "is not a PR number" in result.output


def test_prose_that_renders_no_emphasis_stays_as_written():
    """Escaping every word-edge underscore wrote `\\_make_packed_weight_loader` into the raw pages an agent greps:
    only prose CommonMark would render with emphasis is escaped."""
    from dossier.render.markdown import prose

    plain = "_make_packed_weight_loader slices the checkpoint; x * w stays; a_b and mtp.* too."
    assert prose(plain) == plain
    assert prose("Qwen3GatedDeltaNet.__init__ builds it") == "Qwen3GatedDeltaNet.\\_\\_init\\_\\_ builds it"
