"""Bad input and interruptions, round 10: the manual swapped in whole, locks with keys no reader knows, fetch's
deadline, and what the other commands made of damaged input."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier import folder_swap
from dossier.cli import app
from dossier.render import write_documents
from tests.dossier.factories import DEAD_PID

runner = CliRunner()

OLD = {"SKILL.md": "old skill\n", "references/a.md": "old a\n", "references/b.md": "old b\n"}
NEW = {"SKILL.md": "new skill\n", "references/a.md": "new a\n", "references/b.md": "old b\n",
       "references/c.md": "new c\n"}
STRAY = ("notes/mine.md", "not rendered, kept\n")


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def _manual(tmp_path: Path) -> Path:
    folder = tmp_path / "skills" / "manual"
    write_documents(OLD, folder)
    (folder / STRAY[0]).parent.mkdir()
    (folder / STRAY[0]).write_text(STRAY[1])
    return folder


def _whole(folder: Path) -> str:
    """Which manual ``folder`` holds, whole: "old" or "new" (anything else fails), the stray file kept."""
    tree = _tree(folder)
    assert tree.pop(STRAY[0]) == STRAY[1]
    assert tree in (OLD, NEW), tree
    return "old" if tree == OLD else "new"


#: every step of a swap that touches the disk, where a kill or a failure can land
STEPS = [(tempfile, "mkdtemp"), (shutil, "copytree"), (folder_swap, "_write"), (folder_swap, "_fsync_dir"),
         (os, "replace")]


def _at_step(monkeypatch, k: int, act) -> list[int]:
    """Make the k-th step (counted over STEPS) call ``act()`` before it runs; returns the count of steps run."""
    count = [0]
    for owner, name in STEPS:
        real = getattr(owner, name)

        def step(*args, _real=real, **kwargs):
            count[0] += 1
            if count[0] == k:
                act()
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, step)
    return count


def _steps(tmp_path: Path, monkeypatch) -> int:
    count = _at_step(monkeypatch, 0, lambda: None)
    write_documents(NEW, _manual(tmp_path / "count"))
    monkeypatch.undo()
    return count[0]


def test_a_kill_at_any_step_of_the_swap_leaves_one_whole_manual_after_the_next_render(tmp_path, monkeypatch):
    """kill -9 (no Python runs: no cleanup, no deferred signal) at each step, in a forked child: the folder holds
    the old manual or the new one, or, killed between the two renames, is recovered whole by the next render;
    its file-by-file swap left a mix of old and new files at every step between the first and the last rename."""
    steps = _steps(tmp_path, monkeypatch)
    assert steps >= 7
    outcomes = []
    for k in range(1, steps + 1):
        folder = _manual(tmp_path / str(k))
        pid = os.fork()
        if pid == 0:  # the child: killed at step k
            try:
                _at_step(monkeypatch, k, lambda: os._exit(9))
                write_documents(NEW, folder)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        monkeypatch.undo()
        between = not folder.exists()
        if not between:
            _whole(folder)
        assert bool(folder_swap.leftovers(folder)) or not between
        folder_swap.recover(folder)
        outcomes.append(("between" if between else "") + _whole(folder))
        assert sorted(os.listdir(folder.parent)) == ["manual"]
        write_documents(NEW, folder)
        assert _whole(folder) == "new" and sorted(os.listdir(folder.parent)) == ["manual"]
    assert "betweennew" in outcomes  # rolled forward: the new manual was complete before the old one moved
    assert outcomes[0] == "old" and outcomes[-1] == "new"


@pytest.mark.parametrize("how", ["full-disk", "sigint", "sigterm"])
def test_a_failure_or_an_interrupt_at_any_step_leaves_one_whole_manual_and_nothing_beside_it(tmp_path, monkeypatch,
                                                                                               how):
    def full():
        raise OSError(errno.ENOSPC, "No space left on device")

    act = full if how == "full-disk" else lambda: os.kill(os.getpid(), getattr(signal, how.upper()))
    steps = _steps(tmp_path, monkeypatch)
    handlers = {n: signal.signal(n, signal.default_int_handler) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        for k in range(1, steps + 1):
            folder = _manual(tmp_path / str(k))
            _at_step(monkeypatch, k, act)
            try:
                write_documents(NEW, folder)
            except (OSError, KeyboardInterrupt):
                pass
            monkeypatch.undo()
            _whole(folder)
            assert sorted(os.listdir(folder.parent)) == ["manual"], k
    finally:
        for n, handler in handlers.items():
            signal.signal(n, handler)


def test_render_check_names_what_a_killed_swap_left_and_render_recovers_it(project_dir):
    """Killed between the two renames: the skill folder is gone and its two versions sit beside it; --check named
    every file stale and nothing else, and an installer scanning skills/ would find a SKILL.md in the leftovers."""
    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    folder = next((project_dir / "skills").iterdir())
    manual = _tree(folder)
    folder.rename(folder.with_name(f".{folder.name}.{DEAD_PID}.abc123.old"))
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1
    assert f"left by an earlier render: skills/.{folder.name}.{DEAD_PID}.abc123.old (killed," in result.output
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 0 and "nothing changed" in result.output, result.output
    assert _tree(folder) == manual and os.listdir(folder.parent) == [folder.name]


def test_an_old_copy_render_cannot_remove_is_named_not_left_unsaid(project_dir, monkeypatch):
    """A file of the old manual that cannot be deleted (immutable, another user's): render exited 0 and left
    `.<name>.<pid>.<random>.old` beside the skill with nothing said, --check blamed a killed render, and the next
    render "recovered" nothing, again silently. Now render says the new manual is in place and which copy stays
    and why; the next render names it again until it can go, then removes it."""
    from dossier import folder_swap

    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    folder = next((project_dir / "skills").iterdir())
    card = project_dir / "cards" / "100.yaml"
    data = yaml.safe_load(card.read_text())
    card.write_text(yaml.safe_dump({**data, "motivation": data["motivation"] + " Now reworded."}, sort_keys=False))
    removing = shutil.rmtree

    def stuck(path, *args, onerror=None, onexc=None, **kwargs):
        if str(path).endswith(".old"):  # the old manual's files refuse to go
            error = PermissionError(1, "Operation not permitted", f"{path}/SKILL.md")
            return onexc(os.unlink, f"{path}/SKILL.md", error) if onexc else onerror(
                os.unlink, f"{path}/SKILL.md", (PermissionError, error, None))
        return removing(path, *args, onerror=onerror, onexc=onexc, **kwargs) if (onerror or onexc) else removing(
            path, *args, **kwargs)

    monkeypatch.setattr(folder_swap.shutil, "rmtree", stuck)
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 2, result.output
    assert f"the new {folder.name} is in place, but its old copy" in result.output
    assert "(Operation not permitted:" in result.output and "remove it yourself" in result.output
    left = [n for n in os.listdir(folder.parent) if n.endswith(".old")]
    assert len(left) == 1 and "Now reworded." in (folder / "references" / "pr-history.md").read_text()
    monkeypatch.setattr(folder_swap, "running", lambda pid: False)  # this process wrote it: take it as gone
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 2 and f"{left[0]} was left by an earlier write" in result.output, result.output
    monkeypatch.setattr(folder_swap.shutil, "rmtree", removing)
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 0 and os.listdir(folder.parent) == [folder.name], result.output


def test_the_swap_keeps_modes_links_and_other_files(tmp_path):
    """The new folder gets the old one's mode; a skill folder that is a link is swapped where it leads (the link
    kept); a rendered file that is a link is replaced by the file, its target untouched."""
    real = tmp_path / "elsewhere" / "manual"
    write_documents(OLD, real)
    real.chmod(0o750)
    link = tmp_path / "skills" / "manual"
    link.parent.mkdir()
    link.symlink_to(real)
    target = tmp_path / "target.md"
    target.write_text("not the manual's\n")
    (real / "references" / "b.md").unlink()
    (real / "references" / "b.md").symlink_to(target)
    assert write_documents(NEW, link) == ["SKILL.md", "references/a.md", "references/b.md", "references/c.md"]
    assert link.is_symlink() and _tree(link) == NEW and target.read_text() == "not the manual's\n"
    assert real.stat().st_mode & 0o777 == 0o750
    assert sorted(os.listdir(real.parent)) == ["manual"]


def test_a_link_to_a_folder_inside_the_manual_is_refused_before_anything_changes(tmp_path):
    folder = tmp_path / "skills" / "manual"
    write_documents({"SKILL.md": "old\n"}, folder)
    (tmp_path / "shared").mkdir()
    (folder / "references").symlink_to(tmp_path / "shared")
    with pytest.raises(Exception, match="references is a link"):
        write_documents(NEW, folder)
    assert (folder / "SKILL.md").read_text() == "old\n" and os.listdir(tmp_path / "shared") == []


# ---- a lock's key that no reader knows is an error, never skipped (its content was lost with nothing said) ----

def _d311(root: Path) -> list[str]:
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    return [f"{d.code} {d.message}" for d in run_lint(LintContext(Project.load(root)), select=["D311", "D332"])]


DRIFT_TYPOS = {  # what the manual lost: the verdict's places, a second section, the lines of a place
    "entry": (lambda t: t.replace("    found: []", "    foundd: []", 1), "the entry of #100: unknown key 'foundd'"),
    "top": (lambda t: t + "notes:\n  100: kept by hand\n", "cards/drift.lock: unknown key 'notes'"),
    "place": (lambda t: t.replace("    found: []", "    found:\n    - file: a.py\n      line: [3]", 1),
              "the entry of #100: found: unknown key 'line'"),
}


@pytest.mark.parametrize("typo", DRIFT_TYPOS)
def test_a_key_drift_lock_does_not_know_is_d311_naming_it(tmp_path, typo):
    from tests.dossier.test_drift_lock_lint import VERDICT, with_lock

    edit, said = DRIFT_TYPOS[typo]
    root = with_lock(tmp_path, VERDICT + VERDICT.replace("100:", "101:"))
    assert _d311(root) == []
    lock = root / "cards" / "drift.lock"
    lock.write_text(edit(lock.read_text()))
    found = _d311(root)
    assert len(found) == 1 and found[0].startswith("D311 ") and said in found[0], found
    assert "correct the key, or run `dossier drift --record`" in found[0]


def test_render_refuses_a_drift_lock_with_a_mistyped_key(tmp_path):
    from tests.dossier.test_drift_lock_lint import manual, recorded, render

    root = recorded(tmp_path)
    lock = root / "cards" / "drift.lock"
    lock.write_text(lock.read_text().replace("    found:", "    fuond:", 1))  # #100's note lost where its line sits
    before = manual(root)
    for args in ((), ("--check",)):
        result = render(root, *args)
        assert result.exit_code == 1 and "cards/drift.lock (D311)" in result.output.splitlines()[0], result.output
        assert "unknown key 'fuond'" in result.output
    assert manual(root) == before


def _release_lock(root: Path, history: dict) -> None:
    import yaml

    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "cards" / "evidence.lock").write_text(yaml.safe_dump(
        {"version": 1, "cards": {}, "releases": {"built": [["0.5.1", "2025-09-01"]], "cards": {100: history}}}))


def test_a_key_the_releases_section_does_not_know_is_an_error_naming_it(tmp_path):
    from dossier.locks import LockError
    from dossier.release_evidence import History, read_release_lock

    good = History("0" * 64, "0.5.1", "0.5.1", (("0.5.1", "0.5.1"),), (), "2026-01-01",
                   (("0.5.1", "0.5.1"),), "a.py").to_data("release-scan")
    _release_lock(tmp_path, good)
    assert read_release_lock(tmp_path).cards[100].today_key == "a.py"
    for bad, said in (({**good, "todya": good["today"]}, "releases: #100: unknown key 'todya'"),
                      ({**good, "today": {**good["today"], "plcae": "a.py"}}, "#100: today: unknown key 'plcae'")):
        _release_lock(tmp_path, bad)
        with pytest.raises(LockError, match=said):
            read_release_lock(tmp_path)


def test_a_key_the_surface_lock_does_not_know_is_an_error_naming_it(tmp_path):
    from dossier.surface_history import SurfaceLockError, read_history

    (tmp_path / "cards").mkdir()
    lock = tmp_path / "cards" / "surface.lock"
    lock.write_text("version: 1\nreleases: [0.5.1]\nflags: {--a: 0.5.1}\nenv: {}\nnames: {flags: 1, env: 0}\n")
    assert read_history(tmp_path).flags["--a"].first == "0.5.1"
    lock.write_text(lock.read_text() + "envs: {SGLANG_X: 0.5.1}\n")  # its variables were not in the lock at all
    with pytest.raises(SurfaceLockError, match="surface.lock: unknown key 'envs'.*releases surface --record"):
        read_history(tmp_path)


def test_a_key_opened_lock_does_not_know_is_an_error_and_recording_keeps_the_lock(tmp_path):
    """`lint --record` rewrote opened.lock from what it read: a mistyped key was dropped from the file."""
    import datetime as dt

    from dossier.opened import Anchor, OpenedError, read_anchors, record_opened

    (tmp_path / "cards").mkdir()
    lock = tmp_path / "cards" / "opened.lock"
    lock.write_text("version: 1\nopened:\n  100: {opened: 2025-01-02, source: x}\nanchors: 1\n")
    assert [a.pr for a in read_anchors(tmp_path)] == [100]
    lock.write_text("version: 1\nopened:\n  100: {opened: 2025-01-02, source: x, note: from a thread}\nanchors: 1\n")
    with pytest.raises(OpenedError, match="entry 100: unknown key 'note'"):
        read_anchors(tmp_path)
    text = lock.read_text()
    with pytest.raises(OpenedError):
        record_opened(tmp_path, {200: Anchor(200, dt.date(2025, 2, 1), "y")})
    assert lock.read_text() == text


# ---- fetch: a deadline shorter than urllib3's backoff says what failed (it said the PR 'did not finish') ----

def test_a_backoff_the_fetch_deadline_would_cut_names_the_failure_and_costs_no_sleep():
    """A 503, then urllib3's backoff of 20 s before the third attempt against a deadline 3 s away: the request slept
    past the deadline and the run reported only 'did not finish within the fetch deadline'."""
    import time

    from dossier.sources import SourceError, Unreachable
    from dossier.sources.github import GithubSource, HttpSettings
    from tests.dossier.fake_github import FakeGitHub, Reply
    from tests.dossier.test_fetch_github import REPO, add_pr

    with FakeGitHub() as gh:
        add_pr(gh)
        gh.fail(f"/repos/{REPO}/pulls/19321", *[Reply(503, {"message": "Unavailable"})] * 3)
        src = GithubSource(REPO, api_url=gh.url, settings=HttpSettings(retries=3, backoff=10, timeout=5, wait=0))
        src.deadline = time.monotonic() + 3
        start = time.monotonic()
        with pytest.raises(SourceError) as info:
            src.fetch(19321)
        assert time.monotonic() - start < 2.5 and len(gh.requests) == 2
        assert not isinstance(info.value, Unreachable)
        assert str(info.value) == (
            f"{gh.url.removeprefix('http://')} answered HTTP 503 (2 attempt(s)); the next attempt, after a backoff of "
            "20s (DOSSIER_HTTP_BACKOFF=10), would start past the fetch deadline (--deadline): not cached; run "
            "`dossier fetch 19321` again later, with a longer --deadline")


def test_a_host_that_refuses_names_itself_when_the_backoff_would_pass_the_deadline():
    import socket
    import time

    from dossier.sources import Unreachable
    from dossier.sources.github import GithubSource, HttpSettings

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = GithubSource("a/b", api_url=f"http://127.0.0.1:{port}", settings=HttpSettings(retries=3, backoff=10,
                                                                                          timeout=5, wait=0))
    src.deadline = time.monotonic() + 3
    with pytest.raises(Unreachable, match=r"could not be reached \(NewConnectionError\) \(2 attempt\(s\)\); the next "
                                          r"attempt, after a backoff of 20s .* again once the host answers"):
        src.fetch(1)


# ---- [tool.dossier]: a key no reader knows is a usage error (a mistyped skill description left the default) ----

@pytest.mark.parametrize(("extra", "said"), [
    ('[tool.dossier.skill]\ndescripton = "What my skill does."\n',
     "[tool.dossier.skill] has no key 'descripton' (the keys are name, description)"),
    ("coverr = [100]\n", "[tool.dossier] has no key 'coverr' (the keys are repo, api_url, models, other_names, skill, cover)"),
])
def test_a_config_key_no_reader_knows_is_one_error_line(tmp_path, extra, said):
    from dossier.project import ProjectError, read_config

    (tmp_path / "pyproject.toml").write_text('[tool.dossier]\nrepo = "a/b"\ncover = [1]\n' + extra)
    with pytest.raises(ProjectError, match=r"pyproject.toml: " + re.escape(said) + ": it would be ignored"):
        read_config(tmp_path)


def test_every_config_key_the_readers_use_is_accepted(tmp_path):
    from dossier.project import read_config

    (tmp_path / "pyproject.toml").write_text('[tool.dossier]\nrepo = "a/b"\napi_url = "http://h"\ncover = [1]\n'
                                             'models = ["m"]\n[tool.dossier.skill]\nname = "x"\ndescription = "d"\n')
    assert read_config(tmp_path)["skill"] == {"name": "x", "description": "d"}


# ---- a stored GPU result the manual would show garbled: no device name, a date that is no day ----

@pytest.mark.parametrize(("change", "why"), [
    ({"device": {}}, "device.name must be the GPU's name on one line"),
    ({"device": {"name": "NVIDIA H200 | 141 GB"}}, "device.name must be the GPU's name on one line"),
    ({"device": {"name": "NVIDIA\nH200"}}, "device.name must be the GPU's name on one line"),
    ({"date": ""}, "date must be the day of the run, YYYY-MM-DD"),
    ({"bench": {"module": "fakeref", "date": "yesterday"}}, "bench.date must be the day of the run"),
])
def test_a_stored_result_the_manual_would_show_garbled_is_refused(tmp_path, change, why):
    """Shown in reference-kernels.md: 'reproduced on ?, 2026-12-01' without a name, a table row split by a '|',
    'on NVIDIA H200, ):' without a date."""
    import json

    from dossier.regress import RegressError, read_result
    from tests.dossier.test_regress import GOOD_RESULT

    (tmp_path / "cuda").mkdir()
    stored = tmp_path / "cuda" / "100.json"
    stored.write_text(json.dumps(GOOD_RESULT))
    assert read_result(tmp_path, 100, bench="fakeref")["device"]["name"] == "NVIDIA H200"
    stored.write_text(json.dumps({**GOOD_RESULT, **change}))
    with pytest.raises(RegressError, match=re.escape(why)):
        read_result(tmp_path, 100, bench="fakeref")


# ---- a C or POSIX locale (LC_ALL=C, no UTF-8 mode) reads every text file as UTF-8 all the same ----

def _reads_without_encoding(tree) -> list[int]:
    import ast

    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or any(k.arg == "encoding" for k in node.keywords):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        mode = node.args[1] if name == "open" and len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "mode"), None)
        binary = isinstance(mode, ast.Constant) and "b" in str(mode.value)
        if name in ("read_text", "write_text") or (name == "open" and isinstance(node.func, ast.Name) and not binary):
            lines.append(node.lineno)
    return lines


def test_every_text_file_dossier_reads_or_writes_names_utf8():
    """Without an encoding Python takes the locale's: under LC_ALL=C, ASCII, and lint's claims rules (D601-D611)
    crashed on the templates' first non-ASCII byte ('rule D601 crashed: UnicodeDecodeError'), while SGLang's
    sources were read with U+FFFD for every other character."""
    import ast

    package = Path(__file__).resolve().parents[2] / "dossier"
    found = {str(p.relative_to(package.parent)): hits for p in sorted(package.rglob("*.py"))
             if (hits := _reads_without_encoding(ast.parse(p.read_bytes())))}
    assert found == {}
    assert _reads_without_encoding(ast.parse("p.read_text()\nopen(f)\nopen(f, 'rb')\np.read_text(encoding='utf-8')")) \
        == [1, 2]


def test_a_source_tree_is_read_as_utf8_under_the_c_locale(tmp_path):
    import subprocess
    import sys

    from tests.dossier.factories import sglang_package

    pkg = sglang_package(tmp_path, {"srt/layers/norm.py": "def f(x):\n    return x  # ε-safe\n    y = 'ε'\n"})
    code = ("import sys; from pathlib import Path; from dossier.source_tree import SourceTree\n"
            "t = SourceTree.at(Path(sys.argv[1])); print([(w.file, w.lines) for w in t.search(\"y = '\\u03b5'\")])")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run([sys.executable, "-c", code, str(pkg)], capture_output=True, text=True, encoding="utf-8",
                         env=env, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert out.stdout.strip() == "[('python/sglang/srt/layers/norm.py', (3,))]", out.stderr


# ---- `dossier findings` names the files it does not list (an invalid one, a second file of one name) ----

def test_findings_names_the_files_it_cannot_list(tmp_path):
    """The list was silently one short: an invalid finding (a typo'd field) and a copy under another file name
    were left out with nothing said, and with no valid finding left it said only 'no valid findings'."""
    import yaml

    from tests.dossier.test_findings import FINDING, _project

    root = _project(tmp_path)
    folder = root / "cards" / "findings"
    (folder / "broken.yaml").write_text(yaml.safe_dump({**FINDING, "name": "broken", "symptm": "typo"}))
    (folder / "copy.yaml").write_text((folder / "short-key.yaml").read_text())
    listed = runner.invoke(app, ["findings", "--root", str(root)])
    assert listed.exit_code == 0 and "short-key" in listed.stdout and "broken" not in listed.stdout
    assert listed.stderr.splitlines()[-1] == ("warning: not listed: cards/findings/broken.yaml, cards/findings/copy.yaml"
                                              " (not a valid finding, or another file's name; `dossier lint "
                                              "cards/findings/` says why)")
    (folder / "short-key.yaml").unlink()
    (folder / "copy.yaml").unlink()
    none = runner.invoke(app, ["findings", "--root", str(root)])
    assert none.stdout == "" and "warning: not listed: cards/findings/broken.yaml " in none.stderr


def test_findings_takes_a_findings_file_as_well_as_its_name(tmp_path, monkeypatch):
    """--help calls NAME the finding's file in cards/findings/, yet `findings short-key.yaml` (or its path, which a
    shell completes) was 'no valid finding'."""
    from tests.dossier.test_findings import _project

    root = _project(tmp_path)
    monkeypatch.chdir(root)
    for given in ("short-key", "short-key.yaml", "cards/findings/short-key.yaml",
                  str(root / "cards" / "findings" / "short-key.yaml")):
        result = runner.invoke(app, ["findings", given, "--root", str(root)])
        assert result.exit_code == 0 and "cards/findings/short-key.yaml" in result.stdout, (given, result.output)
    result = runner.invoke(app, ["findings", "cards/findings/other.yaml", "--root", str(root)])
    assert result.exit_code == 2 and "no valid finding 'cards/findings/other.yaml'" in result.output


def test_render_check_waits_for_a_swap_in_progress(project_dir, monkeypatch):
    """Between the swap's two renames the skill folder is not there: --check beside a render read every file as
    stale; it takes the same lock the swap holds."""
    import threading
    import time

    import dossier.manual
    from dossier.files import serialized

    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    folder = next((project_dir / "skills").iterdir())
    aside = folder.with_name(f".{folder.name}.{os.getpid()}.abc123.old")
    held = threading.Event()

    def swap():
        with serialized(folder.parent):
            folder.rename(aside)
            held.set()
            time.sleep(0.5)
            aside.rename(folder)

    worker = threading.Thread(target=swap)
    built = dossier.manual.render_manual

    def render_then_swap(project):  # a render's swap begins just as --check reads the folder
        docs = built(project)
        worker.start()
        held.wait(10)
        return docs

    monkeypatch.setattr(dossier.manual, "render_manual", render_then_swap)
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    worker.join(10)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("lock", "said"), [
    ("releases: [0.5.1, abc]\nflags: {--a: abc}\n", "releases: 'abc' is not a release version"),
    ("releases: [0.5.9, 0.10]\nflags: {--a: 0.5.9}\n", "releases: 0.1 is not a release version"),
    ("releases: [0.5.9, 0.5.1]\nflags: {--a: 0.5.9}\n", "releases must be listed once each, oldest first"),
    ("releases: [0.5.1, 0.5.9, 0.5.9]\nflags: {--a: 0.5.9}\n", "releases must be listed once each, oldest first"),
    ("releases: [0.5.1, 0.5.9]\nflags: {--a: 0.5.9..0.5.1}\n", "--a: '0.5.9..0.5.1' ends before it begins"),
])
def test_a_surface_lock_whose_releases_are_out_of_order_or_no_versions_is_an_error(tmp_path, lock, said):
    """A hand-merged lock: an invalid version crashed lint's rules that read spans (InvalidVersion), a list out
    of order made the wrong release the newest, a reversed span printed 'from 0.5.9 to 0.5.1' in flags.md."""
    from dossier.surface_history import SurfaceLockError, read_history

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "surface.lock").write_text("version: 1\n" + lock + "env: {}\nnames: {flags: 1, env: 0}\n")
    with pytest.raises(SurfaceLockError, match=re.escape(said)):
        read_history(tmp_path)


@pytest.mark.parametrize(("built", "said"), [
    ([["0.5.9", "2025-09-20"], ["0.5.1", "2025-08-23"]], "built must list each release once, oldest first"),
    ([["0.5.1", "2025-08-23"], ["0.5.1", "2025-08-24"]], "built must list each release once, oldest first"),
    ([["0.5.1", "yesterday"]], "built: 'yesterday' is no build date"),
])
def test_release_evidence_whose_releases_are_out_of_order_or_undated_is_an_error(tmp_path, built, said):
    """by-release.md listed the releases in the lock's order and printed a build date as written; a release listed
    twice kept the last of its dates with nothing said."""
    import yaml

    from dossier.locks import LockError
    from dossier.release_evidence import read_release_lock

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "evidence.lock").write_text(yaml.safe_dump(
        {"version": 1, "cards": {}, "releases": {"built": built, "cards": {}}}))
    with pytest.raises(LockError, match=re.escape(said)):
        read_release_lock(tmp_path)


@pytest.mark.parametrize(("verdict", "found"), [
    ("in-place", "[]"), ("relocated", "[]"), ("rewritten", "[]"),
    ("in-place", "\n    - file: python/sglang/srt/models/qwen3_next.py\n      lines: []"),
])
def test_a_drift_verdict_that_places_the_code_nowhere_is_d311(tmp_path, verdict, found):
    """drift --record writes every place it names with its lines; an entry edited or merged to none printed
    '**SGLang 0.5.23:** in place, .' (or 'moved to .', '`file` line .') in the manual."""
    from tests.dossier.test_drift_lock_lint import VERDICT, with_lock

    entry = VERDICT.replace("verdict: missing", f"verdict: {verdict}").replace("found: []", f"found: {found}")
    root = with_lock(tmp_path, entry + VERDICT.replace("100:", "101:"))
    messages = _d311(root)
    assert len(messages) == 1 and f"the entry of #100 has the verdict {verdict} and no place with its lines" in \
        messages[0], messages
