"""Where PR metadata and diffs come from (GitHub, a local clone, a saved diff), and the cache they land in.

Every source turns a PR number into a :class:`Fetched` or raises :class:`SourceError` with one clear line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dossier.diff import DiffFile

#: the GitHub REST API a fetch talks to unless $GITHUB_API_URL (or [tool.dossier] api_url) says otherwise
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_API_HOST = "api.github.com"
#: the provenance key of the diff lines (by file) cached with U+FFFD for bytes that are not UTF-8 (a git source's)
NOT_UTF8 = "not_utf8"
#: provenance: the metadata fields (title, author) a fetch read from bytes that were not UTF-8
NOT_UTF8_META = "not_utf8_meta"
#: provenance: the lines of a saved diff (`fetch --import`) that ended in CRLF, every line, cached with LF
SAVED_CRLF = "saved_crlf"


#: how the cache writes a time: UTC, to the second, the year in four digits
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def utc_stamp(value: dt.datetime) -> str:
    """``value`` as the cache writes a time (naive means UTC). strftime's %Y writes year 999 as '999', which no
    reader takes for a day; isoformat pads it."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def stamp_fault(value: object) -> str | None:
    """Why ``value`` is not a time as the cache writes one (None and such a time are fine), or None."""
    if value is None:
        return None
    if isinstance(value, str) and _STAMP.fullmatch(value):
        try:
            dt.datetime.fromisoformat(value[:-1])
            return None
        except ValueError:
            pass
    return f"{str(value)[:40]!r}, not a UTC time like 2025-01-31T12:00:00Z"


def repeated(names: Iterable[str]) -> str | None:
    """The first name ``names`` holds more than once, or None (a file listed twice: its fragment would be looked for
    in one of its sections only)."""
    return next((n for n, k in Counter(names).items() if k > 1), None)


class SourceError(Exception):
    """A PR could not be fetched; ``str(exc)`` is one line meant for the user (never holds a token)."""


class Unreachable(SourceError):
    """The source's host did not answer at all (refused, timed out, no route): the fetch breaker counts these."""


def not_utf8(provenance: dict) -> dict[str, int]:
    """The diff lines, by file, that a fetch cached with U+FFFD in place of bytes that are not UTF-8."""
    lost = provenance.get(NOT_UTF8)
    return {k: v for k, v in lost.items() if isinstance(v, int)} if isinstance(lost, dict) else {}


def meta_not_utf8(provenance: dict) -> list[str]:
    """The metadata fields that a fetch cached with U+FFFD in place of bytes that are not UTF-8."""
    lost = provenance.get(NOT_UTF8_META)
    return [f for f in lost if isinstance(f, str)] if isinstance(lost, list) else []


@dataclass(frozen=True)
class Fetched:
    meta: dict
    diff_text: str
    provenance: dict  # the cache adds fetched_at (unless given) and sha256


class Source(Protocol):
    name: str
    repo: str

    def fetch(self, pr: int) -> Fetched: ...


def file_entries(files: list[DiffFile]) -> list[dict]:
    """The cache's per-file metadata for files known only from a diff (git and import sources)."""
    return [
        {
            "filename": f.path,
            "previous_filename": f.old_path,
            "status": f.status,
            "additions": len(f.added()),
            "deletions": len(f.removed()),
            "patch_missing": False,
            "binary": f.binary,
        }
        for f in files
    ]


def meta_from_diff(pr: int, files: list[DiffFile], **known) -> dict:
    """Cache metadata built from a parsed diff plus whatever the source knows (the rest is None)."""
    entries = file_entries(files)
    meta = {
        "number": pr, "title": None, "state": None, "merged": None, "merged_at": None, "author": None,
        "additions": sum(e["additions"] for e in entries),
        "deletions": sum(e["deletions"] for e in entries),
        "changed_files": len(entries),
        "merge_commit_sha": None, "base": None, "head": None,
    }
    meta.update(known)
    meta["files"] = entries
    return meta
