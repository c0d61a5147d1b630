"""Release evidence: what the published SGLang releases show about each card's key fragment.

For every card the releases are scanned in order, following the match when SGLang moves it to another
file (the key file first, then files of the same name). Each release records whether the match is
present; where it appears on a line that the previous release lacks, or vanishes, the two versions of the
file are diffed (a unified diff parsed by the same machinery as PR diffs) and the added or removed line
is the proof: an *event*. The lock keeps the presence spans and the events, independent of the card's
merge date, so the rules (dates, distinctiveness, shipped/never shipped) are re-judged offline when a
card changes.

A release window only bounds a date: a release diff holds every PR merged since the previous release,
so a release-diff proof says "this line was added between 0.5.9 and 0.5.10", never "by this PR".
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from packaging.version import Version

from dossier.diff import DiffFile, is_line_number, parse_diff
from dossier.evidence import (
    AMBIGUOUS,
    LOCK_FILE,
    RELEASE_DIFF,
    LockError,
    find_fragment,
    key_sha,
    lock_section,
    write_section,
)
from dossier.file_moves import ALIKE, Move, moves
from dossier.files import serialized
from dossier.locks import check_keys, check_pr_keys
from dossier.model import Card, KeyFragment
from dossier.project import Project
from dossier.releases import ordered, refuse_to_drop
from dossier.render.markdown import code, first_of
from dossier.source_tree import SourceTree, in_wheel

RELEASE_SCAN = "release-scan"  # the releases were scanned; no diff proves the change
ADDED, REMOVED = "added", "removed"
#: a merged change absent from every release built this long after its merge is a finding
SHIP_WITHIN = dt.timedelta(days=14)


@dataclass(frozen=True)
class FileAt:
    """One release's copy of a file (sha256 None: the file is not in that release)."""

    version: str
    built: str
    sha256: str | None

    def to_data(self) -> dict:
        return {"version": self.version, "built": self.built, "sha256": self.sha256}


@dataclass(frozen=True)
class Event:
    """The match appears on added lines (or vanishes on removed lines) between two consecutive releases."""

    change: str  # added | removed
    file: str  # repository path: in the newer release (added) or the older one (removed)
    lines: tuple[int, ...]  # line numbers on that side
    old: FileAt
    new: FileAt

    def to_data(self) -> dict:
        return {"change": self.change, "file": self.file, "lines": list(self.lines),
                "old": self.old.to_data(), "new": self.new.to_data()}

    @classmethod
    def from_data(cls, data: dict) -> Event:
        return cls(data["change"], data["file"], tuple(data["lines"]),
                   FileAt(**data["old"]), FileAt(**data["new"]))


#: the keys of one card's entry in the releases section, and of one of its events (to_data's)
HISTORY_KEYS = ("kind", "key_fragment", "first", "last", "present", "events", "recorded", "today")
EVENT_KEYS = ("change", "file", "lines", "old", "new")


@dataclass(frozen=True)
class History:
    """What the releases show about one card's key fragment."""

    key_fragment: str  # sha256 of file + match, as in the PR-diff lock
    first: str  # versions scanned, first and last
    last: str
    present: tuple[tuple[str, str], ...]  # spans of consecutive versions holding the match
    events: tuple[Event, ...]
    recorded: str
    #: where key_fragment.today's match is present (None: the card has no `today`), and for which place
    today: tuple[tuple[str, str], ...] | None = None
    today_key: str | None = None

    def to_data(self, kind: str) -> dict:
        data = {"kind": kind, "key_fragment": self.key_fragment, "first": self.first, "last": self.last,
                "present": [list(s) for s in self.present], "events": [e.to_data() for e in self.events],
                "recorded": self.recorded}
        if self.today is not None:
            data["today"] = {"place": self.today_key, "present": [list(s) for s in self.today]}
        return data

    def today_of(self, card: Card) -> tuple[tuple[str, str], ...] | None:
        """Where ``card``'s key_fragment.today match is present (None: the card names no `today` place, or this
        history was recorded without it or for another one)."""
        if card.key_fragment.today is None or self.today is None or self.today_key != key_sha(_today(card)):
            return None
        return self.today

    @classmethod
    def from_data(cls, data: dict) -> History:
        today = data.get("today")
        return cls(data["key_fragment"], data["first"], data["last"],
                   tuple((a, b) for a, b in data["present"]), tuple(Event.from_data(e) for e in data["events"]),
                   str(data["recorded"]),
                   tuple((a, b) for a, b in today["present"]) if today else None, today["place"] if today else None)


