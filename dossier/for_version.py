"""`dossier for-version`: what one SGLang version has of the manual, what it lacks, which bugs it carries.

Answered from the release evidence in cards/evidence.lock (no network, no release cache needed): a
current card's change is in version V when the release that shipped it (or, for a removal, removed the
old code) is V or older. "Exposed" lists the bugs the manual describes that V still carries: fixes it
lacks (cards whose title says they fix something) and changes it ships that were reverted later. A version
newer than every release scanned is refused: a later release may have dropped any change. One between two
releases scanned that the scan lacks is answered as lying between them, with a warning that no such release may
exist (0.5.19.post1) or that the scan skipped it. With a
tree of V at hand (the release cache, or the installed package) a fix only counts when the file it
changed exists in V, so a fix to code V never had is not reported as a bug of V. With the two releases of the
diff that shipped the fix at hand too, the code around the fix (the unchanged lines next to its key lines in
that diff: where the bug lived) must be in V, in that file or, once moved, in another: a fix whose file V has
without that code is listed apart, as unsure (the code was written otherwise in V, or the bug came later).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from packaging.version import InvalidVersion, Version

from dossier.errors import DossierError
from dossier.json_out import dumps
from dossier.model import Card
from dossier.project import Project
from dossier.release_evidence import ReleaseLock, Verdict, away_text, merge_dates
from dossier.render.markdown import LINK_DESTINATION, LINK_TEXT
from dossier.source_tree import SourceTree, TreeError, looks_partial


@dataclass(frozen=True)
class Placed:
    card: Card
    version: str  # the release that shipped the change (or the removal)
    built: str
    note: str = ""
    file: str = ""  # the file whose release diff places it


@dataclass(frozen=True)
class Release:
    """One release and the current changes it was the first to ship."""

    version: str
    built: str
    landed: tuple[Placed, ...]


@dataclass(frozen=True)
class Reverted:
    """A merged change later reverted or replaced (status reverted or superseded): the release that shipped it
    (None: no release diff places it) and the release that dropped its line (None: still in the last release
    scanned, or never shipped)."""

    card: Card
    placed: Placed | None
    gone_in: str | None
    away: tuple[tuple[str, str, str], ...] = ()  # after it shipped, releases without its line, before it came back

    @property
    def absences(self) -> tuple[str, ...]:
        """The ``away`` spans as prose ("its line absent from 0.5.12 to 0.5.18, back in 0.5.19")."""
        return tuple(away_text(a) for a in self.away)


@dataclass
class Report:
    version: str
    built: str | None
    has: list[Placed] = field(default_factory=list)
    lacks: list[Placed] = field(default_factory=list)
    exposed: list[Placed] = field(default_factory=list)
    #: merged changes the version runs that later PRs replaced (status superseded): in it, not in today's SGLang
    replaced: list[Placed] = field(default_factory=list)
    #: fixes whose file the version has but not the code around the fix: exposed or not, the evidence cannot say
    unsure: list[Placed] = field(default_factory=list)
    unplaced: list[Card] = field(default_factory=list)  # current cards no release places
    #: why no bug is listed as exposed (a version older than every release scanned, its sources not at hand)
    exposed_not_judged: str | None = None
    #: releases whose diff shipped a fix judged here by its file alone, because they are not in the release cache
    unsynced_fix_releases: set[str] = field(default_factory=set)
    #: whether the version's own sources were at hand (the release cache): without them every fix the version lacks
    #: counts as exposed, even where its file is absent from that version
    from_sources: bool = False
    #: for a version the scan lacks between two releases it has: those two (no such release may exist)
    between: tuple[str, str] | None = None
    #: (release, note) of later releases' changes no card covers (cards/lanes.yaml's release_notes), oldest first
    uncarded: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sharpened(self) -> bool:
        """Exposure judged on the version's sources and every fix's release diff, not on the fixes' files alone."""
        return self.from_sources and not self.unsynced_fix_releases

    def to_data(self) -> dict:
        def rows(items: list[Placed]) -> list[dict]:
            return [{"pr": p.card.pr, "title": p.card.title, "lane": p.card.lane, "release": p.version,
                     "built": p.built, **({"note": p.note} if p.note else {})} for p in items]

        return {"version": self.version, "built": self.built, "has": rows(self.has), "lacks": rows(self.lacks),
                "replaced": rows(self.replaced), "exposed": rows(self.exposed), "unsure": rows(self.unsure),
                "unplaced": [c.pr for c in self.unplaced],
                # both keys always (a reader's code reads one shape): exposed_not_judged is why no bug was judged
                "exposed_not_judged": self.exposed_not_judged or None,
                "exposure_sharpened": self.sharpened if not self.exposed_not_judged else False,
                "not_scanned_between": list(self.between) if self.between else None,
                "lacks_without_card": [{"release": v, "note": n} for v, n in self.uncarded]}


