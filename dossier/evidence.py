"""Prove a card's key fragment against its PR's diff, and keep the proof in ``cards/evidence.lock``.

The committed cards never carry third-party code: only the match string and our own explanation. The
lock records where the match landed in the diff (file, side, line numbers), which diff (sha256, source)
and when, so that lint can check offline that a card still says what was verified.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dossier.diff import IMPORT_LINE, MAX_LINES, DiffError, is_line_number
from dossier.errors import DossierError, url_host
from dossier.files import read_bytes, serialized
from dossier.files import record as record_file
from dossier.locks import LockError, check_keys, of_version, read_lock_file, seal_in, section_digest
from dossier.mentions import code_like
from dossier.model import Card, KeyFragment
from dossier.render.markdown import code
from dossier.sources import DEFAULT_API_HOST, DEFAULT_API_URL
from dossier.spec import is_day

if TYPE_CHECKING:
    from dossier.diff import DiffFile, DiffLine
    from dossier.project import Project
    from dossier.sources.cache import CacheEntry

LOCK_FILE = Path("cards") / "evidence.lock"
LOCK_VERSION = 1
#: the kinds of evidence: a PR's own diff (section `cards`), two published releases (section `releases`)
PR_DIFF, RELEASE_DIFF = "pr-diff", "release-diff"
LOCK_HEADER = (
    "# Written by `dossier lint --record` (cards: where each key fragment landed in its PR's diff) and\n"
    "# `dossier releases verify --record` (releases: what the published SGLang releases show).\n"
)

# why a fragment did not land on one changed place (None: it did)
NOT_CHANGED = "not-changed"  # key_fragment.file is not a file of the diff
NO_PATCH = "no-patch"  # the file changed but the diff has no text for it (binary, too large)
ABSENT = "absent"  # the match is on no line of the file's diff
CONTEXT = "context"  # only on unchanged context lines
IMPORT = "import"  # only on import lines
AMBIGUOUS = "ambiguous"  # changed lines in several hunks


@dataclass(frozen=True)
class Hit:
    hunk: int  # index of the hunk in the file
    line: DiffLine


@dataclass(frozen=True)
class Located:
    """Where a key fragment sits in a diff. ``problem`` is None when it sits on one changed place."""

    file: DiffFile | None
    problem: str | None
    hits: tuple[Hit, ...] = ()
    hint: str | None = None

    @property
    def side(self) -> str:
        """Which side of the diff the hits are on: "new" (added lines) or "old" (removed lines)."""
        return "old" if self.hits and self.hits[0].line.kind == "-" else "new"

    @property
    def lines(self) -> tuple[int, ...]:
        attr = "old_lineno" if self.side == "old" else "new_lineno"
        return tuple(sorted({getattr(h.line, attr) for h in self.hits}))


def diff_files(entry: CacheEntry) -> list[DiffFile] | None:
    """The cached PR's parsed diff; None when its text is not a diff (a damaged or foreign file)."""
    try:
        return entry.files()
    except DiffError:
        return None


def resolve_file(files: Sequence[DiffFile], path: str) -> DiffFile | None:
    """The diff's file for ``path``, which may name either side of a rename."""
    return next((f for f in files if path in (f.path, f.old_path)), None)


def changed_paths(files: Sequence[DiffFile], meta: dict | None = None) -> set[str]:
    """Every path the PR touched (both names of a rename), from the diff and the fetched file list."""
    out = {p for f in files for p in (f.path, f.old_path) if p}
    for f in (meta or {}).get("files") or []:
        out.update(p for p in (f.get("filename"), f.get("previous_filename")) if p)
    return out


def import_lines(hunk_lines: Sequence[DiffLine]) -> set[int]:
    """Indices of lines that belong to an import statement (also inside ``from x import (...)``)."""
    out: set[int] = set()
    for side in ("-", "+"):
        open_paren = False
        for i, line in enumerate(hunk_lines):
            if line.kind not in (side, " "):
                continue
            if open_paren:
                out.add(i)
                open_paren = ")" not in line.text
            elif IMPORT_LINE.match(line.text):
                out.add(i)
                open_paren = "(" in line.text and ")" not in line.text
    return out


def patch_missing(meta: dict) -> frozenset[str]:
    """Files the fetched metadata says came without a patch (GitHub omits those of very large files)."""
    return frozenset(f.get("filename") for f in meta.get("files") or [] if f.get("patch_missing"))


