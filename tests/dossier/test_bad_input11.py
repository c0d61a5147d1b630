"""Bad input, round 11: a lock cut short inside its last section, and damaged input the other commands met."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.surface_history import SURFACE_LOCK, Span, SurfaceHistory, SurfaceLockError, read_history, write_history

runner = CliRunner()


def _surface(root: Path) -> str:
    """A recorded surface lock of three releases, five env vars (the last section); its text."""
    (root / "cards").mkdir(exist_ok=True)
    env = {f"SGLANG_{name}": Span("0.5.1", "0.5.3") for name in ("A", "B", "C", "D", "E")}
    write_history(root, SurfaceHistory(["0.5.1", "0.5.2", "0.5.3"], {"--x": Span("0.5.2", "0.5.2")}, env))
    return (root / SURFACE_LOCK).read_text()


def test_a_surface_lock_cut_anywhere_after_its_releases_is_an_error_naming_it_and_what_to_run(tmp_path):
    """A copy that stopped inside env: (the last section) was still YAML: the names past the cut were gone from
    lint's history and flags.md with nothing said. Every cut, at a line end or inside a line, is now refused."""
    text = _surface(tmp_path)
    assert len(read_history(tmp_path).env) == 5
    start = text.index("flags:")
    cuts = {text.rindex("\n", 0, end) + 1 for end in range(start + 1, len(text))} | {len(text) - 2, len(text) - 12}
    for cut in sorted(cuts - {len(text)}):
        (tmp_path / SURFACE_LOCK).write_text(text[:cut])
        with pytest.raises(SurfaceLockError, match=r"^cards/surface\.lock: .*dossier releases surface --record"):
            read_history(tmp_path)


def test_a_surface_lock_that_lost_a_name_says_how_many_and_render_refuses(project_dir):
    text = _surface(project_dir).replace("  SGLANG_E: 0.5.1..0.5.3\n", "")
    (project_dir / SURFACE_LOCK).write_text(text)
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 2, result.output
    assert "cards/surface.lock: env lists 4 name(s) where `names:` counts 5" in " ".join(result.output.split())
