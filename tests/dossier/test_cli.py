"""The command line contract: commands listed, exit codes, formats, show/new/schema."""

from __future__ import annotations

import io
import json
import re

import jsonschema
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from dossier import cli
from dossier.cli import app
from dossier.diagnostics import Diagnostic
from dossier.model import json_schema
from tests.dossier.factories import make_card, write_project

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("fetch", "lint", "render", "drift", "regress", "show", "findings", "new", "schema"):
        assert re.search(rf"^\s+{name}\s+\S", result.output, re.M), name


def test_lint_exit_codes(project_dir, tmp_path):
    assert runner.invoke(app, ["lint", "--root", str(project_dir)]).exit_code == 0
    (project_dir / "cards" / "100.yaml").write_text("pr: [\n")
    result = runner.invoke(app, ["lint", "--root", str(project_dir)])
    assert result.exit_code == 1 and "cards/100.yaml:" in result.output and "D102" in result.output
    assert runner.invoke(app, ["lint", str(tmp_path / "missing"), "--root", str(project_dir)]).exit_code == 2
    assert runner.invoke(app, ["lint", "--format", "xml"]).exit_code == 2


@pytest.mark.parametrize("command", ["lint", "drift"])
def test_a_long_check_says_what_it_is_doing_on_a_terminal_and_in_a_log(project_dir, monkeypatch, command):
    """lint and drift read all of today's SGLang (25 s for lint on this project's cards): a terminal shows a
    spinner naming the work, then clears it; a log (CI) gets that line once, before the work (it got nothing,
    25 s of silence), on stderr: the report on stdout is unchanged."""
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, highlight=False, markup=False))
    result = runner.invoke(app, [command, "--root", str(project_dir)])
    assert result.exit_code in (0, 1) and "checking 2 card(s)" in screen.getvalue(), screen.getvalue()
    monkeypatch.undo()
    logged = runner.invoke(app, [command, "--root", str(project_dir)])
    assert [line for line in logged.stderr.splitlines() if "checking" in line] == [
        line for line in logged.stderr.splitlines() if line.startswith("checking 2 card(s)")] != []
    assert "checking" not in logged.stdout


def test_lint_formats(tmp_path):
    root = write_project(tmp_path, [make_card(100, lane="nope")])
    js = runner.invoke(app, ["lint", "--root", str(root), "--format", "json"])
    data = json.loads(js.stdout)
    assert js.exit_code == 1 and data[0]["code"] == "D501" and data[0]["file"] == "cards/100.yaml"
    gh = runner.invoke(app, ["lint", "--root", str(root), "--format", "github"])
    assert gh.stdout.startswith("::error file=cards/100.yaml,line=")
    assert "title=D501::" in gh.stdout



def test_github_annotation_properties_are_escaped():
    """GitHub splits an annotation's properties at ',' and ':': a draft's path holding them must be escaped."""
    d = Diagnostic("drafts, v2: old/100.yaml", 3, 5, "D507", "50% off,\nnext", hint="h")
    assert d.github() == ("::error file=drafts%2C v2%3A old/100.yaml,line=3,col=5,title=D507::D507 50%25 off,%0Anext "
                          "(hint: h)")


