"""`dossier drift`: are the key fragments of the cards still in today's SGLang source?

Compares against a checkout (``python/sglang/...``) or an installed ``sglang`` package, found without
importing it. Card paths are repository paths (``python/sglang/srt/...``); in a package they map to
``<package>/srt/...``. A fragment not in its file but elsewhere is *relocated* (SGLang moves code, e.g.
kernels from ``srt/layers/...`` to ``kernels/ops/...``); found nowhere it is *missing*.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml
from packaging.version import InvalidVersion, Version

from dossier.diff import MAX_LINES, is_line_number
from dossier.errors import DossierError
from dossier.evidence import LockEntry, LockError, key_sha, read_lock_file
from dossier.files import record
from dossier.json_out import dumps
from dossier.locks import SealError, check_keys, check_seal, of_version, sealed
from dossier.model import REPLACED, Card
from dossier.project import Project
from dossier.releases import is_version
from dossier.render.markdown import code, first_of
from dossier.source_tree import PACKAGE_PREFIX, SourceTree, TreeError, Where, lines_with, looks_partial

DRIFT_LOCK = Path("cards") / "drift.lock"
LOCK_VERSION = 1
SHOWN_ELSEWHERE = 3

IN_PLACE, RELOCATED, REWRITTEN, MISSING, OUTSIDE = "in-place", "relocated", "rewritten", "missing", "outside"

#: no SGLang source to compare against (exit 2)
DriftError = TreeError


def locate(src: Path | None = None) -> SourceTree:
    """The SGLang tree at ``src`` (a checkout, a package dir, or a dir holding ``sglang/``), else the
    installed package."""
    return SourceTree.at(src) if src is not None else SourceTree.installed()


@dataclass(frozen=True)
class DriftResult:
    pr: int
    status: str  # the card's status
    file: str
    match: str
    verdict: str  # in-place | relocated | rewritten | missing | outside
    found: tuple[Where, ...] = ()
    #: the card's fragment is a removal (evidence lock: old side): absence is what the PR did
    removal: bool = False
    key_fragment: str = ""
    #: the match names code the PR targeted, not a line it wrote (explain starts "Unverified:")
    pointer: bool = False

    @property
    def problem(self) -> bool:
        """A current card whose added fragment is gone from today's source."""
        return self.status == "current" and self.verdict == MISSING and not self.removal

    @property
    def note(self) -> str:
        if self.removal:
            return "removed code still absent" if self.verdict == MISSING else "removed code is present again"
        if self.status in REPLACED and self.verdict == IN_PLACE:
            if self.pointer:  # the code the PR meant to change, not its own line: its being there says nothing
                return "a pointer to the code the PR targeted, which is still there"
            return f"still present unchanged: is status {self.status} right?"
        if self.verdict == MISSING:
            return "reverted or superseded?" if self.status == "current" else "gone, as its status says"
        if self.verdict == OUTSIDE:
            return ("file is outside what the tree holds (the sglang package; a release of the cache holds its .py "
                    "files only); pass a checkout with --sglang-src")
        if self.verdict == REWRITTEN:
            return "the PR's lines were rewritten; the behaviour is where the card's `today` says"
        return ""

    def to_data(self) -> dict:
        return {
            "pr": self.pr,
            "status": self.status,
            "file": self.file,
            "verdict": self.verdict,
            "removal": self.removal,
            "key_fragment": self.key_fragment,
            "found": [{"file": w.file, "lines": list(w.lines)} for w in self.found],
        }