# ---- scanning the releases ----------------------------------------------------------------------


@dataclass
class _Track:
    """Where one card's match is followed from release to release."""

    kf: KeyFragment
    file: str
    #: before the match is first seen, look only in the key file ("key"), also in files of the same name
    #: ("name": SGLang moves files, mostly keeping their names), or in the whole tree but only in releases
    #: built on or after ``since`` ("tree"); once seen it is followed wherever it moves
    scope: str = "key"
    since: str = ""
    prev: tuple[str, str | None, FileAt, SourceTree] | None = None  # (file, text, FileAt, tree) of the previous release
    present: list[bool] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _sha(tree: SourceTree, path: str) -> str | None:
    local = tree.local(path)
    return hashlib.sha256(local.read_bytes()).hexdigest() if local is not None and local.is_file() else None


def _file_at(tree: SourceTree, path: str) -> FileAt:
    return FileAt(tree.version, tree.built or "", _sha(tree, path))


def unified(old_path: str, old: str | None, new_path: str, new: str | None) -> list[DiffFile]:
    """The unified diff of two versions of a file (either may be missing), parsed like a PR diff."""
    a, b = (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True)
    head = [f"diff --git a/{old_path} b/{new_path}\n"]
    if old is None:
        head.append("new file mode 100644\n")
    elif new is None:
        head.append("deleted file mode 100644\n")
    elif old_path != new_path:
        head += [f"rename from {old_path}\n", f"rename to {new_path}\n"]
    body = list(difflib.unified_diff(a, b, "/dev/null" if old is None else f"a/{old_path}",
                                     "/dev/null" if new is None else f"b/{new_path}", n=3))
    body = [ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in body]
    return parse_diff("".join(head + body))


def _matching(text: str | None, match: str) -> Counter:
    """The lines carrying ``match``, whitespace-trimmed: a re-indented line is not a new line."""
    return Counter(line.strip() for line in (text or "").splitlines() if match in line)


def prove(match: str, old_path: str, old: str | None, new_path: str, new: str | None) -> tuple[str, tuple[int, ...]] | None:
    """(change, lines) when the diff of the two file versions has the match on added lines (else on
    removed lines, when the new version lacks it); None when no changed line carries it."""
    path = new_path if new is not None else old_path
    located = find_fragment(unified(old_path, old, new_path, new), KeyFragment(path, match, ""))
    if located.problem not in (None, AMBIGUOUS):
        return None
    return (ADDED if located.side == "new" else REMOVED), located.lines


def _pick(track: _Track, tree: SourceTree) -> tuple[str, str | None]:
    """The file holding the match in ``tree``: the tracked one, else (once the match was seen, as SGLang
    moves code, or in tree-wide mode) the best other file, same name first."""
    kf, file = track.kf, track.file
    text = tree.text(file)
    if text is not None and kf.match in text:
        return file, text
    seen = any(track.present)
    if not seen and (track.scope == "key" or (track.scope == "tree" and (tree.built or "") < track.since)):
        return file, text
    name = PurePosixPath(kf.file).name
    hits = [w for w in tree.search(kf.match)
            if w.lines and (seen or track.scope == "tree" or PurePosixPath(w.file).name == name)]
    if not seen and track.scope == "tree" and track.prev is not None:
        before = track.prev[3]  # only lines new in this release can be the card's
        hits = [w for w in hits if _matching(tree.text(w.file), kf.match) - _matching(before.text(w.file), kf.match)]
    if not hits:
        return file, text
    best = min(hits, key=lambda w: (PurePosixPath(w.file).name != name, w.file))
    return best.file, tree.text(best.file)


def _step(track: _Track, tree: SourceTree) -> None:
    match = track.kf.match
    file, text = _pick(track, tree)
    present = text is not None and match in text
    here = _file_at(tree, file)
    if track.prev is not None:
        old_file, old_text, old_at, old_tree = track.prev
        was = bool(track.present[-1])
        if present and file != old_file and not was:
            # first seen in another file than the one tracked: compare with that file's previous version
            old_file, old_text, old_at = file, old_tree.text(file), _file_at(old_tree, file)
        if present and _matching(text, match) - _matching(old_text, match):
            proof = prove(match, old_file, old_text, file, text)
            if proof and proof[0] == ADDED:
                track.events.append(Event(ADDED, file, proof[1], old_at, here))
        elif was and not present:
            gone = tree.text(old_file)
            proof = prove(match, old_file, old_text, old_file, gone)
            if proof and proof[0] == REMOVED:
                track.events.append(Event(REMOVED, old_file, proof[1], old_at, _file_at(tree, old_file)))
    track.file = file
    track.present.append(present)
    track.prev = (file, text, here, tree)


