"""Fixtures for toolkit tests: a temporary dossier project with valid cards to mutate."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.dossier.factories import LANES, make_card, write_project


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A project with lanes and two valid cards (#100 current, #90 superseded by #100)."""
    current = make_card(100)
    current["implementation"] += " It replaces the earlier attempt #90."  # lint D520: a successor names what it replaced
    return write_project(tmp_path, [current, make_card(90, status="superseded", superseded_by=[100])])


@pytest.fixture
def no_release_cache(tmp_path: Path, monkeypatch) -> None:
    """No SGLang release cache: the rules that read one step aside (the probes judge the rest)."""
    monkeypatch.setenv("DOSSIER_RELEASES", str(tmp_path / "no-releases"))


@pytest.fixture
def lanes() -> dict:
    return copy.deepcopy(LANES)


def dump(path: Path, data) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def real(tmp_path) -> Path:
    """A copy of this repository's cards, results and project file (the manual's real inputs)."""
    import shutil

    root = tmp_path / "real"
    root.mkdir()
    repo = Path(__file__).resolve().parents[2]
    for name in ("cards", "results"):
        shutil.copytree(repo / name, root / name)
    shutil.copy(repo / "pyproject.toml", root / "pyproject.toml")
    return root