def check_card(card: Card, tree: SourceTree, removal: bool = False) -> DriftResult:
    kf = card.key_fragment
    base = {
        "pr": card.pr,
        "status": card.status,
        "file": kf.file,
        "match": kf.match,
        "removal": removal,
        "key_fragment": key_sha(kf),
        "pointer": kf.pointer,
    }
    text = tree.text(kf.file)
    today = _today(kf, tree)
    if text is not None:
        lines = lines_with(text, kf.match, kf.file)
        if lines and today is not None and today.file == kf.file and not set(lines) & set(today.lines):
            # the card's `today` pins where its code is in the same file; the match text elsewhere there is
            # other code (#27583's guard text also opens another function's branch from 0.5.20)
            return DriftResult(**base, verdict=REWRITTEN, found=(today,))
        if lines:
            return DriftResult(**base, verdict=IN_PLACE, found=(Where(kf.file, lines),))
    name = PurePosixPath(kf.file).name
    elsewhere = [w for w in tree.search(kf.match) if w.file != kf.file and w.lines]
    elsewhere.sort(key=lambda w: (PurePosixPath(w.file).name != name, w.file))
    if today is not None and (kf.moved or any(w.file == today.file for w in elsewhere)):
        # the PR's own line is in the file the card says it moved to: the code moved, and the card's `today`
        # match pins which of that file's copies of a short match is the PR's (other copies are other code)
        return DriftResult(**base, verdict=RELOCATED, found=(today,))
    # a declared `today` place outranks the same text in files of another name (another PR's copy of the
    # line); only a file of the fragment's own name counts as the code having moved
    if elsewhere and (today is None or PurePosixPath(elsewhere[0].file).name == name):
        return DriftResult(**base, verdict=RELOCATED, found=tuple(elsewhere))
    if today is not None:
        return DriftResult(**base, verdict=REWRITTEN, found=(today,))
    if text is None and tree.local(kf.file) is None:
        return DriftResult(**base, verdict=OUTSIDE)
    return DriftResult(**base, verdict=MISSING)


def _today(kf, tree: SourceTree) -> Where | None:
    """Where the card's ``today`` match is in ``tree`` (None: no ``today``, or it is not there)."""
    if kf.today is None:
        return None
    text = tree.text(kf.today.file)
    lines = lines_with(text, kf.today.match, kf.today.file) if text is not None else ()
    return Where(kf.today.file, lines) if lines else None


def judges(card: Card) -> bool:
    """Drift judges current, superseded and reverted cards (candidates and adjacent PRs are not behaviour)."""
    return card.status == "current" or card.status in REPLACED


def check(
    cards: Iterable[Card], tree: SourceTree, evidence: dict[int, LockEntry] | None = None
) -> list[DriftResult]:
    """Drift of every card drift :func:`judges`."""
    evidence = evidence or {}
    out = []
    for card in cards:
        if not judges(card):
            continue
        e = evidence.get(card.pr)
        removal = e is not None and e.side == "old" and e.key_fragment == key_sha(card.key_fragment)
        out.append(check_card(card, tree, removal))
    return out


def _where(w: Where) -> str:
    return f"{w.file}:{','.join(map(str, w.lines[:5]))}{',...' if len(w.lines) > 5 else ''}"


def format_text(results: list[DriftResult], tree: SourceTree) -> str:
    rows = [f"compared against {tree.label}"]
    for r in results:
        line = f"#{r.pr:<6} {r.status:<10} {r.verdict:<9} "
        if r.verdict in (IN_PLACE, REWRITTEN):
            line += _where(r.found[0])
        elif r.verdict == RELOCATED:
            more = len(r.found) - SHOWN_ELSEWHERE
            line += f"{r.file} -> " + "; ".join(_where(w) for w in r.found[:SHOWN_ELSEWHERE])
            line += f" (+{more} more)" if more > 0 else ""
        else:
            line += r.file
        rows.append(line + (f"  [{r.note}]" if r.note else ""))
    counts = {v: sum(r.verdict == v for r in results) for v in (IN_PLACE, RELOCATED, REWRITTEN, MISSING, OUTSIDE)}
    problems = sum(r.problem for r in results)
    rows.append(
        f"{len(results)} card(s): "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + f"; {problems} current card(s) missing"
    )
    return "\n".join(rows)


def format_json(results: list[DriftResult], tree: SourceTree, unrecorded: Iterable[str] = (),
                lock_error: str | None = None) -> str:
    """The run as JSON; ``unrecorded``: what cards/drift.lock records otherwise for this version (:func:`unrecorded`),
    ``lock_error``: why the lock could not be read, so nothing was compared; either makes the run exit 1."""
    data = {
        "sglang": {
            "version": tree.version,
            "package": str(tree.package),
            "checkout": str(tree.checkout) if tree.checkout else None,
        },
        "cards": [{**r.to_data(), "note": r.note, "problem": r.problem} for r in results],
        "lock_records_otherwise": list(unrecorded),
        "lock_error": lock_error,
    }
    return dumps(data, indent=2)


