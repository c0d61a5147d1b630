"""Reading a lock file under cards/ (evidence.lock, drift.lock, surface.lock): one YAML mapping, or one
clear error that names the file."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from pathlib import Path

import yaml

from dossier.cards import MAX_FLOW_DEPTH, TagChecked, ends_mid_line, too_deep
from dossier.errors import DossierError
from dossier.files import read_bytes, wide_encoding
from dossier.prose import first_few

#: what writes each lock under cards/ (what to run when one cannot be read)
RECORDED_BY = {"evidence.lock": "`dossier lint --record` and `dossier releases verify --record`",
               "drift.lock": "`dossier drift --record`", "surface.lock": "`dossier releases surface --record`",
               "names.lock": "`dossier releases surface --record`", "messages.lock": "`dossier releases surface --record`",
               "opened.lock": "`dossier lint --record` (anchors from threads are added by hand)",
               "checked.lock": "`dossier lint --record`", "pr-facts.json": "a copy of the shared PR facts snapshot"}


def is_recorded(path: Path) -> bool:
    """Whether ``path`` (a file directly under cards/) is one of the project's recorded files: a lock or the PR
    facts snapshot, read by every lint, never a card."""
    return path.suffix == ".lock" or path.name == "pr-facts.json"


def of_version(data: object, version: int) -> bool:
    """Whether a lock's mapping says ``version: <version>``; `version: true` is not 1, though Python finds them
    equal."""
    found = data.get("version") if isinstance(data, dict) else None
    return type(found) is int and found == version


class LockError(DossierError, ValueError):
    """A lock file cannot be read or is malformed (the message names it and says why, in one line). Lint
    reports it (D311 for evidence.lock and drift.lock) at ``line`` when known; render refuses to build the
    manual without it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class _Loader(TagChecked, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it: ~10x faster
    """SafeLoader that reports an impossible date (2026-13-45, from a hand edit or a merge) as a YAML error at its
    line, instead of the ValueError that would crash every rule reading the lock."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is no real date ({exc})",
                                                    node.start_mark) from None


    def construct_mapping(self, node, deep=False):
        """A key given twice is an error at its line: YAML keeps the last silently, and a merge that kept both
        sides' entry for one PR (drift.lock's verdict, evidence.lock's proof) had the manual show either."""
        if isinstance(node, yaml.MappingNode):
            first: dict[object, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (list, dict, set)):  # `? [a, b]`: no key a lock writes (and no dict key)
                    raise yaml.constructor.ConstructorError(
                        None, None, f"a key that is a {type(key).__name__}, not a name or a number",
                        key_node.start_mark)
                if isinstance(key, (str, int, float, bool)) and key in first:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} given twice (first at line {first[key]}): YAML would keep only "
                        "the last", key_node.start_mark)
                first.setdefault(key, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


#: the header line that seals a whole lock (drift.lock, surface.lock): the sha256 of its mapping (:func:`section_digest`)
LOCK_SEAL = "# sha256: "


def section_digest(section: object) -> str | None:
    """The seal of a lock's mapping or of one section as parsed; None for an empty or absent one. Keys of mixed
    types (a quoted PR beside numbered ones, which no writer produces) give a digest no seal holds."""
    if not section:
        return None
    data = {str(k): v for k, v in section.items()} if isinstance(section, dict) else section
    try:
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    except TypeError:  # json cannot order 10233 beside "10233"
        canonical = "unordered:" + repr(data)
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal_in(text: str, prefix: str) -> tuple[str, int] | None:
    """The sha256 a lock's text carries on its header line ``prefix`` and that line's number (None: no such line)."""
    m = re.search(rf"^{re.escape(prefix)}([0-9a-f]{{64}})$", text, re.MULTILINE)
    return (m.group(1), text.count("\n", 0, m.start()) + 1) if m else None


def sealed(header: str, body: str) -> str:
    """A lock's text: ``header`` (comment lines), the line sealing the mapping ``body`` holds (:data:`LOCK_SEAL`, as
    :func:`read_lock_file` reads it back), then ``body``."""
    data = yaml.load(body, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    return f"{header}{LOCK_SEAL}{section_digest(data)}\n{body}"


class SealError(LockError):
    """A sealed lock's mapping is not the one its writer sealed (:func:`check_seal`)."""


def check_seal(path: Path, data: dict) -> None:
    """Raise SealError when the lock at ``path`` carries a :data:`LOCK_SEAL` line that ``data`` (its mapping, read
    and checked) does not match: edited by hand, or cut short where it still reads. A lock without the line (written
    before seals) is taken as it is. Readers call it after their own checks, which name a broken part better."""
    name = f"{path.parent.name}/{path.name}"
    try:
        text = read_bytes(path).decode(errors="replace")
    except OSError:
        return  # read a moment ago: read_lock_file's error, if any, comes from there
    seal = seal_in(text, LOCK_SEAL)
    if seal is not None and (now := section_digest(data)) != seal[0]:
        command = RECORDED_BY.get(path.name, "the command that records it")
        raise SealError(f"{name}: not the lock {command} wrote (sealed sha256 {seal[0][:12]} on line {seal[1]}, now "
                        f"{(now or 'empty')[:12]}): edited by hand or cut short, and the manual would print what it "
                        f"holds; take the committed copy (git checkout -- {name}) or run {command}", seal[1])


def read_lock_file(path: Path) -> dict | None:
    """A lock file's YAML mapping (None: there is no lock); raises LockError when it cannot be read, is not
    YAML or is not a mapping."""
    name = f"{path.parent.name}/{path.name}"
    if not os.path.lexists(path):  # a link that leads nowhere is a lock that cannot be read, not no lock
        return None
    try:
        raw = read_bytes(path)
        if (digest := hashlib.sha256(raw).digest()) in _PARSED:
            return pickle.loads(_PARSED[digest])  # noqa: S301 (this process pickled it)
        text = raw.decode()
        if cut := ends_mid_line(text):  # dossier writes every lock whole
            raise LockError(f"{name}: {cut}; take the committed copy (git checkout -- {name}) or run "
                            f"{RECORDED_BY.get(path.name, 'the command that records it')}")
        if deep := too_deep(text):  # refused before parsing: the parser would recurse until Python gives up
            raise LockError(f"{name}: not valid YAML at line {deep[0]}: [ and {{ nested more than {MAX_FLOW_DEPTH} "
                            "deep", deep[0])
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except OSError as exc:
        raise LockError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        wide = wide_encoding(exc.object)
        raise LockError(f"{name}: " + (f"{wide} (it starts with that byte-order mark), not UTF-8: save it as UTF-8"
                                       if wide else f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x})")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        why = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise LockError(f"{name}: not valid YAML{where}: {why}", mark.line + 1 if mark is not None else None) from None
    except RecursionError:
        raise LockError(f"{name}: not valid YAML: nested too deep") from None
    if not isinstance(data, dict):
        raise LockError(f"{name}: expected a mapping, got "
                        + (type(data).__name__ if data is not None else "an empty file"))
    if len(_PARSED) >= 32:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[digest] = pickle.dumps(data)
    return data


#: each lock's mapping by the sha256 of its bytes, pickled so that every reader gets a copy of its own: a lint run
#: reads each lock once or twice, and the tests lint the manual hundreds of times a process
_PARSED: dict[bytes, bytes] = {}


def check_keys(data: object, known: tuple[str, ...], where: str, fix: str) -> None:
    """Raise LockError for a key of ``data`` (when a mapping) that no reader of the lock knows: YAML keeps it and every reader skipped
    it, so a mistyped key (``cardz:``, ``verdictt:``, a merge's ``<<<<<<< HEAD`` line read as a key) lost what it held
    from the manual with nothing said. ``where``: the file and the place in it; ``fix``: what to run."""
    unknown = [k for k in data if k not in known] if isinstance(data, dict) else []
    if unknown:
        names = first_few([repr(k)[:60] for k in unknown], 3)
        raise LockError(f"{where}: unknown key{'s' * (len(unknown) > 1)} {names} (the keys are {', '.join(known)}): "
                        f"what it holds would be lost; correct the key, or {fix}")


def check_pr_keys(data: object, where: str, fix: str) -> None:
    """Raise LockError for a key of ``data`` (when a mapping) that is not a PR number as recording writes it (a plain
    whole number): a quoted "100" beside 100 is another key to YAML, so one PR held two entries and a reader that
    converted each with int() kept either with nothing said; "abc" crashed it."""
    bad = next((k for k in data if type(k) is not int) if isinstance(data, dict) else (), None)
    if bad is not None:
        raise LockError(f"{where}: key {bad!r} is not a PR number written as recording writes it (an unquoted whole "
                        f"number): a quoted one is another key beside it, and one of the two would be lost; {fix}")