def find_fragment(files: Sequence[DiffFile], kf: KeyFragment, no_patch: Collection[str] = ()) -> Located:
    """Find ``kf.match`` on the changed lines of ``kf.file``: added lines first, else removed lines.
    ``no_patch`` names files whose diff text is known to be missing (see :func:`patch_missing`)."""
    df = resolve_file(files, kf.file)
    if df is None:
        near = difflib.get_close_matches(kf.file, sorted({f.path for f in files}), n=3, cutoff=0.3)
        hint = f"changed files like it: {', '.join(near)}" if near else f"the PR changed {len(files)} file(s)"
        return Located(None, NOT_CHANGED, hint=hint)
    if df.binary or df.path in no_patch or (not df.hunks and df.status != "renamed"):
        return Located(df, NO_PATCH)
    if not df.hunks:
        return Located(df, ABSENT, hint=f"a pure rename from {df.old_path}: the PR changed no line of it")
    by_kind: dict[str, list[Hit]] = {"+": [], "-": [], "imports": [], " ": []}
    for h, hunk in enumerate(df.hunks):
        imports = import_lines(hunk.lines)
        for i, line in enumerate(hunk.lines):
            if kf.match in line.text:
                kind = "imports" if line.kind != " " and i in imports else line.kind
                by_kind[kind].append(Hit(h, line))
    hits = by_kind["+"] or by_kind["-"]
    if hits:
        hunks = sorted({h.hunk for h in hits})
        if len(hunks) > 1:
            where = "; ".join(_describe_hunk(df, h, hits) for h in hunks)
            return Located(df, AMBIGUOUS, tuple(hits), f"make the match specific to one of: {where}")
        return Located(df, None, tuple(hits))
    if by_kind["imports"]:
        return Located(df, IMPORT, tuple(by_kind["imports"]), _near_changed(df, by_kind["imports"]))
    if by_kind[" "]:
        return Located(df, CONTEXT, tuple(by_kind[" "]), _near_changed(df, by_kind[" "]))
    return Located(df, ABSENT, hint=_similar_changed(df, kf.match))


def _changed(df: DiffFile) -> list[DiffLine]:
    return [line for hunk in df.hunks for line in hunk.lines if line.kind != " "]


def _lineno(line: DiffLine) -> int:
    return line.new_lineno if line.new_lineno is not None else line.old_lineno


def _show(line: DiffLine) -> str:
    text = line.text.strip()
    return f"{line.kind}{_lineno(line)}: {text[:80]}"


def _near_changed(df: DiffFile, hits: Iterable[Hit]) -> str:
    """The changed (non-import) lines nearest to the hits, by line number."""
    anchors = [_lineno(h.line) for h in hits]
    changed = [ln for ln in _changed(df) if not IMPORT_LINE.match(ln.text) and ln.text.strip()]
    if not changed:
        return "the file has no other changed lines"
    near = sorted(changed, key=lambda ln: (min(abs(_lineno(ln) - a) for a in anchors), _lineno(ln)))[:3]
    return "nearest changed lines: " + " | ".join(_show(ln) for ln in near)


def _similar_changed(df: DiffFile, match: str) -> str:
    changed = [ln for ln in _changed(df) if ln.text.strip()]
    if not changed:
        return "the file has no changed lines with text"
    score = {id(ln): difflib.SequenceMatcher(None, match, ln.text.strip()).ratio() for ln in changed}
    best = sorted(changed, key=lambda ln: (-score[id(ln)], _lineno(ln)))[:3]
    return "closest changed lines: " + " | ".join(_show(ln) for ln in best)


def _describe_hunk(df: DiffFile, index: int, hits: Iterable[Hit]) -> str:
    lines = sorted({_lineno(h.line) for h in hits if h.hunk == index})
    return f"hunk {index + 1} ({df.hunks[index].header.strip()}) line(s) {', '.join(map(str, lines))}"


PROBLEM_TEXT = {
    CONTEXT: "only on unchanged context lines",
    IMPORT: "only on import lines",
    ABSENT: "on no line of the diff",
    AMBIGUOUS: "on changed lines in several hunks",
}


# ---- the evidence lock -------------------------------------------------------------------------