def absent_files(cards: Iterable[Card], tree: SourceTree) -> dict[str, list[str]]:
    """The package files the manual lists for ``cards`` (:attr:`Card.manual_files`) that ``tree`` lacks, each with
    the files of its name the tree has: where it may have gone, or not (a file can move under another name)."""
    prefix = f"{PACKAGE_PREFIX}/"
    listed = sorted({p for card in cards for p in card.manual_files if p.startswith(prefix)})
    gone = [p for p in listed if tree.local(p) is not None and tree.text(p) is None]  # not one it lacks: one it
    # cannot hold (a JSON config in a release of the cache, which keeps .py files only)
    if not gone:
        return {}
    by_name: dict[str, list[str]] = {}
    for path in tree.texts:
        by_name.setdefault(PurePosixPath(path).name, []).append(path)
    return {p: sorted(by_name.get(PurePosixPath(p).name, [])) for p in gone}


def write_lock(root: Path, results: list[DriftResult], tree: SourceTree,
               absent: dict[str, list[str]] | None = None) -> Path:
    """cards/drift.lock: the version compared against, each card's verdict and the listed files the tree lacks
    (:func:`absent_files`), deterministically. Refuses a tree whose version cannot be read: every note of the
    manual would name "SGLang unknown"."""
    if not is_version(tree.version):
        raise DossierError(f"{tree.package}: cannot tell which SGLang version this is (no version.py, _version.py or "
                           f"dist metadata names one; read {tree.version!r}): drift --record needs it for the manual's "
                           "notes. Record against an installed sglang or a release tree (`dossier releases sync`)")
    text = _lock_text(results, tree, absent)
    return record(root / DRIFT_LOCK, lambda: text)


def _lock_text(results: list[DriftResult], tree: SourceTree, absent: dict[str, list[str]] | None) -> str:
    cards = {
        r.pr: {k: v for k, v in r.to_data().items() if k != "pr"} for r in sorted(results, key=lambda r: r.pr)
    }
    return sealed(
        "# Written by `dossier drift --record`: each card's key fragment in today's SGLang.\n",
        f"version: {LOCK_VERSION}\nsglang: {json.dumps(tree.version)}\n"
        + yaml.safe_dump({"cards": cards}, sort_keys=True, default_flow_style=None, width=120)
        + (yaml.safe_dump({"absent": absent}, sort_keys=True, default_flow_style=None, width=120) if absent else ""),
    )


def unrecorded(root: Path, results: list[DriftResult], tree: SourceTree,
               absent: dict[str, list[str]] | None) -> list[str]:
    """What this run finds that drift.lock does not hold, when the lock records this same SGLang version: the PRs
    whose verdict, file or lines differ (a lock edited by hand, or recorded before a card changed), and "its absent
    files"; empty without a lock or with one of another version. Raises LockError when the lock cannot be read."""
    try:
        data = _lock_data(root)
    except SealError as broken:  # a hand edit: name the PRs it touched where this run shows them, else the seal
        data = _lock_data(root, sealed=False)
        found = [] if data["sglang"] != tree.version else _differences(data, results, tree, absent)
        if not found:
            raise broken from None
        return found
    if data is None or data["sglang"] != tree.version:
        return []
    return _differences(data, results, tree, absent)


def _differences(data: dict, results: list[DriftResult], tree: SourceTree,
                 absent: dict[str, list[str]] | None) -> list[str]:
    fresh = yaml.safe_load(_lock_text(results, tree, absent))
    # the lock's optional keys read as their defaults, as its readers take them
    held = {pr: {"found": [], "removal": False, **e} if isinstance(e, dict) else e for pr, e in data["cards"].items()}
    now = fresh["cards"]
    out = [f"#{pr}" for pr in sorted(set(held) | set(now), key=str) if held.get(pr) != now.get(pr)]
    return out + (["its absent files"] if (data.get("absent") or {}) != (fresh.get("absent") or {}) else [])


def read_lock(root: Path) -> tuple[str, dict[int, dict]]:
    """(SGLang version, per-PR verdicts) from cards/drift.lock; ("", {}) when absent. Raises LockError when it
    cannot be read or is malformed (lint's D311 says so; render refuses rather than drop its notes)."""
    data = _lock_data(root)
    return ("", {}) if data is None else (data["sglang"], data["cards"])


def older_than_recorded(root: Path, tree: SourceTree) -> str | None:
    """Why recording ``tree`` would put drift.lock back to an older SGLang than it records (the manual's notes, line
    numbers and absent files would then speak of that release while its other pages speak of the newer one); None
    when it is not older, or either version cannot be read (the lock's own checks say so)."""
    try:
        recorded = read_lock(root)[0]
        # a local build (0.5.23+cu128) is the release it builds: compare without the local part
        older = Version(Version(tree.version).public) < Version(Version(recorded).public)
    except (LockError, InvalidVersion, TypeError):
        return None
    if not older:
        return None
    return (f"{DRIFT_LOCK} records SGLang {recorded}; recording {tree.version} over it would date the manual's notes "
            f"back to an older release: pass a tree of {recorded} or newer (to go back on purpose, delete "
            f"{DRIFT_LOCK} first)")