def parse_version(version: str) -> Version:
    """``version`` as a release version; DossierError when it is not one."""
    try:
        return Version(version)
    except InvalidVersion:
        raise DossierError(f"not a version: {version!r}") from None


def release_name(version: str, known: Iterable[str]) -> str:
    """How the releases spell ``version`` (PEP 440: v0.5.9, 0.5.9.0 and 0.5.9 are one release): the spelling among
    ``known`` equal to it, else its normal form; DossierError when it is not a version."""
    target = parse_version(version)
    known = list(known)
    found = next((k for k in known if _same(k, target)), None)
    if found is None and target.local:  # 0.5.9+cu121: a local build of the release 0.5.9
        found = next((k for k in known if _same(k, Version(target.public))), None)
    return found or str(target)


def _same(name: str, target: Version) -> bool:
    try:
        return Version(name) == target
    except InvalidVersion:
        return False


def _landed(v: Verdict) -> tuple[str, str, str] | None:
    """(version, build date, file) of the release in which the card's change landed; None when no release
    places it (no evidence, or a date/fragment finding makes the placement doubtful)."""
    if v.findings:
        return None
    event = v.shipped or v.evidence
    return (event.new.version, event.new.built, event.file) if event is not None else None


def _place(card: Card, v: Verdict | None, lock: ReleaseLock) -> Placed | None:
    """The release in which a card's change landed; None when no release places it."""
    landed = _landed(v) if v is not None else None
    note = ""
    if landed is None and v is not None and not v.findings and card.status == "current":
        landed, note = _landed_as_today(card, lock), "as its key_fragment.today (the PR's own lines never shipped)"
    return Placed(card, landed[0], landed[1], note, landed[2]) if landed is not None else None


def _current(card: Card) -> bool:
    return card.status == "current" and card.state == "merged"


