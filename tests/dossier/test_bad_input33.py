"""Bad input, round 33 (session 47): input that changed what the manual or the stored results say while lint,
render and render --check all passed.

- A stored GPU result whose `ok` its own counts contradict (5 failed, a parity error 50000x its tolerance, `ok: true`)
  was shown as "reproduced on NVIDIA H200": the result check read each field's type, never the verdict they give.
- `lint --record` on a copy of a card outside cards/ wrote the copy's numbers into cards/checked.lock as the
  project's card's: the real card then failed D236 against a lock it never changed.
(Also this round: a JUnit case both skipped and errored read as skipped, test_regress.py; PR-diff evidence dropped the
first-shipping release the release proof had named, test_release_evidence.py.)
"""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_bad_input31 import _stored
from tests.dossier.test_regress import GOOD_RESULT

runner = CliRunner()


@pytest.mark.parametrize("change", [
    {"failed": 5},
    {"passed": 0},
    {"parity": {"x": {"err": 0.5, "tol": 1e-5}}},
    {"bench": {"module": "fakeref", "summary": ["one row"], "error": "the benchmark crashed"}},
], ids=["failed", "none-passed", "parity-over", "bench-error"])
def test_a_stored_result_whose_ok_its_counts_contradict_is_refused(tmp_path, change):
    root, stored = _stored(tmp_path, json.dumps({**GOOD_RESULT, **change}))
    manual = {p: p.read_bytes() for p in (root / "skills").rglob("*.md")}
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code == 2 and "ok is true, but its" in result.output, result.output
    assert {p: p.read_bytes() for p in (root / "skills").rglob("*.md")} == manual
    stored.write_text(json.dumps({**GOOD_RESULT, **change, "ok": False}))  # the same run, its verdict as it was
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0


@pytest.mark.parametrize("parity, why", [({"x": {"err": 1e-7, "tol": 0}}, "the tolerance is 0, not above 0"),
                                         ({"x": {"err": -1e-7, "tol": 1e-5}}, "the error is -1e-07, below 0")])
def test_a_stored_parity_check_no_run_gives_is_refused(tmp_path, parity, why):
    root, stored = _stored(tmp_path, json.dumps({**GOOD_RESULT, "parity": parity}))
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code == 2 and why in result.output, result.output


def test_lint_record_refuses_a_card_outside_cards(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    draft = tmp_path / "drafts" / "100.yaml"
    draft.parent.mkdir()
    shutil.copy(root / "cards" / "100.yaml", draft)
    locks = {p.name: p.read_bytes() for p in (root / "cards").glob("*.lock")}
    result = runner.invoke(app, ["lint", "--record", str(draft), "--root", str(root)])
    assert result.exit_code == 2 and f"not recording: {draft} is not under" in result.output, result.output
    assert {p.name: p.read_bytes() for p in (root / "cards").glob("*.lock")} == locks
    # the project's own card records as before
    assert runner.invoke(app, ["lint", "--record", str(root / "cards" / "100.yaml"), "--root", str(root)]).exit_code \
        in (0, 1)