def not_a_release(tree: SourceTree) -> str | None:
    """Why ``tree`` cannot stand for today's SGLang in drift.lock, whose notes the manual prints: a build that is no
    published release (a dev build, an rc): nobody can install what its notes would describe, and the next release
    would read as older than it; None for a release (or a version that cannot be read: the lock's checks say so)."""
    try:
        prerelease = Version(tree.version).is_prerelease
    except InvalidVersion:
        return None
    if not prerelease:
        return None
    return (f"{tree.label} is a pre-release build, not a published SGLang release; {DRIFT_LOCK} records releases "
            "only: pass a released package or checkout")


def partial_tree(tree: SourceTree, results: list[DriftResult]) -> str | None:
    """Why ``tree`` looks partial (:func:`looks_partial`): it lacks the code of most current cards. A release that
    really dropped that much needs the cards rewritten before its notes are recorded; None otherwise."""
    current = [r for r in results if r.status == "current" and not r.removal]
    missing = [r for r in current if r.verdict == MISSING]
    if not looks_partial(len(missing), len(current)):
        return None
    return (f"{tree.label} lacks the key fragments of {len(missing)} of {len(current)} current cards: a partial or "
            "wrong tree? not recorded (run without --record to see them)")


def read_absent(root: Path) -> dict[str, list[str]]:
    """drift.lock's absent files (:func:`absent_files`); empty without a lock. Raises LockError as :func:`read_lock`."""
    data = _lock_data(root)
    return dict(data.get("absent") or {}) if data is not None else {}


def _lock_data(root: Path, sealed: bool = True) -> dict | None:
    """drift.lock as written, every part checked, its seal last unless not ``sealed`` (None: no lock); raises
    LockError (SealError for a seal it does not match)."""
    data = read_lock_file(root / DRIFT_LOCK)
    if data is None:
        return None
    cards = data.get("cards")
    if not of_version(data, LOCK_VERSION) or not isinstance(cards, dict):
        raise LockError(f"{DRIFT_LOCK}: expected a mapping with version: {LOCK_VERSION}, sglang and cards: "
                        "{PR: verdict}; run `dossier drift --record`")
    bad = next((pr for pr, e in cards.items() if not isinstance(pr, int) or not isinstance(e, dict)), None)
    if bad is not None:
        raise LockError(f"{DRIFT_LOCK}: entry {bad!r} must be a PR number mapping to its verdict; "
                        "run `dossier drift --record`")
    version = data.get("sglang")
    if not is_version(version):  # notes would read "SGLang unknown" or "SGLang None"
        raise LockError(f"{DRIFT_LOCK}: sglang must be the SGLang version drift compared against (a quoted string), "
                        f"got {'nothing' if version is None else repr(version)[:40]}; run `dossier drift --record`")
    fix = "run `dossier drift --record`"
    check_keys(data, ("version", "sglang", "cards", "absent"), str(DRIFT_LOCK), fix)
    absent = data.get("absent", {})
    if not (isinstance(absent, dict) and all(isinstance(p, str) and isinstance(names, list)
                                             and all(isinstance(n, str) for n in names) for p, names in absent.items())):
        raise LockError(f"{DRIFT_LOCK}: absent must map each listed file today's SGLang lacks to the files of its name "
                        f"it has ({{path: [path, ...]}}); {fix}")
    for pr, entry in cards.items():
        check_keys(entry, ENTRY_KEYS, f"{DRIFT_LOCK}: the entry of #{pr}", fix)
        for where in entry.get("found") if isinstance(entry.get("found"), list) else []:
            check_keys(where, ("file", "lines"), f"{DRIFT_LOCK}: the entry of #{pr}: found", fix)
        if why := _malformed(entry):
            raise LockError(f"{DRIFT_LOCK}: the entry of #{pr} {why} (the lock cut short, or edited by hand?); "
                            "run `dossier drift --record`")
    if sealed:
        check_seal(root / DRIFT_LOCK, data)
    return data