def query(project: Project, lock: ReleaseLock, version: str, tree: SourceTree | None = None,
          releases: Mapping[str, SourceTree] | None = None) -> Report:
    """Place every card relative to ``version``; ``tree`` (optional) is that version's source, ``releases`` the
    synced releases' (the code around each fix is read from the release diff that shipped it)."""
    target = parse_version(version)
    newest = max(lock.built, key=parse_version, default=None)
    if newest is not None and Version(target.public) > parse_version(newest):
        # the evidence ends there: a later release may have dropped any current change or kept any reverted one
        raise DossierError(f"SGLang {version} is newer than every release scanned (the newest is {newest}, built "
                           f"{lock.built[newest]}): the release evidence cannot say what it has or which bugs it "
                           "carries; `dossier drift --sglang-src <its tree>` checks the current cards against it, and "
                           "once released, `dossier releases sync && dossier releases verify --record` scans it")
    if target.is_prerelease:  # rc, beta, dev: not a published release; between two of them, which is unknown
        lead = target.base_version + (f".post{target.post}" if target.post is not None else "")  # 0.5.12.post1.dev0
        raise DossierError(f"SGLang {version} is a pre-release of {lead}: it holds part of what {lead} shipped and "
                           f"the release evidence cannot say which part; ask for a published release (`dossier "
                           f"for-version {lead}` or the one before it), or check the tree itself with `dossier drift "
                           "--sglang-src <its tree>`")
    first = next(iter(lock.built), None)
    report = Report(version, lock.built.get(version) or (tree.built if tree else None), from_sources=tree is not None)
    if version not in lock.built and first is not None and target > parse_version(first):
        # between two releases scanned: no such release may exist (0.5.19.post1), or the scan skipped it
        report.between = (max((v for v in lock.built if parse_version(v) < target), key=parse_version),
                          min((v for v in lock.built if parse_version(v) > target), key=parse_version))
    if tree is None and first is not None and target < parse_version(first):
        # nothing scanned says a later fix's file existed in it: listing the fix as its bug would be a guess
        report.exposed_not_judged = (f"{version} is older than every release scanned (the first, {first}) and its "
                                     "sources are not in the release cache")
    report.uncarded = uncarded_after(project, target)
    dates = merge_dates(project.cards)
    for card in project.cards:
        v = lock.verdict(card, dates)
        placed = _place(card, v, lock)
        away = v.away_in(version) if v is not None and placed is not None else None
        runs = placed is not None and parse_version(placed.version) <= target and away is None and (
            v.removed is None or parse_version(v.removed.new.version) > target)
        if card.status == "reverted":
            if runs:
                gone = f"; reverted in {v.removed.new.version}" if v.removed else ""
                report.exposed.append(replace(placed, note=f"ships this reverted change{gone}"))
            continue
        if card.status == "superseded" and card.state == "merged":
            if runs:
                by = ", ".join(f"#{n}" for n in card.superseded_by)
                gone = f"its line gone in {v.removed.new.version}" if v.removed else "its line still in the releases"
                report.replaced.append(replace(placed, note=f"replaced later by {by} ({gone})"))
            continue
        if not _current(card):
            continue
        if placed is None:
            report.unplaced.append(card)
            continue
        if parse_version(placed.version) <= target:
            report.has.append(replace(placed, note=f"but {away_text(away)}: rewritten or taken out in this release") if away
                              else placed)
            continue
        report.lacks.append(placed)
        # only a fix a release diff shows is placed as a bug of this version (its lines changed a file the
        # release before it had); one whose own lines never shipped gives no such proof
        if card.is_fix and not placed.note and not report.exposed_not_judged:
            where = "exposed" if tree is None else _exposure(tree, v, placed.file, releases or {})
            if tree is not None and (event := v.shipped or v.evidence) is not None:
                report.unsynced_fix_releases |= {e.version for e in (event.old, event.new)} - set(releases or {})
            if where == "exposed":
                report.exposed.append(replace(placed, note=f"fixed in {placed.version}"))
            elif where == "unsure":
                report.unsure.append(replace(placed, note=f"fixed in {placed.version}; the code around the fix is "
                                                          "not in this version's file"))
    if tree is not None and looks_partial(len(gone := [p for p in report.has if tree.text(p.file) is None]),
                                          len(report.has)):
        raise TreeError(f"{tree.label} lacks the files of {len(gone)} of the {len(report.has)} changes this "
                        f"version has (e.g. {gone[0].file}): a partial tree, or not SGLang {version}'s sources; "
                        "its bug list would be empty for want of files, not for want of bugs")
    return report


def uncarded_after(project: Project, target: Version) -> list[tuple[str, str]]:
    """The release notes (cards/lanes.yaml) of releases after ``target``, oldest first, as (release, plain-text
    note): what those releases changed that no card covers."""
    notes = []
    for n in project.answers.get("release_notes") or []:
        try:
            release = Version(n["version"])
        except InvalidVersion:  # lint's schema names it; the answer stays what the rest of the notes say
            continue
        if release > target:
            notes.append((release, n["version"], _MD_LINK.sub(r"\1", n["note"])))
    return [(name, note) for _, name, note in sorted(notes)]


