"""Bad input, round 16: a standard output that refuses writes (`> /dev/full`) ended with `error: [Errno 28] No space
left on device`, naming nothing, and `--help > /dev/full` ended in a traceback; a release cache holding another build
of a recorded release changed `releases verify`'s verdicts without a word. Each case failed before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")


def _run_into_full(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with FULL.open("w") as full:
        return subprocess.run([sys.executable, "-m", "dossier", *args], cwd=cwd, env=env, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)


@needs_dev_full
@pytest.mark.parametrize("args", [["--help"], ["lint", "--help"], ["schema"]])
def test_a_full_standard_output_is_named_in_one_error_line(tmp_path, args):
    result = _run_into_full(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: standard output: No space left on device"), result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@needs_dev_full
def test_a_full_standard_output_fails_lint_with_findings_instead_of_passing(project_dir):
    """Lint's diagnostics are its answer: written nowhere, the run must not end as if they had been read."""
    card = project_dir / "cards" / "100.yaml"
    card.write_text(card.read_text().replace("motivation:", "motivation_typo:", 1))
    result = _run_into_full("lint", "--select", "D1", "--root", str(project_dir), cwd=project_dir)  # the schema's finding
    assert result.returncode == 2, result.stderr
    assert "error: standard output:" in result.stderr


def test_verify_names_a_release_the_cache_holds_in_another_build(tmp_path, monkeypatch):
    """A cache synced from another wheel of a release (another build date) moved shipped-in releases and date
    findings with no word on why the verdicts differed from the recorded ones."""
    import json

    from tests.dossier.test_release_evidence import RELEASES, verify, write_project, write_release

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775001600")
    cache = tmp_path / "releases"
    for version, built, files in RELEASES:
        write_release(cache, version, built, files)
    root = write_project(tmp_path / "proj", [])
    assert verify(root, cache, "--record").exit_code == 0
    version, built, _ = RELEASES[1]
    meta = cache / version / "release.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "built": "2027-01-01"}))
    for args in ([], ["--record"]):
        result = verify(root, cache, *args)
        assert f"{version} built 2027-01-01 (the lock: {built})" in result.output, result.output
    assert f"{version} built" not in verify(root, cache).output  # recorded: the lock has the cache's dates now


def _links(text: str) -> int:
    import re

    return len(re.findall(r"\]\((?:pr-history\.md)?#pr-\d+\)", text))


@pytest.mark.parametrize("damage", ["prose", "path"])
def test_one_stray_backtick_costs_no_other_cards_links(tmp_path, damage):
    """A stray backtick in one card's prose, or a path with one, opened a code span that the page's next backtick
    closed: every PR mention between lost its link (pr-history 660 -> 561, by-file 519 -> 2) and render exited 0."""
    from dossier.project import Project
    from dossier.render import RenderInput, render_documents
    from tests.dossier.factories import make_card, write_project

    def cards(stray: bool) -> list[dict]:
        out = []
        for pr in (1001, 1002, 1003):
            card = make_card(pr)
            card["implementation"] += f" It follows #{pr - 1} and precedes #{pr + 1}."
            out.append(card)
        if stray and damage == "prose":
            out[0]["implementation"] = "A stray ` backtick. " + out[0]["implementation"]
        elif stray:
            out[0]["files"]["runtime"].append("`python/sglang/srt/odd.py")
        return out

    clean = render_documents(RenderInput(Project.load(write_project(tmp_path / "a", cards(False)))))
    damaged = render_documents(RenderInput(Project.load(write_project(tmp_path / "b", cards(True)))))
    for page in ("references/pr-history.md", "references/by-file.md"):
        assert _links(damaged[page]) >= _links(clean[page]) > 0, page  # the odd path adds its own entry
    assert "A stray \\` backtick" in damaged["references/pr-history.md"] or damage == "path"