@dataclass(frozen=True)
class LockEntry:
    """What `dossier lint --record` proved about one card."""

    key_fragment: str  # sha256 of "file\nmatch"
    diff_sha256: str
    source: str
    file: str  # the diff's path of the key file (new name for renames)
    side: str  # "new" (added lines) or "old" (removed lines)
    lines: tuple[int, ...]
    recorded: str  # YYYY-MM-DD
    files: int
    additions: int
    deletions: int
    #: the API host the diff came from when it is not the default GitHub API (absent: api.github.com, a
    #: clone or a saved diff); lint --record refuses other hosts unless allowed explicitly
    host: str | None = None
    kind: str = PR_DIFF
    #: the code names of the card's prose that the diff's lines hold: lint D621 takes them as the PR's change
    #: when the diff is not cached (CI), so a card proven here stays proven offline
    names: tuple[str, ...] = ()

    def to_data(self) -> dict:
        data = {**asdict(self), "lines": list(self.lines), "names": list(self.names)}
        return {k: v for k, v in data.items() if not (k in OPTIONAL_FIELDS and not v)}


#: LockEntry fields an entry may leave out
OPTIONAL_FIELDS = frozenset({"host", "names"})


def entry_host(entry: CacheEntry) -> str | None:
    """The API host a cached GitHub entry came from (None for other sources)."""
    prov = entry.provenance
    if prov.get("source") != "github":
        return None
    return prov.get("api_host") or url_host(str(prov.get("api_url") or DEFAULT_API_URL))


def foreign_hosts(project: Project, entry_for: Callable[[int], CacheEntry | None],
                  allowed: Collection[str]) -> dict[int, str]:
    """Cards (of those checked) whose cached diff came from an API host not in ``allowed``."""
    out = {}
    for card in project.cards:
        entry = entry_for(card.pr) if project.in_scope(card.path) else None
        host = entry_host(entry) if entry is not None else None
        if host is not None and host not in allowed:
            out[card.pr] = host
    return out


def key_sha(kf: KeyFragment) -> str:
    return hashlib.sha256(f"{kf.file}\n{kf.match}".encode()).hexdigest()


def lock_path(root: Path) -> Path:
    return root / LOCK_FILE


def _lock_data(root: Path) -> dict | None:
    """The lock as written (None when there is none); raises LockError when it cannot be read or is not this
    version's (every section's reader and writer goes through here)."""
    data = read_lock_file(lock_path(root))
    if data is not None and (not of_version(data, LOCK_VERSION) or not isinstance(data.get("cards"), dict)
                             or set(data) - {"version", "cards", "releases"}):
        unknown = ", ".join(map(str, sorted(set(data) - {"version", "cards", "releases"}, key=str)))
        raise LockError(f"{LOCK_FILE}: expected a mapping with version: {LOCK_VERSION} and cards: {{PR: entry}}"
                        + (f" (and releases), not {unknown}" if unknown else ""))
    return data


def read_lock(root: Path) -> dict[int, LockEntry]:
    """The recorded evidence by PR (empty when there is no lock); raises LockError when malformed."""
    data = _lock_data(root)
    if data is None:
        return {}
    try:
        return {pr: _lock_entry(pr, entry) for pr, entry in data["cards"].items()}
    except LockError as exc:
        raise LockError(f"{LOCK_FILE}: {exc}") from None


def _lock_entry(pr: object, data: object) -> LockEntry:
    names = LockEntry.__dataclass_fields__
    if isinstance(data, dict):
        data = {"kind": PR_DIFF, **data}  # entries written before kinds existed are PR-diff evidence
    required = set(names) - OPTIONAL_FIELDS
    check_keys(data, tuple(names), f"entry {pr!r}", "run `dossier lint --record`")
    if not isinstance(pr, int) or not isinstance(data, dict) or not required <= set(data) <= set(names):
        raise LockError(f"entry {pr!r} must be a PR number mapping to the fields {', '.join(sorted(required))}"
                        f" (optional: {', '.join(sorted(OPTIONAL_FIELDS))})")
    data = {**data, "recorded": str(data["recorded"])}
    lines, code_names = data["lines"], data.get("names", [])
    if not isinstance(lines, list) or not all(is_line_number(n) for n in lines):
        raise LockError(f"entry {pr}: lines must be a list of line numbers (1 to {MAX_LINES:,})")
    if not is_day(data["recorded"]):
        raise LockError(f"entry {pr}: recorded must be the day it was recorded (YYYY-MM-DD), got {data['recorded']!r}")
    if not isinstance(code_names, list) or not all(isinstance(n, str) for n in code_names):
        raise LockError(f"entry {pr}: names must be a list of code names")
    for name, field in names.items():
        if name not in ("lines", "names") and name in data and not (
                type(data[name]) is int and data[name] >= 0 if field.type == "int" else isinstance(data[name], str)):
            raise LockError(f"entry {pr}: {name} must be {'a count (0 and up)' if field.type == 'int' else 'text'}")
    if data["kind"] != PR_DIFF:
        raise LockError(f"entry {pr}: kind must be {PR_DIFF} in the cards section")
    return LockEntry(**{**data, "lines": tuple(lines), "names": tuple(code_names)})