#: a markdown link, "[#35632](pr-history.md#pr-35632)": its text is what a terminal reader needs
_MD_LINK = re.compile(rf"\[({LINK_TEXT})\]\({LINK_DESTINATION}\)")


def by_release(project: Project, lock: ReleaseLock) -> tuple[list[Release], list[Reverted], list[Card]]:
    """Each release that first shipped a current change, newest first, with those changes; the merged changes
    later reverted or replaced, with the releases that shipped and dropped them; and the current cards no
    release places."""
    dates = merge_dates(project.cards)
    landed: dict[str, list[Placed]] = {}
    reverted: list[Reverted] = []
    unplaced: list[Card] = []
    for card in sorted(project.cards, key=lambda c: c.pr):
        v = lock.verdict(card, dates)
        placed = _place(card, v, lock)
        if card.state == "merged" and card.status in ("reverted", "superseded"):
            gone = v.removed.new.version if placed is not None and v is not None and v.removed else None
            reverted.append(Reverted(card, placed, gone, v.away if placed is not None and v is not None else ()))
        elif _current(card) and placed is None:
            unplaced.append(card)
        elif _current(card):
            landed.setdefault(placed.version, []).append(placed)
    releases = [Release(version, placed[0].built, tuple(placed)) for version, placed in landed.items()]
    return sorted(releases, key=lambda r: parse_version(r.version), reverse=True), reverted, unplaced


def _landed_as_today(card: Card, lock: ReleaseLock) -> tuple[str, str, str] | None:
    """The first release built on or after the merge that holds the card's `today` place (a change whose
    own lines were rewritten before any release shipped them)."""
    h = lock.cards.get(card.pr)
    today = h.today_of(card) if h is not None else None
    if today is None or card.merged_at is None:
        return None
    order = list(lock.built)
    held = {v for a, b in today if a in lock.built and b in lock.built
            for v in order[order.index(a): order.index(b) + 1]}
    first = next((v for v in order if v in held and lock.built[v] >= card.merged_at.isoformat()), None)
    return (first, lock.built[first], card.key_fragment.today.file) if first else None


_DEF = re.compile(r"\s*(?:async\s+)?def\s+(\w+)\s*\(")
#: the fewest characters a line around a fix must have to tell where the fix sits ("return None" or ")" do not)
CONTEXT_CHARS = 16
#: how far from a key line the code around it is looked for, in lines
CONTEXT_REACH = 12


def _exposure(tree: SourceTree, v: Verdict, file: str, releases: Mapping[str, SourceTree]) -> str | None:
    """Whether the version ``tree`` carries the bug a fix repairs: "exposed" when the file the fix changed (the
    fix's old side, where it had one) holds the code around the fix, or another file does (the file moved);
    "unsure" when the file is there without that code; None when neither."""
    event = v.shipped or v.evidence
    if event is None or event.old.sha256 is None:
        return None
    around = fix_surroundings(event, releases)
    home = enclosing_function(event, releases)
    if home is not None and not tree.search(f"def {home}("):  # the function the fix changed came later
        return None
    text = tree.text(file)
    if not around:  # the diff's releases not at hand, or nothing distinctive around the fix: its file decides
        return "exposed" if text is not None else None
    if text is not None and _holds(text, around):
        return "exposed"
    if any(_holds(other, around) for w in tree.search(around[0]) if (other := tree.text(w.file)) is not None):
        return "exposed"
    return "unsure" if text is not None else None


