"""What `show` and `findings` print is whole at any width: nothing cut off at a panel's edge, no column dropped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from tests.dossier.factories import make_card, write_project

ROOT = Path(__file__).resolve().parents[2]
TITLE = ("Keep the mixed chunk's query_start_loc and mamba_cache_indices on the prefill-only prefix so that every "
         "tracking helper sees one consistent view")


def words(text: str) -> str:
    """``text`` without a panel's borders, its words joined by single spaces (a wrapped line reads as one)."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


def test_a_long_title_and_the_pr_link_are_wrapped_in_the_panel_not_cut_off(tmp_path):
    """A title longer than the panel lost its end, and with it the line of state, lane and the PR's link (the
    consoles print a line whole, which a panel crops): #23075's card showed '... to the pref'."""
    root = write_project(tmp_path, [make_card(100, title=TITLE)])
    result = CliRunner().invoke(app, ["show", "100", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert f"#100 {TITLE}" in words(result.stdout)
    assert "lane gdn-projection · https://github.com/example/repo/pull/100" in words(result.stdout)


@pytest.mark.parametrize("columns", ["0", "1", "40"])
def test_a_narrow_terminal_loses_nothing(tmp_path, columns):
    """COLUMNS=0 printed a card as nothing and COLUMNS=1 as an empty box, exit 0; `findings` at 40 columns listed the
    names alone, every other column dropped. Below 80 columns the layout is 80's and the terminal wraps."""
    root = write_project(tmp_path, [make_card(100, title=TITLE)])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": columns}
    shown = subprocess.run([sys.executable, "-m", "dossier", "show", "100", "--root", str(root)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and f"#100 {TITLE}" in words(shown.stdout), shown.stdout
    listed = subprocess.run([sys.executable, "-m", "dossier", "findings", "--root", str(ROOT)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0
    assert "finding status lane sglang" in words(listed.stdout) and "candidate" in listed.stdout


LONG_NAME = "replayssm-mixed-chunk-stale-state-under-overlap-with-page-size-8"  # 64: the longest a name may be


def _findings_project(tmp_path: Path) -> Path:
    from tests.dossier.test_findings import FINDING

    root = write_project(tmp_path, [make_card(100)])
    (root / "cards" / "findings").mkdir()
    for name in ("short-key", LONG_NAME):
        finding = {**FINDING, "name": name, "title": f"{TITLE} ({name})"}
        (root / "cards" / "findings" / f"{name}.yaml").write_text(yaml.safe_dump(finding, sort_keys=False))
    return root


@pytest.mark.parametrize("columns", ["80", "60"])
def test_findings_keep_status_and_lane_whole_and_give_the_title_the_width(tmp_path, columns):
    """At 80 columns a long finding name left the status column a few characters and the title ~10: 'candidate'
    and the lane were folded mid-word, the title one word a line (robust9). Now each finding is one line of name,
    status, lane and release, aligned, and its title under it, wrapped at the width (below 80: 80's layout)."""
    root = _findings_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": columns}
    listed = subprocess.run([sys.executable, "-m", "dossier", "findings", "--root", str(root)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["finding", "status", "lane", "sglang"]
    rows = [ln for ln in lines[1:] if not ln.startswith("    ")]
    assert [r.split() for r in rows] == [[LONG_NAME, "candidate", "gdn-projection", "0.5.23"],
                                         ["short-key", "candidate", "gdn-projection", "0.5.23"]]
    assert len({ln.index("candidate") for ln in rows} | {lines[0].index("status")}) == 1  # aligned
    titles = [ln for ln in lines if ln.startswith("    ")]
    assert all(len(ln) <= 80 and ln == ln.rstrip() for ln in titles)
    assert len(titles) == 6  # each ~200-character title in 3 lines at 80 columns (the old table: one word a line)
    below = listed.stdout.split(rows[1])  # each row, then its title's lines
    assert words(below[0]).endswith(f"{TITLE} ({LONG_NAME})") and words(below[1]) == f"{TITLE} (short-key)"


def test_a_huge_columns_is_laid_out_at_a_thousand(tmp_path):
    """COLUMNS=1000000 padded each line of the card's panel to a million characters (46 MB for one card) and
    COLUMNS=99999999999 ended in 'internal error: MemoryError' (robust9): the layout is at most 1000 columns."""
    root = write_project(tmp_path, [make_card(100, title=TITLE)])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "99999999999"}
    shown = subprocess.run([sys.executable, "-m", "dossier", "show", "100", "--root", str(root)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert f"#100 {TITLE}" in words(shown.stdout) and max(map(len, shown.stdout.splitlines())) == 1000
