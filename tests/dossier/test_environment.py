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
