"""The CLI at the edges of its environment (round 27): a reader that closes early must not cost `drift --record` its
recording; `~` in a path option is the home folder, not a folder named `~`; a link on the way to --results that leads
nowhere is named; an interrupt held during render's swap says the new manual is in place; a shell in a folder render
replaced is told so; a signal after a command's answer prints no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import _stderr_columns, app
from dossier.files import check_writable
from tests.dossier.factories import make_card, sglang_package, write_project

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
MODEL = "class Model:\n    def __init__(self):\n        self.in_proj_qkvzba = MergedColumnParallelLinear(\n"


def _dossier(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "dossier", *args], env=env, **kw)


def test_drift_record_writes_its_lock_though_the_reader_left(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    pkg = sglang_package(tmp_path / "site", {"srt/models/qwen3_next.py": MODEL})
    r, w = os.pipe()
    os.close(r)  # `dossier drift --record | head -0`: the reader is gone before the report
    proc = _dossier("drift", "--root", str(root), "--sglang-src", str(pkg), "--record", stdout=w,
                    stderr=subprocess.PIPE, text=True)
    os.close(w)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    lock = root / "cards" / "drift.lock"
    assert lock.is_file() and "100:" in lock.read_text(), err


def test_a_home_folder_in_a_path_option_is_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "home").mkdir()
    result = runner.invoke(app, ["show", "100", "--root", "~/nowhere"])
    assert result.exit_code == 2 and f"{tmp_path}/home/nowhere" in result.output, result.output
    assert not (tmp_path / "~").exists()


def test_a_link_on_the_way_to_a_results_folder_that_leads_nowhere_is_named(tmp_path):
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(OSError, match=r"a broken link \(to .*nowhere\), not a folder"):
        check_writable(tmp_path / "dangling" / "cpu")
    with pytest.raises(OSError, match="a symbolic link that loops, not a folder"):
        check_writable(tmp_path / "loop" / "cpu")
    assert not (tmp_path / "nowhere").exists()


def test_a_results_folder_through_a_link_and_dotdot_is_where_mkdir_put_it(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "linkdir").symlink_to(tmp_path / "d")
    real = check_writable(tmp_path / "a" / "linkdir" / ".." / "res" / "cpu")  # physically tmp/res/cpu
    assert real == tmp_path / "res" / "cpu" and real.is_dir()
    assert not (tmp_path / "a" / "res").exists()


def test_a_folder_the_shell_sits_in_that_was_removed_is_named(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run([sys.executable, "-c", "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
                           "sys.argv = ['dossier', 'findings']; from dossier.main import main; main()", str(gone)],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "error: the current folder no longer exists" in proc.stderr and "Errno" not in proc.stderr


@pytest.mark.parametrize("columns", ["0", "-5"])
def test_a_width_below_one_is_no_width(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    assert _stderr_columns() >= 80


def test_a_signal_after_the_answer_prints_no_traceback(tmp_path):
    """The answer is given, then SIGTERM arrives while the interpreter shuts down."""
    code = ("import os, signal, sys, threading\n"
            "sys.argv = ['dossier', 'schema']\n"
            "from dossier.main import main\n"
            "import atexit\n"
            "atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM))\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert "Traceback" not in proc.stderr and "Terminated" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr


def test_an_interrupt_held_during_the_swap_says_the_new_manual_is_in_place(tmp_path, monkeypatch):
    from dossier import render as render_pkg

    root = write_project(tmp_path / "p", [make_card(100)])
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    card = root / "cards" / "100.yaml"
    card.write_text(card.read_text().replace("title: ", "title: Renamed ", 1))
    real = render_pkg.write_documents

    def swap_then_interrupt(docs, folder):  # the signal held during the swap lands as it returns
        real(docs, folder)
        raise KeyboardInterrupt

    monkeypatch.setattr(render_pkg, "write_documents", swap_then_interrupt)
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code == 130, result.output
    assert "interrupted: the new manual was in place before it" in " ".join(result.output.split())
    monkeypatch.undo()
    assert runner.invoke(app, ["render", "--check", "--root", str(root)]).exit_code == 0


def test_a_title_in_utf8_is_read_as_utf8_under_a_strict_c_locale(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    env = {**os.environ, "PYTHONPATH": str(REPO), "LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0"}
    proc = subprocess.run([sys.executable, "-m", "dossier", "new", "99995", "--title", "tïtle ☃", "--state", "open",
                           "--root", str(root)], capture_output=True, text=True, env=env, timeout=120,
                          encoding="utf-8", errors="replace")
    assert proc.returncode == 0, proc.stderr
    assert "tïtle ☃" in (root / "cards" / "99995.yaml").read_text(encoding="utf-8")


def test_show_diff_names_a_release_cache_that_is_a_file(tmp_path, monkeypatch):
    root = write_project(tmp_path / "p", [make_card(100)])
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("DOSSIER_RELEASES", str(tmp_path / "afile"))
    (tmp_path / "prs").mkdir()
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "prs"))
    from dossier.evidence import key_sha
    from dossier.project import Project
    from dossier.release_evidence import Event, FileAt, History, ReleaseLock, write_release_lock

    card = Project.load(root).card(100)
    old, new = FileAt("0.5.9", "2026-02-23", None), FileAt("0.5.10", "2026-04-05", "0" * 64)
    event = Event("added", card.key_fragment.file, (3,), old, new)
    history = History(key_sha(card.key_fragment), "0.5.9", "0.5.10", (("0.5.10", "0.5.10"),), (event,), "2026-04-10")
    write_release_lock(root, ReleaseLock({"0.5.9": "2026-02-23", "0.5.10": "2026-04-05"}, {100: history}),
                       Project.load(root).cards)
    result = runner.invoke(app, ["show", "100", "--diff", "--root", str(root)])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "is a file, not a folder" in said and "into" not in said, said


def test_a_temp_file_is_listed_before_an_interrupt_can_land(tmp_path):
    """SIGINT held off while stage() makes and lists its temp file: raised inside the block, it lands after it, with
    the file listed for the exit's sweep (an interrupt between the two left it behind, unlisted)."""
    from dossier import files

    real = tempfile.mkstemp

    def mkstemp_then_interrupt(*a, **kw):
        made = real(*a, **kw)
        os.kill(os.getpid(), signal.SIGINT)  # arrives between the temp file and its listing
        return made

    target = tmp_path / "lock"
    files.tempfile.mkstemp = mkstemp_then_interrupt
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # an xdist worker ignores SIGINT
    try:
        with pytest.raises(KeyboardInterrupt):
            files.write_atomic(target, "x")
    finally:
        files.tempfile.mkstemp = real
        signal.signal(signal.SIGINT, before)
    made = [str(p) for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(made) == 1 and made[0] in files._staged
    files._staged.discard(made[0])
    os.unlink(made[0])