def test_unpaired_backtick_runs_are_escaped_as_commonmark_pairs_them():
    from dossier.render.markdown import _unpaired_ticks_escaped as esc

    assert esc("a ` b") == "a \\` b"
    assert esc("`x` and ``y`` and `") == "`x` and ``y`` and \\`"
    assert esc("``a`b``") == "``a`b``"  # a shorter run inside a span is its text
    assert esc("`` a ` b") == "\\`\\` a \\` b"


@pytest.mark.parametrize("escape", ["\\udcff", "\\ud800", "\\ue000", "\\ufdd0", "\\U0010FFFF"])
def test_a_surrogate_private_or_noncharacter_escape_is_a_d112_error_and_render_refuses(project_dir, escape):
    """A YAML escape such as "\\udcff" passed lint; render then crashed ('internal error: UnicodeEncodeError')
    writing it, and private-use or noncharacter code points reached the manual."""
    from typer.testing import CliRunner

    from dossier.cli import app

    card = project_dir / "cards" / "100.yaml"
    text = card.read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    card.write_text(text.replace(title, f'title: "Fuse the {escape} widget"'))
    lint = CliRunner().invoke(app, ["lint", "--root", str(project_dir), "--select", "D112"])
    assert lint.exit_code == 1 and "D112 U+" in lint.output, lint.output
    render = CliRunner().invoke(app, ["render", "--root", str(project_dir)])
    assert render.exit_code == 1 and "internal error" not in render.output and "D112" in render.output


def test_new_refuses_a_title_with_a_byte_that_is_not_utf8(project_dir):
    result = _run_cli(project_dir, "new", "555", "--title", "bad\udcffbyte", "--state", "open")
    assert result.returncode == 2 and "not UTF-8 (0xFF at position 4" in result.stderr, result.stderr
    assert not (project_dir / "cards" / "555.yaml").exists()


def _run_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "dossier", *args, "--root", str(root)], env=env, text=True,
                          capture_output=True, timeout=300, errors="surrogateescape")


def test_a_full_disk_while_render_copies_the_skill_is_one_line_naming_the_file(project_dir, monkeypatch):
    """copytree folds its failures into one shutil.Error, whose list of (source, target, message) tuples was the
    whole error line."""
    import shutil

    from typer.testing import CliRunner

    from dossier.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    card = project_dir / "cards" / "100.yaml"
    card.write_text(card.read_text().replace("motivation: ", "motivation: Changed. ", 1))
    before = {p: p.read_bytes() for p in (project_dir / "skills").rglob("*") if p.is_file()}

    def full(src, dst, **kw):
        raise shutil.Error([(f"{src}/SKILL.md", f"{dst}/SKILL.md", f"[Errno 28] No space left on device: '{dst}'")])

    monkeypatch.setattr(shutil, "copytree", full)
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 2, result.output
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("error: ") and line.endswith("SKILL.md: No space left on device (nothing was replaced: "
                                                        "free space and run again)"), line
    assert "[(" not in result.output and ".new" not in line
    assert before == {p: p.read_bytes() for p in (project_dir / "skills").rglob("*") if p.is_file()}


@pytest.mark.parametrize("broken", ["{% if %}\n", "{{ f.nosuch.x }}\n"])
def test_a_broken_template_is_named_with_its_line_not_blamed_on_the_cards(project_dir, monkeypatch, broken):
    """A template error read 'cards:1:1: D000 rule D523 crashed', exit 1, as if a card were wrong."""
    import jinja2
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.render import documents

    real = documents._env()
    loader = jinja2.DictLoader({"findings.md.j2": "# Findings\n" + broken.replace("f.", "findings.")})
    env = real.overlay(loader=jinja2.ChoiceLoader([loader, real.loader]))
    monkeypatch.setattr(documents, "_env", lambda: env)
    result = CliRunner().invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 2, result.output
    assert "error: dossier/render/templates/findings.md.j2:2: " in result.output, result.output
    assert "D000" not in result.output


