"""Bad input, round 13: this session's new records (cards/names.lock, evidence.lock's `names:`, cards/pr-facts.json)
and inputs (a lock's YAML key that is a list, `python -m runtime.gdn.bench --merge`'s part files)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from dossier.locks import LockError
from tests.dossier.factories import make_card, write_project


def _tree(version: str, texts: dict[str, str]) -> SimpleNamespace:
    """A release tree as record_names reads one."""
    return SimpleNamespace(package=Path(f"/nowhere/{version}"), version=version, kind="release", texts=texts,
                           unload=lambda: None)


# ---- a lock whose YAML key is a list (`? [a, b]`): the duplicate-key check crashed every reader --------------------

def test_a_lock_key_that_is_a_list_is_an_error_at_its_line_not_a_crash(tmp_path):
    """`? [a, b]` is valid YAML; the loader's duplicate-key check hashed it and raised TypeError, so lint reported
    'D000 rule D621 crashed: TypeError: unhashable type' and render refused on 'D311 crashed'."""
    from dossier.lint.code_names import read_names

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "names.lock").write_text("version: 1\nnames:\n  ? [a, b]\n  : '0.5.1'\n")
    with pytest.raises(LockError, match=r"^cards/names\.lock: not valid YAML at line 3: a key that is a list"):
        read_names(tmp_path)


# ---- cards/names.lock recorded with no names: `names:` with nothing under it is null to YAML -----------------------

def test_a_names_lock_recorded_with_no_names_reads_back(tmp_path):
    """When no card names code only an older release had, `releases surface --record` wrote `names:` with nothing
    under it, which YAML reads as null: its own reader refused the lock it had just written (D311 on every lint)."""
    from dossier.lint.code_names import read_names, record_names

    (tmp_path / "cards").mkdir()
    today = _tree("9.9.9", {"a.py": "alive_name = 1\n"})
    assert record_names(tmp_path, {"alive_name"}, today, [_tree("9.9.1", {"a.py": "alive_name = 1\n"})]) == {}
    assert read_names(tmp_path) == set()
    assert record_names(tmp_path, {"gone_name"}, today, [_tree("9.9.1", {"a.py": "gone_name = 1\n"})]) == {
        "gone_name": "9.9.1"}
    assert read_names(tmp_path) == {"gone_name"}