def _spans(versions: Sequence[str], present: Sequence[bool]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    start = None
    for i, (v, p) in enumerate(zip(versions, present, strict=True)):
        if p and start is None:
            start = v
        if start is not None and (not p or i == len(versions) - 1):
            out.append((start, v if p else versions[i - 1]))
            start = None
    return tuple(out)


def _walk(tracks: Iterable[_Track], trees: Sequence[SourceTree],
          on_release: Callable[[SourceTree], None] | None) -> None:
    tracks = list(tracks)
    for tree in trees:
        for track in tracks:
            _step(track, tree)
        tree.unload()
        if on_release:
            on_release(tree)


def scan(cards: Iterable[Card], trees: Sequence[SourceTree], recorded: str,
         on_release: Callable[[SourceTree], None] | None = None) -> dict[int, History]:
    """Follow every card's match through ``trees`` (oldest first): in its key file first; a match that
    no release holds there is then looked for in files of the key file's name (a second pass, for those
    cards only), since SGLang moves files; for a merged card still unseen, in the whole tree of releases
    built since its merge (a third pass: the same text elsewhere before the merge is another line). Cards
    whose key file is outside the package (a Dockerfile, a CI script) are not scanned: a wheel never holds
    those files. A card's ``key_fragment.today`` place is followed too."""
    cards = [c for c in cards if in_wheel(c.key_fragment.file)]
    tracks = {c.pr: _Track(c.key_fragment, c.key_fragment.file) for c in cards}
    todays = {c.pr: _Track(_today(c), c.key_fragment.today.file) for c in cards
              if c.key_fragment.today is not None and in_wheel(c.key_fragment.today.file)}
    _walk([*tracks.values(), *todays.values()], trees, on_release)
    unseen = {pr: _Track(t.kf, t.file, scope="name") for pr, t in tracks.items() if not any(t.present)}
    if unseen:
        _walk(unseen.values(), trees, on_release)
        tracks.update(unseen)
    merged = {c.pr: c.merged_at.isoformat() for c in cards if c.state == "merged" and c.merged_at is not None}
    unseen = {pr: _Track(t.kf, t.file, scope="tree", since=merged[pr])
              for pr, t in tracks.items() if not any(t.present) and pr in merged}
    if unseen:
        _walk(unseen.values(), trees, on_release)
        tracks.update(unseen)
    versions = [t.version for t in trees]
    out = {}
    for pr, t in tracks.items():
        today = todays.get(pr)
        out[pr] = History(key_sha(t.kf), versions[0], versions[-1], _spans(versions, t.present), tuple(t.events),
                          recorded, _spans(versions, today.present) if today else None,
                          key_sha(today.kf) if today else None)
    return out


def file_changes(paths: Iterable[str], trees: Sequence[SourceTree]) -> dict[str, tuple[str, ...]]:
    """Path -> the releases among ``trees`` (oldest first) whose copy of the file differs from the release before it:
    changed, added or removed (the first release is the baseline). Paths no wheel holds are left out."""
    out = {}
    for path in sorted({p for p in paths if in_wheel(p)}):
        shas = [_sha(t, path) for t in trees]
        out[path] = tuple(t.version for t, before, now in zip(trees[1:], shas[:-1], shas[1:], strict=True)
                          if before != now)
    return out


def _today(card: Card) -> KeyFragment:
    return KeyFragment(card.key_fragment.today.file, card.key_fragment.today.match, "")


# ---- judging a card against its history ---------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a card's history means, given its state, status and merge date."""

    kind: str  # release-diff | release-scan
    evidence: Event | None  # the event that proves the card's change
    shipped: Event | None  # first release that shipped the fragment (added after the merge)
    removed: Event | None  # the release in which it disappeared for good (after it shipped; None: still in the last)
    findings: tuple[tuple[str, str], ...]  # (code, message)
    #: after it shipped, the line's absences that ended: (first release without it, last without it, release it came
    #: back in), oldest first
    away: tuple[tuple[str, str, str], ...] = ()

    def away_in(self, version: str) -> tuple[str, str, str] | None:
        """The absence ``version`` falls in (None: it falls in none)."""
        target = Version(version)
        return next((a for a in self.away if Version(a[0]) <= target <= Version(a[1])), None)


def _date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def _in(spans: Iterable[tuple[str, str]], order: dict[str, int], version: str) -> bool:
    i = order[version]
    return any(order[a] <= i <= order[b] for a, b in spans if a in order and b in order)


def _holds(history: History, order: dict[str, int], version: str) -> bool:
    return _in(history.present, order, version)


def judge(card: Card, history: History, built: dict[str, str],
          merged_dates: dict[int, dt.date] | None = None) -> Verdict:
    """The card's release evidence and its date/fragment findings (codes of the D3xx release rules).
    ``merged`` holds other cards' merge dates: a change superseded or reverted before the next release was
    built never had to ship."""
    order = {v: i for i, v in enumerate(built)}
    versions = [v for v in built if order[history.first] <= order[v] <= order[history.last]] \
        if history.first in order and history.last in order else []
    events = [e for e in history.events if e.new.version in order]
    first_seen = history.present[0][0] if history.present else None
    findings: list[tuple[str, str]] = []
    if card.state != "merged" or card.merged_at is None:
        if card.key_fragment.pointer:
            # a pointer names code the PR meant to change: it must exist, and its presence is not the PR shipping
            if not history.present:
                findings.append(("D315", f"#{card.pr}'s key fragment is a pointer (explain starts \"Unverified:\"), "
                                         "yet no release scanned holds it: point at code a release has"))
        # text already in the first release scanned predates what the scan can attribute to this PR
        elif history.present and first_seen != history.first:
            spans = ", ".join(a if a == b else f"{a}..{b}" for a, b in history.present)
            findings.append(("D315", f"#{card.pr} is {card.state} (never merged), yet its match is in SGLang "
                                     f"{spans}: the state or the fragment is wrong"))
        # when the code a pointer names left SGLang says nothing about the PR
        removed = None if card.key_fragment.pointer else next((e for e in events if e.change == REMOVED), None)
        return Verdict(RELEASE_SCAN, None, None, removed, tuple(findings))
    merged = card.merged_at
    before = [v for v in versions if _date(built[v]) < merged]
    after = [v for v in versions if _date(built[v]) >= merged]
    prev = before[-1] if before else None  # the release before the PR's window
    window = after[0] if after else None  # the first release built on or after the merge
    removal = (prev is not None and window is not None and _holds(history, order, prev)
               and not _holds(history, order, window))
    added = [e for e in events if e.change == ADDED]
    shipped = next((e for e in added if _date(e.new.built) >= merged), None)
    # the diff of the PR's own window adds a line carrying the match: that line is the PR's candidate, even
    # where the same text was already elsewhere (a modified line, or a one-line entry repeated in the file)
    in_window = shipped is not None and shipped.new.version == window
    if (card.status == "reverted" and shipped is not None and not in_window
            and _date(shipped.new.built) > merged + SHIP_WITHIN):
        # the releases built while the change stood lack it: the same text arriving later is other code's
        shipped = None
    evidence = None
    if removal:
        evidence = next((e for e in events if e.change == REMOVED and e.new.version == window), None)
    elif shipped is not None and (prev is None or not _holds(history, order, prev) or in_window):
        evidence = shipped
    since = order[shipped.new.version] if shipped is not None else -1
    after_ship = [e for e in events if e.change == REMOVED and order[e.new.version] > since]
    # a line that left and came back was away, not removed: only its last disappearance counts, if it is still gone
    gone_now = history.last in order and not _holds(history, order, history.last)
    removed = evidence if removal else (after_ship[-1] if after_ship and gone_now else None)
    away = () if removal or shipped is None else _away(history.present, list(order), since)
    # a reverted change's own lines are gone by definition: only its window's diff could show them
    # a revert's own lines are the ones it restores, which releases before it held (#31622 put back the line #31369
    # had replaced, both merged between two builds): neither undistinctive (D314) nor shipped before its merge (D312)
    judged = not removal and not in_window and card.status != "reverted" and not card.is_revert
    if judged and first_seen is not None and prev is not None and _date(built[first_seen]) < merged:
        if first_seen == history.first or order[first_seen] < order[prev]:
            findings.append(("D314", f"not distinctive: the match is already in SGLang {first_seen} (built "
                                     f"{built[first_seen]}), releases before #{card.pr} was merged on {merged}, "
                                     "and the diff of its window adds no line with it; pick a line the PR added"))
        else:
            findings.append(("D312", f"merged_at {merged} is later than the build date of SGLang {first_seen} "
                                     f"({built[first_seen]}), the first release that shipped the fragment (the "
                                     "release right before the merge's window)"))
    successors = [(merged_dates or {}).get(n) for n in card.superseded_by]
    replaced_in_window = window is not None and any(d is not None and d <= _date(built[window]) for d in successors)
    if not removal and not replaced_in_window and card.status != "reverted":
        late = [v for v in after if _date(built[v]) > merged + SHIP_WITHIN]
        if late:
            due = after[: after.index(late[0]) + 1]
            today = history.today_of(card)
            rewritten = today is not None and any(_in(today, order, v) for v in due)
            if not rewritten and not any(_holds(history, order, v) for v in due):
                findings.append(("D313", f"merged on {merged} but the match is in no release built since, "
                                         f"up to SGLang {late[0]} ({built[late[0]]}): not shipped, or the "
                                         "fragment is wrong"))
    kind = RELEASE_DIFF if evidence is not None and not findings else RELEASE_SCAN
    if removal or (card.status == "reverted" and evidence is None):
        shipped = None  # a later line with the same text is not this change shipping
    return Verdict(kind, evidence, shipped, removed, tuple(findings), away)


def _away(present: tuple[tuple[str, str], ...], versions: list[str], since: int) -> tuple[tuple[str, str, str], ...]:
    """The gaps between ``present``'s spans that open after release index ``since``: (first absent, last absent,
    back in)."""
    index = {v: i for i, v in enumerate(versions)}
    spans = [(index[a], index[b]) for a, b in present if a in index and b in index]
    return tuple((versions[b + 1], versions[a2 - 1], versions[a2])
                 for (_, b), (a2, _) in zip(spans, spans[1:], strict=False) if b >= since and a2 > b + 1)


def shipped_line(verdict: Verdict, where: Callable[[str], str] = str, current: bool = False) -> str:
    """"shipped in SGLang 0.5.9 (built 2026-02-20), file.py line(s) 12; removed in 0.5.17 (built ...)" or "".
    ``where`` formats the file name (render wraps it in backticks). For a ``current`` card the line that left
    was rewritten, not the change undone (drift follows its `today` form), and it says so."""
    def at(e: Event) -> str:
        return f", {where(PurePosixPath(e.file).name)} line(s) {first_of(e.lines, 4)}"

    parts = []
    if verdict.shipped is not None:
        e = verdict.shipped
        parts.append(f"shipped in SGLang {e.new.version} (built {e.new.built}){at(e)}")
    parts += [away_text(a) for a in verdict.away]
    if verdict.removed is not None:
        e = verdict.removed
        rewritten = current and verdict.shipped is not None  # a removal that is the change itself stays "removed"
        gone = "its line rewritten in" if rewritten else "removed in"
        still = ", the change still current in its rewritten form" if rewritten else ""
        parts.append(f"{gone} {e.new.version} (built {e.new.built}){at(e) if verdict.shipped is None else ''}{still}")
    return "; ".join(parts)


def unproven_why(card: Card, verdict: Verdict, history: History | None) -> str:
    """Why no release diff proves ``card`` (a release-scan verdict with nothing else to say): a line `releases
    verify` printed bare."""
    if card.key_fragment.pointer:
        return "a pointer (its explain starts 'Unverified:'): no release holds the PR's own lines"
    if card.state != "merged":
        return f"never merged ({card.state}): only its PR's diff can prove it"
    if card.status == "reverted":
        return "reverted: the releases lack its own lines"
    if history is None or not history.present:
        return "its line is in no release scanned: only its PR's diff can prove it"
    return "no release diff of its merge window adds its line"


def away_text(away: tuple[str, str, str]) -> str:
    """"its line absent from 0.5.13 to 0.5.16, back in 0.5.17" (one release: "absent in 0.5.13")."""
    first, last, back = away
    where = f"in {first}" if first == last else f"from {first} to {last}"
    return f"its line absent {where}, back in {back}"


# ---- the releases section of cards/evidence.lock -----------------------------------------------


@dataclass(frozen=True)
class ReleaseLock:
    built: dict[str, str]  # every release scanned, in release order -> its build date
    cards: dict[int, History]
    #: each SGLang file by-file.md lists -> the releases that changed it (file_changes); None: never recorded
    files: dict[str, tuple[str, ...]] | None = None
    #: each of those the last release lacks -> where its lines went (file_moves.moves); None: never recorded
    moved: dict[str, tuple[Move, ...]] | None = None

    def verdict(self, card: Card, merged_dates: dict[int, dt.date] | None = None) -> Verdict | None:
        """The card's release verdict; None when it has no history or one for an earlier key fragment.
        ``merged_dates``: every card's merge date (see :func:`judge`)."""
        h = self.cards.get(card.pr)
        if h is None or h.key_fragment != key_sha(card.key_fragment):
            return None
        return judge(card, h, self.built, merged_dates)

    def other_builds(self, trees: Iterable[SourceTree]) -> list[tuple[str, str, str]]:
        """(version, build date in the lock, build date in the cache) for each release both hold whose dates
        differ: another build of it (another wheel) was synced, and every date judgment may move with it."""
        return [(t.version, self.built[t.version], t.built or "") for t in trees
                if t.version in self.built and self.built[t.version] != (t.built or "")]


def unrecorded(root: Path, lock: ReleaseLock) -> tuple[list[int], list[str]]:
    """Where ``lock`` (a scan) and the releases section cards/evidence.lock records differ, when both cover the same
    releases (a lock edited by hand, or a card's history not recorded since): the PRs whose history differs (its
    lines, spans, places; not the day it was recorded), and the files whose releases of change differ or that only
    one side lists. Empty for a lock of other releases; raises LockError when it cannot be read."""
    held = read_release_lock(root)
    if held.built != lock.built:
        return [], []

    def undated(h: History | None) -> History | None:
        return replace(h, recorded="") if h is not None else None

    # as `record` does, a card this scan did not load (it fails the schema) while its file exists keeps its entry
    kept = {pr for pr in held.cards if pr not in lock.cards and (root / "cards" / f"{pr}.yaml").is_file()}
    prs = [pr for pr in sorted((set(held.cards) | set(lock.cards)) - kept)
           if undated(held.cards.get(pr)) != undated(lock.cards.get(pr))]
    differ = {p for held_paths, read_paths in ((held.files or {}, lock.files or {}), (held.moved or {}, lock.moved or {}))
              for p in set(held_paths) | set(read_paths) if held_paths.get(p) != read_paths.get(p)}
    return prs, sorted(differ)


def merge_dates(cards: Iterable[Card]) -> dict[int, dt.date]:
    return {c.pr: c.merged_at for c in cards if c.merged_at is not None}


def read_release_lock(root: Path) -> ReleaseLock:
    """The releases section (empty when absent); raises LockError when the lock cannot be read or the section
    is malformed."""
    data = lock_section(root, "releases")
    if data is None:
        return ReleaseLock({}, {})
    fix = "run `dossier releases verify --record`"
    try:
        check_keys(data, ("built", "cards", "files", "moved"), f"{LOCK_FILE}: releases", fix)
        built = {str(v): str(d) for v, d in data["built"]}
        versions = [v for v, _ in data["built"]]
        if any(not isinstance(v, str) for v in versions) or ordered(versions) != versions or len(built) != len(versions):
            raise LockError(f"{LOCK_FILE}: releases: built must list each release once, oldest first, as a quoted "
                            f"version and its build date (a merge that kept both sides' lists?); {fix}")
        odd = next((d for d in built.values() if not re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", d)), None)
        if odd is not None:  # by-release.md prints it as the day the release was built
            raise LockError(f"{LOCK_FILE}: releases: built: {odd[:40]!r} is no build date (YYYY-MM-DD); {fix}")
        check_pr_keys(data["cards"], f"{LOCK_FILE}: releases: cards", fix)
        for pr, h in data["cards"].items():
            check_keys(h, HISTORY_KEYS, f"{LOCK_FILE}: releases: #{pr}", fix)
            check_keys(h.get("today"), ("place", "present"), f"{LOCK_FILE}: releases: #{pr}: today", fix)
            for event in h["events"]:
                check_keys(event, EVENT_KEYS, f"{LOCK_FILE}: releases: #{pr}: events", fix)
        cards = {int(pr): History.from_data(h) for pr, h in data["cards"].items()}
        for pr, h in cards.items():
            if why := _history_fault(h, built):  # read as written, the card lost or moved its release lines
                raise LockError(f"{LOCK_FILE}: releases: #{pr}: {why} (edited by hand, or a merge?); {fix}")
        files = _files(data.get("files"), versions, fix)
        moved = _moved(data.get("moved"), versions, fix)
    except LockError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise LockError(f"{LOCK_FILE}: releases section is malformed ({type(exc).__name__}: {exc}); "
                        "run `dossier releases verify --record`") from None
    return ReleaseLock(built, cards, files, moved)


def _files(data: object, versions: list[str], fix: str) -> dict[str, tuple[str, ...]] | None:
    """The releases section's ``files`` as read (None when absent: recorded before files were); LockError for a
    path that is not a wheel's, or releases that are not listed ones after the first, oldest first, each once."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise LockError(f"{LOCK_FILE}: releases: files must map each SGLang file to the releases that changed it; "
                        f"{fix}")
    later = versions[1:]
    order = {v: i for i, v in enumerate(later)}
    out = {}
    for path, changed in data.items():
        if not isinstance(path, str) or not in_wheel(path) or not isinstance(changed, list) \
                or any(not isinstance(v, str) or v not in order for v in changed) \
                or [order[v] for v in changed] != sorted({order[v] for v in changed}):
            raise LockError(f"{LOCK_FILE}: releases: files: {str(path)[:80]!r}: not a wheel's file with the "
                            f"releases after {versions[0] if versions else 'the first'} that changed it, oldest "
                            f"first, each once (edited by hand, or a merge?); {fix}")
        out[path] = tuple(changed)
    return out


def _moved(data: object, versions: list[str], fix: str) -> dict[str, tuple[Move, ...]] | None:
    """The releases section's ``moved`` as read (None when absent: recorded before moves were); LockError for a path
    that is not a wheel's Python file, or a move that is not [a listed release after the previous move's, a wheel's
    Python file, a percent from ALIKE to 100] or, last, a deletion [release, None or the wheel's Python file it was
    merged into, None]."""
    if data is None:
        return None
    order = {v: i for i, v in enumerate(versions)}
    least = int(ALIKE * 100)

    def move(step: object) -> Move | None:
        if not (isinstance(step, list) and len(step) == 3 and isinstance(step[0], str) and step[0] in order):
            return None
        wheel_file = isinstance(step[1], str) and in_wheel(step[1]) and step[1].endswith(".py")
        if (step[1] is None or wheel_file) and step[2] is None \
                or wheel_file and type(step[2]) is int and least <= step[2] <= 100:
            return Move(*step)
        return None

    if not isinstance(data, dict):
        raise LockError(f"{LOCK_FILE}: releases: moved must map each SGLang file to the moves that followed it; {fix}")
    out = {}
    for path, steps in data.items():
        read = [move(s) for s in steps] if isinstance(steps, list) else [None]
        if not isinstance(path, str) or not in_wheel(path) or not path.endswith(".py") or None in read \
                or [order[m.version] for m in read] != sorted({order[m.version] for m in read}) \
                or (read and order[read[0].version] == 0) or any(m.percent is None for m in read[:-1]):
            raise LockError(f"{LOCK_FILE}: releases: moved: {str(path)[:80]!r}: not a wheel's Python file with the "
                            f"moves that followed it, each [a listed release after {versions[0] if versions else 'the first'}, "
                            f"oldest first, each once; a wheel's Python file and a percent from {least} to 100, or, the "
                            f"last move, a deletion: null or the file it was merged into, and null] (edited by hand, "
                            f"or a merge?); {fix}")
        out[path] = tuple(read)
    return out


def _history_fault(h: History, built: dict[str, str]) -> str | None:
    """Why one card's release history cannot be what a scan of the ``built`` releases recorded, or None: a version
    it does not list, a span that ends before it begins or out of order, an event whose lines or build day are
    not possible."""
    order = {v: i for i, v in enumerate(built)}
    if h.first not in order or h.last not in order or order[h.first] > order[h.last]:
        return f"first {h.first!r} and last {h.last!r} are not two listed releases, oldest first"
    for name, spans in (("present", h.present), ("today: present", h.today or ())):
        end = order[h.first] - 1
        for a, b in spans:
            if a not in order or b not in order:
                return f"{name}: {[a, b]} names a release built does not list"
            if not end < order[a] <= order[b] <= order[h.last]:
                return f"{name}: {[a, b]} ends before it begins, overlaps the span before it or lies outside " \
                       f"{h.first}..{h.last}"
            end = order[b]
    for e in h.events:
        if e.change not in ("added", "removed") or not all(is_line_number(n) for n in e.lines):
            return f"an event of {e.file!r} is no {e.change!r} change on lines {list(e.lines)}"
        for side in (e.old, e.new):
            if built.get(side.version) != side.built:
                return (f"an event of {e.file!r} names {side.version!r} built {side.built!r}, where built "
                        f"records {built.get(side.version)!r}")
        if order[e.old.version] >= order[e.new.version]:
            return f"an event of {e.file!r} goes from {e.old.version} back to {e.new.version}"
    return None


def write_release_lock(root: Path, lock: ReleaseLock, cards: Iterable[Card]) -> Path:
    by_pr = {c.pr: c for c in cards}
    dates = merge_dates(by_pr.values())
    entries = {}
    for pr in sorted(lock.cards):
        h = lock.cards[pr]
        verdict = lock.verdict(by_pr[pr], dates) if pr in by_pr else None
        kind = verdict.kind if verdict is not None else RELEASE_SCAN
        entries[pr] = h.to_data(kind)
    section = {"built": [[v, d] for v, d in lock.built.items()], "cards": entries}
    if lock.files is not None:
        section["files"] = {path: list(changed) for path, changed in sorted(lock.files.items())}
    if lock.moved is not None:
        section["moved"] = {path: [m.to_data() for m in steps] for path, steps in sorted(lock.moved.items())}
    return write_section(root, "releases", section)


def record(project: Project, trees: Sequence[SourceTree], recorded: str,
           on_release: Callable[[SourceTree], None] | None = None, files: Iterable[str] = ()) -> ReleaseLock:
    """Scan every card through ``trees`` and write the releases section, with the releases that changed each of
    ``files`` (the files by-file.md lists) and where those the last release lacks went; keeps the date of a card whose history did not change, and the entries
    of cards not loaded this time while their card file exists. The lock is checked before the scan (minutes) and
    read again, for what is kept, while holding cards/."""
    versions = [t.version for t in trees]
    refuse_to_drop(read_release_lock(project.root).built, versions, LOCK_FILE)  # an unreadable lock: fixed first
    fresh = scan(project.cards, trees, recorded, on_release)
    files = list(files)
    changes, gone = file_changes(files, trees), moves(files, trees)
    cards_dir = project.root / "cards"
    with serialized(cards_dir):  # another recording meanwhile is kept, never replaced by our stale copy
        old = read_release_lock(project.root)
        refuse_to_drop(old.built, versions, LOCK_FILE)
        out = {pr: h for pr, h in old.cards.items() if pr not in fresh and (cards_dir / f"{pr}.yaml").is_file()}
        for pr, h in fresh.items():
            prev = old.cards.get(pr)
            out[pr] = prev if prev is not None and replace(prev, recorded=recorded) == h else h
        lock = ReleaseLock({t.version: t.built or "" for t in trees}, dict(sorted(out.items())), changes, gone)
        write_release_lock(project.root, lock, project.cards)
    return lock


# ---- what render and show say ------------------------------------------------------------------


def _absent(at: FileAt) -> str:
    """", file absent" when the release lacks the file (hashes stay in cards/evidence.lock, not the manual)."""
    return "" if at.sha256 else ", file absent"


def release_notes(project: Project, *, strict: bool = True) -> Callable[[Card], tuple[str, str, str]]:
    """Per card: (the release-diff evidence note or "", the shipped-in / removed-in note shown beside that
    evidence note, the same note shown without it), each "" when there is none: the evidence note usually names
    the first release shipping the change itself. An unreadable lock raises LockError unless not ``strict``."""
    try:
        lock = read_release_lock(project.root)
    except LockError:
        if strict:
            raise
        lock = ReleaseLock({}, {})
    dates = merge_dates(project.cards)

    def notes(card: Card) -> tuple[str, str, str]:
        v = lock.verdict(card, dates)
        if v is None:
            return "", "", ""
        proof, folded = "", False
        if v.kind == RELEASE_DIFF and v.evidence is not None:
            e = v.evidence
            side = "added" if e.change == ADDED else "removed"
            # the release that proves the change is usually the first to ship it: say so here, not on a line of its own
            folded = v.shipped is not None and v.removed is None and not v.away and v.shipped.new.version == e.new.version
            proof = (
                f"**Evidence (release diff, not the PR's own diff).** Match on {side} line(s) "
                f"{', '.join(map(str, e.lines))} of {code(e.file)} between SGLang {e.old.version} "
                f"(built {e.old.built}{_absent(e.old)}) and {e.new.version} (built {e.new.built}{_absent(e.new)})"
                f"{', the first release shipping it' if folded else ''}; checked {lock.cards[card.pr].recorded}."
            )
        shipped = shipped_line(v, code, current=card.status == "current")
        alone = f"**Releases.** {shipped[:1].upper()}{shipped[1:]}." if shipped else ""
        return proof, "" if folded else alone, alone

    return notes
