"""Bad input, round 18 (session 32's probe of cards and the manual): a code span showed `\\|` outside tables and
folded a match's double spaces, so a reader searching for the shown match found nothing; an HTML character
reference or an invisible mark outside Unicode's format class reached the manual past D112 (and hid made-up names
from the name checks); a file listed twice under `files` was shown twice; a `#NNNN` between a `<` and a `>` of prose
stayed unlinked. Each case failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.render.markdown import code, code_cell, link_prs, plain_pr_mentions
from tests.dossier.factories import unsealed
from tests.dossier.test_manual_questions import SKILL

runner = CliRunner()


def _lint(root: Path, *select: str):
    return runner.invoke(app, ["lint", "--root", str(root), *(a for s in select for a in ("--select", s))])


def _set_motivation(root: Path, text: str) -> None:
    card = root / "cards" / "100.yaml"
    lines = card.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("motivation:"))
    end = next(i for i in range(at + 1, len(lines)) if not lines[i].startswith(" "))
    lines[at:end] = ["motivation: " + '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"']
    card.write_text("\n".join(lines) + "\n")


def _drift_project(tmp_path: Path, model: str) -> tuple[Path, list[str]]:
    """A project of two factory cards and an sglang 0.5.23 package whose qwen3_next.py is ``model``; the drift
    arguments that compare them."""
    from tests.dossier.factories import make_card, sglang_package, write_project

    root = write_project(tmp_path / "p", [make_card(100), make_card(90)])
    tree = sglang_package(tmp_path / "s", {"version.py": '__version__ = "0.5.23"\n',
                                           "srt/models/qwen3_next.py": model})
    return root, ["drift", "--sglang-src", str(tree), "--root", str(root)]


def test_a_code_span_shows_its_text_as_written_outside_a_table_and_escapes_pipes_only_in_one():
    match = "mamba_steps_to_track,  # [B] int  crossing | step"
    assert code(match) == f"`{match}`"
    assert code_cell(match) == "`mamba_steps_to_track,  # [B] int  crossing \\| step`"
    assert code("a\nb") == "`a b`" and code("`x`") == "`` `x` ``" and code(" x ") == "`  x  `"


def test_no_code_span_of_the_manual_outside_a_table_holds_an_escaped_pipe():
    """findings.md showed `flushed = flushed \\| (replayssm_force_flush != 0)`: CommonMark keeps the backslash."""
    spans = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
    bad = [(page.name, line[:80]) for page in SKILL.rglob("*.md") for line in page.read_text().splitlines()
           if not line.lstrip().startswith("|") and any("\\|" in m[2] for m in spans.finditer(line))]
    assert not bad, bad
    assert "`flushed = flushed | (replayssm_force_flush != 0)`" in (SKILL / "references" / "findings.md").read_text()


def test_every_key_fragment_match_is_shown_character_for_character():
    """#32692's match has two double spaces; the manual folded them, and the shown string is in no SGLang file."""
    from dossier.project import Project

    history = (SKILL / "references" / "pr-history.md").read_text()
    cards = Project.load(Path(__file__).resolve().parents[2]).cards
    assert any("  " in c.key_fragment.match for c in cards)
    missing = [c.pr for c in cards if f"matching {code(c.key_fragment.match)}" not in history]
    assert not missing, missing


@pytest.mark.parametrize("text", ["The class shows as &#x202E;lamron&#x202C; in logs.", "A gap&#8203;here.",
                                  "A space&nbsp;here."])
def test_an_html_character_reference_is_a_d112_error(project_dir, text):
    _set_motivation(project_dir, text)
    result = _lint(project_dir, "D112")
    assert result.exit_code == 1 and "is an HTML character reference" in result.output, result.output
    render = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert render.exit_code == 1 and "D112" in render.output


def test_a_character_reference_is_not_cited_as_a_pr(project_dir):
    _set_motivation(project_dir, "The widget needs the gap &#8203; fixed and more words to be long enough.")
    assert "#8203" not in _lint(project_dir, "D510").output


