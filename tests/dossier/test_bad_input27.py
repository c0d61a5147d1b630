"""The CLI at the edges of its environment (round 27): a reader that closes early must not cost `drift --record` its
recording; `~` in a path option is the home folder, not a folder named `~`; a link on the way to --results that leads
nowhere is named; an interrupt held during render's swap says the new manual is in place; a shell in a folder render
replaced is told so; a signal after a command's answer prints no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
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
