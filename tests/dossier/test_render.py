"""Render: deterministic output, escaping that keeps tables intact, --check, and a valid skill file."""

from __future__ import annotations

import re

import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.project import Project
from dossier.render import RenderInput, render_documents, stale_documents, write_documents
from tests.dossier.factories import make_card, write_project

runner = CliRunner()


def render(root):
    return render_documents(RenderInput(Project.load(root)))


def test_same_input_same_bytes(project_dir):
    assert render(project_dir) == render(project_dir)


def test_card_order_on_disk_does_not_matter(tmp_path):
    a = write_project(tmp_path / "a", [make_card(1), make_card(2), make_card(3)])
    b = write_project(tmp_path / "b", [make_card(3), make_card(1), make_card(2)])
    assert render(a) == render(b)


def _table_rows(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def _cells(row: str) -> int:
    return len(re.split(r"(?<!\\)\|", row.strip().strip("|")))


def test_pipe_and_backtick_in_title_do_not_break_tables(tmp_path):
    root = write_project(tmp_path, [make_card(7, title="Fix `a|b` and c | d `unbalanced")])
    history = render(root)["references/pr-history.md"]
    rows = _table_rows(history, "| Merged | PR |")
    assert len(rows) == 1 and _cells(rows[0]) == 5, rows
    assert r"\|" in rows[0] and r"\`" in rows[0]


def test_sections_follow_lane_order_and_link_supersession(project_dir):
    history = render(project_dir)["references/pr-history.md"]
    assert '<a id="pr-90"></a>' in history and '<a id="pr-100"></a>' in history
    assert "superseded by [#100](#pr-100)" in history
    assert "replaces [#90](#pr-90)" in history


def test_playbook_symptom_map_lists_current_first(project_dir):
    playbook = render(project_dir)["references/playbook.md"]
    row = _table_rows(playbook, "| Symptom |")[0]
    assert row.index("#100") < row.index("#90")
    assert "(superseded)" in row


def test_corrections_are_collected(tmp_path):
    root = write_project(tmp_path, [make_card(5, corrections=["The earlier manual called this merged."])])
    playbook = render(root)["references/playbook.md"]
    assert "## Corrections to the earlier manual" in playbook
    assert "The earlier manual called this merged." in playbook


def test_skill_frontmatter_follows_the_spec(project_dir):
    skill = render(project_dir)["SKILL.md"]
    assert skill.startswith("---\n")
    front = yaml.safe_load(skill.split("---\n")[1])
    assert set(front) == {"name", "description"}
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", front["name"]) and len(front["name"]) <= 64
    assert 0 < len(front["description"]) <= 1024
    assert len(skill.splitlines()) < 500


def test_check_names_stale_files_and_write_fixes_them(project_dir):
    docs = render(project_dir)
    assert stale_documents(docs, project_dir) == list(docs)
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1 and "stale: SKILL.md" in result.output
    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    (project_dir / "references" / "playbook.md").write_text("edited by hand\n")
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1 and "stale: references/playbook.md" in result.output
    assert "stale: SKILL.md" not in result.output


def test_write_is_idempotent(project_dir):
    docs = render(project_dir)
    assert write_documents(docs, project_dir) == list(docs)
    assert write_documents(docs, project_dir) == []


def test_committed_manual_is_current():
    """The repository's own rendered files match its cards (the CI guard for `dossier render --check`)."""
    from pathlib import Path

    from dossier.manual import render_manual

    root = Path(__file__).resolve().parents[2]
    assert stale_documents(render_manual(Project.load(root)), root) == []