def lock_section(root: Path, name: str) -> object:
    """One top-level section of the lock as written (None when absent); raises LockError when the lock cannot
    be read."""
    data = _lock_data(root)
    return None if data is None else data.get(name)


def write_section(root: Path, name: str, value: object) -> Path:
    """Replace one section of the lock (``cards`` or ``releases``), keeping the other (unless the lock cannot
    be read: then it raises LockError, so that recording never drops what it could not read), atomically and
    deterministically."""
    def text() -> str:  # read while another recording of the other section waits: it never drops ours
        sections = {other: lock_section(root, other) for other in ("cards", "releases") if other != name}
        sections[name] = value
        body = {k: v for k, v in sections.items() if v is not None}
        body.setdefault("cards", {})
        # each section's seal: written with the section, the other's carried over as it was
        digests = {k: section_digest(value) if k == name else (section_seal(root, k) or (None,))[0] for k in SEALS}
        seal = "".join(f"{SEALS[k]}{d}\n" for k, d in digests.items() if d)
        return LOCK_HEADER + seal + f"version: {LOCK_VERSION}\n" + "".join(
            yaml.safe_dump({k: body[k]}, sort_keys=True, default_flow_style=None, width=120)
            for k in ("cards", "releases") if k in body
        )

    return record_file(lock_path(root), text)


#: the comment lines that seal each section: the sha256 of the section as `dossier lint --record` (cards, lint D329)
#: or `dossier releases verify --record` (releases, D341) wrote it
SEALS = {"cards": "# cards sha256: ", "releases": "# releases sha256: "}


def section_seal(root: Path, name: str) -> tuple[str, int] | None:
    """The seal of section ``name`` the lock's header carries and its line (None: none, e.g. a lock written before
    seals, or no lock, or one that cannot be read: D311's)."""
    try:
        text = read_bytes(lock_path(root)).decode(errors="replace")
    except OSError:
        return None
    return seal_in(text, SEALS[name])


def write_lock(root: Path, entries: dict[int, LockEntry]) -> Path:
    """Write the PR-diff section deterministically (sorted keys, one entry per card), atomically; the
    releases section is kept."""
    return write_section(root, "cards", {pr: entries[pr].to_data() for pr in sorted(entries)})


#: the last second of 9999 (a date has four digits of year)
LAST_EPOCH = 253402300799


def today() -> str:
    """UTC today, or the day of $SOURCE_DATE_EPOCH (reproducible records): ASCII digits only, as `date +%s` writes
    them, up to the end of 9999 (int() would also take -1, " 5", "+5", "1_000" and other scripts' digits)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return dt.datetime.now(dt.UTC).date().isoformat()
    digits = epoch.lstrip("0") or "0"
    if not (epoch.isascii() and epoch.isdigit() and len(digits) <= len(str(LAST_EPOCH)) and int(digits) <= LAST_EPOCH):
        raise DossierError(f"SOURCE_DATE_EPOCH must be seconds since 1970, a whole number from 0 to {LAST_EPOCH} "
                           f"(the end of 9999), got {epoch[:40]!r}")
    return dt.datetime.fromtimestamp(int(digits), dt.UTC).date().isoformat()


def diff_coverage(entry: CacheEntry) -> tuple[int, int, int]:
    """(files, additions, deletions) from the fetched metadata, else counted from the diff."""
    meta = entry.meta
    if all(isinstance(meta.get(k), int) for k in ("changed_files", "additions", "deletions")):
        return meta["changed_files"], meta["additions"], meta["deletions"]
    files = entry.files()
    return (len(files), sum(len(f.added()) for f in files), sum(len(f.removed()) for f in files))


def diff_names(card: Card, files: Sequence[DiffFile]) -> tuple[str, ...]:
    """The code names the card's prose writes (snake_case, CamelCase) that a line of the diff holds."""
    prose = " ".join((card.motivation, card.implementation, card.key_fragment.explain, *card.claims,
                      *card.corrections))
    written = {w for w in re.findall(r"\w+", prose) if code_like(w)}
    held = set()
    for df in files:
        for hunk in df.hunks:
            held |= written.intersection(re.findall(r"\w+", "\n".join(ln.text for ln in hunk.lines)))
    return tuple(sorted(held))