@pytest.mark.parametrize("mark", ["\u034f", "\ufe0f", "\ufe00", "\u2800", "\u17b4", "\U000e0100"])
def test_an_invisible_mark_outside_the_format_class_is_a_d112_error(project_dir, mark):
    """pick\u034f_norm_selector passed D112 and, no longer one word, D621's made-up name check."""
    _set_motivation(project_dir, f"The model builds its norm through pick{mark}_norm_selector now, said the author.")
    result = _lint(project_dir, "D112")
    assert result.exit_code == 1 and f"U+{ord(mark):04X}" in result.output, result.output


def test_a_file_listed_twice_under_files_is_refused(project_dir):
    card = project_dir / "cards" / "100.yaml"
    text = card.read_text()
    first = re.search(r"  runtime:\n(  - .+\n)", text)
    assert first, text
    card.write_text(text.replace(first[0], first[0] + first[1], 1))
    result = _lint(project_dir)
    assert result.exit_code == 1 and "files.runtime[1]" in result.output and "is also files.runtime[0]" in result.output


@pytest.mark.parametrize("text", ["When fewer than 1 < 2 layers use it (#10233 > none), it is wrong.",
                                  "For batch sizes <= 8 the follow-up #10233 kept the norm (0.94 -> 0.95)."])
def test_a_pr_between_a_less_than_and_a_greater_than_of_prose_is_linked(text):
    assert "[#10233](#pr-10233)" in link_prs(text, lambda n, issue=False: f"#pr-{n}")
    assert plain_pr_mentions(text) == ["10233"]


def test_html_and_autolinks_still_keep_their_numbers():
    for text in ("<a href='x#10233'>x</a>", "<https://github.com/o/r/pull/10233#issuecomment-1>"):
        assert link_prs(text, lambda n, issue=False: f"#pr-{n}") == text


def test_drift_record_refuses_a_tree_older_than_the_release_the_lock_records(tmp_path):
    """`drift --record --sglang-src <0.5.10 tree>` wrote sglang: "0.5.10" over 0.5.23's lock: render then dated
    pr-history and by-file to 0.5.10 while the other pages spoke of 0.5.23, and lint said nothing."""
    from dossier.drift import older_than_recorded, write_lock
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card, sglang_package, write_project

    root = write_project(tmp_path / "p", [make_card(100)])
    new = sglang_package(tmp_path / "new", {"version.py": '__version__ = "0.5.23"\n'})
    old = sglang_package(tmp_path / "old", {"version.py": '__version__ = "0.5.10"\n'})
    write_lock(root, [], SourceTree.at(new))
    lock = (root / "cards" / "drift.lock").read_bytes()
    why = older_than_recorded(root, SourceTree.at(old))
    assert why and "records SGLang 0.5.23; recording 0.5.10 over it" in why
    assert older_than_recorded(root, SourceTree.at(new)) is None
    result = runner.invoke(app, ["drift", "--record", "--sglang-src", str(old), "--root", str(root)])
    assert result.exit_code == 2 and "records SGLang 0.5.23" in result.output
    assert (root / "cards" / "drift.lock").read_bytes() == lock


