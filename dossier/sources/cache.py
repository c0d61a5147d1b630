"""The fetch cache: one directory per PR holding meta.json, pr.diff and provenance.json.

provenance.json is the commit record: it carries the sha256 of the other two files, and replacing it is the one
step that turns an old entry into the new one. A writer first puts the new files beside the old ones under names of
their own (``.pr.diff.<sha256>``, ``.meta.json.<sha256>``), then replaces provenance.json, then moves them to their
places; a reader takes a file whose sha256 is not the record's from the name beside it. An entry interrupted at any
point (Ctrl-C, SIGTERM, kill -9) therefore reads as the old entry or the new one, whole, never as absent or a mix,
and the next write removes what was left. A writer swaps the files in, and a reader reads them, holding the entry
folder's lock (:func:`dossier.files.serialized`): two fetches of one PR at once (two processes) never leave one's
diff under the other's provenance, and a read never sees a swap half done.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dossier.diff import DiffError, DiffFile, parse_diff
from dossier.errors import DossierError
from dossier.files import MAX_FILE_BYTES, check_writable, kind_of, read_bytes, serialized, stage
from dossier.json_out import dumps
from dossier.sources import SAVED_CRLF, meta_from_diff, stamp_fault, utc_stamp

META, DIFF, PROVENANCE = "meta.json", "pr.diff", "provenance.json"
#: the most a cached PR diff may hold (a 600,000-line diff is about 30 MB): a source reads no more and put refuses
#: more, so that what is cached can be read back
MAX_DIFF_BYTES = 256 << 20
ENV = "DOSSIER_CACHE"
DOC_SUFFIXES = (".md", ".rst", ".ipynb")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: a file of a new entry waiting beside the old one: its name and the sha256 the commit record gives it
_STAGED = re.compile(r"\.(?P<name>pr\.diff|meta\.json)\.(?P<sha>[0-9a-f]{64})")


def _staged(name: str, sha: str) -> str:
    return f".{name}.{sha}"


def _json_bytes(data: dict) -> bytes:
    return (dumps(data, indent=2, sort_keys=True) + "\n").encode()


def group_paths(paths: list[str]) -> dict[str, list[str]]:
    """Split changed paths as cards do: tests (a test/ or tests/ dir, test_*.py), docs (docs/, .md/.rst), runtime."""
    groups: dict[str, list[str]] = {"runtime": [], "tests": [], "docs": []}
    for path in paths:
        p = PurePosixPath(path)
        if {"test", "tests"} & set(p.parts[:-1]) or p.name.startswith("test_") or p.stem.endswith("_test"):
            groups["tests"].append(path)
        elif p.parts[0] in ("docs", "doc") or p.suffix in DOC_SUFFIXES:
            groups["docs"].append(path)
        else:
            groups["runtime"].append(path)
    return groups


@dataclass(frozen=True)
class CacheEntry:
    pr: int
    meta: dict
    diff_text: str
    provenance: dict
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def facts(self) -> dict:
        """What a card restates from GitHub: title, state, merge date and the changed files by group."""
        merged_at = self.meta.get("merged_at")
        return {
            "title": self.meta.get("title"),
            "state": self.meta.get("state"),
            "merged_at": merged_at[:10] if merged_at else None,
            "files": group_paths([f["filename"] for f in self.meta.get("files", [])]),
        }

    def files(self) -> list[DiffFile]:
        """The parsed diff (parsed once per entry)."""
        if "files" not in self._memo:
            self._memo["files"] = tuple(parse_diff(self.diff_text))
        return list(self._memo["files"])


class Cache:
    """The entries under ``root``; with ``repo``, only that repository's PRs are read (an entry `fetch --repo OWNER/X`
    left under the same number is another PR: it would prove a card, or date its opening, with another change)."""

    def __init__(self, root: Path, repo: str | None = None):
        self.root = Path(root)
        self.repo = repo

    @classmethod
    def for_project(cls, project, cache_dir: Path | None = None, repo: str | None = None) -> Cache:
        """--cache-dir, else $DOSSIER_CACHE, else <project root>/.dossier/cache; of ``repo``, else the project's."""
        if cache_dir is None and os.environ.get(ENV):
            cache_dir = Path(os.environ[ENV])
        root = cache_dir if cache_dir is not None else project.root / ".dossier" / "cache"
        if os.path.lexists(root) and not root.is_dir():  # read as empty, every card would pass as not fetched yet
            fix = ": remove the link, or make it lead to a folder" if root.is_symlink() else ""
            raise DossierError(f"the fetch cache {root} is {kind_of(root)}, not a folder{fix}")
        return cls(root, repo or project.repo)

    def check_writable(self) -> None:
        """Raise DossierError unless entries can be written here (checked before any request is made)."""
        if self.root.exists() and not self.root.is_dir():
            raise DossierError(f"the fetch cache {self.root} is not a directory")
        try:
            check_writable(self.root)
        except OSError as exc:
            raise DossierError(f"the fetch cache {self.root} is not writable: {exc.strerror or exc}") from None

    def path(self, pr: int) -> Path:
        return self.root / str(pr)

    def get(self, pr: int) -> CacheEntry | None:
        """The entry for ``pr``; None when absent, unfinished or damaged (:meth:`damaged` says why)."""
        return self._read(pr)[0]

    def damaged(self, pr: int) -> str | None:
        """Why the entry for ``pr`` is there (its commit record, provenance.json, was written) but cannot be used:
        a file edited or cut since (a sha256 that does not match), not JSON or UTF-8, another PR's, an older import's
        CRLF save (:meth:`mend` converts it); None when it is whole or absent (never fetched, or a write cut before
        its commit record)."""
        return self._read(pr)[1]

    def other_repo(self, pr: int) -> str | None:
        """The repository whose #``pr`` the entry holds when it is another than this cache's ``repo`` (a fetch of
        this repository's #``pr`` would replace it: entries are kept by number), else None."""
        d = self.path(pr)
        if self.repo is None or d.is_symlink() or not d.is_dir():
            return None
        try:
            provenance = json.loads(read_bytes(d / PROVENANCE))
        except (OSError, ValueError, RecursionError):
            return None
        other = provenance.get("repo") if isinstance(provenance, dict) else None
        return other if isinstance(other, str) and other != self.repo else None

    def remedy(self, pr: int) -> str:
        """What mends the damaged entry of ``pr``, a command and what it does."""
        entry = self._read(pr, as_stored=True)[0]
        if entry is not None and _saved_crlf(entry):
            return f"`dossier fetch {pr}` converts it to LF, as an import does today (no request)"
        return f"`dossier fetch --refresh {pr}` fetches it again"

    def mend(self, pr: int) -> CacheEntry | None:
        """Rewrite an entry that an older `fetch --import` cached with the CRLF line ends of its file's save as the
        import caches it today: LF, the file list and counts read from that text, ``saved_crlf`` in provenance
        (the source, path and fetch time kept). None, and nothing written, for any other entry."""
        d = self.path(pr)
        if not d.is_dir():
            return None
        with serialized(d):
            entry, _ = self._read(pr, as_stored=True)
            lines = _saved_crlf(entry) if entry is not None else 0
            if not lines:
                return None
            text = entry.diff_text.replace("\r\n", "\n")
            try:
                files = parse_diff(text)
            except DiffError:
                return None
            counted = meta_from_diff(pr, files)
            meta = {**entry.meta, **{k: counted[k] for k in ("additions", "deletions", "changed_files", "files")}}
            provenance = {k: v for k, v in entry.provenance.items() if k not in ("sha256", "meta_sha256")}
            return self.put(pr, meta, text, {**provenance, SAVED_CRLF: lines})

    def _read(self, pr: int, as_stored: bool = False) -> tuple[CacheEntry | None, str | None]:
        d = self.path(pr)
        if d.is_symlink():  # fetch never makes one: it may lead to another PR's entry, or out of the cache
            link = f"a link to {os.readlink(d)}" if d.exists() else kind_of(d)
            return None, f"{d.name} is {link}, not the folder `dossier fetch` writes"
        if not d.is_dir():
            return None, f"{d.name} is not a folder" if d.exists() else None
        with ExitStack() as held:
            try:  # a writer swaps the entry's files holding it: read mid-swap (the new diff, the old provenance),
                held.enter_context(serialized(d))  # an entry being fetched read as damaged
            except OSError:
                pass  # a folder this user cannot open: what cannot be read is said below
            entry, why = self._read_files(d, pr)
        if entry is not None and not as_stored and (lines := _saved_crlf(entry)):
            return None, (f"{DIFF} is a saved diff an older `fetch --import` cached with its CRLF line ends, {lines} "
                          "lines: every path in it ends in CR")
        return entry, why

    def _read_files(self, d: Path, pr: int) -> tuple[CacheEntry | None, str | None]:
        try:
            provenance = json.loads(read_bytes(d / PROVENANCE))
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, f"{PROVENANCE}: {exc.strerror or exc}"
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to parse
            provenance = None
        if not isinstance(provenance, dict):
            return None, f"{PROVENANCE} is not a JSON object"
        if self.repo is not None and provenance.get("repo", self.repo) != self.repo:
            return None, f"it holds #{pr} of {provenance['repo']}, not of {self.repo}"
        files = {}
        for name, key in ((META, "meta_sha256"), (DIFF, "sha256")):
            data, why = _recorded(d, name, provenance.get(key))
            if data is None:
                return None, why
            files[name] = data
        try:
            meta = json.loads(files[META])
        except (ValueError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            return None, f"{META} is not a JSON object"
        if meta.get("number") != pr:
            return None, f"{META} is the metadata of #{meta.get('number')}, not #{pr}"
        for stamp in ("merged_at", "created_at"):  # a day read from it dates a card or its opening
            if (why := stamp_fault(meta.get(stamp))) is not None:
                return None, f"{META}: {stamp} is {why}"
        try:
            diff_text = files[DIFF].decode()
        except UnicodeDecodeError:
            return None, f"{DIFF} is not UTF-8 text"
        return CacheEntry(pr, meta, diff_text, provenance), None

    def put(self, pr: int, meta: dict, diff_text: str, provenance: dict) -> CacheEntry:
        """Write an entry atomically; provenance gains sha256 (of the diff), meta_sha256 and fetched_at."""
        meta = {**meta, "number": pr}
        meta_bytes, diff_bytes = _json_bytes(meta), diff_text.encode()
        if len(diff_bytes) > MAX_DIFF_BYTES:  # it could not be read back
            raise OSError(errno.EFBIG, f"more than {MAX_DIFF_BYTES:,} bytes, the most a cached diff may hold",
                          str(self.path(pr) / DIFF))
        provenance = {
            "fetched_at": utc_stamp(dt.datetime.now(dt.UTC)),
            **provenance,
            "sha256": _sha256(diff_bytes),
            "meta_sha256": _sha256(meta_bytes),
        }
        d = self.path(pr)
        if d.is_symlink():  # written through, it would replace another PR's entry or files outside the cache
            d.unlink()  # the link goes, never what it leads to
        d.mkdir(parents=True, exist_ok=True)
        files = ((DIFF, diff_bytes, provenance["sha256"]), (META, meta_bytes, provenance["meta_sha256"]))
        temps: list[Path] = []
        try:
            # every file is written in full before the old entry is touched: a full disk keeps the old entry
            for name, data in ((DIFF, diff_bytes), (META, meta_bytes), (PROVENANCE, _json_bytes(provenance))):
                temps.append(stage(d / name, data))
            with serialized(d):  # another fetch of this PR (a second process) swapping its files in between left
                _settle(d)  # one's diff under the other's provenance: a damaged entry
                for tmp, (name, _, sha) in zip(temps[:2], files, strict=True):  # beside the old files, which the
                    os.replace(tmp, d / _staged(name, sha))  # old record names
                os.replace(temps[-1], d / PROVENANCE)  # the commit: from here on the entry is the new one
                _settle(d)
        except BaseException:
            committed = len(temps) == 3 and not temps[-1].exists()  # renamed: an interrupt right after it lands here
            for tmp in temps:
                tmp.unlink(missing_ok=True)
            if not committed:  # what this write put beside the old entry goes, the old entry stays as it was
                for name, _, sha in files:
                    (d / _staged(name, sha)).unlink(missing_ok=True)
            raise
        return CacheEntry(pr, meta, diff_text, provenance)


def _saved_crlf(entry: CacheEntry) -> int:
    """The lines of an imported diff whose every line ends in CRLF, cached so by a `fetch --import` older than its
    conversion (which records ``saved_crlf``); 0 for any other entry (another source's CR is the files' own)."""
    if entry.provenance.get("source") != "import" or SAVED_CRLF in entry.provenance:
        return 0
    lines = entry.diff_text.count("\n")
    return lines if lines and entry.diff_text.count("\r\n") == lines else 0


def _settle(d: Path) -> None:
    """Finish a write that committed and was cut before its files reached their places (they wait beside them),
    and remove what a write cut before its commit left. Called holding the entry's lock."""
    try:
        record = json.loads(read_bytes(d / PROVENANCE))
    except (OSError, ValueError, RecursionError):
        record = None
    names = dict.fromkeys(os.listdir(d))
    if isinstance(record, dict):
        for name, key in ((DIFF, "sha256"), (META, "meta_sha256")):
            waiting = _staged(name, str(record.get(key)))
            if waiting in names:
                os.replace(d / waiting, d / name)
                del names[waiting]
    for name in names:
        if _STAGED.fullmatch(name):
            (d / name).unlink(missing_ok=True)


def _recorded(d: Path, name: str, sha: object) -> tuple[bytes | None, str | None]:
    """The bytes of the entry's file ``name`` whose sha256 the commit record gives as ``sha``: at its place, or
    beside it where a write committed and was cut before moving it there; else None and why."""
    limit = MAX_DIFF_BYTES if name == DIFF else MAX_FILE_BYTES
    try:
        data = read_bytes(d / name, limit)
    except OSError as exc:
        why = f"{name}: {exc.strerror or exc}"
    else:
        if sha == _sha256(data):
            return data, None
        why = f"{name} does not match the sha256 {PROVENANCE} records"
    if isinstance(sha, str) and _STAGED.fullmatch(_staged(name, sha)):
        try:
            waiting = read_bytes(d / _staged(name, sha), limit)
        except OSError:
            return None, why
        if sha == _sha256(waiting):
            return waiting, None
    return None, why
