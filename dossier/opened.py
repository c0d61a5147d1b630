"""When PRs were opened: the floor a PR number puts under its merge date (cards/opened.lock).

GitHub numbers pull requests (and issues) in the order they are opened, and a PR is merged after it is
opened. So a PR known to have been opened on a day is a floor for every higher number: PR N cannot have
been merged before the opening day of any PR numbered at or below N. The lock holds such anchors, each with
the thread that shows its opening day (the day of its description), or GitHub's created_at, which
``dossier lint --record`` copies from the fetch cache; lint D405 reads it offline. The lock ends with how many
anchors it holds (``anchors:``): a lock cut at an entry boundary is still YAML, and the anchors past the cut (the
floors of the highest PR numbers) would be lost with nothing said.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from dossier.errors import DossierError
from dossier.files import record
from dossier.locks import LockError, check_keys, check_pr_keys, of_version, read_lock_file

OPENED_LOCK = Path("cards") / "opened.lock"
#: the day a thread shows and the UTC day GitHub records may differ by one
TOLERANCE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Anchor:
    pr: int
    opened: dt.date
    source: str


class OpenedError(DossierError, ValueError):
    """The lock is malformed, or its days go backwards as the numbers rise (an anchor is wrong)."""


HEADER = (
    "# The day a PR (or issue: both share one sequence) was opened: the day of its description in a stored\n"
    "# thread, or GitHub's created_at as `dossier lint --record` finds it in the fetch cache. GitHub numbers them\n"
    "# in opening order, so an anchor is a floor for the merge date of every higher number (lint D405). Add an\n"
    "# anchor when a thread shows one; keep its source, and raise the closing `anchors:` count by one.\n"
)


def read_anchors(root: Path) -> list[Anchor]:
    """The anchors by PR number (empty without a lock); raises OpenedError when they cannot all be right."""
    anchors = _load(root)
    for a, b in pairwise(anchors):
        if b.opened + TOLERANCE < a.opened:
            raise OpenedError(f"{OPENED_LOCK}: #{b.pr} opened {b.opened}, before #{a.pr} ({a.opened}), "
                              "yet PR numbers are given in opening order: one of the two days is wrong")
    return anchors


def record_opened(root: Path, fetched: dict[int, Anchor]) -> int:
    """Add the opening days of fetched PRs to the lock (a fetched day replaces a hand-written one: it is
    GitHub's own record); returns how many anchors were added or changed."""
    changed = 0

    def text() -> str:  # read while holding cards/: a concurrent recording adds its days, never drops ours
        nonlocal changed
        anchors = {a.pr: a for a in _load(root)}
        changed = sum(anchors.get(pr) != a for pr, a in fetched.items())
        anchors.update(fetched)
        return HEADER + "version: 1\nopened:\n" + "".join(
            f"  {a.pr}: {{opened: {a.opened.isoformat()}, source: {_scalar(a.source)}}}\n"
            for a in sorted(anchors.values(), key=lambda a: a.pr)) + f"anchors: {len(anchors)}\n"

    record(root / OPENED_LOCK, text)
    return changed


def _load(root: Path) -> list[Anchor]:
    try:
        data = read_lock_file(root / OPENED_LOCK)
    except LockError as exc:
        raise OpenedError(str(exc)) from None
    if data is None:
        return []
    entry = None
    fix = "remove it and run `dossier lint --record`, which records the days of fetched PRs"
    try:
        check_keys(data, ("version", "opened", "anchors"), str(OPENED_LOCK), fix)
        if not of_version(data, 1):  # a lock of another format
            raise LockError(f"{OPENED_LOCK}: expected version: 1, got {data.get('version')!r}; {fix}")
        _check_count(data)
        check_pr_keys(data["opened"], f"{OPENED_LOCK}: opened", fix)
        anchors = []
        for entry, v in (data["opened"] if data["opened"] is not None else {}).items():
            check_keys(v, ("opened", "source"), f"{OPENED_LOCK}: entry {entry!r}", fix)
            anchors.append(Anchor(int(entry), _date(v["opened"]), str(v["source"])))
    except LockError as exc:
        raise OpenedError(str(exc)) from None
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        where = f" (entry {entry!r}: {type(exc).__name__}: {exc})" if entry is not None else \
            f" ({type(exc).__name__}: {exc})"
        raise OpenedError(f"{OPENED_LOCK}: expected opened: {{PR: {{opened: YYYY-MM-DD, source: URL}}}}{where}") \
            from None
    return sorted(anchors, key=lambda a: a.pr)


def _check_count(data: dict) -> None:
    """The closing ``anchors:`` count must be there and match the entries: a lock cut short (a copy or a download
    that stopped, a merge tool's truncation) at an entry boundary ends before it."""
    fix = (f"; take the committed copy (git checkout -- {OPENED_LOCK}), or, after adding or removing an anchor by "
           "hand, set `anchors:` to the number of entries")
    count, entries = data.get("anchors"), data.get("opened")
    if type(count) is not int:
        raise LockError(f"{OPENED_LOCK}: no closing `anchors:` count, which recording writes last: the lock is cut "
                        "short (or not written by dossier), and the anchors past the cut are lost" + fix)
    held = len(entries) if isinstance(entries, dict) else 0
    if held != count:
        raise LockError(f"{OPENED_LOCK}: opened lists {held} anchor(s) where `anchors:` counts {count}: the lock "
                        "is cut short or was edited by hand" + (", and anchors are lost" if held < count else "")
                        + fix)


def floor(anchors: list[Anchor], pr: int) -> Anchor | None:
    """The latest-opened anchor numbered at or below ``pr`` (None: no anchor that low)."""
    below = [a for a in anchors if a.pr <= pr]
    return max(below, key=lambda a: a.opened) if below else None


def _scalar(text: str) -> str:
    """``text`` as a YAML flow scalar: plain when it is a URL-like word, else double-quoted (JSON is YAML)."""
    return text if re.fullmatch(r"[\w:/.-]+", text) else json.dumps(text)


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):  # a day is asked: compared with days, a time raised TypeError in D405
        raise ValueError(f"{value} is a time, not a day")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def fetched_anchors(prs, entry_for) -> dict[int, Anchor]:
    """Opening days GitHub recorded for the PRs ``prs`` in the fetch cache (``entry_for``: PR -> entry or None)."""
    out = {}
    for pr in prs:
        entry = entry_for(pr)
        created = entry.meta.get("created_at") if entry is not None else None
        if isinstance(created, str) and created[:10]:
            prov = entry.provenance
            where = f"https://github.com/{prov['repo']}/pull/{pr}" if prov.get("repo") else f"#{pr}"
            host = prov.get("api_host") or prov.get("source") or "cache"
            out[pr] = Anchor(pr, _date(created[:10]), f"{where} (created_at via {host})")
    return out
