"""The fetch cache: one directory per PR holding meta.json, pr.diff and provenance.json.

provenance.json is the commit record: it is removed first and written last, and it carries the sha256 of
the other two files. An entry interrupted at any point (Ctrl-C, kill) therefore reads as absent, never as
a valid mix of old and new files. A writer swaps the files in, and a reader reads them, holding the entry
folder's lock (:func:`dossier.files.serialized`): two fetches of one PR at once (two processes) never leave one's
diff under the other's provenance, and a read never sees a swap half done.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dossier.diff import DiffFile, parse_diff
from dossier.errors import DossierError
from dossier.files import check_writable, read_bytes, serialized, stage
from dossier.json_out import dumps

META, DIFF, PROVENANCE = "meta.json", "pr.diff", "provenance.json"
#: the most a cached PR diff may hold (a 600,000-line diff is about 30 MB): a source reads no more and put refuses
#: more, so that what is cached can be read back
MAX_DIFF_BYTES = 256 << 20
ENV = "DOSSIER_CACHE"
DOC_SUFFIXES = (".md", ".rst", ".ipynb")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
        return cls(cache_dir if cache_dir is not None else project.root / ".dossier" / "cache", repo or project.repo)

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
        a file edited or cut since (a sha256 that does not match), not JSON or UTF-8, another PR's; None when it is
        whole or absent (never fetched, or a write cut before its commit record)."""
        return self._read(pr)[1]

    def _read(self, pr: int) -> tuple[CacheEntry | None, str | None]:
        d = self.path(pr)
        if not d.is_dir():
            return None, f"{d.name} is not a folder" if d.exists() else None
        with ExitStack() as held:
            try:  # a writer swaps the entry's files holding it: read mid-swap (the new diff, the old provenance),
                held.enter_context(serialized(d))  # an entry being fetched read as damaged
            except OSError:
                pass  # a folder this user cannot open: what cannot be read is said below
            return self._read_files(d, pr)

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
            try:
                files[name] = read_bytes(d / name, MAX_DIFF_BYTES) if name == DIFF else read_bytes(d / name)
            except OSError as exc:
                return None, f"{name}: {exc.strerror or exc}"
            if provenance.get(key) != _sha256(files[name]):
                return None, f"{name} does not match the sha256 {PROVENANCE} records"
        try:
            meta = json.loads(files[META])
        except (ValueError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            return None, f"{META} is not a JSON object"
        if meta.get("number") != pr:
            return None, f"{META} is the metadata of #{meta.get('number')}, not #{pr}"
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
            "fetched_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **provenance,
            "sha256": _sha256(diff_bytes),
            "meta_sha256": _sha256(meta_bytes),
        }
        d = self.path(pr)
        d.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[Path, Path]] = []
        try:
            # every file is written in full before the old entry is touched: a full disk keeps the old entry
            for name, data in ((DIFF, diff_bytes), (META, meta_bytes), (PROVENANCE, _json_bytes(provenance))):
                staged.append((stage(d / name, data), d / name))
            with serialized(d):  # another fetch of this PR (a second process) swapping its files in between left
                (d / PROVENANCE).unlink(missing_ok=True)  # the old entry stops being valid before anything changes
                for tmp, path in staged:  # one's diff under the other's provenance: a damaged entry
                    os.replace(tmp, path)
        except BaseException:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            raise
        return CacheEntry(pr, meta, diff_text, provenance)

