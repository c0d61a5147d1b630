"""A project whose pyproject.toml or cards/ is there but cannot be read: one error line naming it, never a guess."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from dossier.cli import app

UNREADABLE = {
    "pipe": (lambda py: os.mkfifo(py), "not a regular file (a pipe)"),
    "folder": (lambda py: py.mkdir(), "not a regular file (a folder)"),
    "loop": (lambda py: py.symlink_to(py.name), "Too many levels of symbolic links"),
    "dangling": (lambda py: py.symlink_to("gone.toml"), "a symlink to gone.toml, which does not exist"),
}


@pytest.mark.parametrize("how", ["--root", "cwd"])
@pytest.mark.parametrize("make, says", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_pyproject_that_cannot_be_read_is_named_not_taken_for_absent(project_dir, monkeypatch, make, says, how):
    """Taken for absent: with --root, lint, render and fetch went on with the default [tool.dossier] (fetch asked
    sgl-project/sglang, not the configured repository); from inside, 'not inside a dossier project', or the project
    of a folder above it."""
    py = project_dir / "pyproject.toml"
    py.unlink()
    make(py)
    monkeypatch.chdir(project_dir)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens: a request would fail loudly
    for args in (["lint"], ["fetch", "5"], ["render", "--check"]):
        result = CliRunner().invoke(app, [*args, *(["--root", str(project_dir)] if how == "--root" else [])])
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: {py} cannot be read: {says}"), result.output
        assert result.output.endswith(" (it decides the project and its [tool.dossier])\n")


def test_a_cards_folder_that_is_a_looping_link_is_called_so(project_dir, monkeypatch):
    """'has no cards/ directory', of a project that has one: a link to itself."""
    cards = project_dir / "cards"
    cards.rename(project_dir / "kept")
    cards.symlink_to("cards")
    result = CliRunner().invoke(app, ["lint", "--root", str(project_dir)])
    assert (result.exit_code, result.output) == (2, f"error: {cards} is a symlink to cards, which leads to no "
                                                    "directory (it does not exist, or the links loop)\n")
