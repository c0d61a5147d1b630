"""A dossier project on disk: its root, configuration, cards and lanes."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dossier.cards import (
    LANES_FILE,
    MAX_CARD_BYTES,
    MAX_LANES_BYTES,
    YAML_SUFFIXES,
    YamlDoc,
    card_paths,
    finding_paths,
    named_file,
    read_yaml,
    stray_files,
)
from dossier.committed import cut_since_commit
from dossier.errors import DossierError
from dossier.files import kind_of, read_bytes, resolved
from dossier.locks import RECORDED_BY, is_recorded
from dossier.model import CARD, FINDING, Card, FindingCard, Lane
from dossier.model import LANES_FILE as LANES_SPEC

DEFAULT_REPO = "sgl-project/sglang"


class ProjectError(DossierError):
    """The project cannot be used as asked (not a project, missing cards dir, unreadable config): exit 2."""


def _pyproject(py: Path) -> bytes | None:
    """The bytes of ``py`` (None when there is none); ProjectError when it is there but cannot be read (a pipe, a
    folder, a dangling or looping link, no permission): taken for absent, a command went on with the default
    [tool.dossier] (another repository, another skill name), or with the project of a folder above."""
    if not os.path.lexists(py):
        return None
    try:
        return read_bytes(py)
    except OSError as exc:
        raise ProjectError(f"{py} cannot be read: {exc.strerror or exc} (it decides the project and its "
                           "[tool.dossier])") from None


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` whose pyproject.toml has a [tool.dossier] table."""
    if start is None:
        try:
            start = Path.cwd()
        except FileNotFoundError:  # the folder the shell is in was removed (a render swaps references/ whole)
            raise ProjectError("the current folder no longer exists (removed or replaced since the shell entered "
                               "it, as `dossier render` replaces the skill folder): cd into the project again, or "
                               "pass --root") from None
    start = start.resolve()
    for d in (start, *start.parents):
        raw = _pyproject(d / "pyproject.toml")
        if raw is not None and b"[tool.dossier]" in raw:
            return d
    raise ProjectError(f"not inside a dossier project (no pyproject.toml with [tool.dossier] at or above {start}); "
                       "cd into one or pass --root")


def _absolute(path: Path) -> Path:
    """``path`` made absolute with its directory resolved but not its last part (a symlinked card stays itself)."""
    path = Path(os.path.abspath(path))
    return resolved(path.parent) / path.name


