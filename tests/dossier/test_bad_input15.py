"""Bad input, round 15 (what session 28's CLI audit left): a key file drift could not read was reported as code gone;
a broken link in the release cache was called "a file"; a looping fetch cache read as empty; a findings folder
linked outside the project passed lint; an interrupted `lint --record` did not say which locks it had written; a
finding listed under a name that is not its file's was listed without a word. Each case failed before its fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier import drift, releases
from dossier.cli import app
from dossier.files import kind_of
from dossier.project import Project
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_drift import CARDS, FAKE, MODEL, write_tree
from tests.dossier.test_findings import FINDING
from tests.dossier.test_findings import _project as project_with_finding

runner = CliRunner()



def _run(root: Path, *args: str):
    return runner.invoke(app, [*args, "--root", str(root)])


def test_kind_of_names_what_is_there(tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "p")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "ok").symlink_to("f")
    assert [kind_of(tmp_path / n) for n in ("f", "d", "p", "dangling", "loop", "ok", "absent")] == [
        "a file", "a folder", "a pipe", f"a broken link (to {tmp_path / 'nowhere'})", "a symbolic link that loops",
        "a file", "nothing"]


@pytest.mark.parametrize("damage", ["loop", "folder", "utf16"])
def test_drift_refuses_a_key_file_it_cannot_read_instead_of_calling_the_code_missing(tmp_path, damage):
    """`qwen3_next.py -> qwen3_next.py` (or a folder, or UTF-16 text) was read as absent: its cards' code was
    "missing", exit 1, and `--record` stored that as fact."""
    package = write_tree(tmp_path / "site" / "sglang", FAKE)
    root = write_project(tmp_path / "p", CARDS)
    model = package / Path(MODEL).relative_to("python/sglang")
    text = model.read_text()
    model.unlink()
    if damage == "loop":
        model.symlink_to(model.name)
    elif damage == "folder":
        model.mkdir()
    else:
        model.write_bytes(text.encode("utf-16"))
    for args in ([], ["--record"]):
        result = _run(root, "drift", "--sglang-src", str(package), *args)
        assert result.exit_code == 2, result.output
        assert str(model) in result.output.replace("\n", "") and "missing" not in result.output, result.output
    assert not (root / drift.DRIFT_LOCK).exists()


def test_drift_still_calls_an_absent_key_file_missing(tmp_path):
    package = write_tree(tmp_path / "site" / "sglang", FAKE)
    root = write_project(tmp_path / "p", CARDS)
    (package / Path(MODEL).relative_to("python/sglang")).unlink()
    result = _run(root, "drift", "--sglang-src", str(package))
    assert result.exit_code == 1 and "missing" in result.output


@pytest.mark.parametrize("link", ["dangling", "loop"])
def test_a_broken_link_in_the_release_cache_is_named_as_one(tmp_path, link):
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = cache / "0.5.19"
    entry.symlink_to(tmp_path / "gone" if link == "dangling" else "0.5.19")
    ((where, why),) = releases.incomplete(cache)
    assert where == entry
    assert why == (f"a broken link (to {tmp_path / 'gone'}), not a release's folder" if link == "dangling"
                   else "a symbolic link that loops, not a release's folder")


@pytest.fixture
def project(tmp_path) -> Path:
    return write_project(tmp_path / "p", [make_card(100), make_card(101)])


@pytest.mark.parametrize("command", [["lint"], ["show", "100", "--diff"], ["fetch", "100"]])
def test_a_fetch_cache_that_leads_nowhere_is_an_error_not_an_empty_cache(project, command):
    """`.dossier/cache -> cache`: lint read it as empty with no warning, show said "run dossier fetch", and fetch
    then said "not writable: File exists"."""
    cache = project / ".dossier" / "cache"
    cache.parent.mkdir()
    cache.symlink_to("cache")
    result = _run(project, *command)
    assert result.exit_code == 2, result.output
    assert f"the fetch cache {cache} is a symbolic link that loops" in result.output.replace("\n", " ")


def test_findings_linked_outside_the_project_are_refused(project, tmp_path):
    """A card file linked outside the project was D100 ("a clone would have a dangling link"); a findings folder
    linked outside it passed lint and render read it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "short-key.yaml").write_text(yaml.safe_dump(FINDING, sort_keys=False))
    (project / "cards" / "findings").symlink_to(elsewhere)
    assert Project.load(project).findings == []  # read, before the fix, though a clone has none
    result = _run(project, "lint")
    assert result.exit_code == 1, result.output
    said = (f"cards/findings/short-key.yaml:1:1: D100 inside cards/findings, a link, to {elsewhere / 'short-key.yaml'}"
            ", outside the project")
    assert said in result.stdout.replace("\n", " "), result.stdout


def test_lint_of_a_looping_findings_folder_says_it_loops(project):
    (project / "cards" / "findings").symlink_to("findings")
    result = _run(project, "lint", str(project / "cards" / "findings"))
    assert result.exit_code == 2
    assert "is a symbolic link that loops, nothing to lint" in result.output, result.output


def test_findings_warns_of_a_finding_listed_under_another_name_than_its_file(tmp_path):
    result = _run(project_with_finding(tmp_path, name="other-name"), "findings")
    assert "other-name" in result.stdout
    assert ("warning: cards/findings/short-key.yaml is listed as 'other-name', the name it gives itself, not its "
            "file's") in result.stderr.replace("\n", " "), result.stderr


@pytest.mark.parametrize(("stop_in", "said"), [
    ("dossier.lint.checked.record_checked",
     "interrupted: nothing recorded (the locks land together: each is as it was): run `dossier lint --record` "
     "again"),
    ("dossier.lint.run_lint",
     "interrupted: the locks were all recorded before it, the cards not all checked: run `dossier lint`"),
])
def test_an_interrupted_lint_record_says_which_locks_it_wrote(project, monkeypatch, stop_in, said):
    """A Ctrl-C after the locks were written printed only "interrupted", though one or both had changed; one
    between two locks left the first recorded without the others."""
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    lock = project / "cards" / "evidence.lock"
    before = lock.read_bytes() if lock.exists() else None
    monkeypatch.setattr(stop_in, stop)
    result = _run(project, "lint", "--record")
    assert result.exit_code == 130, result.output
    assert said in result.stderr.replace("\n", " "), result.stderr
    if "nothing recorded" in said:
        assert (lock.read_bytes() if lock.exists() else None) == before


def test_an_interrupted_lint_without_record_says_only_interrupted(project, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("dossier.lint.run_lint", stop)
    result = _run(project, "lint")
    assert result.exit_code == 130 and result.stderr.splitlines()[-1] == "interrupted", result.stderr
