"""Bad input, round 12: locks and cards cut at a line end (still YAML, entries gone), truncated release sources,
output paths that cannot be written, and what an adversarial pass over the commands found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.factories import make_card, write_project

runner = CliRunner()


def _flat(result) -> str:
    return " ".join(result.output.split())


# ---- cards/opened.lock cut at an entry boundary: the anchors past the cut (the highest PRs' floors) were lost ----

def _opened_lock(root: Path) -> str:
    from dossier.opened import Anchor, record_opened

    (root / "cards").mkdir(exist_ok=True)
    record_opened(root, {pr: Anchor(pr, dt.date(2026, 1, 1) + dt.timedelta(days=pr // 10), f"https://x/pull/{pr}")
                         for pr in (100, 110, 120, 130)})
    return (root / "cards" / "opened.lock").read_text()


def test_an_opened_lock_cut_at_any_line_end_is_refused_naming_it(tmp_path):
    """Cut after any whole entry, the lock was valid YAML holding fewer anchors, and D405 checked merge dates against
    the floors left with nothing said. Every cut after `opened:` is now an error naming the file and what to do."""
    from dossier.opened import OpenedError, read_anchors

    text = _opened_lock(tmp_path)
    assert [a.pr for a in read_anchors(tmp_path)] == [100, 110, 120, 130]
    lock = tmp_path / "cards" / "opened.lock"
    start = text.index("opened:\n") + len("opened:\n")
    cuts = [i + 1 for i, ch in enumerate(text) if ch == "\n" and start <= i + 1 < len(text)]
    assert len(cuts) == 5
    for cut in cuts:
        lock.write_text(text[:cut])
        with pytest.raises(OpenedError, match=r"^cards/opened\.lock: no closing `anchors:` count.*cut short.*"
                                              r"git checkout -- cards/opened\.lock"):
            read_anchors(tmp_path)


def test_an_opened_lock_that_lost_an_anchor_is_d405_and_recording_keeps_the_lock(tmp_path):
    from dossier.opened import Anchor, OpenedError, record_opened

    root = write_project(tmp_path, [make_card(135, merged_at=dt.date(2026, 1, 5))])
    text = _opened_lock(root).replace("  130: {opened: 2026-01-14, source: https://x/pull/130}\n", "")
    lock = root / "cards" / "opened.lock"
    lock.write_text(text)
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D405"])]
    assert [d.code for d in found] == ["D405"]
    assert "opened lists 3 anchor(s) where `anchors:` counts 4: the lock is cut short or was edited by hand, and " \
           "anchors are lost" in found[0].message
    with pytest.raises(OpenedError):
        record_opened(root, {200: Anchor(200, dt.date(2026, 2, 1), "y")})
    assert lock.read_text() == text
    lock.write_text(text.replace("anchors: 4", "anchors: 3"))  # the count set after a removal by hand: accepted
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D405"])]
    assert [d.code for d in found] == ["D405"] and "#130" not in found[0].message  # the floor of #120 holds now


def test_the_committed_opened_lock_is_what_recording_writes():
    from dossier.opened import read_anchors

    root = Path(__file__).resolve().parents[2]
    text = (root / "cards" / "opened.lock").read_text()
    assert text.endswith(f"anchors: {len(read_anchors(root))}\n")
