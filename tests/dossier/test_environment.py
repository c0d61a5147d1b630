"""Environment variables with values a command cannot use: one `error:` line and exit 2, never a guess.

Each case is read the same way by every command that reads it (one parser per variable)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dossier.cli import app

runner = CliRunner()


def schema_with_a_bug(monkeypatch, **env):
    """`dossier schema` whose code raises a bug (RuntimeError), under ``env``."""
    import dossier.model

    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(dossier.model, "json_schema", broken)
    return runner.invoke(app, ["schema"], env=env)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", " 1 "])
def test_a_true_debug_value_shows_the_traceback(monkeypatch, value):
    result = schema_with_a_bug(monkeypatch, DOSSIER_DEBUG=value)
    assert isinstance(result.exception, RuntimeError)


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "OFF", "", " "])
def test_a_false_or_empty_debug_value_keeps_the_one_line(monkeypatch, value):
    """DOSSIER_DEBUG=0 turned tracebacks on: any non-empty value did."""
    result = schema_with_a_bug(monkeypatch, DOSSIER_DEBUG=value)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("error: internal error: RuntimeError: a bug (a bug in dossier; DOSSIER_DEBUG=1")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["2", "maybe", "debug", "y e s"])
def test_a_debug_value_that_is_neither_is_a_usage_error_for_every_command(value):
    """Read before the command runs: an unrecognised value is refused, not guessed, bug or no bug."""
    result = runner.invoke(app, ["schema"], env={"DOSSIER_DEBUG": value})
    assert result.exit_code == 2
    assert result.output == (f"error: DOSSIER_DEBUG must be 1, true, yes or on (tracebacks) or 0, false, no, off or "
                             f"empty (none), got {value!r}\n")


@pytest.mark.parametrize("value", ["-1", "+5", " 5", "5\n", "1_000", "\uff11\uff12", "1.5", "1e9", "0x10",
                                   "253402300800", "9" * 5000, "yesterday"])
def test_a_source_date_epoch_that_is_not_a_day_up_to_9999_is_refused(monkeypatch, value):
    """-1 read as 1969-12-31, "+5", " 5", "1_000" and full-width digits as 1970 (int() takes them all)."""
    from dossier.errors import DossierError
    from dossier.evidence import today

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(DossierError) as refused:
        today()
    assert str(refused.value) == ("SOURCE_DATE_EPOCH must be seconds since 1970, a whole number from 0 to "
                                  f"253402300799 (the end of 9999), got {value[:40]!r}")


@pytest.mark.parametrize("value, day", [("0", "1970-01-01"), ("1764633600", "2025-12-02"),
                                        ("253402300799", "9999-12-31"), ("", None)])
def test_a_source_date_epoch_in_range_is_its_day(monkeypatch, value, day):
    import datetime as dt

    from dossier.evidence import today

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert today() == (day or dt.datetime.now(dt.UTC).date().isoformat())


@pytest.mark.parametrize("args", [["lint"], ["lint", "cards/100.yaml"], ["render"], ["render", "--check"]])
def test_every_command_judging_by_the_day_refuses_a_bad_source_date_epoch_in_one_line(project_dir, args):
    """lint gave a "D000 rule D403 crashed: DossierError" finding per card (and render refused on them)."""
    before = {p: p.read_bytes() for p in project_dir.rglob("*") if p.is_file()}
    args = [a.replace("cards/", f"{project_dir}/cards/") for a in args]
    result = runner.invoke(app, [*args, "--root", str(project_dir)], env={"SOURCE_DATE_EPOCH": "-1"})
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: SOURCE_DATE_EPOCH must be seconds since 1970")
    assert len([ln for ln in result.output.splitlines() if "SOURCE_DATE_EPOCH" in ln]) == 1
    assert {p: p.read_bytes() for p in project_dir.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("value", ["nan", "inf", "0", "-5", "86401", "soon"])
def test_a_fetch_deadline_outside_a_day_says_the_range_and_what_was_given(tmp_path, how, value):
    """NaN read "Input should be less than or equal to 86400" (NaN fails every comparison), naming neither."""
    from tests.dossier.factories import write_project

    root = write_project(tmp_path / "p", [])
    args, env = (["--deadline", value], {}) if how == "flag" else ([], {"DOSSIER_FETCH_DEADLINE": value})
    result = runner.invoke(app, ["fetch", "100", *args, "--root", str(root)],
                           env={"GITHUB_API_URL": "http://127.0.0.1:9", **env})
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert f"must be seconds from 0.1 to 86400 (a day), got {value!r}" in result.output, result.output