def read_config(root: Path) -> dict:
    """[tool.dossier] of the root's pyproject.toml ({} without one); ProjectError when a value fails CONFIG_CHECKS."""
    py = root / "pyproject.toml"
    raw = _pyproject(py)
    if raw is None:
        return {}
    try:
        text = raw.decode()
        if text.startswith("\ufeff"):  # tomllib's "Invalid statement (at line 1, column 1)" names nothing to fix
            raise ProjectError(f"{py}: cannot read [tool.dossier]: the file starts with a byte-order mark (U+FEFF), "
                               "which TOML does not allow: save it without one")
        config = tomllib.loads(text).get("tool", {}).get("dossier", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{py}: cannot read [tool.dossier]: {exc}") from None
    if not isinstance(config, dict):
        raise ProjectError(f"{py}: [tool.dossier] must be a table")
    skill = config.get("skill") if isinstance(config.get("skill"), dict) else {}
    for key, value in [*config.items(), *((f"skill.{k}", v) for k, v in skill.items())]:
        if key not in CONFIG_KEYS:  # skipped, what it said was lost (a `descripton` left the default in SKILL.md)
            table, _, name = key.rpartition(".")
            known = ", ".join(k.removeprefix(f"{table}.") for k in CONFIG_KEYS if k.rpartition(".")[0] == table)
            raise ProjectError(f"{py}: [tool.dossier{'.' + table if table else ''}] has no key {name!r} (the keys "
                               f"are {known}): it would be ignored; correct or remove it"[:400])
        kind, ok = CONFIG_CHECKS.get(key, ("", None))
        if ok is not None and not ok(value):
            raise ProjectError(f"{py}: [tool.dossier] {key} must be {kind}, got {value!r}"[:300])
    return config


def _text(limit: int, pattern: str = r".+") -> Callable[[object], bool]:
    return lambda v: isinstance(v, str) and len(v) <= limit and re.fullmatch(pattern, v, re.S) is not None


#: OWNER/NAME as GitHub spells them: ASCII letters, digits, '.', '_' and '-', neither part '.' or '..' (a path out of
#: /repos/ on the API and in every link of the manual)
REPO_PATTERN = r"(?!\.\.?/)[A-Za-z0-9._-]+/(?!\.\.?$)[A-Za-z0-9._-]+"

#: [tool.dossier] keys read as given, with what each must be (cover is D511's: a finding, not a stop)
CONFIG_CHECKS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "repo": ("OWNER/NAME text", _text(140, REPO_PATTERN)),
    "api_url": ("an http(s) URL", _text(2000, r"(?i:https?)://\S+")),
    "models": ("a list of model names", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    # lint D621 matches one word at a time: "", "a b" or "pkg.mod" would match nothing with nothing said
    "other_names": ("a list of names, each one word of code (letters, digits, _)",
                    lambda v: isinstance(v, list) and all(_text(200, r"[A-Za-z_]\w*")(x) for x in v)),
    "skill": ("a table (name, description)", lambda v: isinstance(v, dict)),
    # the Agent Skills spec: the folder is named so, and an installer copies that folder
    # (nor the words Anthropic reserves, nor an XML tag, which an upload refuses)
    "skill.name": ("lower-case letters and digits in words joined by '-', at most 64, without 'anthropic' or "
                   "'claude'", _text(64, r"(?!.*(?:anthropic|claude))[a-z0-9]+(-[a-z0-9]+)*")),
    "skill.description": ("text of at most 1024 characters, no XML tag in it",
                          _text(1024, r"(?!.*<[A-Za-z/!?][^<>]*>).*\S.*")),
}
#: every key [tool.dossier] may hold (``cover``, the PRs lint D511 wants cards for, is checked there)
CONFIG_KEYS = (*CONFIG_CHECKS, "cover")


@dataclass
class Project:
    root: Path
    config: dict
    docs: list[YamlDoc] = field(default_factory=list)
    lanes_doc: YamlDoc | None = None
    finding_docs: list[YamlDoc] = field(default_factory=list)
    #: YAML files under cards/ that are never read (misnamed, in another subdirectory)
    strays: list[Path] = field(default_factory=list)
    #: the files asked about when only some were named (None: all); the rest are loaded to judge them against
    selected: set[Path] | None = None

    @classmethod
    def load(cls, root: Path, paths: list[Path] | None = None) -> Project:
        """Read every card and finding of the project's cards/ (or of the directories in ``paths`` outside it)
        and cards/lanes.yaml. Files named in ``paths`` inside cards/ are :attr:`selected`: lint reports on
        them only, judged against the whole project."""
        root = root.resolve()
        cards_dir = root / "cards"
        if not paths and not cards_dir.is_dir():
            raise ProjectError(f"{cards_dir} is not a directory" if cards_dir.exists() else
                               f"{cards_dir} is a symlink to {os.readlink(cards_dir)}, which leads to no directory "
                               "(it does not exist, or the links loop)" if cards_dir.is_symlink() else
                               f"{root} has no cards/ directory")
        paths = [_absolute(p) for p in paths or [cards_dir]]
        for p in paths:
            if not p.exists():
                raise ProjectError(f"{p} is {kind_of(p)}, nothing to lint" if p.is_symlink() else
                                   f"no such file or directory: {p}")
            if p.parent == cards_dir and is_recorded(p):
                raise ProjectError(f"{p} is not a card but one of the project's recorded files (from "
                                   f"{RECORDED_BY.get(p.name, 'the command that records it')}): lint reads it on every run, judging "
                                   "the cards by it; name cards (<pr>.yaml), a finding, lanes.yaml or a folder")
            if p.is_dir() and p != cards_dir and not (card_paths([p]) or finding_paths([p])
                                                      or (p / LANES_FILE).is_file()):
                raise ProjectError(f"{p} holds no card (<pr>.yaml), finding or {LANES_FILE}: nothing to lint")
        # a folder outside cards/ without a lanes file of its own holds drafts: each is judged as a draft file is
        # (a card set of its own would be held to the project's lanes and cover, every card it lacks an error)
        paths = [q for p in paths for q in (sorted({*card_paths([p]), *finding_paths([p])}) if p.is_dir() and
                                            not p.is_relative_to(cards_dir) and not (p / LANES_FILE).is_file()
                                            and cards_dir.is_dir() else [p])]
        project = cls(root=root, config=read_config(root))
        # files and folders inside cards/, and card files outside it (a draft), are judged against the project
        judged = [p for p in paths if p.is_relative_to(cards_dir) or named_file(p)]
        drafts = [p for p in paths if not p.is_relative_to(cards_dir) and named_file(p)]
        named, findings = card_paths(paths), finding_paths(paths)
        if judged and paths != [cards_dir] and len(judged) == len(paths) and cards_dir.is_dir():
            project.selected = {*named, *findings, *(p for p in paths if p.name == LANES_FILE)}
            named = sorted({*named, *card_paths([cards_dir])}, key=lambda f: (len(f.stem), f.stem, str(f)))
            findings = sorted({*findings, *finding_paths([cards_dir])})
        docs = [_linked_out(read_yaml(path, MAX_CARD_BYTES), cards_dir, root) for path in named]
        _refuse_strangers(docs, paths, CARD, "pr", "card")
        # a draft stands in for the project's card of its PR (it is that card, edited elsewhere)
        drafted = {pr for d in docs if d.path in drafts and isinstance(pr := _pr_of(d), int)}
        for doc in docs:
            if doc.path not in drafts and _pr_of(doc) in drafted:
                continue
            doc.spec = CARD
            project.docs.append(doc)
        for path in findings:
            doc = _linked_out(read_yaml(path, MAX_CARD_BYTES), cards_dir, root)
            doc.spec = FINDING
            project.finding_docs.append(doc)
        _refuse_strangers(project.finding_docs, paths, FINDING, "name", "finding")
        if cards_dir in paths:
            project.strays = stray_files(cards_dir)
        lanes_path = cards_dir / LANES_FILE
        if not lanes_path.is_file():
            # a cards dir given explicitly carries its own lanes file
            lanes_path = next((p / LANES_FILE for p in paths if (p / LANES_FILE).is_file()), lanes_path)
        if lanes_path.exists() or lanes_path.is_symlink():  # a folder or a dangling link: read_yaml says why (D100)
            project.lanes_doc = _linked_out(read_yaml(lanes_path, MAX_LANES_BYTES), cards_dir, root)
        else:  # lint reports it (D100) as render refuses for it, with cards or without
            project.lanes_doc = YamlDoc(lanes_path, read_errors=[
                ("D100", f"cards/{LANES_FILE} is missing: the playbook and every lane come from it", 1, 1)])
        project.lanes_doc.spec = LANES_SPEC
        _cut_since_commit(root, [*project.docs, *project.finding_docs, project.lanes_doc])
        return project

    def in_scope(self, path: Path) -> bool:
        """Whether findings about ``path`` are reported (every file unless only some were named)."""
        return self.selected is None or _absolute(path) in self.selected

    def checked_docs(self) -> list[YamlDoc]:
        """The card documents reported on."""
        return [d for d in self.docs if self.in_scope(d.path)]

    def checked_findings(self) -> list[YamlDoc]:
        """The finding documents reported on."""
        return [d for d in self.finding_docs if self.in_scope(d.path)]

    @property
    def repo(self) -> str:
        return self.config.get("repo", DEFAULT_REPO)

    def rel(self, path: Path) -> str:
        try:
            return str(_absolute(path).relative_to(self.root))
        except (ValueError, OSError, RuntimeError):
            return str(path)

    def valid_docs(self) -> list[YamlDoc]:
        """Card documents that satisfy the schema (the rest only get schema findings)."""
        return self._valid_docs

    @cached_property
    def _valid_docs(self) -> list[YamlDoc]:
        return [d for d in self.docs if is_valid(d)]

    @cached_property
    def cards(self) -> list[Card]:
        """Valid cards, one per PR, sorted by PR number. On duplicates (D506, D507) the file named for the PR wins,
        else the first: a copy under another name (`x.yaml` sorts first) never stands for the PR in show or drift."""
        seen: dict[int, Card] = {}
        for d in sorted(self.valid_docs(), key=lambda d: d.path.stem != str(d.data["pr"])):  # stable
            seen.setdefault(d.data["pr"], Card.from_data(d.data, d.path))
        return sorted(seen.values(), key=lambda c: c.pr)

    @cached_property
    def findings(self) -> list[FindingCard]:
        """Valid findings (upstream bugs without a PR), one per name (on duplicates, D701, the file named for it
        wins, else the first), sorted by name."""
        seen: dict[str, FindingCard] = {}
        for d in sorted((d for d in self.finding_docs if is_valid(d)), key=lambda d: d.path.stem != d.data["name"]):
            seen.setdefault(d.data["name"], FindingCard.from_data(d.data, d.path))
        return sorted(seen.values(), key=lambda f: f.name)

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

    def invalid_docs(self) -> list[YamlDoc]:
        """Card documents that fail the schema (or cannot be read)."""
        return [d for d in self.docs if not is_valid(d)]

    def invalid_card_for(self, pr: int) -> YamlDoc | None:
        """The invalid document that is meant as the card of ``pr`` (by its pr field or its file name)."""
        for d in self.invalid_docs():
            data_pr = d.data.get("pr") if isinstance(d.data, dict) else None
            if (data_pr == pr and type(data_pr) is int) or (type(data_pr) is not int and d.path.stem == str(pr)):
                return d
        return None


def _cut_since_commit(root: Path, docs: list[YamlDoc]) -> None:
    """Refuse (D100) a file that is its committed version cut after a whole line: still YAML, it would reach the
    manual without its last list items, field or sentences (a cut inside a line or a text block: read_yaml)."""
    readable = [d for d in docs if not d.read_errors and d.path.is_file()]
    for path, (kept, total) in cut_since_commit(root, [d.path for d in readable]).items():
        doc = next(d for d in readable if d.path == path)
        doc.read_errors.append(("D100", f"file is its committed version (git HEAD) cut after line {kept} of {total}: "
                                "a copy or save cut short ends so, and what followed would be lost; restore it (git "
                                "checkout -- the file), or commit it if those lines were removed on purpose",
                                max(kept, 1), 1))


def _linked_out(doc: YamlDoc, cards_dir: Path, root: Path) -> YamlDoc:
    """``doc`` refused (D100) when its file under cards/ leads outside the project, being a link or inside a linked
    folder (cards/findings -> elsewhere): it reads here, but git commits the link, so a clone has a dangling link
    there (or another machine's file)."""
    if doc.read_errors or not doc.path.is_relative_to(cards_dir):
        return doc
    target = doc.path.resolve()
    if not target.is_relative_to(root):
        inside = doc.path.relative_to(cards_dir).parts
        link = next((p for p in (cards_dir.joinpath(*inside[:i]) for i in range(len(inside) + 1)) if p.is_symlink()),
                    doc.path)
        how = "a link" if link == doc.path else f"inside {link.relative_to(root)}, a link,"
        doc.read_errors.append(("D100", f"{how} to {target}, outside the project: a clone has no such file; put "
                                "the file itself here", 1, 1))
        doc.data = None
    return doc


def _not_one(doc: YamlDoc, spec, key: str, named_as_one: bool) -> str | None:
    """Why a file named to lint is not a card (``spec`` CARD, ``key`` pr) or finding at all (a README, notes, a CI
    workflow), or None: a YAML file that does not parse, is empty or is named as one (``named_as_one``) is one
    with problems (findings), as is a file that cannot be read as one (D100: a pipe, over the size cap)."""
    codes = [code for code, *_ in doc.read_errors]
    data, fields = doc.data, spec.fields.keys() & (doc.data.keys() if isinstance(doc.data, dict) else set())
    if "D100" in codes or key in fields or len(fields) >= 2:
        return None
    if doc.path.suffix.lower() in YAML_SUFFIXES and (not isinstance(data, dict) or named_as_one):
        return None
    if fields:
        return f"of the fields it needs it holds only {next(iter(fields))}"
    if isinstance(data, dict):
        return "it holds none of the fields it needs"
    return {"D101": "not UTF-8 text", "D102": "not YAML"}.get(codes[0] if codes else "",
                                                              "empty" if data is None else "not a YAML mapping")


def _refuse_strangers(docs: list[YamlDoc], named: list[Path], spec, key: str, kind: str) -> None:
    """ProjectError for the first of ``docs`` named on its own (not found in a folder) that is no ``kind``."""
    for doc in docs:
        named_as_one = kind == "finding" or doc.path.stem.isdigit()
        if doc.path in named and (why := _not_one(doc, spec, key, named_as_one)):
            raise ProjectError(f"{doc.path} is not a {kind} ({why}): a {kind} is YAML with a {kind}'s fields, as "
                               + ("`dossier new PR` writes" if kind == "card" else "cards/findings/ holds")
                               + "; nothing to lint")


def _pr_of(doc: YamlDoc) -> int | None:
    """The document's ``pr`` when it is a number (whatever else the document holds)."""
    pr = doc.data.get("pr") if isinstance(doc.data, dict) else None
    return pr if isinstance(pr, int) else None


def is_valid(doc: YamlDoc) -> bool:
    return not doc.read_errors and doc.data is not None and not doc.problems()