VERDICTS = (IN_PLACE, RELOCATED, REWRITTEN, MISSING, OUTSIDE)
#: the keys of one drift.lock entry (DriftResult.to_data, less the PR it is filed under)
ENTRY_KEYS = ("status", "file", "verdict", "removal", "key_fragment", "found")


def _malformed(entry: dict) -> str | None:
    """Why one drift.lock entry cannot give its card's note, or None. A lock cut inside an entry is still YAML:
    its keys are written sorted, the verdict last, so a cut there drops the verdict first, and the manual showed
    "**SGLang 0.5.23:** ." for that card."""
    verdict = entry.get("verdict")
    if verdict not in VERDICTS:
        return "has no verdict" if verdict is None else f"has the verdict {str(verdict)[:40]!r}, not one of " \
            + ", ".join(VERDICTS)
    for key in ("file", "key_fragment"):
        if not isinstance(entry.get(key), str):
            return f"has no {key}"
    found = entry.get("found", [])
    if not isinstance(found, list) or not all(
            isinstance(w, dict) and isinstance(w.get("file"), str) and isinstance(w.get("lines"), list)
            and all(is_line_number(n) for n in w["lines"]) for w in found):
        return f"has a 'found' that is not a list of {{file, lines}} (line numbers 1 to {MAX_LINES:,})"
    if verdict in (IN_PLACE, RELOCATED, REWRITTEN) and not (found and all(w["lines"] for w in found)):
        return f"has the verdict {verdict} and no place with its lines"  # the note read 'in place, .'
    if not isinstance(entry.get("removal", False), bool):
        return "has a 'removal' that is not true or false"
    return None


def without_verdict(recorded: dict[int, dict], cards: Iterable[Card]) -> list[int]:
    """The PRs of ``cards`` that drift :func:`judges` and ``recorded`` (drift.lock's verdicts, :func:`read_lock`)
    holds no verdict for their key fragment: none (a lock cut at an entry boundary is still valid YAML, and the manual
    silently lost those cards' "SGLang <version>" notes; or the cards were added since `dossier drift --record`),
    or one recorded for another (the match or file edited since: the manual told its reader to run `dossier drift
    --record`), or one recorded while the card had another status (a note judged against the old one; by-file.md
    listed a superseded card under the file its code moved to). Lint's D332, and through it render and render
    --check, read this one answer."""
    return sorted(c.pr for c in cards if judges(c) and (
        c.pr not in recorded or recorded[c.pr].get("key_fragment") != key_sha(c.key_fragment)
        or recorded[c.pr].get("status") != c.status))


def annotator(project: Project, *, strict: bool = True) -> Callable[[Card], list[str]]:
    """Render note per card from the last recorded drift result (cards/drift.lock), only where it informs:
    where the code sits today, or that it is missing or present against the card's status. An unreadable lock
    raises LockError unless not ``strict`` (`dossier show`: then no note)."""
    try:
        version, recorded = read_lock(project.root)
    except LockError:
        if strict:
            raise
        version, recorded = "", {}

    def note(card: Card) -> list[str]:
        e = recorded.get(card.pr)
        if e is None:
            return []
        head = f"**SGLang {version}:**"
        if e.get("key_fragment") != key_sha(card.key_fragment):
            return [f"{head} recorded for an earlier key fragment; run `dossier drift --record`."]
        found = [
            f"{code(w.get('file'))} line {first_of(w.get('lines', []), 3)}"
            for w in e.get("found") or []
            if isinstance(w, dict)
        ]
        r = DriftResult(card.pr, card.status, e.get("file", ""), "", e.get("verdict", ""),
                        removal=bool(e.get("removal")), pointer=card.key_fragment.pointer)
        if r.verdict == MISSING and (r.removal or card.status != "current"):
            return []  # gone as the status (or the removal) says: nothing to tell
        if r.verdict == OUTSIDE:
            return []
        text = {
            IN_PLACE: f"in place, {found[0] if found else ''}",
            RELOCATED: "moved to " + first_of(found, SHOWN_ELSEWHERE, "; "),
            REWRITTEN: f"rewritten; the behaviour is at {found[0] if found else ''}",
            MISSING: "key fragment not found: check today's source before citing this card",
        }.get(r.verdict, r.verdict)
        # drift's own note asks the maintainer whether the status is right: the reader gets what is known instead
        aside = r.note if r.pointer else f"the card is {card.status}: the same text may be a later change's"
        warn = f" ({aside})" if card.status in REPLACED and r.verdict == IN_PLACE else ""
        return [f"{head} {text}{warn}."]

    return note