def test_drift_names_a_lock_that_records_this_release_otherwise_than_it_finds(tmp_path):
    """A drift.lock line edited by hand (line 120 -> 99999) reached pr-history ('line 99999'), and `dossier drift`
    printed line 120 and exited 0: nothing compared the two."""
    from tests.dossier.factories import sglang_package

    root, args = _drift_project(tmp_path, "x = 1\nself.in_proj_qkvzba = MergedColumnParallelLinear(\n")
    assert runner.invoke(app, [*args, "--record"]).exit_code == 0
    assert runner.invoke(app, args).exit_code == 0  # a lock of this run: nothing to say
    lock = root / "cards" / "drift.lock"
    assert "lines: [2]" in lock.read_text()
    lock.write_text(lock.read_text().replace("lines: [2]", "lines: [99999]", 1))
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "cards/drift.lock records SGLang 0.5.23 otherwise for #" in result.output
    assert "`dossier drift --record` records this run" in result.output
    other = sglang_package(tmp_path / "t", {"version.py": '__version__ = "0.5.24"\n',
                                            "srt/models/qwen3_next.py": "self.in_proj_qkvzba = "
                                                                        "MergedColumnParallelLinear(\n"})
    newer = runner.invoke(app, ["drift", "--sglang-src", str(other), "--root", str(root)])
    # another release: not the lock's to compare; but the lock no longer holds what drift --record sealed
    assert newer.exit_code == 1 and "otherwise" not in newer.output and "edited by hand" in newer.output
    lock.write_text(unsealed(lock.read_text()))  # a lock written before seals: another release's run judges nothing
    newer = runner.invoke(app, ["drift", "--sglang-src", str(other), "--root", str(root)])
    assert newer.exit_code == 0 and "otherwise" not in newer.output


def test_for_version_shows_each_title_whole(tmp_path):
    """Titles were cut at 72 characters with no mark: '#21861 ... and default to Flas' lost 'FlashInfer on SM100+'."""
    root = Path(__file__).resolve().parents[2]
    result = runner.invoke(app, ["for-version", "0.5.10", "--root", str(root), "--cache-dir", str(tmp_path)])
    assert "default to FlashInfer on SM100+  [gdn-kernels;" in result.stdout, result.output[-500:]


def test_closed_choice_options_show_their_choices_and_take_any_case():
    """--device, --source and --state showed `<str>` though each takes a fixed set; --device CPU was refused."""
    root = Path(__file__).resolve().parents[2]
    assert "--device <cuda|cpu|auto>" in runner.invoke(app, ["regress", "--help"]).output
    assert "--source <github|git>" in runner.invoke(app, ["fetch", "--help"]).output
    assert "--state <merged|open|closed>" in " ".join(runner.invoke(app, ["new", "--help"]).output.split())
    assert runner.invoke(app, ["regress", "--list", "--device", "CPU", "--root", str(root)]).exit_code == 0


def test_the_spinner_line_fits_a_terminal_narrower_than_the_layout(monkeypatch):
    """On a 40-column terminal drift's spinner drew 'checking 197 card(s) against SGLang 0.5.23 (package /work/...'
    cut at 80 columns: each redraw wrapped to two rows and `\\r\\e[2K` cleared one, leaving stale rows."""
    import io
    import re as _re

    from rich.console import Console

    from dossier import cli

    buf = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=buf, force_terminal=True, width=80))
    monkeypatch.setenv("COLUMNS", "40")
    what = "checking 197 card(s) against SGLang 0.5.23 (package /work/venv/lib/python3.11/site-packages/sglang)"
    with cli.working(what):
        pass
    text = _re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    lines = [line for chunk in text.split("\r") for line in chunk.split("\n") if line.strip()]
    assert lines and all(len(line) <= 40 for line in lines), lines
    assert any("checking 197 card(s)" in line for line in lines)


def test_releases_surface_names_what_the_lock_records_otherwise():
    """A surface.lock edited by hand (--mamba-ssm-dtype from 0.5.1, its default bfloat16) drew only 'cards/surface.lock
    differs from the releases': a reader had 2,553 names to search for the one that differs."""
    from dossier.surface_history import Span, SurfaceHistory

    read = SurfaceHistory(["0.5.1", "0.5.2"], {"--mamba-ssm-dtype": Span("0.5.2", "0.5.2"), "--tp": Span("0.5.1", "0.5.2")},
                          {"SGLANG_X": Span("0.5.1", "0.5.1")}, {"--mamba-ssm-dtype": "None"})
    held = SurfaceHistory(["0.5.1", "0.5.2"], {"--mamba-ssm-dtype": Span("0.5.1", "0.5.2"), "--tp": Span("0.5.1", "0.5.2")},
                          {}, {"--mamba-ssm-dtype": "bfloat16"})
    assert held.differences(read) == ["--mamba-ssm-dtype (flags: 0.5.1..0.5.2 -> 0.5.2)",
                                      "SGLANG_X (env: absent -> 0.5.1)",
                                      "--mamba-ssm-dtype (defaults: bfloat16 -> None)"]
    assert read.differences(read) == []