def fix_surroundings(event, releases: Mapping[str, SourceTree]) -> list[str]:
    """The code a fix's key lines sit in: in the newer release of the diff that shipped it, the nearest line
    above and below each key line that the older release has too (unchanged, so the bug's own code) and that is
    long enough to be distinctive. Empty when those releases are not at hand."""
    old, new = releases.get(event.old.version), releases.get(event.new.version)
    before = old.text(event.file) if old is not None else None
    after = new.text(event.file) if new is not None else None
    if before is None or after is None:
        return []
    kept = {line.strip() for line in before.splitlines()}
    lines = after.splitlines()
    found: list[str] = []
    for at in event.lines:
        for step in (-1, 1):
            reach = range(at - 1 + step, at - 1 + step * (CONTEXT_REACH + 1), step)
            near = next((lines[i].strip() for i in reach if 0 <= i < len(lines) and lines[i].strip() in kept
                         and len(lines[i].strip()) >= CONTEXT_CHARS), None)
            if near is not None and near not in found:
                found.append(near)
    return found


def enclosing_function(event, releases: Mapping[str, SourceTree]) -> str | None:
    """The function a fix changed: the one its first key line sits in, in the newer release of the diff that
    shipped it, when the older release has it too (None: module level, a function the fix added, or those
    releases not at hand)."""
    old, new = releases.get(event.old.version), releases.get(event.new.version)
    before = old.text(event.file) if old is not None else None
    after = new.text(event.file) if new is not None else None
    if before is None or after is None or not event.lines:
        return None
    lines = after.splitlines()
    at = event.lines[0] - 1
    if not 0 <= at < len(lines):
        return None
    depth = len(lines[at]) - len(lines[at].lstrip())
    for line in reversed(lines[:at]):
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent < depth and (found := _DEF.match(line)):
            return found.group(1) if f"def {found.group(1)}(" in before else None
        if line.strip() and indent < depth:
            depth = indent  # a block the key line sits in: keep climbing to its function
    return None


def _holds(text: str, around: list[str]) -> bool:
    present = {line.strip() for line in text.splitlines()}
    return all(line in present for line in around)


def format_text(report: Report, label: str) -> str:
    def line(p: Placed) -> str:
        when = f"{p.version}, built {p.built}"
        return f"  #{p.card.pr:<6} {p.card.title}  [{p.card.lane}; {when}]" + (f" {p.note}" if p.note else "")

    exposed = "exposure not judged" if report.exposed_not_judged else f"{len(report.exposed)} known bug(s) exposed"
    out = [f"{label}: {len(report.has)} current change(s) in, {len(report.lacks)} later, {exposed}"]
    out.append(f"has ({len(report.has)}): current optimizations and fixes shipped in or before {report.version}")
    out += [line(p) for p in report.has]
    out.append(f"lacks ({len(report.lacks)}): shipped after {report.version}")
    out += [line(p) for p in report.lacks]
    if report.replaced:
        out.append(f"replaced later ({len(report.replaced)}): changes {report.version} runs that later PRs replaced "
                   "(not how today's SGLang works; read the card and its successor)")
        out += [line(p) for p in report.replaced]
    if report.exposed_not_judged:
        out.append(f"exposed: not judged: {report.exposed_not_judged}")
    else:
        out.append(f"exposed ({len(report.exposed)}): bugs the manual describes that {report.version} still "
                   "carries")
    out += [line(p) for p in report.exposed]
    if report.unsure:
        out.append(f"unsure ({len(report.unsure)}): fixes whose file {report.version} has, but not the code around the "
                   "fix: written otherwise there, or the bug came later (read the card)")
        out += [line(p) for p in report.unsure]
    if report.uncarded:
        out.append(f"lacks without a card ({len(report.uncarded)}): what later releases changed that no card covers "
                   "(from release diffs; by-release.md's 'Without a card' lines)")
        out += [f"  {version:<7} {note}" for version, note in report.uncarded]
    if report.unplaced:
        out.append(f"not placed ({len(report.unplaced)}): current cards no release places (see "
                   "`dossier releases verify`): " + ", ".join(f"#{c.pr}" for c in report.unplaced))
    return "\n".join(out)


def format_json(report: Report) -> str:
    return dumps(report.to_data(), indent=2)
