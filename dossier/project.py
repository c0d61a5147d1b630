"""A dossier project on disk: its root, configuration, cards and lanes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dossier.cards import LANES_FILE, YamlDoc, card_paths, finding_paths, read_yaml
from dossier.model import CARD, FINDING, Card, FindingCard, Lane
from dossier.model import LANES_FILE as LANES_SPEC

DEFAULT_REPO = "sgl-project/sglang"


class ProjectError(Exception):
    """The project cannot be used as asked (missing cards dir, unreadable config): exit 2."""


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` whose pyproject.toml has a [tool.dossier] table, else start."""
    start = (start or Path.cwd()).resolve()
    for d in (start, *start.parents):
        py = d / "pyproject.toml"
        if py.is_file() and "[tool.dossier]" in py.read_text(errors="replace"):
            return d
    return start


def read_config(root: Path) -> dict:
    py = root / "pyproject.toml"
    if not py.is_file():
        return {}
    try:
        return tomllib.loads(py.read_text()).get("tool", {}).get("dossier", {})
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{py}: cannot read [tool.dossier]: {exc}") from exc


@dataclass
class Project:
    root: Path
    config: dict
    docs: list[YamlDoc] = field(default_factory=list)
    lanes_doc: YamlDoc | None = None
    finding_docs: list[YamlDoc] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path, paths: list[Path] | None = None) -> Project:
        """Read the cards under ``paths`` (default: the project's cards/), their findings/ and cards/lanes.yaml."""
        cards_dir = root / "cards"
        paths = paths or [cards_dir]
        for p in paths:
            if not p.exists():
                raise ProjectError(f"no such file or directory: {p}")
        project = cls(root=root, config=read_config(root))
        for path in card_paths(paths):
            doc = read_yaml(path)
            doc.spec = CARD
            project.docs.append(doc)
        for path in finding_paths(paths):
            doc = read_yaml(path)
            doc.spec = FINDING
            project.finding_docs.append(doc)
        lanes_path = cards_dir / LANES_FILE
        if not lanes_path.is_file():
            # a cards dir given explicitly carries its own lanes file
            lanes_path = next((p / LANES_FILE for p in paths if (p / LANES_FILE).is_file()), lanes_path)
        if lanes_path.is_file():
            project.lanes_doc = read_yaml(lanes_path)
            project.lanes_doc.spec = LANES_SPEC
        return project

    @property
    def repo(self) -> str:
        return self.config.get("repo", DEFAULT_REPO)

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    def valid_docs(self) -> list[YamlDoc]:
        """Card documents that satisfy the schema (the rest only get schema findings)."""
        return self._valid_docs

    @cached_property
    def _valid_docs(self) -> list[YamlDoc]:
        return [d for d in self.docs if is_valid(d)]

    @cached_property
    def cards(self) -> list[Card]:
        """Valid cards, one per PR (the first file wins on duplicates), sorted by PR number."""
        seen: dict[int, Card] = {}
        for d in self.valid_docs():
            seen.setdefault(d.data["pr"], Card.from_data(d.data, d.path))
        return sorted(seen.values(), key=lambda c: c.pr)

    @cached_property
    def findings(self) -> list[FindingCard]:
        """Valid findings (upstream bugs without a PR), sorted by name."""
        return sorted((FindingCard.from_data(d.data, d.path) for d in self.finding_docs if is_valid(d)),
                      key=lambda f: f.name)

    @cached_property
    def lanes(self) -> list[Lane]:
        if self.lanes_doc is None or not is_valid(self.lanes_doc):
            return []
        return [Lane.from_data(x) for x in self.lanes_doc.data["lanes"]]

    @property
    def investigation_order(self) -> list[str]:
        return list(self._lanes_data.get("investigation_order") or [])

    @property
    def answers(self) -> dict:
        """The answer blocks of cards/lanes.yaml (validated by ANSWERS), or {} when absent or invalid."""
        return self._lanes_data.get("answers") or {}

    @property
    def _lanes_data(self) -> dict:
        if self.lanes_doc is None or not is_valid(self.lanes_doc):
            return {}
        return self.lanes_doc.data

    def card(self, pr: int) -> Card | None:
        return next((c for c in self.cards if c.pr == pr), None)


def is_valid(doc: YamlDoc) -> bool:
    return not doc.read_errors and doc.data is not None and not any(doc.spec.check(doc.data))