def test_list_rules_has_codes_and_summaries():
    result = runner.invoke(app, ["lint", "--list-rules"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) >= 25 and all(re.match(r"D\d{3}\s+\w+\s+(error|warning)\s+\S", line) for line in lines)


def test_explain_prints_a_rules_text_and_refuses_an_unknown_code():
    result = runner.invoke(app, ["lint", "--explain", "d517"])
    assert result.exit_code == 0
    assert result.output.startswith("D517  links error: ") and "TP1 B=64 and TP4 B=256" in result.output
    assert runner.invoke(app, ["lint", "--explain", "D999"]).exit_code == 2


def test_every_rule_explains_itself_in_its_own_words():
    """The D6xx stale-mention rules are partial functions: --explain printed functools.partial's own docstring
    ('partial(func, *args, **keywords) - new function with partial application ...') for nine of them."""
    import inspect

    from dossier.lint import RULES

    borrowed = {code for code, r in RULES.items()
                if (inspect.getdoc(r.check) or "") in (inspect.getdoc(type(r.check)), inspect.getdoc(object))}
    assert not borrowed
    assert "validation.claims" in runner.invoke(app, ["lint", "--explain", "D610"]).output


@pytest.mark.parametrize("cmd", ["fetch", "lint", "render", "drift", "regress", "show", "new", "schema"])
def test_every_command_explains_itself(cmd):
    result = runner.invoke(app, [cmd, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert "not implemented" not in result.output


def _commands():
    """(path, click command) of every command and `releases` subcommand."""
    import typer

    top = typer.main.get_command(app)
    for name, command in top.commands.items():
        if hasattr(command, "commands"):  # a group
            yield from ((f"{name} {sub}", c) for sub, c in command.commands.items())
        else:
            yield name, command


def test_every_command_option_and_argument_says_what_it_is():
    """Each command has a description, each parameter a help text, and each cache, results or source folder says
    where it is when the option is left out (`show --cache-dir` said only "Fetch cache directory.")."""
    seen = []
    for path, command in _commands():
        assert command.help and len(command.help.split()) >= 6, path
        for param in command.params:
            if param.name == "help":
                continue
            assert getattr(param, "help", None), f"{path} {param.name}"
            if param.name in ("cache_dir", "results", "root", "sglang_src"):
                assert "(default" in param.help, f"{path} --{param.name}: {param.help}"
                seen.append(path)
    assert {"fetch", "show", "lint", "regress", "releases sync", "for-version"} <= set(seen)


def test_every_command_says_what_its_exit_codes_mean_and_the_tool_where_to_start():
    """A script (CI, a pre-commit hook) branches on the exit code: each command's --help says when it exits 1 or
    2 (lint, drift's 2, for-version, findings, schema and releases list did not); `dossier --help` names the
    commands a first session runs, in order."""
    import re

    silent = [path for path, command in _commands() if not re.search(r"\b[Ee]xits? (?:0|1|2)\b", command.help)]
    assert silent == []
    drift = dict(_commands())["drift"].help
    assert all(verdict in drift for verdict in ("in-place", "relocated", "rewritten", "missing", "outside"))
    top = runner.invoke(app, ["--help"]).output
    assert all(step in top for step in ("dossier fetch", "dossier new", "dossier lint", "dossier render"))


def test_show_prints_card(project_dir):
    result = runner.invoke(app, ["show", "100", "--root", str(project_dir)])
    assert result.exit_code == 0
    assert "#100" in result.output and "in_proj_qkvz" in result.output
    assert "Recorded" in result.output and "Unverified" in result.output  # the evidence note
    assert runner.invoke(app, ["show", "4242", "--root", str(project_dir)]).exit_code == 2  # a missing card is a usage error everywhere


def test_new_scaffolds_without_inventing_prose(project_dir):
    result = runner.invoke(app, ["new", "200", "--title", "A | title", "--state", "open",
                                 "--lane", "gdn-projection", "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((project_dir / "cards" / "200.yaml").read_text())
    assert data["title"] == "A | title" and data["status"] == "candidate" and data["merged_at"] is None
    assert data["motivation"] == "" and data["implementation"] == ""
    lint = runner.invoke(app, ["lint", "--root", str(project_dir)])
    assert lint.exit_code == 1 and "D104 motivation is empty" in lint.output  # an unfilled scaffold never passes
    assert "repeats the PR title" not in lint.output  # one "empty" finding, not a cascade of depth findings
    again = runner.invoke(app, ["new", "200", "--title", "x", "--state", "open", "--root", str(project_dir)])
    assert again.exit_code == 2 and "exists" in again.output


def test_new_without_facts_is_a_usage_error(project_dir):
    result = runner.invoke(app, ["new", "300", "--root", str(project_dir)])
    assert result.exit_code == 2 and "dossier fetch 300" in result.output


def test_schema_command_validates_cards():
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    card = json.loads(json.dumps(make_card(1), default=str))
    jsonschema.validate(card, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**card, "status": "maybe"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**card, "runtime": {"none": "x", "bench": "y"}}, schema)


def test_committed_schema_is_current():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "dossier" / "schema" / "card.schema.json"
    assert json.loads(path.read_text()) == json_schema()


@pytest.mark.parametrize("args, env, says", [
    (["frob"], {}, "No such command 'frob'"),
    (["releases", "frob"], {}, "No such command 'frob'"),
    (["show"], {}, "Missing argument 'pr' (`root show --help` says more)"),
    (["show", "abc"], {}, "Invalid value for 'pr': 'abc' is not a PR number (1 to 9999999, as 19321 or #19321)"),
    (["show", "0"], {}, "Invalid value for 'pr': '0' is not a PR number (1 to 9999999, as 19321 or #19321)"),
    (["show", "1", "2"], {}, "Got unexpected extra argument(s) (2)"),
    (["lint", "--format", "xml"], {}, "Invalid value for '--format'"),
    (["lint", "--nope"], {}, "No such option: --nope"),
    (["releases", "sync", "--from"], {}, "Option '--from' requires an argument"),
    (["fetch", "1", "--jobs", "x"], {}, "Invalid value for '--jobs'"),
    (["new", "1", "--title", " "], {}, "Invalid value for '--title': is empty"),
    (["fetch", "1"], {"DOSSIER_FETCH_DEADLINE": "nan"}, "(env var: 'DOSSIER_FETCH_DEADLINE')"),
])
def test_a_usage_error_is_one_error_line_like_every_other(args, env, says):
    """click printed four lines (the usage, a hint, a blank line, `Error: ...`), unlike every other error's one
    `error:` line."""
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: "), result.output
    assert says in result.output


@pytest.mark.parametrize("args", [[], ["releases"]])
def test_no_command_still_prints_the_help(args):
    result = runner.invoke(app, args)
    assert result.output.startswith("Usage:") and "error:" not in result.output.lower()


def test_control_characters_of_a_card_reach_no_terminal_raw(tmp_path):
    """`show` and lint's hints wrote card text as it was: ESC sequences in a card cleared the screen, set the
    window title or hid lines (lint's D112 says what is wrong; the terminal must not act on it meanwhile)."""
    card = make_card(100)
    card["title"] = "Fuse \x1b[2Jthe projections"
    card["key_fragment"]["match"] = "self.x\x1b[8m = 1"
    card["motivation"] += " \x1b]0;title\x07\x9b31m"
    root = write_project(tmp_path, [card])
    shown = runner.invoke(app, ["show", "100", "--root", str(root)])
    linted = runner.invoke(app, ["lint", "--root", str(root)])
    github = runner.invoke(app, ["lint", "--format", "github", "--root", str(root)])
    for result in (shown, linted, github):
        assert not any(ch in result.output for ch in "\x1b\x07\x9b"), result.output
    assert "Fuse \u241b[2Jthe projections" in shown.output and "self.x\u241b[8m = 1" in linted.output


@pytest.mark.parametrize("args", [["fetch", "100"], ["lint"], ["releases", "list"], ["new", "5", "--title", "T",
                                                                                          "--state", "open"]])
def test_a_root_that_is_no_folder_is_a_usage_error_and_nothing_is_made_there(tmp_path, args):
    """`fetch 100 --root /missing` made /missing/.dossier/cache (fetch needs only the configuration); the others said
    "/missing has no cards/ directory"."""
    (tmp_path / "file").write_text("not a project\n")
    for root, says in ((tmp_path / "missing", "does not exist"), (tmp_path / "file", "is not a folder")):
        result = runner.invoke(app, [*args, "--root", str(root)], env={"GITHUB_API_URL": "http://127.0.0.1:9"})
        assert result.exit_code == 2 and result.output.startswith(f"error: Invalid value for '--root': {root} {says}")
        assert result.output.count("\n") == 1 and not (tmp_path / "missing").exists()


@pytest.mark.parametrize("args", [["new", "5", "--title", "Fuse\nthe projections", "--state", "open"],
                                  ["new", "5", "--title", "Fuse \x1b[2J", "--state", "open"],
                                  ["lint", "--select", "D1\t"], ["fetch", "5", "--repo", "o/r\r"]])
def test_a_control_character_in_a_text_option_is_a_usage_error_before_anything_is_written(project_dir, args):
    """`new --title $'a\\nb'` wrote a card lint then refused (D112), render with it."""
    result = runner.invoke(app, [*args, "--root", str(project_dir)], env={"GITHUB_API_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "holds a control character (U+00" in result.output and not (project_dir / "cards" / "5.yaml").exists()


@pytest.mark.parametrize("command", ["schema", "lint", "show 100"])
def test_a_closed_standard_output_is_an_environment_error_not_a_lost_answer(project_dir, command):
    """`dossier schema >&-` was 'internal error: AttributeError'; lint and show printed their answer nowhere and
    exited 0."""
    import subprocess
    import sys

    proc = subprocess.run(["sh", "-c", f'exec "$0" -m dossier {command} --root "$1" >&-' if command != "schema" else
                           f'exec "$0" -m dossier {command} >&-', sys.executable, str(project_dir)],
                          capture_output=False, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == ("error: standard output is closed: what this command prints would be "
                                            "lost (send it to a file or to /dev/null instead)")


def _with_broken_stderr(how: str, args: list[str], tmp_path) -> tuple[int, str]:
    """Run `python -m dossier ARGS` with a standard error that cannot be written; (exit code, standard output)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("DOSSIER_DEBUG", None)
    if how == "reader gone":  # a pipe whose reader left before the first line
        proc = subprocess.Popen([sys.executable, "-m", "dossier", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        proc.stderr.close()
        out = proc.stdout.read()
        return proc.wait(timeout=300), out.decode()
    readonly = tmp_path / "stderr.txt"
    readonly.write_text("")
    redirect = {"closed": "2>&-", "read-only": '2<"$f"'}[how]  # read-only: fd 2 open, every write fails (EBADF)
    proc = subprocess.run(["sh", "-c", f'f="$1"; shift; exec "$0" -m dossier "$@" {redirect}', sys.executable,
                           str(readonly), *args], stdout=subprocess.PIPE, env=env, timeout=300)
    assert readonly.read_text() == ""
    return proc.returncode, proc.stdout.decode()


@pytest.mark.parametrize("how", ["closed", "read-only", "reader gone"])
def test_an_error_reaches_the_user_when_standard_error_cannot_be_written(project_dir, tmp_path, how):
    """`dossier show 5 2>&-` exited 2 without a word; with fd 2 open but unwritable (a pyenv shim leaves it so)
    the failed write of the error line became exit 1. The error line now goes to standard output (warnings and
    progress are dropped), and the exit code is the one an open stderr gets."""
    root = ["--root", str(project_dir)]
    code, out = _with_broken_stderr(how, ["show", "5", *root], tmp_path)
    assert (code, out) == (2, "error: no card for #5 (cards/5.yaml does not exist; `dossier new 5` starts one)\n")
    code, out = _with_broken_stderr(how, ["nosuch"], tmp_path)
    assert (code, out) == (2, "error: No such command 'nosuch' (`python -m dossier --help` says more)\n")
    code, out = _with_broken_stderr(how, [], tmp_path)  # no command: the help is the answer, exit 2
    assert code == 2 and out.startswith("Usage: python -m dossier [OPTIONS] COMMAND")
    # no "checking" line, no summary in it (one rule: what SGLang's tree says is not this test's question)
    code, out = _with_broken_stderr(how, ["lint", "--format", "json", "--select", "D301", *root], tmp_path)
    assert code == 0 and {d["code"] for d in json.loads(out)} == {"D301"}
