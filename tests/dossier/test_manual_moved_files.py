"""by-file.md promises, for a change that moved, the file that holds it in today's SGLang: every current card whose key
fragment drift found relocated is listed on the row of the file it moved to (session 29's agent audit: #10466's and
#18088's rows named only the file each PR changed, gone since)."""

from __future__ import annotations

from pathlib import Path

from dossier.drift import read_lock
from tests.dossier.test_manual_questions import SKILL

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> dict[str, str]:
    rows = {}
    for line in (SKILL / "references" / "by-file.md").read_text().splitlines():
        if line.startswith("- `"):
            rows[line[3:line.index("`", 3)]] = line
    return rows


def test_a_relocated_change_is_listed_under_the_file_that_holds_it_today():
    _, verdicts = read_lock(ROOT)
    moved = {pr: e["found"][0]["file"] for pr, e in verdicts.items()
             if e["verdict"] == "relocated" and e["status"] == "current"}
    assert len(moved) >= 10  # drift.lock records about 27 relocated cards
    rows = _rows()
    missing = [(pr, file) for pr, file in moved.items()
               if f"[#{pr}](pr-history.md#pr-{pr})" not in rows.get(file, "")]
    assert not missing, missing