def lock_entry(card: Card, entry: CacheEntry, diff: Sequence[DiffFile], located: Located, recorded: str) -> LockEntry:
    files, additions, deletions = diff_coverage(entry)
    host = entry_host(entry)
    return LockEntry(
        key_fragment=key_sha(card.key_fragment),
        diff_sha256=entry.provenance.get("sha256") or _sha256(entry.diff_text),
        source=str(entry.provenance.get("source", "unknown")),
        file=located.file.path,
        side=located.side,
        lines=located.lines,
        recorded=recorded,
        files=files,
        additions=additions,
        deletions=deletions,
        host=host if host != DEFAULT_API_HOST else None,
        names=diff_names(card, diff),
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    project: Project, old: dict[int, LockEntry], entry_for: Callable[[int], CacheEntry | None], recorded: str
) -> dict[int, LockEntry]:
    """The new lock. A loaded card whose fragment lands on one changed place of its cached diff gets a fresh
    entry (keeping the old date when nothing else changed); one without a cached diff, or whose cached text is
    no diff (judges nothing), keeps its old entry; one that fails against its cached diff is dropped. Entries of
    cards not loaded this time are kept while their card file exists."""
    checked = [card for card in project.cards if project.in_scope(card.path)]
    loaded = {card.pr for card in checked}
    cards_dir = project.root / "cards"
    out = {pr: e for pr, e in old.items() if pr not in loaded and (cards_dir / f"{pr}.yaml").is_file()}
    for card in checked:
        entry = entry_for(card.pr)
        files = diff_files(entry) if entry is not None else None
        if files is None:
            if card.pr in old:
                out[card.pr] = old[card.pr]
            continue
        located = find_fragment(files, card.key_fragment, patch_missing(entry.meta))
        if located.problem is not None:
            continue
        new = lock_entry(card, entry, files, located, recorded)
        prev = old.get(card.pr)
        if prev is not None and LockEntry(**{**asdict(prev), "recorded": recorded}) == new:
            new = prev
        out[card.pr] = new
    return dict(sorted(out.items()))


def record_lock(
    project: Project, entry_for: Callable[[int], CacheEntry | None], recorded: str | None = None
) -> dict[int, LockEntry]:
    """Rewrite cards/evidence.lock from the cache (an unreadable one raises LockError:
    fix it, e.g. take main's copy after a merge conflict, or delete it, first); returns its entries. The old
    entries are read while holding cards/: another recording's cards are kept, never put back as they were."""
    with serialized(lock_path(project.root).parent):
        new = record(project, read_lock(project.root), entry_for, recorded or today())
        write_lock(project.root, new)
    return new


# ---- what render shows -------------------------------------------------------------------------


def annotator(project: Project, *, unverified: bool = False, strict: bool = True) -> Callable[[Card], list[str]]:
    """Note per card, naming the kind of evidence: the PR's diff (sha256, date, lines, coverage), else a
    release diff (two published releases), else stale; an unverified card gets a note only when
    ``unverified`` (`dossier show`; the manual says once, in its coverage, what unverified means). Then the
    releases that shipped and removed the fragment. An unreadable lock raises LockError unless not ``strict``
    (`dossier show`: then the notes it would give are left out)."""
    from dossier.release_evidence import release_notes

    try:
        lock = read_lock(project.root)
    except LockError:
        if strict:
            raise
        lock = {}
    released = release_notes(project, strict=strict)

    def note(card: Card) -> list[str]:
        todo = f"`dossier fetch {card.pr} && dossier lint --record`"
        proof, beside_proof, shipped = released(card)
        e = lock.get(card.pr)
        if e is not None and e.key_fragment == key_sha(card.key_fragment):
            side = "removed" if e.side == "old" else "added"
            lines = ", ".join(map(str, e.lines))
            head = [
                f"**Evidence (PR diff).** Fragment verified against the PR's diff sha256:{e.diff_sha256[:12]} "
                f"({e.source}{f' via {e.host}' if e.host else ''}) on {e.recorded}: {side} line(s) {lines} of "
                f"{code(e.file)}. Diff coverage: "
                f"{e.files} file(s), +{e.additions}/-{e.deletions}."
            ]
        elif proof:
            head, shipped = [proof], beside_proof
        elif e is not None:
            stale = f"the key fragment changed after it was verified on {e.recorded}"
            head = [f"**Evidence.** Stale: {stale}; run {todo}."]
        else:
            head = [f"**Evidence.** Unverified: neither the PR's diff nor a release diff proves it; run {todo}."] \
                if unverified else []
        return head + ([shipped] if shipped else [])

    return note