def test_a_pr_inside_an_escaped_angle_bracket_of_prose_is_linked():
    from dossier.render.markdown import prose

    assert "[#12345](#pr-12345)" in link_prs(prose("a <model path #12345> b"), lambda n, issue=False: f"#pr-{n}")


def test_a_reference_shown_as_written_is_no_d112_error(project_dir):
    """A title escapes `&` for its cell, a code span and a key fragment's match show text as written: `&amp;`,
    `&lt;think&gt;` there are what the reader sees, not characters markdown decodes."""
    card = project_dir / "cards" / "100.yaml"
    text = card.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    card.write_text(text.replace(title, 'title: "Offloading &amp; the widget"'))
    _set_motivation(project_dir, "The reasoning parser keeps `&lt;think&gt;` blocks out of the widget's output now.")
    assert "D112" not in _lint(project_dir, "D112").output


def test_d112_reads_code_spans_as_the_renderer_does_among_many_backtick_runs():
    """D112 looked for code spans with a pattern of its own, tried at every tick of a run: 400 backtick runs of
    distinct lengths (81 KB, under the card limit) took 64 s, 60,000 ticks in a row 44 s. It now reads them with the
    renderer's pattern: a reference inside a span is shown as written, one outside it is still decoded."""
    from dossier.lint.schema import _decoded_reference

    runs = " a ".join("`" * n for n in range(1, 400))
    assert _decoded_reference("motivation", f"{runs} &amp; b") is not None
    assert _decoded_reference("motivation", "x " + "`" * 60000 + " &amp;") is not None
    assert _decoded_reference("motivation", "a `&amp;\nb` c") is None  # a span across a line break, as YAML keeps it


def test_the_spinner_measures_stderr_not_stdout(monkeypatch):
    """`drift --format json > x.json` on a 40-column terminal: stdout is a file, so its width read 80."""
    import os
    import sys

    from dossier import cli

    class Stderr:
        def fileno(self) -> int:
            return 2

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stderr", Stderr())
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((40 if fd == 2 else 200, 24)))
    assert cli._stderr_columns() == 40


def test_surface_names_a_default_the_lock_holds_as_none_and_the_release_lacks():
    from dossier.surface_history import SurfaceHistory

    held = SurfaceHistory(["0.5.1"], {}, {}, {"--admin-api-key": "None"})
    assert held.differences(SurfaceHistory(["0.5.1"], {}, {}, {})) == ["--admin-api-key (defaults: None -> absent)"]


def test_drift_takes_a_lock_entry_without_its_optional_keys_as_its_readers_do(tmp_path):
    """An entry without `removal: false` is the same verdict to lint and render; drift called it different."""
    root, args = _drift_project(tmp_path, "self.in_proj_qkvzba = MergedColumnParallelLinear(\n")
    assert runner.invoke(app, [*args, "--record"]).exit_code == 0
    lock = root / "cards" / "drift.lock"
    assert "removal: false" in lock.read_text()
    lock.write_text(unsealed(lock.read_text()).replace("    removal: false\n", ""))  # as a lock before seals
    assert runner.invoke(app, args).exit_code == 0


def test_drift_record_takes_a_local_build_of_the_recorded_release_as_that_release(tmp_path):
    from dossier.drift import older_than_recorded, write_lock
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card, sglang_package, write_project

    root = write_project(tmp_path / "p", [make_card(100)])
    local = sglang_package(tmp_path / "l", {"version.py": '__version__ = "0.5.23+cu128"\n'})
    plain = sglang_package(tmp_path / "n", {"version.py": '__version__ = "0.5.23"\n'})
    write_lock(root, [], SourceTree.at(local))
    assert older_than_recorded(root, SourceTree.at(plain)) is None
