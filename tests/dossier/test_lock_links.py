"""A lock under cards/ that is a symlink leading nowhere (a dangling link, a loop) is a lock that cannot be read,
never no lock: read as none, lint passed without the evidence it holds and `lint --record` replaced the link with
a lock recorded from nothing."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from dossier.cli import app

LOCKS = {"evidence.lock": "D311", "drift.lock": "D311", "opened.lock": "D405", "surface.lock": "D311"}


@pytest.mark.parametrize("target", ["/nonexistent/x.lock", "LOOP"], ids=["dangling", "loop"])
@pytest.mark.parametrize("name", LOCKS)
def test_a_lock_that_is_a_link_to_nothing_is_an_error_naming_it(project_dir, monkeypatch, name, target):
    (project_dir / "no-releases").mkdir()
    monkeypatch.setenv("DOSSIER_RELEASES", str(project_dir / "no-releases"))
    monkeypatch.delenv("DOSSIER_CACHE", raising=False)
    lock = project_dir / "cards" / name
    lock.symlink_to(name if target == "LOOP" else target)
    result = CliRunner().invoke(app, ["lint", "--root", str(project_dir)])
    assert result.exit_code == 1, result.output
    (line,) = [ln for ln in result.output.splitlines() if f"cards/{name}: cannot read the file: " in ln]
    assert f": {LOCKS[name]} " in line and (f"a symlink to {target}, which does not exist" in line if target != "LOOP"
                             else "Too many levels of symbolic links" in line)
    if name == "evidence.lock":
        recorded = CliRunner().invoke(app, ["lint", "--record", "--root", str(project_dir)])
        assert recorded.exit_code == 2 and "cards/evidence.lock: cannot read the file" in recorded.output
        assert lock.is_symlink() and os.readlink(lock) == (name if target == "LOOP" else target)


def test_a_lock_saved_as_utf16_is_named_so(project_dir):
    from dossier.evidence import LockError, read_lock

    (project_dir / "cards" / "evidence.lock").write_text("version: 1\ncards: {}\n", encoding="utf-16")
    with pytest.raises(LockError) as refused:
        read_lock(project_dir)
    assert str(refused.value) == ("cards/evidence.lock: UTF-16LE (it starts with that byte-order mark), not UTF-8: "
                                  "save it as UTF-8")