def test_lint_stops_on_what_the_cards_cannot_be_blamed_for(project_dir, monkeypatch):
    """A rule meeting a broken template (D523 renders the manual) reported it as the cards' D000, exit 1."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.lint import registry
    from dossier.render.documents import BrokenTemplate

    def broken(*args):
        raise BrokenTemplate("dossier/render/templates/x.md.j2:3: TemplateSyntaxError: boom")

    rule = registry.RULES["D523"]
    monkeypatch.setitem(registry.RULES, "D523", type(rule)(**{**rule.__dict__, "check": broken}))
    result = CliRunner().invoke(app, ["lint", "--root", str(project_dir)])
    assert result.exit_code == 2 and "error: dossier/render/templates/x.md.j2:3" in result.output, result.output
    assert "D000" not in result.output


def test_a_claim_that_opens_like_a_task_box_keeps_its_text(tmp_path):
    """'- [x] ...' is a checkbox on GitHub: the claim's opening text was drawn as a box."""
    from dossier.project import Project
    from dossier.render import RenderInput, render_documents
    from tests.dossier.factories import make_card, write_project

    card = make_card(1001)
    card["validation"]["claims"] = ["[x] TTFT -2.6% (PR description; device not stated)",
                                    "[ ] GSM8K unchanged (PR description)"]
    history = render_documents(RenderInput(Project.load(write_project(tmp_path, [card]))))["references/pr-history.md"]
    assert "- \\[x] TTFT -2.6%" in history and "- \\[ ] GSM8K unchanged" in history


def test_schema_output_dash_is_standard_output(tmp_path, monkeypatch):
    """`-o -` wrote a file named '-' in the working directory and printed nothing."""
    from typer.testing import CliRunner

    from dossier.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["schema", "-o", "-"])
    assert result.exit_code == 0 and result.output.startswith("{") and not (tmp_path / "-").exists()


def test_for_version_says_when_the_releases_around_a_fix_are_not_synced(tmp_path, monkeypatch):
    """With only the asked version's sources in the cache, each fix was judged by its file alone and the answer
    differed from a full cache's (17 exposed against 13 and 3 unsure) with no word why."""
    import shutil

    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.test_release_evidence import released_project, verify

    root, cache = released_project(tmp_path, monkeypatch)
    verify(root, cache, "--record")
    runner = CliRunner()
    full = runner.invoke(app, ["for-version", "0.2.0", "--cache-dir", str(cache), "--root", str(root)])
    assert full.exit_code == 0 and "judged by their file alone" not in full.output, full.output
    partial = tmp_path / "partial"
    shutil.copytree(cache / "0.2.0", partial / "0.2.0")
    result = runner.invoke(app, ["for-version", "0.2.0", "--cache-dir", str(partial), "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "need SGLang 0.3.0, not in the release cache" in result.output
    assert "judged by their file alone" in result.output and "--from 0.3.0 --to 0.3.0" in result.output


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_a_line_break_only_yaml_sees_is_named_where_an_editor_shows_it(tmp_path, char):
    """YAML breaks lines at U+2028, U+2029 and U+0085: a card holding one got 'D102 could not find expected :'
    five lines below, and every later position shifted."""
    from dossier.cards import read_yaml

    path = tmp_path / "100.yaml"
    path.write_text(f"pr: 100\ntitle: Fuse the widget\nmotivation: >-\n  It stacks{char}Gated DeltaNet.\nstate: merged\n",
                    encoding="utf-8")
    errors = read_yaml(path).read_errors
    assert [(code, line, col) for code, _, line, col in errors] == [("D102", 4, 12)], errors
    assert f"U+{ord(char):04X}" in errors[0][1] and "line break" in errors[0][1]


@pytest.mark.parametrize("version", ["2", "null", "'1'", "true"])
def test_opened_lock_of_another_version_is_refused_like_the_other_locks(tmp_path, version):
    from dossier.opened import OpenedError, read_anchors

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "opened.lock").write_text(
        f"version: {version}\nopened:\n  100: {{opened: 2026-01-02, source: 'https://example.org/t'}}\nanchors: 1\n")
    with pytest.raises(OpenedError, match="expected version: 1"):
        read_anchors(tmp_path)
