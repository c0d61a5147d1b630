"""Lock files edited by hand (session 43's bad-input round): drift.lock and surface.lock carried no seal, so a version
changed in drift.lock relabelled every note of the manual and turned drift's comparison off, a drift.lock cut before
its `absent:` section dropped 53 notes from by-file.md, and a default forged in surface.lock rendered into flags.md
while lint blamed the cards that had it right; all with lint, render --check and drift clean. Both locks now carry
the sha256 of their mapping on a header line (`# sha256: `), which every reader checks. evidence.lock's releases
section with its seal line deleted passed any edit; with `moved:` (recorded only since seals) it is now refused.
A quoted PR key in that section crashed D341."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.drift import read_lock
from dossier.lint import LintContext, run_lint
from dossier.locks import LockError, check_seal, read_lock_file, section_digest
from dossier.project import Project
from dossier.surface_history import SurfaceLockError, read_history

runner = CliRunner()


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _codes(root: Path, *select: str) -> list[str]:
    """The error codes of the rules ``select`` names (the whole manual's lint takes a minute on CI's cores)."""
    return [f.code for f in run_lint(LintContext(Project.load(root)), select=select) if f.severity == "error"]


def test_the_committed_locks_are_sealed_and_read(real):
    assert read_lock(real)[0] and read_history(real) is not None
    for name in ("drift.lock", "surface.lock"):
        assert "\n# sha256: " in (real / "cards" / name).read_text()


@pytest.mark.parametrize("edit", [
    lambda t: t.replace('sglang: "0.5.23"', 'sglang: "0.5.22"'),  # every note relabelled
    lambda t: t[:t.index("\nabsent:\n") + 1],  # still YAML: the absent files' notes lost
    lambda t: t.replace("      lines: [120]\n", "      lines: [121]\n", 1),
])
def test_a_drift_lock_edited_by_hand_is_refused_everywhere(real, edit):
    lock = real / "cards" / "drift.lock"
    lock.write_text(edit(lock.read_text()))
    with pytest.raises(LockError, match="not the lock `dossier drift --record` wrote .* edited by hand or cut short"):
        read_lock(real)
    assert "D311" in _codes(real, "D311")


def test_render_refuses_a_drift_lock_edited_by_hand(real):
    lock = real / "cards" / "drift.lock"
    lock.write_text(lock.read_text().replace('sglang: "0.5.23"', 'sglang: "0.5.22"'))
    result = runner.invoke(app, ["render", "--check", "--root", str(real)])
    assert result.exit_code != 0 and "cards/drift.lock (D311)" in result.output


@pytest.mark.parametrize("old,new", [
    ("  --linear-replayssm-cache-len: '16'\n", "  --linear-replayssm-cache-len: '8'\n"),  # a forged default
    ("  --linear-attn-backend: 0.5.10..0.5.23\n", "  --linear-attn-backend: 0.5.12..0.5.23\n"),  # a span
    ("rewrites: 0.5.3..0.5.23\n", "rewrites: 0.5.5..0.5.23\n"),  # every SGL_ alias's span
])
def test_a_surface_lock_edited_by_hand_is_refused_not_blamed_on_the_cards(real, old, new):
    _edit(real / "cards" / "surface.lock", old, new)
    with pytest.raises(SurfaceLockError, match="edited by hand or cut short"):
        read_history(real)
    codes = _codes(real, "D311", "D623")
    assert "D311" in codes and "D623" not in codes


def test_a_lock_without_its_seal_line_is_read_as_written_before_seals(real):
    lock = real / "cards" / "drift.lock"
    lock.write_text("".join(line for line in lock.read_text().splitlines(keepends=True)
                            if not line.startswith("# sha256: ")))
    assert read_lock(real)[0] == "0.5.23"


def test_recording_seals_what_a_reader_reads_back(real):
    import yaml

    from dossier.locks import sealed

    body = "version: 1\ncards:\n  10: {a: [1, 2], b: '2026-01-02'}\n"
    text = sealed("# header\n", body)
    path = real / "cards" / "x.lock"
    path.write_text(text)
    data = read_lock_file(path)
    assert data == yaml.safe_load(body)
    check_seal(path, data)
    path.write_text(text.replace("[1, 2]", "[1, 3]"))
    with pytest.raises(LockError, match="edited by hand"):
        check_seal(path, read_lock_file(path))


def test_evidence_releases_without_its_seal_but_with_moved_is_refused(real):
    lock = real / "cards" / "evidence.lock"
    lock.write_text("".join(line for line in lock.read_text().splitlines(keepends=True)
                            if not line.startswith("# releases sha256: ")))
    findings = [f for f in run_lint(LintContext(Project.load(real)), select=["D341"]) if f.code == "D341"]
    assert findings and "the seal line is gone" in findings[0].message


def test_a_quoted_pr_key_in_the_releases_section_is_a_seal_mismatch_not_a_crash(real):
    _edit(real / "cards" / "evidence.lock", "\n    10233:\n", '\n    "10233":\n')
    codes = _codes(real, "D000", "D341", "D316")
    assert "D000" not in codes and "D341" in codes and "D316" in codes
    assert section_digest({"cards": {10233: 1, "10233": 2}}) != section_digest({"cards": {10233: 2}})



def test_a_yaml_boolean_where_a_word_goes_says_how_yaml_read_it(real):
    _edit(real / "cards" / "12508.yaml", "\nstatus: current\n", "\nstatus: yes\n")
    found = [f for f in run_lint(LintContext(Project.load(real, [real / "cards" / "12508.yaml"])), select=["D107"])]
    assert found and "YAML read the word as True; put it in quotes" in found[0].message


def test_a_surface_lock_count_deleted_with_an_entry_is_named_as_missing(real):
    lock = real / "cards" / "surface.lock"
    text = lock.read_text()
    first = next(line for line in text.split("\ndefaults:\n", 1)[1].splitlines(keepends=True))
    lock.write_text(re.sub(r"\n  defaults: \d+\n", "\n", text.replace(first, "", 1)))
    with pytest.raises(SurfaceLockError, match=r"defaults lists \d+ name.s. where `names:` has no count of defaults"):
        read_history(real)


def test_show_under_an_ascii_console_keeps_its_panel_whole(real):
    """`show` under PYTHONIOENCODING=ascii wrote "·" as "\\xb7", four cells where the layout counted one, and pushed
    the panel's right border out on every line that had one."""
    import io

    from rich.console import Console

    from dossier.show import print_card

    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="backslashreplace", write_through=True)
    console = Console(file=out, width=80, color_system=None)
    project = Project.load(real)
    print_card(project.card(19321), project, console)
    lines = out.buffer.getvalue().decode("ascii").splitlines()
    assert "\\x" not in "".join(lines) and "current - merged" in "".join(lines)
    assert {len(line) for line in lines} == {80}
